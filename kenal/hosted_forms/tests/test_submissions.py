"""Submitting a public form: customers created and matched, values refused, spam refused."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kenal.customers import custom_fields
from kenal.customers.models import Customer, CustomerEmail, FieldType, SourceRecord
from kenal.hosted_forms import services
from kenal.hosted_forms.models import FormSubmission
from kenal.hosted_forms.services import FieldSpec

from .conftest import fresh_token, post_form

pytestmark = pytest.mark.django_db


def test_the_page_carries_a_signed_token_and_a_honeypot(make_form) -> None:
    make_form()
    response = Client().get(reverse("public_forms:form", args=["members"]))

    page = response.content.decode()
    assert response.status_code == 200
    assert f'name="{services.TOKEN_FIELD}" value="' in page
    assert f'name="{services.HONEYPOT}"' in page
    assert 'for="f-city">Your city' in page
    assert response["Cache-Control"].startswith("max-age=0")


def test_a_submission_creates_a_customer_with_its_source_record(make_form) -> None:
    form = make_form()
    client = Client()

    response = post_form(
        client,
        form,
        {
            "full_name": "BUDI SANTOSO",
            "email": "Budi@Example.COM",
            "phone": "0812-3456-7890",
            "city": "Bandung",
        },
    )

    assert response.status_code == 302
    thanks = client.get(response["Location"])
    assert "Welcome to the club!" in thanks.content.decode()
    customer = Customer.objects.get()
    assert customer.full_name == "Budi Santoso"
    assert customer.primary_email == "Budi@example.com"
    assert customer.primary_phone == "+6281234567890"
    assert customer.addresses.get().city == "Bandung"
    record = SourceRecord.objects.get()
    assert (record.source, record.status, record.customer) == (
        "form:members",
        SourceRecord.Status.APPLIED,
        customer,
    )
    assert record.data["full_name"] == "BUDI SANTOSO"
    submission = FormSubmission.objects.get()
    assert (submission.outcome, submission.customer, submission.source_record) == (
        FormSubmission.Outcome.CREATED,
        customer,
        record,
    )
    assert len(submission.ip_hash) == 64
    assert "127.0.0.1" not in submission.ip_hash


def test_the_same_person_again_updates_the_same_customer(make_form) -> None:
    form = make_form()
    first = {"full_name": "Budi Santoso", "email": "budi@example.com", "phone": "081234567890"}
    post_form(Client(), form, first)

    response = post_form(
        Client(),
        form,
        {
            "full_name": "Budi Santoso",
            "email": "BUDI@example.com",
            "phone": "+62 812-3456-7890",
            "city": "Surabaya",
        },
    )

    assert response.status_code == 302
    customer = Customer.objects.get()
    assert list(customer.emails.values_list("email", flat=True)) == ["budi@example.com"]
    assert customer.phones.count() == 1
    assert customer.addresses.get().city == "Surabaya"
    outcomes = list(FormSubmission.objects.order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["created", "updated"]


def test_a_match_keeps_every_email_and_adds_the_new_one(make_form) -> None:
    form = make_form()
    post_form(
        Client(), form, {"full_name": "Ani", "email": "ani@example.com", "phone": "0812-1111-2222"}
    )

    post_form(
        Client(),
        form,
        {"full_name": "Ani", "email": "ani.baru@example.com", "phone": "081211112222"},
    )

    customer = Customer.objects.get()
    emails = list(customer.emails.order_by("id").values_list("email", "is_primary"))
    # A public sign-up adds the address; it does not take the customer's mail elsewhere.
    assert emails == [("ani@example.com", True), ("ani.baru@example.com", False)]


def test_only_the_values_typed_change_the_customer(make_form) -> None:
    form = make_form()
    post_form(
        Client(), form, {"full_name": "Dewi Lestari", "email": "dewi@example.com", "city": "Medan"}
    )

    post_form(Client(), form, {"full_name": "Dewi Lestari", "email": "dewi@example.com"})

    assert Customer.objects.get().addresses.get().city == "Medan"


def test_invalid_values_are_named_beside_their_input_and_kept(make_form) -> None:
    form = make_form()

    response = post_form(
        Client(), form, {"full_name": "Rudi", "email": "rudi@", "phone": "12ab", "city": "Solo"}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "“rudi@” is not valid; expected an email address" in page
    assert "“12ab” is not valid; expected a phone number" in page
    assert 'id="f-email-error"' in page
    assert 'value="rudi@"' in page
    assert 'value="Solo"' in page
    assert not Customer.objects.exists()
    record = SourceRecord.objects.get()
    assert record.status == SourceRecord.Status.REJECTED
    assert {error["field"] for error in record.errors} == {"emails[0].email", "phones[0].number"}
    submission = FormSubmission.objects.get()
    assert (submission.outcome, submission.source_record) == ("rejected", record)


def test_the_form_s_required_fields_are_enforced(make_form) -> None:
    form = make_form(fields=(FieldSpec("full_name"), FieldSpec("email", required=True)))

    response = post_form(Client(), form, {"full_name": "Tono"})

    assert response.status_code == 400
    assert "Expected a value (required on this form)." in response.content.decode()
    assert not Customer.objects.exists()
    assert SourceRecord.objects.get().status == SourceRecord.Status.REJECTED


def test_custom_field_values_go_through_the_same_validation(make_form) -> None:
    custom_fields.define_field(key="visits", label="Visits", field_type=FieldType.INTEGER)
    custom_fields.define_field(
        key="interests",
        label="Interests",
        field_type=FieldType.MULTIPLE_CHOICE,
        choices=["Batik", "Kopi", "Sepeda"],
    )
    form = make_form(
        fields=(FieldSpec("email"), FieldSpec("custom.visits"), FieldSpec("custom.interests"))
    )

    refused = post_form(Client(), form, {"email": "a@example.com", "custom.visits": "lots"})
    assert "“lots” is not valid" in refused.content.decode()

    post_form(
        Client(),
        form,
        {"email": "a@example.com", "custom.visits": "3", "custom.interests": ["Kopi", "Batik"]},
    )
    customer = Customer.objects.get()
    values = {
        field.key: [v.value for v in typed] for field, typed in custom_fields.values_for(customer)
    }
    assert values == {"visits": [3], "interests": ["Kopi", "Batik"]}


def test_a_filled_honeypot_is_refused_with_a_message(make_form) -> None:
    form = make_form()

    response = post_form(Client(), form, {"email": "bot@example.com", "website": "http://spam"})

    assert response.status_code == 400
    assert "looked automated and was not accepted" in response.content.decode()
    assert not Customer.objects.exists()
    assert FormSubmission.objects.get().refusal == "honeypot"


def test_a_form_sent_too_fast_is_refused_and_offered_again(make_form) -> None:
    form = make_form()

    response = post_form(
        Client(), form, {"full_name": "Cepat", "email": "c@example.com"}, seconds_ago=0
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "sent too quickly" in page
    assert 'value="c@example.com"' in page
    assert not Customer.objects.exists()


def test_an_expired_or_forged_token_is_refused(make_form) -> None:
    form = make_form()
    other = make_form(slug="other")

    expired = post_form(Client(), form, {"email": "x@example.com"}, seconds_ago=2 * 86400)
    forged = post_form(Client(), form, {"email": "x@example.com"}, token=fresh_token(form) + "x")
    elsewhere = post_form(Client(), form, {"email": "x@example.com"}, token=fresh_token(other))
    missing = Client().post(
        reverse("public_forms:form", args=["members"]), {"email": "x@example.com"}
    )

    assert "opened too long ago" in expired.content.decode()
    for response in (forged, elsewhere, missing):
        assert response.status_code == 400
        assert "could not be verified" in response.content.decode()
    assert not Customer.objects.exists()
    assert sorted(FormSubmission.objects.values_list("refusal", flat=True)) == [
        "bad_token",
        "bad_token",
        "bad_token",
        "expired",
    ]


def test_one_network_is_limited_per_form(make_form) -> None:
    form = make_form(max_per_ip=2, fields=(FieldSpec("email"),))
    for number in range(2):
        assert post_form(Client(), form, {"email": f"p{number}@example.com"}).status_code == 302

    response = post_form(Client(), form, {"email": "p3@example.com"})

    assert response.status_code == 429
    assert "Too many submissions from your network" in response.content.decode()
    assert Customer.objects.count() == 2
    # Another form has its own allowance.
    assert (
        post_form(
            Client(),
            make_form(slug="fair", fields=(FieldSpec("email"),)),
            {"email": "p3@example.com"},
        ).status_code
        == 302
    )
    # Another network too.
    other = post_form(Client(REMOTE_ADDR="10.1.2.3"), form, {"email": "p4@example.com"})
    assert other.status_code == 302


def test_a_closed_form_takes_nothing(make_form) -> None:
    form = make_form(is_active=False)

    assert Client().get(reverse("public_forms:form", args=["members"])).status_code == 410
    assert post_form(Client(), form, {"email": "late@example.com"}).status_code == 410
    assert not CustomerEmail.objects.exists()
