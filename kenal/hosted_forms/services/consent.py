"""Consent given through a form: recording it, mailing the double opt-in, confirming it."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from kenal.customers import normalise
from kenal.customers.models import Customer, SourceRecord
from kenal.hosted_forms import tokens
from kenal.hosted_forms.models import FormSubmission, SignupForm
from kenal.hosted_forms.services.attempt import _Attempt
from kenal.hosted_forms.services.rendering import consent_boxes
from kenal.hosted_forms.services.update_links import _id
from kenal.hosted_forms.tokens import TokenInvalid
from kenal.privacy.models import ConsentRecord, ConsentStatus
from kenal.privacy.services import ConsentDeclaration, current_consents, record_consent

logger = logging.getLogger(__name__)

CONFIRM_LINK_AGE = dt.timedelta(days=7)
# Ledger methods are evidence: kept in one language whatever the visitor's language was.
CONFIRMED_METHOD = "double opt-in confirmed by email"
MAX_METHOD = 200


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
