"""Taking a submission: spam checks, matching, the customer write, messages and the log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from kenal.customers import normalise
from kenal.customers import services as customers
from kenal.customers.models import Customer, SourceRecord
from kenal.customers.normalise import InvalidValue
from kenal.customers.services import CustomerInvalid, Origin
from kenal.hosted_forms import tokens
from kenal.hosted_forms.catalogue import ADDRESS_KEYS, CUSTOM_PREFIX, SCALAR_KEYS, PublicInput
from kenal.hosted_forms.models import FormSubmission, SignupForm
from kenal.hosted_forms.services.attempt import _Attempt
from kenal.hosted_forms.services.consent import _record_consents, _send_confirmation
from kenal.hosted_forms.services.rendering import (
    HONEYPOT,
    TOKEN_FIELD,
    FormData,
    _first,
    consent_boxes,
    public_inputs,
    submitted_values,
    ticked_purposes,
)
from kenal.hosted_forms.services.update_links import update_target
from kenal.hosted_forms.tokens import TokenExpired, TokenInvalid
from kenal.identity.services import MatchKeys, Resolution, record_outcomes, resolve_batch

MIN_FILL_TIME = dt.timedelta(seconds=3)  # people need longer than this to fill in a form
MAX_FORM_AGE = dt.timedelta(days=1)  # a form left open longer is rendered again
RATE_WINDOW = dt.timedelta(minutes=10)


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
    customer, resolution = (attempt.target, None) if attempt.target else _match(attempt)
    raw = _raw(attempt, customer)
    origin = Origin(source=attempt.form.source_name, batch_id=attempt.batch_id)
    problems = _form_problems(attempt)
    try:
        if problems:
            _refuse(problems, raw, customer, origin)
        created = customer is None
        if customer is None:
            customer = customers.create_customer(raw, origin)
            if resolution is not None:
                record_outcomes([(customer.pk, resolution)])
        else:
            customer = customers.update_customer(customer, raw, origin)
        return customer, created
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


def _match(attempt: _Attempt) -> tuple[Customer | None, Resolution | None]:
    """The customer the submission belongs to, by the same matching as every write path."""
    try:
        clean = customers.clean_customer(_raw(attempt, None))
    except CustomerInvalid:
        # Refused values are reported when the customer is written; match on what is valid.
        keys = MatchKeys(
            source=attempt.form.source_name,
            emails=_normalised(normalise.email, attempt.values.get("email")),
            phones=_normalised(normalise.phone, attempt.values.get("phone")),
        )
    else:
        keys = MatchKeys.from_clean(clean, source=attempt.form.source_name)
    if keys.is_empty:
        return None, None
    resolution = resolve_batch([keys])[0]
    match = resolution.match
    if match is not None and match.rule == "probabilistic":
        # Anyone can fill in a public form: a likeness alone never lets it change a stored
        # customer. The sign-up becomes a customer, proposed for review as a duplicate.
        return None, Resolution(None, (match,), resolution.related)
    customer = Customer.objects.filter(pk=match.customer_id).first() if match else None
    return customer, resolution


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
