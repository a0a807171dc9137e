"""Signed update links: the customer's own details, pre-filled, changed for that customer."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from kenal.customers import custom_fields
from kenal.customers.models import Customer, FieldType
from kenal.customers.services import Origin, create_customer
from kenal.hosted_forms import services
from kenal.hosted_forms.models import FormSubmission
from kenal.hosted_forms.services import FieldSpec
from kenal.privacy.services import ConsentDeclaration, current_consents, record_consent

from .conftest import consent_boxes, latest_consent, post_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def rina(db: None) -> Customer:
    custom_fields.define_field(key="shoe_size", label="Shoe size", field_type=FieldType.INTEGER)
    return create_customer(
        {
            "full_name": "Rina Wati",
            "emails": ["rina@example.com"],
            "phones": ["0812-5555-6666"],
            "addresses": [{"city": "Bogor", "street": "Jl. Pajajaran 1"}],
            "custom": {"shoe_size": "38"},
        },
        Origin("test"),
    )


@pytest.fixture
def update_form(make_form):
    return make_form(
        fields=(
            FieldSpec("full_name", True),
            FieldSpec("email"),
            FieldSpec("phone"),
            FieldSpec("city"),
            FieldSpec("custom.shoe_size"),
        ),
        consents=consent_boxes(),
    )


def test_the_link_shows_the_customer_s_current_details(rina, update_form) -> None:
    response = Client().get(services.update_link(rina, update_form))

    page = response.content.decode()
    assert response.status_code == 200
    for value in ("Rina Wati", "rina@example.com", "+6281255556666", "Bogor", "38"):
        assert f'value="{value}"' in page
    assert "Save my details" in page


def test_submitting_updates_that_customer_without_matching(rina, update_form) -> None:
    other = create_customer({"full_name": "Other", "emails": ["other@example.com"]}, Origin("t"))
    link = services.update_link(rina, update_form)

    response = post_form(
        Client(),
        update_form,
        {
            "full_name": "Rina Wati Putri",
            "email": "rina.new@example.com",
            "city": "Bandung",
            "custom.shoe_size": "39",
        },
        path=link,
    )

    assert response.status_code == 302
    rina.refresh_from_db()
    assert rina.full_name == "Rina Wati Putri"
    # Through the link the customer has proven who they are: the new address becomes primary,
    # the old one is kept.
    emails = list(rina.emails.order_by("id").values_list("email", "is_primary"))
    assert emails == [("rina@example.com", False), ("rina.new@example.com", True)]
    assert rina.addresses.get(is_primary=True).city == "Bandung"
    assert rina.addresses.count() == 2
    assert rina.phones.get().number == "+6281255556666"
    values = {f.key: [v.value for v in typed] for f, typed in custom_fields.values_for(rina)}
    assert values["shoe_size"] == [39]
    assert other.emails.get().email == "other@example.com"
    submission = FormSubmission.objects.get()
    assert (submission.customer, submission.via_update_link, submission.outcome) == (
        rina,
        True,
        "updated",
    )
    assert Customer.objects.count() == 2


def test_a_tampered_or_foreign_token_is_refused(rina, update_form, make_form) -> None:
    link = services.update_link(rina, update_form)
    other_form = make_form(slug="other")
    elsewhere = services.update_link(rina, other_form).replace("/f/other/", "/f/members/")
    old = services.update_link(rina, update_form, now=timezone.now() - dt.timedelta(days=31))

    for path in (link[:-3] + "xx/", elsewhere):
        response = Client().get(path)
        assert response.status_code == 400
        assert "This link is not valid" in response.content.decode()
    assert "This link has expired" in Client().get(old).content.decode()
    refused = post_form(Client(), update_form, {"full_name": "Hacked"}, path=link[:-3] + "xx/")
    assert refused.status_code == 400
    rina.refresh_from_db()
    assert rina.full_name == "Rina Wati"


def test_unticking_a_granted_consent_withdraws_it(rina, update_form) -> None:
    record_consent(
        rina,
        ConsentDeclaration({"marketing_whatsapp": "granted"}, method="paper form"),
        source="fair",
    )
    link = services.update_link(rina, update_form)
    page = Client().get(link).content.decode()
    assert 'id="c-marketing_whatsapp" value="yes" checked' in page

    post_form(Client(), update_form, {"full_name": "Rina Wati"}, path=link)

    latest = latest_consent(rina, "marketing_whatsapp")
    assert (latest.status, latest.method) == ("withdrawn", "web form Member sign-up (update link)")
    assert current_consents(rina)["marketing_email"] is None
