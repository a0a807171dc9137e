"""The custom field management pages, through the test client."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from kenal.accounts.models import Role, User
from kenal.customers import custom_fields
from kenal.customers.models import Customer, CustomField, FieldType
from kenal.customers.services import Origin, create_customer

pytestmark = pytest.mark.django_db


Login = Callable[..., Client]
ORIGIN = Origin(source="test")


def customer_with(name: str, **custom: object) -> Customer:
    return create_customer({"full_name": name, "custom": custom}, ORIGIN)


def test_manager_creates_a_field_and_sees_it_listed(login: Login) -> None:
    client = login(Role.MANAGER)
    assert client.get(reverse("fields:create")).status_code == 200

    response = client.post(
        reverse("fields:create"),
        {
            "key": "tier",
            "label": "Membership tier",
            "field_type": FieldType.CHOICE,
            "required": "on",
            "choices": "Silver\r\nGold\r\n\r\n Platinum ",
            "currency": "",
            "help_text": "Loyalty programme level",
        },
        follow=True,
    )

    assert response.redirect_chain == [(reverse("fields:list"), 302)]
    field = CustomField.objects.get(key="tier")
    assert (field.label, field.field_type, field.required, field.unique) == (
        "Membership tier",
        FieldType.CHOICE,
        True,
        False,
    )
    assert field.choices == ["Silver", "Gold", "Platinum"]
    page = response.content.decode()
    assert "Membership tier" in page
    assert "<code>tier</code>" in page
    assert '<span class="tag">Platinum</span>' in page


def test_list_shows_active_fields_then_archived_with_counts(login: Login) -> None:
    archived = custom_fields.define_field(key="old_code", label="Old code", field_type="text")
    custom_fields.define_field(key="visits", label="Visits", field_type="integer")
    customer_with("Budi", old_code="A", visits="3")
    customer_with("Siti", old_code="B")
    custom_fields.archive_field(archived)

    response = login(Role.ADMIN).get(reverse("fields:list"))

    page = response.content.decode()
    assert page.index("Visits") < page.index("Archived fields") < page.index("Old code")
    assert reverse("fields:restore", args=[archived.pk]) in page
    assert 'class="num">2</td>' in page  # two customers have an old code
    assert 'class="num">1</td>' in page


def test_definition_problems_are_shown_on_the_form(login: Login) -> None:
    response = login(Role.MANAGER).post(
        reverse("fields:create"),
        {"key": "email", "label": " ", "field_type": FieldType.CHOICE, "choices": ""},
    )

    assert response.status_code == 200
    form = response.context["form"]
    # Every problem at once, each beside its field.
    assert "built-in" in form.errors["key"][0]
    assert "empty" in form.errors["label"][0]
    assert "choice" in form.errors["choices"][0]
    assert "built-in" in response.content.decode()
    assert not CustomField.objects.exists()


def test_edit_offers_only_the_settings_of_the_type(login: Login) -> None:
    field = custom_fields.define_field(key="vip", label="VIP", field_type="boolean")
    response = login(Role.MANAGER).get(reverse("fields:edit", args=[field.pk]))
    assert set(response.context["form"].fields) == {"key", "label", "required", "help_text"}


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_agents_and_viewers_are_refused(login: Login, role: str) -> None:
    field = custom_fields.define_field(key="tier", label="Tier", field_type="text")
    client = login(role)

    for name, args in (
        ("fields:list", []),
        ("fields:create", []),
        ("fields:edit", [field.pk]),
        ("fields:change_type", [field.pk]),
    ):
        assert client.get(reverse(name, args=args)).status_code == 403, name
    for name in ("fields:archive", "fields:restore"):
        assert client.post(reverse(name, args=[field.pk])).status_code == 403, name
    response = client.post(
        reverse("fields:create"), {"key": "x", "label": "X", "field_type": "text"}
    )
    assert response.status_code == 403
    field.refresh_from_db()
    assert not field.is_archived
    assert CustomField.objects.count() == 1


def test_edit_renames_and_keeps_values(login: Login) -> None:
    field = custom_fields.define_field(key="member_no", label="Member", field_type="text")
    budi = customer_with("Budi", member_no="M-1")

    response = login(Role.MANAGER).post(
        reverse("fields:edit", args=[field.pk]),
        {"key": "card_no", "label": "Card number", "help_text": "", "unique": "on"},
    )

    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.key, field.label, field.unique) == ("card_no", "Card number", True)
    assert [v.value for v in dict(custom_fields.values_for(budi))[field]] == ["M-1"]


def test_edit_refused_shows_the_problem_and_changes_nothing(login: Login) -> None:
    field = custom_fields.define_field(
        key="tier", label="Tier", field_type="choice", choices=["Silver", "Gold"]
    )
    customer_with("Budi", tier="Gold")

    response = login(Role.MANAGER).post(
        reverse("fields:edit", args=[field.pk]),
        {"key": "tier", "label": "Level", "choices": "Silver"},
    )

    assert response.status_code == 200
    assert "&#x27;Gold&#x27; is still chosen" in response.content.decode()
    field.refresh_from_db()
    assert (field.label, field.choices) == ("Tier", ["Silver", "Gold"])


def test_archive_and_restore_by_post(login: Login) -> None:
    field = custom_fields.define_field(key="tier", label="Tier", field_type="text")
    budi = customer_with("Budi", tier="Gold")
    client = login(Role.MANAGER)

    assert client.get(reverse("fields:archive", args=[field.pk])).status_code == 405
    response = client.post(reverse("fields:archive", args=[field.pk]))
    assert response.status_code == 302
    field.refresh_from_db()
    assert field.is_archived
    assert field not in dict(custom_fields.values_for(budi))

    response = client.post(reverse("fields:restore", args=[field.pk]), follow=True)
    field.refresh_from_db()
    assert not field.is_archived
    assert "restored" in response.content.decode()
    assert [v.value for v in dict(custom_fields.values_for(budi))[field]] == ["Gold"]


def test_archive_needs_the_csrf_token(make_user: Callable[..., User]) -> None:
    field = custom_fields.define_field(key="tier", label="Tier", field_type="text")
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("boss", Role.MANAGER))

    assert client.post(reverse("fields:archive", args=[field.pk])).status_code == 403
    field.refresh_from_db()
    assert not field.is_archived


def test_change_type_refusal_lists_the_failing_values(login: Login) -> None:
    field = custom_fields.define_field(key="visits", label="Visits", field_type="text")
    customer_with("Budi", visits="12")
    siti = customer_with("Siti Aminah", visits="dua belas")

    response = login(Role.MANAGER).post(
        reverse("fields:change_type", args=[field.pk]), {"field_type": FieldType.INTEGER}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "1 value cannot be converted" in page
    assert "<code>dua belas</code>" in page
    assert "Siti Aminah" in page
    assert reverse("customers:detail", args=[siti.pk]) in page
    field.refresh_from_db()
    assert field.field_type == FieldType.TEXT


def test_change_type_lists_only_the_first_hundred_failures(login: Login) -> None:
    field = custom_fields.define_field(key="visits", label="Visits", field_type="text")
    budi = customer_with("Budi", visits="x")
    # Another 100 bad values, written the way an import writes them.
    for number in range(100):
        other = Customer.objects.create(full_name=f"Pelanggan {number}")
        custom_fields.write_values(other, {field: [custom_fields.TypedValue("x")]})

    response = login(Role.MANAGER).post(
        reverse("fields:change_type", args=[field.pk]), {"field_type": FieldType.INTEGER}
    )

    assert "101 values cannot be converted" in response.content.decode()
    assert "The first 100 of 101 are listed" in response.content.decode()
    assert len(response.context["failures"]) == 100
    assert response.context["failures"][0].customer_id == budi.pk


def test_change_type_success_reports_the_count(login: Login) -> None:
    field = custom_fields.define_field(key="visits", label="Visits", field_type="text")
    customer_with("Budi", visits="12")
    customer_with("Siti", visits="3")

    response = login(Role.ADMIN).post(
        reverse("fields:change_type", args=[field.pk]),
        {"field_type": FieldType.INTEGER},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("fields:list"), 302)]
    assert "2 values converted" in response.content.decode()
    field.refresh_from_db()
    assert field.field_type == FieldType.INTEGER


def test_change_type_to_a_choice_needs_choices(login: Login) -> None:
    field = custom_fields.define_field(key="tier", label="Tier", field_type="text")
    client = login(Role.MANAGER)

    response = client.post(
        reverse("fields:change_type", args=[field.pk]),
        {"field_type": FieldType.CHOICE, "choices": ""},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["choices"]

    response = client.post(
        reverse("fields:change_type", args=[field.pk]),
        {"field_type": FieldType.CHOICE, "choices": "Silver\nGold"},
    )
    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.field_type, field.choices) == (FieldType.CHOICE, ["Silver", "Gold"])


def test_pages_render_in_indonesian(login: Login) -> None:
    client = login(Role.MANAGER)
    response = client.get(reverse("fields:list"), HTTP_ACCEPT_LANGUAGE="id")
    assert response.status_code == 200
    assert '<html lang="id">' in response.content.decode()
