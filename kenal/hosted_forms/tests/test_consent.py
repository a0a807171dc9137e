"""Consent from a form: nothing for an unticked box, granted, or double opt-in by email
through a real SMTP server."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kenal.customers.models import Customer
from kenal.hosted_forms import tokens
from kenal.hosted_forms.models import FormSubmission
from kenal.hosted_forms.services import CONFIRMED_METHOD
from kenal.privacy.models import ConsentRecord

from .conftest import NEWSLETTER, WHATSAPP, consent_boxes, latest_consent, post_form

pytestmark = pytest.mark.django_db

PERSON = {"full_name": "Maya Sari", "email": "maya@example.com", "phone": "0813-2222-3333"}


def _link(message) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    found = re.search(r"http://testserver(/f/confirm/[^/\s]+/)", text)
    assert found is not None, text
    return found.group(1)


def test_unticked_boxes_record_nothing(make_form, smtp_server) -> None:
    form = make_form(consents=consent_boxes())

    post_form(Client(), form, PERSON)

    assert not ConsentRecord.objects.exists()
    assert smtp_server.messages == []
    assert FormSubmission.objects.get().confirmation == ""


def test_a_ticked_box_without_double_opt_in_is_granted_with_its_wording(make_form) -> None:
    form = make_form(consents=consent_boxes())

    post_form(Client(), form, {**PERSON, "consent.marketing_whatsapp": "yes"})

    record = ConsentRecord.objects.get()
    assert (record.purpose, record.status, record.wording) == (
        "marketing_whatsapp",
        "granted",
        WHATSAPP,
    )
    assert record.method == "web form Member sign-up"
    assert record.source == "form:members"
    assert record.source_record == Customer.objects.get().source_records.get()


def test_double_opt_in_is_pending_until_the_emailed_link_is_opened(make_form, smtp_server) -> None:
    form = make_form(consents=consent_boxes())
    client = Client()

    response = post_form(client, form, {**PERSON, "consent.marketing_email": "yes"})

    thanks = client.get(response["Location"]).content.decode()
    assert "open the link in it to confirm" in thanks
    customer = Customer.objects.get()
    assert latest_consent(customer, "marketing_email").status == "pending"
    assert FormSubmission.objects.get().confirmation == "pending"
    [message] = smtp_server.messages
    assert message["To"] == "maya@example.com"
    assert message["Subject"] == "Please confirm your subscription: Member sign-up"
    assert NEWSLETTER in message.get_body(preferencelist=("plain",)).get_content()
    assert "Confirm my subscription" in message.get_body(preferencelist=("html",)).get_content()

    confirmed = Client().get(_link(message))

    assert confirmed.status_code == 200
    assert "your subscription is confirmed" in confirmed.content.decode()
    latest = latest_consent(customer, "marketing_email")
    assert (latest.status, latest.method, latest.wording) == (
        "granted",
        CONFIRMED_METHOD,
        NEWSLETTER,
    )
    assert FormSubmission.objects.get().confirmation == "confirmed"

    again = Client().get(_link(message))
    assert "already confirmed" in again.content.decode()
    assert ConsentRecord.objects.filter(status="granted").count() == 1


def test_a_later_withdrawal_is_not_undone_by_an_old_link(make_form, smtp_server) -> None:
    from kenal.privacy.services import ConsentDeclaration, record_consent

    form = make_form(consents=consent_boxes())
    post_form(Client(), form, {**PERSON, "consent.marketing_email": "yes"})
    customer = Customer.objects.get()
    record_consent(
        customer,
        ConsentDeclaration({"marketing_email": "withdrawn"}, method="phone call"),
        source="web",
    )

    response = Client().get(_link(smtp_server.messages[0]))

    assert "no longer needed" in response.content.decode()
    assert latest_consent(customer, "marketing_email").status == "withdrawn"


def test_double_opt_in_needs_an_email_address(make_form, smtp_server) -> None:
    form = make_form(consents=consent_boxes())

    response = post_form(
        Client(),
        form,
        {"full_name": "Tanpa Email", "phone": "0813-2222-3333", "consent.marketing_email": "yes"},
    )

    assert response.status_code == 400
    assert "an email address, to confirm your subscription" in response.content.decode()
    assert not ConsentRecord.objects.exists()
    assert smtp_server.messages == []


def test_a_tampered_or_expired_confirmation_link_gets_a_clear_page(make_form, smtp_server) -> None:
    form = make_form(consents=consent_boxes())
    post_form(Client(), form, {**PERSON, "consent.marketing_email": "yes"})
    link = _link(smtp_server.messages[0])
    token = link.split("/")[-2]
    payload = tokens.read(
        token, salt=tokens.CONFIRM_SALT, now=timezone.now(), max_age=dt.timedelta(days=1)
    )
    old = tokens.make(payload, salt=tokens.CONFIRM_SALT, now=timezone.now() - dt.timedelta(days=8))

    tampered = Client().get(reverse("public_forms:confirm", args=[token[:-2] + "xx"]))
    expired = Client().get(reverse("public_forms:confirm", args=[old]))

    assert tampered.status_code == 400
    assert "This link is not valid" in tampered.content.decode()
    assert expired.status_code == 400
    assert "This link has expired" in expired.content.decode()
    assert not ConsentRecord.objects.filter(status="granted").exists()


def test_a_mail_server_that_is_down_leaves_consent_pending(make_form, settings) -> None:
    from kenal.conftest import _free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _free_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    form = make_form(consents=consent_boxes())

    response = post_form(Client(), form, {**PERSON, "consent.marketing_email": "yes"})

    assert response.status_code == 302
    assert FormSubmission.objects.get().confirmation == "failed"
    assert ConsentRecord.objects.get().status == "pending"


def test_the_email_is_in_the_language_the_form_was_filled_in(make_form, smtp_server) -> None:
    form = make_form(consents=consent_boxes())

    post_form(Client(), form, {**PERSON, "consent.marketing_email": "yes", "lang": "id"})

    assert FormSubmission.objects.get().language == "id"
    [message] = smtp_server.messages
    assert message["Content-Language"] == "id"
    assert _link(message) + "?lang=id" in message.get_body(preferencelist=("plain",)).get_content()
