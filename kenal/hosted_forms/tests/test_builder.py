"""Building forms: the definition rules, and the staff pages (managers and admins only)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from kenal.accounts.models import Role
from kenal.customers import custom_fields
from kenal.customers.models import FieldType
from kenal.hosted_forms import services
from kenal.hosted_forms.models import SignupForm
from kenal.hosted_forms.services import (
    ConsentSpec,
    FieldSpec,
    FormDefinition,
    FormDefinitionError,
)

from .conftest import NEWSLETTER, consent_boxes

pytestmark = pytest.mark.django_db

Login = Callable[..., Client]


def test_a_form_with_a_custom_field_and_consent_checkboxes(make_form) -> None:
    custom_fields.define_field(
        key="tier", label="Membership tier", field_type=FieldType.CHOICE, choices=["Silver", "Gold"]
    )
    form = make_form(
        fields=(FieldSpec("full_name", True), FieldSpec("email", True), FieldSpec("custom.tier")),
        consents=consent_boxes(),
        allowed_origins=("https://Shop.Example.com/",),
    )

    form.refresh_from_db()
    assert form.source_name == "form:members"
    assert form.fields[2] == {"key": "custom.tier", "required": False, "label": ""}
    assert form.consents[0] == {
        "purpose": "marketing_email",
        "wording": NEWSLETTER,
        "double_opt_in": True,
    }
    assert form.allowed_origins == ["https://shop.example.com"]

    page = Client().get(reverse("public_forms:form", args=["members"])).content.decode()
    assert 'name="custom.tier"' in page
    assert '<option value="Gold">Gold</option>' in page
    assert NEWSLETTER in page
    assert 'name="consent.marketing_email"' in page


def test_definition_problems_are_reported_together(make_form) -> None:
    make_form(slug="taken")
    custom_fields.define_field(
        key="member_no", label="Member number", field_type=FieldType.TEXT, required=True
    )
    with pytest.raises(FormDefinitionError) as caught:
        services.save_form(
            None,
            FormDefinition(
                title=" ",
                slug="taken",
                fields=(FieldSpec("full_name"), FieldSpec("shoe_size")),
                consents=(
                    ConsentSpec("marketing_email", "News by email", double_opt_in=True),
                    ConsentSpec("profiling", ""),
                ),
                allowed_origins=("shop.example.com",),
                max_per_ip=0,
            ),
        )
    where = [where for where, _message in caught.value.problems]
    text = str(caught.value)
    assert {"title", "slug", "fields", "consents", "allowed_origins", "max_per_ip"} <= set(where)
    assert "“shoe_size” is not a field" in text
    assert "Ask for an email address or a phone number" in text
    assert "“Member number” is required for every customer" in text
    assert "add the email field to the form" in text
    assert "Write the wording shown" in text
    assert "“shop.example.com” is not a site address" in text
    assert not SignupForm.objects.filter(title=" ").exists()


def test_the_confirm_address_is_reserved(make_form) -> None:
    with pytest.raises(FormDefinitionError, match="slug"):
        make_form(slug="confirm")


def test_a_manager_builds_a_form_on_the_page(login: Login) -> None:
    client = login(Role.MANAGER)
    assert client.get(reverse("hosted_forms:create")).status_code == 200

    response = client.post(
        reverse("hosted_forms:create"),
        {
            "title": "Jakarta Fair lucky draw",
            "slug": "lucky-draw",
            "intro": "Win a scooter!",
            "thank_you": "Good luck!",
            "source": "",
            "is_active": "on",
            "allowed_origins": "https://fair.example.com\r\n",
            "max_per_ip": "50",
            "field-full_name-on": "1",
            "field-full_name-required": "1",
            "field-full_name-order": "10",
            "field-phone-on": "1",
            "field-phone-required": "1",
            "field-phone-label": "WhatsApp number",
            "field-phone-order": "5",
            "consent-marketing_whatsapp-on": "1",
            "consent-marketing_whatsapp-wording": "Send me offers on WhatsApp.",
        },
        follow=True,
    )

    form = SignupForm.objects.get(slug="lucky-draw")
    assert response.redirect_chain == [(reverse("hosted_forms:detail", args=[form.pk]), 302)]
    assert [spec["key"] for spec in form.fields] == ["phone", "full_name"]
    assert form.fields[0]["label"] == "WhatsApp number"
    assert form.consents == [
        {
            "purpose": "marketing_whatsapp",
            "wording": "Send me offers on WhatsApp.",
            "double_opt_in": False,
        }
    ]
    assert form.max_per_ip == 50
    page = response.content.decode()
    assert "http://testserver/f/lucky-draw/" in page
    assert '&lt;iframe src="http://testserver/f/lucky-draw/"' in page


def test_the_builder_shows_problems_and_keeps_the_input(login: Login) -> None:
    response = login(Role.ADMIN).post(
        reverse("hosted_forms:create"),
        {
            "title": "No contact",
            "slug": "no-contact",
            "max_per_ip": "5",
            "field-full_name-on": "1",
            "field-full_name-label": "Nama lengkap",
        },
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Ask for an email address or a phone number" in page
    assert 'value="Nama lengkap"' in page
    assert not SignupForm.objects.exists()


def test_a_manager_edits_a_form(login: Login, make_form) -> None:
    form = make_form()
    client = login(Role.MANAGER)
    page = client.get(reverse("hosted_forms:edit", args=[form.pk])).content.decode()
    assert 'value="Member sign-up"' in page
    assert 'value="Your city"' in page

    response = client.post(
        reverse("hosted_forms:edit", args=[form.pk]),
        {
            "title": "Members",
            "slug": "members",
            "max_per_ip": "5",
            "field-email-on": "1",
            "field-email-required": "1",
        },
    )

    assert response.status_code == 302
    form.refresh_from_db()
    assert (form.title, form.is_active) == ("Members", False)
    assert form.fields == [{"key": "email", "required": True, "label": ""}]


def test_the_detail_page_counts_submissions_and_makes_update_links(login: Login, make_form) -> None:
    from kenal.customers.services import Origin, create_customer

    form = make_form()
    create_customer({"full_name": "Siti Rahayu", "emails": ["siti@example.com"]}, Origin("test"))
    client = login(Role.MANAGER)

    page = client.get(
        reverse("hosted_forms:detail", args=[form.pk]), {"customer": "siti@example.com"}
    ).content.decode()

    assert "Nothing has been submitted yet." in page
    assert "Link for Siti Rahayu" in page
    assert "http://testserver/f/members/u/" in page
    missing = client.get(
        reverse("hosted_forms:detail", args=[form.pk]), {"customer": "nobody@x.id"}
    )
    assert "expected the id, email or phone number of a customer" in missing.content.decode()


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_agents_and_viewers_may_not_manage_forms(login: Login, make_form, role: str) -> None:
    form = make_form()
    client = login(role)
    for url in (
        reverse("hosted_forms:list"),
        reverse("hosted_forms:create"),
        reverse("hosted_forms:detail", args=[form.pk]),
        reverse("hosted_forms:edit", args=[form.pk]),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("hosted_forms:create"), {"title": "x"}).status_code == 403
    assert "/settings/forms/" not in client.get(reverse("customers:list")).content.decode()


def test_anonymous_visitors_are_sent_to_log_in(make_form) -> None:
    form = make_form()
    for url in (reverse("hosted_forms:list"), reverse("hosted_forms:detail", args=[form.pk])):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_managers_see_forms_in_the_navigation(login: Login, make_form) -> None:
    make_form()
    page = login(Role.MANAGER).get(reverse("hosted_forms:list")).content.decode()
    assert 'href="/settings/forms/"' in page
    assert "Member sign-up" in page
    assert "/f/members/" in page
