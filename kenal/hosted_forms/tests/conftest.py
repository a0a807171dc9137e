"""Fixtures for hosted form tests: forms built through the services, and posting them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kenal.customers.models import Customer
from kenal.hosted_forms import services
from kenal.hosted_forms.models import SignupForm
from kenal.hosted_forms.services import ConsentSpec, FieldSpec, FormDefinition
from kenal.privacy.models import ConsentRecord
from kenal.privacy.services import current_consents

NEWSLETTER = "Yes, email me news and offers from Toko Kenal. I can unsubscribe at any time."
WHATSAPP = "Kirimi saya promo lewat WhatsApp."


@pytest.fixture
def make_form(db: None) -> Callable[..., SignupForm]:
    """Build a form through the services (fields: name, email, phone, city by default)."""

    def make(**overrides: Any) -> SignupForm:
        values: dict[str, Any] = {
            "title": "Member sign-up",
            "slug": "members",
            "thank_you": "Welcome to the club!",
            "fields": (
                FieldSpec("full_name", required=True),
                FieldSpec("email"),
                FieldSpec("phone"),
                FieldSpec("city", label="Your city"),
            ),
            "consents": (),
            **overrides,
        }
        return services.save_form(None, FormDefinition(**values))

    return make


def fresh_token(form: SignupForm, seconds_ago: float = 30) -> str:
    """A render token as if the page had been opened ``seconds_ago``."""
    return services.render_token(form, timezone.now() - dt.timedelta(seconds=seconds_ago))


def post_form(
    client: Client,
    form: SignupForm,
    data: dict[str, Any],
    *,
    seconds_ago: float = 30,
    path: str | None = None,
    token: str | None = None,
) -> Any:
    payload = {services.TOKEN_FIELD: token or fresh_token(form, seconds_ago), **data}
    return client.post(path or reverse("public_forms:form", args=[form.slug]), payload)


def consent_boxes() -> tuple[ConsentSpec, ...]:
    return (
        ConsentSpec("marketing_email", NEWSLETTER, double_opt_in=True),
        ConsentSpec("marketing_whatsapp", WHATSAPP, double_opt_in=False),
    )


def latest_consent(customer: Customer, purpose: str) -> ConsentRecord:
    """The customer's current ledger record for ``purpose`` (there must be one)."""
    record = current_consents(customer)[purpose]
    assert record is not None, purpose
    return record
