"""Hosted forms: building them, and taking what people send through them.

Submissions reach customers through the same doors as every other channel: the customer
services validate and keep a source record of every submission, the identity services find
the customer it belongs to, and the privacy services record consent. This package only adds
what is particular to a public form: spam protection, the form's own required fields,
double opt-in by email, and signed update links.

Callers import from here; each capability lives in its own module:
:mod:`.definitions`, :mod:`.rendering`, :mod:`.submissions`, :mod:`.consent`,
:mod:`.update_links` and :mod:`.reporting`.
"""

from kenal.hosted_forms.services.consent import (
    CONFIRM_LINK_AGE,
    CONFIRMED_METHOD,
    MAX_METHOD,
    Confirmed,
    confirm,
)
from kenal.hosted_forms.services.definitions import (
    CONTACT_FIELDS,
    MAX_PER_IP_LIMIT,
    MAX_SOURCE,
    MAX_TITLE,
    ORIGIN_PATTERN,
    RESERVED_SLUGS,
    SLUG_PATTERN,
    ConsentSpec,
    FieldSpec,
    FormDefinition,
    FormDefinitionError,
    default_double_opt_in,
    definition_of,
    save_form,
)
from kenal.hosted_forms.services.rendering import (
    CONSENT_PREFIX,
    HONEYPOT,
    TOKEN_FIELD,
    ConsentBox,
    FormData,
    FormValues,
    consent_boxes,
    public_inputs,
    render_token,
    submitted_values,
    ticked_purposes,
)
from kenal.hosted_forms.services.reporting import submission_counts
from kenal.hosted_forms.services.submissions import (
    MAX_FORM_AGE,
    MIN_FILL_TIME,
    RATE_WINDOW,
    SubmissionInvalid,
    SubmissionRefused,
    Submitted,
    hash_ip,
    submit,
)
from kenal.hosted_forms.services.update_links import (
    UPDATE_LINK_AGE,
    current_values,
    find_customer,
    granted_purposes,
    update_link,
    update_target,
)
from kenal.hosted_forms.tokens import TokenExpired, TokenInvalid

__all__ = [
    "CONFIRMED_METHOD",
    "CONFIRM_LINK_AGE",
    "CONSENT_PREFIX",
    "CONTACT_FIELDS",
    "HONEYPOT",
    "MAX_FORM_AGE",
    "MAX_METHOD",
    "MAX_PER_IP_LIMIT",
    "MAX_SOURCE",
    "MAX_TITLE",
    "MIN_FILL_TIME",
    "ORIGIN_PATTERN",
    "RATE_WINDOW",
    "RESERVED_SLUGS",
    "SLUG_PATTERN",
    "TOKEN_FIELD",
    "UPDATE_LINK_AGE",
    "Confirmed",
    "ConsentBox",
    "ConsentSpec",
    "FieldSpec",
    "FormData",
    "FormDefinition",
    "FormDefinitionError",
    "FormValues",
    "SubmissionInvalid",
    "SubmissionRefused",
    "Submitted",
    "TokenExpired",
    "TokenInvalid",
    "confirm",
    "consent_boxes",
    "current_values",
    "default_double_opt_in",
    "definition_of",
    "find_customer",
    "granted_purposes",
    "hash_ip",
    "public_inputs",
    "render_token",
    "save_form",
    "submission_counts",
    "submit",
    "submitted_values",
    "ticked_purposes",
    "update_link",
    "update_target",
]
