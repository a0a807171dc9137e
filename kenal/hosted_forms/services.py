"""Hosted forms: building them, and taking what people send through them.

Submissions reach customers through the same doors as every other channel: the customer
services validate and keep a source record of every submission, the identity services find
the customer it belongs to, and the privacy services record consent. This module only adds
what is particular to a public form: spam protection, the form's own required fields,
double opt-in by email, and signed update links.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import smtplib
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Count
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from kenal.accounts.models import User
from kenal.customers import custom_fields, normalise
from kenal.customers import services as customers
from kenal.customers.models import Customer, FieldType, SourceRecord
from kenal.customers.normalise import InvalidValue
from kenal.customers.services import CustomerInvalid, CustomerQuery, Origin
from kenal.hosted_forms import tokens
from kenal.hosted_forms.catalogue import (
    ADDRESS_KEYS,
    CUSTOM_PREFIX,
    SCALAR_KEYS,
    FieldOption,
    PublicInput,
    available_options,
)
from kenal.hosted_forms.models import DEFAULT_MAX_PER_IP, FormSubmission, SignupForm
from kenal.hosted_forms.tokens import TokenExpired, TokenInvalid
from kenal.identity.services import MatchKeys, find_match
from kenal.privacy.models import ConsentRecord, ConsentStatus, Purpose
from kenal.privacy.services import ConsentDeclaration, current_consents, record_consent

__all__ = [
    "ConsentBox",
    "ConsentSpec",
    "FieldSpec",
    "FormDefinition",
    "FormDefinitionError",
    "SubmissionInvalid",
    "SubmissionRefused",
    "Submitted",
    "TokenExpired",
    "TokenInvalid",
    "confirm",
    "save_form",
    "submit",
    "update_link",
]

logger = logging.getLogger(__name__)

# --- rules ----------------------------------------------------------------------------------

MIN_FILL_TIME = dt.timedelta(seconds=3)  # people need longer than this to fill in a form
MAX_FORM_AGE = dt.timedelta(days=1)  # a form left open longer is rendered again
RATE_WINDOW = dt.timedelta(minutes=10)
MAX_PER_IP_LIMIT = 1000
MAX_TITLE = 200  # SignupForm.title
MAX_SOURCE = 100  # SignupForm.source
UPDATE_LINK_AGE = dt.timedelta(days=30)
CONFIRM_LINK_AGE = dt.timedelta(days=7)

HONEYPOT = "website"  # a hidden input only robots fill in
TOKEN_FIELD = "kf_token"  # noqa: S105 (an input name, not a secret)
CONSENT_PREFIX = "consent."
CONTACT_FIELDS = ("email", "phone")  # a form asks for at least one: matching needs a key
RESERVED_SLUGS = frozenset({"confirm"})  # /f/confirm/<token>/ is the confirmation page
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_HOST_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
ORIGIN_PATTERN = re.compile(
    rf"^https?://(?:\*\.)?{_HOST_LABEL}(?:\.{_HOST_LABEL})*(?::[0-9]{{1,5}})?$"
)
# Ledger methods are evidence: kept in one language whatever the visitor's language was.
CONFIRMED_METHOD = "double opt-in confirmed by email"
MAX_METHOD = 200

FormData = Mapping[str, str | Sequence[str]]
FormValues = dict[str, str | list[str]]


# --- definitions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """A field on a form: the catalogue key, whether the form requires it, its label."""

    key: str
    required: bool = False
    label: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "required": self.required, "label": self.label}


@dataclass(frozen=True)
class ConsentSpec:
    """A consent checkbox: the purpose it grants and the exact wording shown beside it."""

    purpose: str
    wording: str
    double_opt_in: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose,
            "wording": self.wording,
            "double_opt_in": self.double_opt_in,
        }


@dataclass(frozen=True)
class FormDefinition:
    """Everything an administrator decides about a form."""

    title: str
    slug: str
    intro: str = ""
    thank_you: str = ""
    source: str = ""
    is_active: bool = True
    allowed_origins: tuple[str, ...] = ()
    max_per_ip: int = DEFAULT_MAX_PER_IP
    fields: tuple[FieldSpec, ...] = ()
    consents: tuple[ConsentSpec, ...] = ()


class FormDefinitionError(ValueError):
    """A form definition was refused; ``problems`` lists (setting, message) pairs."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{where}: {message}" for where, message in problems))
        self.problems = list(problems)


def definition_of(form: SignupForm) -> FormDefinition:
    return FormDefinition(
        title=form.title,
        slug=form.slug,
        intro=form.intro,
        thank_you=form.thank_you,
        source=form.source,
        is_active=form.is_active,
        allowed_origins=tuple(form.allowed_origins or ()),
        max_per_ip=form.max_per_ip,
        fields=tuple(
            FieldSpec(spec["key"], bool(spec.get("required")), spec.get("label", ""))
            for spec in form.field_specs
        ),
        consents=tuple(
            ConsentSpec(spec["purpose"], spec["wording"], bool(spec.get("double_opt_in")))
            for spec in form.consent_specs
        ),
    )


def default_double_opt_in(purpose: str) -> bool:
    """Marketing email is confirmed by email by default: it proves the address is theirs."""
    return purpose == Purpose.MARKETING_EMAIL


def save_form(
    form: SignupForm | None, definition: FormDefinition, actor: User | None = None
) -> SignupForm:
    """Create (``form`` None) or change a form; every problem is reported at once."""
    problems = _definition_problems(definition, form)
    if problems:
        raise FormDefinitionError(problems)
    if form is None:
        form = SignupForm(created_by=actor)
    form.title = definition.title.strip()
    form.slug = definition.slug.strip()
    form.intro = definition.intro.strip()
    form.thank_you = definition.thank_you.strip()
    form.source = definition.source.strip()
    form.is_active = definition.is_active
    form.allowed_origins = [_origin(origin) for origin in definition.allowed_origins]
    form.max_per_ip = definition.max_per_ip
    form.fields = [spec.as_dict() for spec in definition.fields]
    form.consents = [
        ConsentSpec(spec.purpose, spec.wording.strip(), spec.double_opt_in).as_dict()
        for spec in definition.consents
    ]
    form.save()
    return form


def _origin(value: str) -> str:
    return value.strip().rstrip("/").lower()


def _definition_problems(
    definition: FormDefinition, form: SignupForm | None
) -> list[tuple[str, str]]:
    problems = _settings_problems(definition, form)
    problems.extend(_field_problems(definition.fields))
    problems.extend(_consent_problems(definition))
    return problems


def _settings_problems(
    definition: FormDefinition, form: SignupForm | None
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    title = definition.title.strip()
    if not title or len(title) > MAX_TITLE:
        problems.append(("title", _("Give the form a title of at most 200 characters.")))
    slug = definition.slug.strip()
    taken = SignupForm.objects.filter(slug=slug)
    if form is not None:
        taken = taken.exclude(pk=form.pk)
    if not SLUG_PATTERN.match(slug):
        problems.append(
            ("slug", _("Use lower-case letters, digits and hyphens, e.g. member-signup."))
        )
    elif slug in RESERVED_SLUGS or taken.exists():
        problems.append(("slug", _("“%(slug)s” is already used; choose another.") % {"slug": slug}))
    if len(definition.source.strip()) > MAX_SOURCE:
        problems.append(("source", _("Use at most 100 characters.")))
    for origin in definition.allowed_origins:
        if not ORIGIN_PATTERN.match(_origin(origin)):
            problems.append(
                (
                    "allowed_origins",
                    _("“%(origin)s” is not a site address such as https://shop.example.com.")
                    % {"origin": origin},
                )
            )
    if not 1 <= definition.max_per_ip <= MAX_PER_IP_LIMIT:
        problems.append(
            ("max_per_ip", _("Use a number from 1 to %(max)d.") % {"max": MAX_PER_IP_LIMIT})
        )
    return problems


def _field_problems(specs: Sequence[FieldSpec]) -> list[tuple[str, str]]:
    options = available_options()
    keys = [spec.key for spec in specs]
    problems: list[tuple[str, str]] = []
    for key in sorted(set(keys) - set(options)):
        problems.append(
            ("fields", _("“%(key)s” is not a field a form can ask for.") % {"key": key})
        )
    for key in sorted({key for key in keys if keys.count(key) > 1}):
        problems.append(("fields", _("“%(key)s” is on the form twice.") % {"key": key}))
    if not any(key in CONTACT_FIELDS for key in keys):
        problems.append(
            ("fields", _("Ask for an email address or a phone number, so people can be matched."))
        )
    for option in options.values():
        if option.always_required and option.key not in keys:
            problems.append(
                (
                    "fields",
                    _("“%(label)s” is required for every customer: add it to the form.")
                    % {"label": option.label},
                )
            )
    for spec in specs:
        if len(spec.label) > 200:
            problems.append(("fields", _("Labels have at most 200 characters.")))
    return problems


def _consent_problems(definition: FormDefinition) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    purposes = [spec.purpose for spec in definition.consents]
    for spec in definition.consents:
        if spec.purpose not in Purpose.values:
            problems.append(
                (
                    "consents",
                    _("“%(purpose)s” is not a consent purpose.") % {"purpose": spec.purpose},
                )
            )
            continue
        label = Purpose(spec.purpose).label
        if not spec.wording.strip():
            problems.append(
                ("consents", _("Write the wording shown for “%(purpose)s”.") % {"purpose": label})
            )
        if purposes.count(spec.purpose) > 1:
            problems.append(("consents", _("“%(purpose)s” is asked twice.") % {"purpose": label}))
        if spec.double_opt_in and "email" not in [f.key for f in definition.fields]:
            problems.append(
                (
                    "consents",
                    _("“%(purpose)s” is confirmed by email: add the email field to the form.")
                    % {"purpose": label},
                )
            )
    return problems


# --- rendering ------------------------------------------------------------------------------


@dataclass
class ConsentBox:
    """A consent checkbox as the public page shows it."""

    purpose: str
    wording: str
    double_opt_in: bool
    checked: bool = False

    @property
    def name(self) -> str:
        return CONSENT_PREFIX + self.purpose

    @property
    def title(self) -> str:
        return str(Purpose(self.purpose).label)

    @property
    def id(self) -> str:
        return "c-" + self.purpose


def render_token(form: SignupForm, now: dt.datetime) -> str:
    """The signed token a rendered form carries: its issue time is the time check."""
    return tokens.make({"f": form.pk}, salt=tokens.FORM_SALT, now=now)


def public_inputs(
    form: SignupForm,
    values: Mapping[str, str | list[str]] | None = None,
    errors: Mapping[str, list[str]] | None = None,
) -> list[PublicInput]:
    """The form's inputs in order, with values typed and problems beside them.

    A custom field archived since the form was built is left out.
    """
    options = available_options()
    inputs: list[PublicInput] = []
    for spec in form.field_specs:
        option = options.get(spec["key"])
        if option is None:
            continue
        inputs.append(
            PublicInput(
                option=option,
                label=spec.get("label") or str(option.label),
                required=bool(spec.get("required")) or option.always_required,
                value=(values or {}).get(option.key, [] if option.kind == "checkboxes" else ""),
                errors=list((errors or {}).get(option.key, [])),
            )
        )
    return inputs


def consent_boxes(form: SignupForm, ticked: Collection[str] = ()) -> list[ConsentBox]:
    return [
        ConsentBox(
            spec["purpose"], spec["wording"], bool(spec["double_opt_in"]), spec["purpose"] in ticked
        )
        for spec in form.consent_specs
    ]


def submitted_values(form: SignupForm, data: FormData) -> FormValues:
    """What was typed into the form's own inputs (blank ones left out), to show again."""
    values: FormValues = {}
    for option in _form_options(form):
        if option.kind == "checkboxes":
            chosen = [item.strip() for item in _all(data, option.key) if item.strip()]
            if chosen:
                values[option.key] = chosen
        elif text := _first(data, option.key).strip():
            values[option.key] = text
    return values


def ticked_purposes(form: SignupForm, data: FormData) -> set[str]:
    return {
        spec["purpose"]
        for spec in form.consent_specs
        if _first(data, CONSENT_PREFIX + spec["purpose"])
    }


def _form_options(form: SignupForm) -> list[FieldOption]:
    return [item.option for item in public_inputs(form)]


def _first(data: FormData, key: str) -> str:
    value = data.get(key, "")
    if isinstance(value, str):
        return value
    return str(value[0]) if value else ""


def _all(data: FormData, key: str) -> list[str]:
    value = data.get(key, ())
    return [value] if isinstance(value, str) else [str(item) for item in value]


# --- submitting -----------------------------------------------------------------------------


class SubmissionRefused(Exception):
    """Refused before its values were looked at (spam protection or a closed form)."""

    def __init__(self, reason: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.status = status


class SubmissionInvalid(Exception):
    """The values were refused; the messages are keyed by the input they concern."""

    def __init__(
        self,
        field_errors: dict[str, list[str]],
        general_errors: list[str],
        source_record: SourceRecord | None,
    ) -> None:
        every = [*general_errors, *(text for texts in field_errors.values() for text in texts)]
        super().__init__("; ".join(every))
        self.field_errors = field_errors
        self.general_errors = general_errors
        self.source_record = source_record


@dataclass(frozen=True)
class Submitted:
    submission: FormSubmission
    customer: Customer
    # Consent waits for the visitor to open the link mailed to them.
    awaiting_confirmation: bool = False


@dataclass
class _Attempt:
    """One submission on its way through :func:`submit`."""

    form: SignupForm
    values: FormValues
    ticked: set[str]
    ip_hash: str
    now: dt.datetime
    language: str
    target: Customer | None  # the customer of an update link: no matching
    batch_id: str = field(default_factory=lambda: f"submission-{uuid.uuid4().hex[:16]}")


def hash_ip(ip: str) -> str:
    """A keyed hash of an IP address (the address itself is never stored)."""
    return salted_hmac("kenal.hosted_forms.ip", ip, algorithm="sha256").hexdigest()


def submit(
    form: SignupForm,
    data: FormData,
    *,
    ip: str,
    now: dt.datetime,
    language: str = "en",
    site_url: str = "",
    update_token: str = "",
) -> Submitted:
    """Take one submission of ``form``: check it, write the customer, record consent.

    With ``update_token`` (from an update link) the submission updates that customer;
    otherwise it is matched by email or phone, and creates a customer when none matches.
    ``site_url`` ("https://host") makes the links in confirmation emails absolute.

    Raises :class:`SubmissionRefused` (spam, closed form), :class:`TokenInvalid` /
    :class:`TokenExpired` (update link) or :class:`SubmissionInvalid` (values refused).
    """
    ip_hash = hash_ip(ip)
    _check_not_spam(form, data, ip_hash, now)
    target = update_target(form, update_token, now=now) if update_token else None
    attempt = _Attempt(
        form=form,
        values=submitted_values(form, data),
        ticked=ticked_purposes(form, data),
        ip_hash=ip_hash,
        now=now,
        language=language,
        target=target,
    )
    customer, created = _write(attempt)
    record = SourceRecord.objects.filter(batch_id=attempt.batch_id).order_by("-id").first()
    submission = _log(attempt, customer, record, created=created)
    pending = _record_consents(attempt, customer, record)
    if pending:
        sent = _send_confirmation(attempt, customer, submission, pending, site_url)
        submission.confirmation = (
            FormSubmission.Confirmation.PENDING if sent else FormSubmission.Confirmation.FAILED
        )
        submission.save(update_fields=["confirmation"])
    return Submitted(submission, customer, awaiting_confirmation=bool(pending))


def _check_not_spam(form: SignupForm, data: FormData, ip_hash: str, now: dt.datetime) -> None:
    if not form.is_active:
        raise SubmissionRefused("closed", _("This form is closed."), status=410)
    recent = FormSubmission.objects.filter(
        form=form, ip_hash=ip_hash, submitted_at__gte=now - RATE_WINDOW
    )
    if recent.count() >= form.max_per_ip:
        # Not logged: a flood must not fill the table. Earlier attempts already count.
        raise SubmissionRefused(
            "rate_limit",
            _(
                "Too many submissions from your network in the last few minutes. "
                "Please try again later."
            ),
            status=429,
        )
    refusal = _spam_refusal(form, data, now)
    if refusal is not None:
        FormSubmission.objects.create(
            form=form,
            ip_hash=ip_hash,
            submitted_at=now,
            outcome=FormSubmission.Outcome.REFUSED,
            refusal=refusal.reason,
            language=translation.get_language() or "",
        )
        raise refusal


def _spam_refusal(form: SignupForm, data: FormData, now: dt.datetime) -> SubmissionRefused | None:
    if _first(data, HONEYPOT).strip():
        return SubmissionRefused(
            "honeypot",
            _(
                "Your submission looked automated and was not accepted. Please leave the hidden "
                "“website” box empty and send the form again."
            ),
        )
    try:
        payload = tokens.read(
            _first(data, TOKEN_FIELD), salt=tokens.FORM_SALT, now=now, max_age=MAX_FORM_AGE
        )
    except TokenExpired:
        return SubmissionRefused(
            "expired", _("This form was opened too long ago. Please check it and send it again.")
        )
    except TokenInvalid:
        return SubmissionRefused(
            "bad_token", _("This form could not be verified. Please send it again.")
        )
    if payload.get("f") != form.pk:
        return SubmissionRefused(
            "bad_token", _("This form could not be verified. Please send it again.")
        )
    if tokens.age(payload, now) < MIN_FILL_TIME:
        return SubmissionRefused(
            "too_fast",
            _(
                "The form was sent too quickly after it was opened. Please check it and send it "
                "again."
            ),
        )
    return None


def _write(attempt: _Attempt) -> tuple[Customer, bool]:
    """Create or update the customer through the customer services; (customer, created)."""
    customer = attempt.target or _match(attempt)
    raw = _raw(attempt, customer)
    origin = Origin(source=attempt.form.source_name, batch_id=attempt.batch_id)
    problems = _form_problems(attempt)
    try:
        if problems:
            _refuse(problems, raw, customer, origin)
        if customer is None:
            return customers.create_customer(raw, origin), True
        return customers.update_customer(customer, raw, origin), False
    except CustomerInvalid as exc:
        _log(attempt, customer, exc.source_record, created=False, rejected=True)
        field_errors, general = _messages(exc.errors, attempt.form)
        raise SubmissionInvalid(field_errors, general, exc.source_record) from exc


def _refuse(
    problems: list[InvalidValue], raw: dict[str, Any], customer: Customer | None, origin: Origin
) -> None:
    """Refuse the form's own problems, with the services' ones, keeping what was received."""
    errors = list(problems)
    try:
        customers.clean_customer(raw, customer=customer)
    except CustomerInvalid as exc:
        errors.extend(
            error for error in exc.errors if error.field not in {p.field for p in problems}
        )
    record = SourceRecord.objects.create(
        customer=customer,
        source=origin.source,
        batch_id=origin.batch_id,
        data=raw,
        status=SourceRecord.Status.REJECTED,
        errors=[error.as_dict() for error in errors],
    )
    raise CustomerInvalid(errors, record)


def _form_problems(attempt: _Attempt) -> list[InvalidValue]:
    """What this form requires beyond what every customer record does."""
    problems = [
        InvalidValue(item.name, "", _("a value (required on this form)"))
        for item in public_inputs(attempt.form)
        if item.required and item.name not in attempt.values
    ]
    wants_email = any(
        box.double_opt_in and box.purpose in attempt.ticked for box in consent_boxes(attempt.form)
    )
    if wants_email and "email" not in attempt.values:
        problems.append(
            InvalidValue("email", "", _("an email address, to confirm your subscription"))
        )
    return problems


def _match(attempt: _Attempt) -> Customer | None:
    keys = MatchKeys(
        source=attempt.form.source_name,
        emails=_normalised(normalise.email, attempt.values.get("email")),
        phones=_normalised(normalise.phone, attempt.values.get("phone")),
    )
    if keys.is_empty:
        return None
    match = find_match(keys)
    return Customer.objects.filter(pk=match.customer_id).first() if match else None


def _normalised(clean: Callable[[str], str], value: str | list[str] | None) -> tuple[str, ...]:
    """The key a value gives, or none: a value that does not normalise matches nothing (the
    customer services then report it)."""
    if not isinstance(value, str):
        return ()
    try:
        return (clean(value),)
    except InvalidValue:
        return ()


def _raw(attempt: _Attempt, customer: Customer | None) -> dict[str, Any]:
    """The raw values the customer services take; only what was typed.

    An existing customer keeps every email, phone and address they have: what was typed is
    added to them. It becomes the primary one only through an update link, where the
    customer has proven who they are; a public sign-up cannot redirect someone's mail.
    """
    values = attempt.values
    current = customers.editable_values(customer) if customer is not None else {}
    primary = customer is None or attempt.target is not None
    raw: dict[str, Any] = {key: values[key] for key in SCALAR_KEYS if key in values}
    if isinstance(email := values.get("email"), str):
        raw["emails"] = _merged(
            current.get("emails", []), {"email": email}, _same_contact("email"), primary=primary
        )
    if isinstance(phone := values.get("phone"), str):
        raw["phones"] = _merged(
            current.get("phones", []), {"number": phone}, _same_contact("number"), primary=primary
        )
    address = {key: values[key] for key in ADDRESS_KEYS if key in values}
    if address:
        raw["addresses"] = _merged(
            current.get("addresses", []), address, _same_address, primary=primary
        )
    custom = {
        key.removeprefix(CUSTOM_PREFIX): value
        for key, value in values.items()
        if key.startswith(CUSTOM_PREFIX)
    }
    if custom:
        raw["custom"] = custom
    return raw


def _same_contact(key: str) -> Callable[[Mapping[str, Any], Mapping[str, Any]], bool]:
    clean = normalise.email if key == "email" else normalise.phone

    def same(row: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
        wanted = _normalised(clean, str(new[key]))
        return bool(wanted) and str(row[key]).casefold() == wanted[0].casefold()

    return same


def _same_address(row: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    return all(
        str(row.get(key) or "").casefold() == str(value).casefold() for key, value in new.items()
    )


def _merged(
    rows: Iterable[Mapping[str, Any]],
    new: Mapping[str, Any],
    same: Callable[[Mapping[str, Any], Mapping[str, Any]], bool],
    *,
    primary: bool,
) -> list[dict[str, Any]]:
    """The existing rows with ``new`` added (once), primary when ``primary`` or first."""
    merged = [dict(row) for row in rows]
    found = next((row for row in merged if same(row, new)), None)
    if found is None:
        found = {**new, "is_primary": not merged}
        merged.append(found)
    if primary:
        for row in merged:
            row["is_primary"] = row is found
    return merged


def _messages(
    errors: Sequence[InvalidValue], form: SignupForm
) -> tuple[dict[str, list[str]], list[str]]:
    """Each problem beside its input; those of no input on the form listed above it."""
    inputs = {item.name: item for item in public_inputs(form)}
    by_input: dict[str, list[str]] = {}
    general: list[str] = []
    for error in errors:
        name = _input_name(error.field, inputs)
        if name is None:
            general.append(
                _("%(field)s: “%(value)s” is not valid; expected %(expected)s.")
                % {"field": error.field, "value": error.value, "expected": error.expected}
            )
        else:
            by_input.setdefault(name, []).append(_message(error))
    return by_input, general


def _message(error: InvalidValue) -> str:
    if str(error.value).strip() == "":
        return _("Expected %(expected)s.") % {"expected": error.expected}
    return _("“%(value)s” is not valid; expected %(expected)s.") % {
        "value": error.value,
        "expected": error.expected,
    }


def _input_name(path: str, inputs: Mapping[str, PublicInput]) -> str | None:
    """The input a service error path ("emails[2].email", "custom.tier") belongs to."""
    if path.startswith("emails"):
        name = "email"
    elif path.startswith("phones"):
        name = "phone"
    elif path.startswith("addresses"):
        part = path.rsplit(".", 1)[-1]
        name = part if part in ADDRESS_KEYS else next((k for k in ADDRESS_KEYS if k in inputs), "")
    else:
        name = path
    return name if name in inputs else None


def _log(
    attempt: _Attempt,
    customer: Customer | None,
    record: SourceRecord | None,
    *,
    created: bool,
    rejected: bool = False,
) -> FormSubmission:
    if rejected:
        outcome = FormSubmission.Outcome.REJECTED
    else:
        outcome = FormSubmission.Outcome.CREATED if created else FormSubmission.Outcome.UPDATED
    return FormSubmission.objects.create(
        form=attempt.form,
        customer=customer,
        source_record=record,
        ip_hash=attempt.ip_hash,
        submitted_at=attempt.now,
        outcome=outcome,
        via_update_link=attempt.target is not None,
        language=attempt.language,
    )


# --- consent --------------------------------------------------------------------------------


def _method(form: SignupForm, suffix: str = "") -> str:
    return f"web form {form.title}{suffix}"[:MAX_METHOD]


def _record_consents(
    attempt: _Attempt, customer: Customer, record: SourceRecord | None
) -> list[ConsentRecord]:
    """Record each ticked box; returns the records awaiting confirmation by email.

    An unticked box records nothing (consent stays unknown), except on an update link
    where a box shown ticked was unticked: that is the customer withdrawing it.
    """
    current = current_consents(customer)
    pending: list[ConsentRecord] = []
    for box in consent_boxes(attempt.form):
        latest = current.get(box.purpose)
        was_granted = latest is not None and latest.status == ConsentStatus.GRANTED
        if box.purpose in attempt.ticked and not was_granted:
            status = ConsentStatus.PENDING if box.double_opt_in else ConsentStatus.GRANTED
        elif box.purpose not in attempt.ticked and was_granted and attempt.target is not None:
            status = ConsentStatus.WITHDRAWN
        else:
            continue
        suffix = " (update link)" if attempt.target is not None else ""
        declaration = ConsentDeclaration(
            {box.purpose: status}, method=_method(attempt.form, suffix), wording=box.wording
        )
        records = record_consent(
            customer, declaration, source=attempt.form.source_name, source_record=record
        )
        if status == ConsentStatus.PENDING:
            pending.extend(records)
    return pending


def _send_confirmation(
    attempt: _Attempt,
    customer: Customer,
    submission: FormSubmission,
    pending: Sequence[ConsentRecord],
    site_url: str,
) -> bool:
    """Mail the double opt-in link, in the language the form was filled in; sent or not."""
    address = normalise.email(str(attempt.values["email"]))
    token = tokens.make(
        {"s": submission.pk, "c": customer.pk, "r": [record.pk for record in pending]},
        salt=tokens.CONFIRM_SALT,
        now=attempt.now,
    )
    context = {
        "form": attempt.form,
        "customer": customer,
        "boxes": [box for box in consent_boxes(attempt.form) if box.purpose in attempt.ticked],
        # The confirmation page opens in the language the form was filled in.
        "url": f"{site_url}{reverse('public_forms:confirm', args=[token])}?lang={attempt.language}",
        "days": CONFIRM_LINK_AGE.days,
    }
    with translation.override(attempt.language):
        subject = _("Please confirm your subscription: %(title)s") % {"title": attempt.form.title}
        text = render_to_string("hosted_forms/email/confirm.txt", context)
        html = render_to_string("hosted_forms/email/confirm.html", context)
    message = EmailMultiAlternatives(
        subject,
        text,
        settings.DEFAULT_FROM_EMAIL,
        [address],
        headers={"Content-Language": attempt.language},
    )
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except (smtplib.SMTPException, OSError):
        # The submission stands and consent stays pending; staff see the failure on the form.
        logger.exception("Confirmation email for form %s was not sent", attempt.form.slug)
        return False
    return True


@dataclass(frozen=True)
class Confirmed:
    """What opening a confirmation link did, purpose by purpose."""

    form: SignupForm | None
    confirmed: list[str]  # granted now
    already: list[str]  # granted before (the link was opened again)
    superseded: list[str]  # refused or withdrawn since: the old link no longer grants


def confirm(token: str, *, now: dt.datetime) -> Confirmed:
    """Grant the consents a double opt-in email asked to confirm; safe to open twice.

    Raises :class:`TokenInvalid` or :class:`TokenExpired`.
    """
    payload = tokens.read(token, salt=tokens.CONFIRM_SALT, now=now, max_age=CONFIRM_LINK_AGE)
    with transaction.atomic():
        # Locks the customer so two clicks at once record one grant, on both databases.
        customer = Customer.objects.select_for_update().filter(pk=_id(payload, "c")).first()
        if customer is None:
            raise TokenInvalid(token)
        asked = list(
            ConsentRecord.objects.filter(
                pk__in=payload.get("r") or [], customer=customer, status=ConsentStatus.PENDING
            )
        )
        if not asked:
            raise TokenInvalid(token)
        submission = (
            FormSubmission.objects.select_related("form").filter(pk=_id(payload, "s")).first()
        )
        result = _grant(customer, asked, submission.form if submission else None)
        if submission is not None and (result.confirmed or result.already):
            submission.confirmation = FormSubmission.Confirmation.CONFIRMED
            submission.save(update_fields=["confirmation"])
    return result


def _grant(
    customer: Customer, asked: Sequence[ConsentRecord], form: SignupForm | None
) -> Confirmed:
    current = current_consents(customer)
    result = Confirmed(form, [], [], [])
    for pending in asked:
        latest = current.get(pending.purpose)
        status = latest.status if latest is not None else ""
        if status == ConsentStatus.GRANTED:
            result.already.append(pending.purpose)
        elif status != ConsentStatus.PENDING:
            result.superseded.append(pending.purpose)
        else:
            declaration = ConsentDeclaration(
                {pending.purpose: ConsentStatus.GRANTED},
                method=CONFIRMED_METHOD,
                wording=pending.wording,
            )
            record_consent(
                customer, declaration, source=pending.source, source_record=pending.source_record
            )
            result.confirmed.append(pending.purpose)
    return result


# --- update links ---------------------------------------------------------------------------


def _id(payload: Mapping[str, Any], key: str) -> int:
    value = payload.get(key)
    if not isinstance(value, int):
        raise TokenInvalid(key)
    return value


def update_link(customer: Customer, form: SignupForm, *, now: dt.datetime | None = None) -> str:
    """The path of a signed link through which ``customer`` updates their own details."""
    token = tokens.make(
        {"c": customer.pk, "f": form.pk}, salt=tokens.UPDATE_SALT, now=now or timezone.now()
    )
    return reverse("public_forms:update", args=[form.slug, token])


def update_target(form: SignupForm, token: str, *, now: dt.datetime) -> Customer:
    """The customer an update link was made for; :class:`TokenInvalid` / :class:`TokenExpired`."""
    payload = tokens.read(token, salt=tokens.UPDATE_SALT, now=now, max_age=UPDATE_LINK_AGE)
    customer = Customer.objects.filter(pk=_id(payload, "c")).first()
    if payload.get("f") != form.pk or customer is None:
        raise TokenInvalid(token)
    return customer


def current_values(form: SignupForm, customer: Customer) -> FormValues:
    """The customer's values for the form's inputs, to pre-fill an update link's page."""
    current = customers.editable_values(customer)
    values: FormValues = {key: str(current[key]) for key in SCALAR_KEYS if current.get(key)}
    values["email"] = _primary(current["emails"], "email")
    values["phone"] = _primary(current["phones"], "number")
    addresses = sorted(current["addresses"], key=lambda row: not row["is_primary"])
    address: Mapping[str, Any] = addresses[0] if addresses else {}
    values.update({key: str(address.get(key) or "") for key in ADDRESS_KEYS})
    for definition, typed in custom_fields.values_for(customer):
        values[CUSTOM_PREFIX + definition.key] = _custom_value(
            definition.field_type, definition, typed
        )
    return {key: value for key, value in values.items() if value}


def _primary(rows: Sequence[Mapping[str, Any]], key: str) -> str:
    chosen = next((row for row in rows if row["is_primary"]), rows[0] if rows else None)
    return str(chosen[key]) if chosen else ""


def _custom_value(field_type: str, definition: Any, typed: list[Any]) -> str | list[str]:
    if field_type == FieldType.MULTIPLE_CHOICE:
        return [str(value.value) for value in typed]
    text = custom_fields.form_value(definition, typed)
    return text.replace(" ", "T", 1) if field_type == FieldType.DATETIME else text


def granted_purposes(customer: Customer) -> set[str]:
    return {
        purpose
        for purpose, record in current_consents(customer).items()
        if record is not None and record.status == ConsentStatus.GRANTED
    }


def find_customer(text: str) -> Customer:
    """The one customer an id, email or phone number names (for making an update link).

    Raises :class:`InvalidValue` when none or several match.
    """
    text = text.strip()
    if text.isdigit() and (by_id := Customer.objects.filter(pk=int(text)).first()):
        return by_id
    found = list(customers.find_customers(CustomerQuery(text=text))[:2]) if text else []
    if len(found) != 1:
        expected = (
            _("the id, email or phone number of one customer (several match)")
            if found
            else _("the id, email or phone number of a customer")
        )
        raise InvalidValue("customer", text, expected)
    return found[0]


# --- reporting ------------------------------------------------------------------------------


def submission_counts(form: SignupForm) -> dict[str, int]:
    """Submissions by outcome, with the total and the confirmed double opt-ins."""
    rows = form.submissions.values("outcome").annotate(count=Count("id")).order_by()
    counts = {outcome: 0 for outcome in FormSubmission.Outcome.values}
    counts.update({row["outcome"]: row["count"] for row in rows})
    counts["total"] = sum(counts.values())
    counts["confirmed"] = form.submissions.filter(
        confirmation=FormSubmission.Confirmation.CONFIRMED
    ).count()
    return counts
