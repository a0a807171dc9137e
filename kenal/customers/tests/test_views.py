"""The customer pages: list and search, a customer's page, the form, notes, permissions."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kenal.accounts.models import Role, User
from kenal.activity.models import Order, OrderItem, Product
from kenal.customers import custom_fields, services
from kenal.customers.models import Customer, Note, SourceRecord
from kenal.customers.services import CustomerInvalid, Origin
from kenal.privacy.services import parse_declaration, record_consent

SCALARS = (
    "full_name",
    "given_name",
    "family_name",
    "gender",
    "birth_date",
    "company",
    "job_title",
    "income_band",
    "marital_status",
    "education",
    "preferred_language",
    "preferred_channel",
    "lifecycle_stage",
    "owner",
    "tags",
)


@pytest.fixture
def agent(login: Callable[..., Client]) -> Client:
    return login(Role.AGENT)


@pytest.fixture
def viewer(login: Callable[..., Client]) -> Client:
    return login(Role.VIEWER)


def make(name: str, source: str = "test", **values: Any) -> Customer:
    return services.create_customer({"full_name": name, **values}, Origin(source=source))


@pytest.fixture
def budi(db: None) -> Customer:
    return services.create_customer(
        {
            "full_name": "Budi Santoso",
            "phones": [{"number": "+6281234567890", "is_verified": True}],
            "emails": ["budi@contoh.co.id"],
            "addresses": [{"street": "Jl. Merdeka 5", "city": "Bandung", "country": "ID"}],
            "company": "PT Maju Jaya",
            "tags": "vip",
            "lifecycle_stage": "customer",
        },
        Origin(source="pos-export", batch_id="batch-2024-07", external_id="C-17"),
    )


def names(response: Any) -> list[str]:
    return [customer.full_name for customer in response.context["page"].items]


def form_data(customer: Customer, **overrides: Any) -> dict[str, Any]:
    """What the edit form posts for ``customer`` unchanged, with ``overrides`` applied."""
    values = services.editable_values(customer)
    data: dict[str, Any] = {name: values[name] for name in SCALARS}
    for kind, key in (("emails", "email"), ("phones", "number")):
        for index, row in enumerate(values[kind]):
            data[f"{kind}-{index}-{key}"] = row[key]
            if row["is_verified"]:
                data[f"{kind}-{index}-is_verified"] = "yes"
            if row["is_primary"]:
                data[f"{kind}-primary"] = str(index)
    for index, row in enumerate(values["addresses"]):
        for part, value in row.items():
            if part == "is_primary":
                if value:
                    data["addresses-primary"] = str(index)
            else:
                data[f"addresses-{index}-{part}"] = value
    for key, value in values["custom"].items():
        data[f"custom-{key}"] = value
    data.update(overrides)
    return data


def no_count(queries: CaptureQueriesContext) -> bool:
    return not any("COUNT(" in query["sql"].upper() for query in queries.captured_queries)


# --- list and search ------------------------------------------------------------------------


def test_search_finds_a_phone_typed_in_another_format(agent: Client, budi: Customer) -> None:
    make("Siti Aminah", phones=["0813-9999-0000"])
    response = agent.get("/customers/", {"q": "0812-3456-7890"})
    assert response.status_code == 200
    assert names(response) == ["Budi Santoso"]
    assert f'href="/customers/{budi.pk}/"' in response.content.decode()
    assert "+62 812-3456-7890" in response.content.decode()  # the primary phone, readable


def test_search_by_email(agent: Client, budi: Customer) -> None:
    make("Siti Aminah", emails=["siti@contoh.co.id"])
    response = agent.get("/customers/", {"q": "BUDI@contoh.co.id"})
    assert names(response) == ["Budi Santoso"]


def test_search_by_the_start_of_name_words(agent: Client, budi: Customer) -> None:
    make("Siti Aminah")
    make("Santi Wijaya")
    assert sorted(names(agent.get("/customers/", {"q": "sant"}))) == [
        "Budi Santoso",
        "Santi Wijaya",
    ]
    assert names(agent.get("/customers/", {"q": "bud sant"})) == ["Budi Santoso"]
    response = agent.get("/customers/", {"q": "zzz"})
    assert names(response) == []
    assert "No customers match." in response.content.decode()


def test_sort_by_name_and_by_update(agent: Client, db: None) -> None:
    for name in ("Citra Lestari", "Andi Wijaya", "Bayu Pratama"):
        make(name)
    assert names(agent.get("/customers/", {"sort": "name"})) == [
        "Andi Wijaya",
        "Bayu Pratama",
        "Citra Lestari",
    ]
    assert names(agent.get("/customers/", {"sort": "-name"})) == [
        "Citra Lestari",
        "Bayu Pratama",
        "Andi Wijaya",
    ]
    assert names(agent.get("/customers/", {"sort": "-created"}))[0] == "Bayu Pratama"
    # The column header offers the opposite order of the one shown.
    response = agent.get("/customers/", {"sort": "name"})
    assert 'href="?sort=-name"' in response.content.decode()


def test_filters_by_stage_and_tag(agent: Client, budi: Customer) -> None:
    make("Siti Aminah", lifecycle_stage="lapsed", tags="reseller")
    assert names(agent.get("/customers/", {"stage": "customer"})) == ["Budi Santoso"]
    assert names(agent.get("/customers/", {"tag": "reseller"})) == ["Siti Aminah"]
    assert names(agent.get("/customers/", {"tag": "reseller", "stage": "customer"})) == []


def test_pages_without_counting(agent: Client, db: None) -> None:
    for number in range(27):
        make(f"Pelanggan {chr(65 + number // 26)}{chr(65 + number % 26)}")
    with CaptureQueriesContext(connection) as queries:
        first = agent.get("/customers/")
    assert no_count(queries), [q["sql"] for q in queries.captured_queries]
    body = first.content.decode()
    assert len(names(first)) == 25
    assert "Showing 1–25" in body  # noqa: RUF001 - the en dash shown
    assert 'rel="next" href="?page=2"' in body
    assert 'rel="prev"' not in body

    with CaptureQueriesContext(connection) as queries:
        second = agent.get("/customers/", {"page": "2"})
    assert no_count(queries)
    body = second.content.decode()
    assert names(second) == ["Pelanggan AZ", "Pelanggan BA"]
    assert "Showing 26–27" in body  # noqa: RUF001
    assert 'rel="prev"' in body
    assert 'rel="next"' not in body


def test_search_and_filters_do_not_count_either(agent: Client, budi: Customer) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = agent.get("/customers/", {"q": "budi", "stage": "customer", "tag": "vip"})
    assert names(response) == ["Budi Santoso"]
    assert no_count(queries)


def test_a_bad_sort_or_filter_is_an_error_message_not_a_crash(
    agent: Client, budi: Customer
) -> None:
    response = agent.get("/customers/", {"sort": "shoe-size"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'role="alert"' in body
    assert "shoe-size" in body
    assert "sort" in body
    response = agent.get("/customers/", {"stage": "vip-gold"})
    assert response.status_code == 200
    assert "vip-gold" in response.content.decode()


def test_htmx_search_gets_only_the_results(agent: Client, budi: Customer) -> None:
    response = agent.get("/customers/", {"q": "budi"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "<html" not in body
    assert "Budi Santoso" in body
    assert "HX-Request" in response["Vary"]
    # Going back in history may ask htmx for the whole page.
    restore = agent.get(
        "/customers/",
        {"q": "budi"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restore.content.decode()


def test_the_list_works_as_a_plain_form(agent: Client, budi: Customer) -> None:
    body = agent.get("/customers/", {"q": "budi"}).content.decode()
    form = re.search(r'<form class="toolbar[^>]*>', body)
    assert form is not None
    assert 'method="get"' in form.group(0)
    assert 'action="/customers/"' in form.group(0)
    assert 'name="q"' in body
    assert 'value="budi"' in body
    assert 'hx-trigger="keyup changed delay:300ms' in body
    assert 'hx-push-url="true"' in body


# --- customer page --------------------------------------------------------------------------


def test_detail_shows_the_record_and_its_source_records(agent: Client, budi: Customer) -> None:
    with pytest.raises(CustomerInvalid):  # refused, but kept as a rejected source record
        services.update_customer(budi, {"phones": ["12ab"]}, Origin(source="web"))
    response = agent.get(f"/customers/{budi.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    for text in ("Budi Santoso", "PT Maju Jaya", "budi@contoh.co.id", "Bandung", "vip"):
        assert text in body
    assert "+62 812-3456-7890" in body
    assert "verified" in body
    # Lineage: where each set of values came from, and what was received, even if refused.
    assert "pos-export" in body
    assert "batch-2024-07" in body
    assert "C-17" in body
    assert "Jl. Merdeka 5" in body
    assert "Rejected" in body
    assert "12ab" in body
    assert "Applied" in body


def test_detail_shows_recent_orders_with_items(agent: Client, budi: Customer) -> None:
    product = Product.objects.create(sku="KOPI-250", name="Kopi Gayo 250 g")
    order = Order.objects.create(
        customer=budi,
        source="tokopedia",
        order_number="INV/2024/0042",
        ordered_at=timezone.now(),
        total=Decimal("150000"),
    )
    OrderItem.objects.create(order=order, product=product, quantity=2, unit_price=Decimal("75000"))
    body = agent.get(f"/customers/{budi.pk}/").content.decode()
    assert "INV/2024/0042" in body
    assert "Kopi Gayo 250 g" in body
    assert "150,000.00" in body or "150000.00" in body  # the line total, 2 x 75000


def test_detail_shows_consent_per_purpose_with_how_and_where(agent: Client, budi: Customer) -> None:
    declaration = parse_declaration({"marketing_whatsapp": "granted"}, method="Paper form")
    record_consent(budi, declaration, source="jakarta-fair")
    body = agent.get(f"/customers/{budi.pk}/").content.decode()
    consent = body[body.index('id="consent"') :]
    consent = consent[: consent.index("</section>")]
    whatsapp = consent[consent.index("Marketing by WhatsApp") :]
    assert whatsapp.index("Granted") < whatsapp.index("Marketing by SMS")
    assert "Paper form · jakarta-fair" in consent
    assert consent.count("Unknown: never asked") == 5


def test_detail_shows_custom_fields(agent: Client, budi: Customer) -> None:
    custom_fields.define_field(key="member_no", label="Member number", field_type="text")
    services.update_customer(budi, {"custom": {"member_no": "M-001"}}, Origin(source="web"))
    body = agent.get(f"/customers/{budi.pk}/").content.decode()
    assert "Member number" in body
    assert "M-001" in body


def test_unknown_customer_is_404(agent: Client, db: None) -> None:
    assert agent.get("/customers/999999/").status_code == 404


# --- notes ----------------------------------------------------------------------------------


def test_add_note(agent: Client, budi: Customer) -> None:
    response = agent.post(f"/customers/{budi.pk}/notes/", {"body": "  Asked for a catalogue.  "})
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{budi.pk}/#notes"
    note = Note.objects.get(customer=budi)
    assert note.body == "Asked for a catalogue."
    assert note.author is not None
    assert note.author.username == "agent-user"
    page = agent.get(f"/customers/{budi.pk}/")
    assert "Asked for a catalogue." in page.content.decode()


def test_an_empty_note_is_refused_with_a_message(agent: Client, budi: Customer) -> None:
    response = agent.post(f"/customers/{budi.pk}/notes/", {"body": "   "}, follow=True)
    assert not Note.objects.exists()
    assert "The note was not added" in response.content.decode()


# --- the form -------------------------------------------------------------------------------


def test_edit_form_shows_the_stored_values_and_a_blank_row(agent: Client, budi: Customer) -> None:
    body = agent.get(f"/customers/{budi.pk}/edit/").content.decode()
    assert 'name="full_name" id="id_full_name" value="Budi Santoso"' in body
    assert 'name="phones-0-number" id="id_phones-0-number" value="+6281234567890"' in body
    assert 'name="phones-1-number" id="id_phones-1-number" value=""' in body
    assert 'name="addresses-0-city" id="id_addresses-0-city" value="Bandung"' in body
    assert 'name="phones-primary" value="0" checked' in body
    assert 'name="phones-0-is_verified" value="yes" checked' in body


def test_edit_with_a_bad_phone_shows_the_error_and_keeps_what_was_typed(
    agent: Client, budi: Customer
) -> None:
    data = form_data(
        budi, full_name="Budi Santoso Wijaya", company="PT Baru", **{"phones-0-number": "12ab"}
    )
    response = agent.post(f"/customers/{budi.pk}/edit/", data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "1 value needs your attention" in body
    # The error sits beside the phone input, naming the value and what is expected.
    error = re.search(
        r'<div class="field-error" id="phones-0-number-error">(.*?)</div>', body, re.S
    )
    assert error is not None
    assert "12ab" in error.group(1)
    assert "expected a phone number" in error.group(1)
    assert 'id="id_phones-0-number" value="12ab"' in body
    assert 'aria-invalid="true" aria-describedby="phones-0-number-error"' in body
    assert '<a href="#id_phones-0-number">Phone number 1</a>' in body
    # What else was typed is kept.
    assert 'value="Budi Santoso Wijaya"' in body
    assert 'value="PT Baru"' in body
    assert "What you entered is kept" in body
    # Nothing changed on the customer; the values are kept as a rejected source record.
    budi.refresh_from_db()
    assert (budi.full_name, budi.company, budi.primary_phone) == (
        "Budi Santoso",
        "PT Maju Jaya",
        "+6281234567890",
    )
    rejected = SourceRecord.objects.get(status=SourceRecord.Status.REJECTED)
    assert rejected.customer == budi
    assert rejected.data["phones"][0]["number"] == "12ab"
    assert rejected.errors[0]["field"] == "phones[0].number"


def test_errors_of_addresses_and_custom_fields_sit_beside_their_inputs(
    agent: Client, budi: Customer
) -> None:
    custom_fields.define_field(key="visits", label="Visits", field_type="integer")
    data = form_data(
        budi,
        **{
            "addresses-0-country": "Narnia",
            "custom-visits": "many",
            "emails-1-email": "",
            "emails-2-email": "not-an-email",
        },
    )
    body = agent.post(f"/customers/{budi.pk}/edit/", data).content.decode()
    assert "3 values need your attention" in body
    # The summary lists them in the order the form shows them, each linked to its input.
    links = re.findall(r'<li><a href="#id_([^"]+)">', body)
    assert links == ["emails-2-email", "addresses-0-country", "custom-visits"]
    for input_name, value in (
        ("addresses-0-country", "Narnia"),
        ("custom-visits", "many"),
        ("emails-2-email", "not-an-email"),  # a blank row before it does not shift the error
    ):
        match = re.search(
            rf'<div class="field-error" id="{input_name}-error">(.*?)</div>', body, re.S
        )
        assert match is not None, input_name
        assert value in match.group(1)


def test_valid_edit_saves_and_records_only_what_changed(agent: Client, budi: Customer) -> None:
    data = form_data(
        budi,
        full_name="budi santoso wijaya",
        tags="vip, reseller",
        **{"phones-1-number": "0813 1111 2222", "phones-primary": "1"},
    )
    response = agent.post(f"/customers/{budi.pk}/edit/", data)
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{budi.pk}/"
    budi.refresh_from_db()
    assert budi.full_name == "Budi Santoso Wijaya"
    assert budi.primary_phone == "+6281311112222"
    assert sorted(budi.tags.values_list("name", flat=True)) == ["reseller", "vip"]
    assert budi.company == "PT Maju Jaya"
    record = SourceRecord.objects.filter(customer=budi).latest("id")
    assert (record.source, record.status) == ("web", SourceRecord.Status.APPLIED)
    assert record.received_by is not None
    assert record.received_by.username == "agent-user"
    assert set(record.data) == {"full_name", "phones", "tags"}
    follow = agent.get(f"/customers/{budi.pk}/")
    assert "Changes to Budi Santoso Wijaya saved." in follow.content.decode()


def test_saving_an_unchanged_form_changes_nothing(agent: Client, budi: Customer) -> None:
    before = SourceRecord.objects.count()
    response = agent.post(f"/customers/{budi.pk}/edit/", form_data(budi), follow=True)
    assert "Nothing was changed." in response.content.decode()
    assert SourceRecord.objects.count() == before


def test_add_another_row_without_javascript(agent: Client, budi: Customer) -> None:
    # The form as a browser posts it: the stored phone, the blank row, and the button pressed.
    data = form_data(budi, full_name="Budi Baru", add_row="phones", **{"phones-1-number": ""})
    response = agent.post(f"/customers/{budi.pk}/edit/", data)
    body = response.content.decode()
    assert 'name="phones-1-number"' in body
    assert 'name="phones-2-number"' in body
    assert 'value="Budi Baru"' in body
    budi.refresh_from_db()
    assert budi.full_name == "Budi Santoso"  # nothing saved


def test_add_another_row_with_htmx(agent: Client, db: None) -> None:
    body = agent.get("/customers/form-row/emails/", {"index": "3"}).content.decode()
    assert 'name="emails-3-email"' in body
    assert 'hx-swap-oob="true"' in body
    assert "index=4" in body
    assert agent.get("/customers/form-row/bogus/").status_code == 404


def test_create_customer(agent: Client, db: None) -> None:
    data = {
        "full_name": "SITI AMINAH",
        "lifecycle_stage": "prospect",
        "gender": "female",
        "birth_date": "1990-04-21",
        "owner": "agent-user",
        "emails-0-email": "siti@contoh.co.id",
        "phones-0-number": "0812 7777 8888",
        "phones-0-is_verified": "yes",
        "addresses-0-city": "Surabaya",
        "addresses-0-country": "Indonesia",
        "tags": "new",
    }
    response = agent.post("/customers/new/", data)
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert response["Location"] == f"/customers/{customer.pk}/"
    assert customer.full_name == "Siti Aminah"
    assert customer.owner is not None
    assert customer.owner.username == "agent-user"
    assert customer.primary_phone == "+6281277778888"
    assert customer.phones.get().is_verified
    assert customer.addresses.get().country == "ID"
    record = customer.source_records.get()
    assert record.data["full_name"] == "SITI AMINAH"
    assert "given_name" not in record.data  # blank inputs are not part of what was received


def test_create_refuses_an_empty_customer_and_a_missing_required_field(
    agent: Client, db: None
) -> None:
    response = agent.post("/customers/new/", {"lifecycle_stage": "prospect"})
    assert response.status_code == 200
    assert "1 value needs your attention" in response.content.decode()
    assert not Customer.objects.exists()
    custom_fields.define_field(
        key="member_no", label="Member number", field_type="text", required=True
    )
    body = agent.post(
        "/customers/new/", {"lifecycle_stage": "prospect", "full_name": "Siti"}
    ).content.decode()
    assert re.search(r'id="custom-member_no-error">.*required', body, re.S)
    assert not Customer.objects.exists()


def test_custom_field_inputs_follow_the_field_type(agent: Client, budi: Customer) -> None:
    custom_fields.define_field(key="notes_long", label="Long notes", field_type="long_text")
    custom_fields.define_field(key="joined", label="Joined", field_type="date")
    custom_fields.define_field(key="seen", label="Seen", field_type="datetime")
    custom_fields.define_field(key="newsletter", label="Newsletter", field_type="boolean")
    custom_fields.define_field(
        key="size", label="Size", field_type="choice", choices=["S", "M", "L"]
    )
    custom_fields.define_field(
        key="likes", label="Likes", field_type="multiple_choice", choices=["Kopi", "Teh"]
    )
    custom_fields.define_field(key="budget", label="Budget", field_type="money")
    services.update_customer(
        budi,
        {"custom": {"likes": ["Teh"], "seen": "2024-03-31 14:30", "newsletter": "ya"}},
        Origin(source="web"),
    )
    body = agent.get(f"/customers/{budi.pk}/edit/").content.decode()
    assert '<textarea name="custom-notes_long"' in body
    assert 'type="date" name="custom-joined"' in body
    assert (
        'type="datetime-local" name="custom-seen" id="id_custom-seen" value="2024-03-31T14:30"'
        in body
    )
    assert '<option value="yes" selected>' in body
    assert '<select name="custom-size"' in body
    assert 'name="custom-likes" value="Teh" checked' in body
    assert 'name="custom-likes" value="Kopi">' in body
    assert 'placeholder="IDR 150000"' in body

    data = form_data(budi, **{"custom-budget": "IDR 250000", "custom-likes": ["Kopi", "Teh"]})
    assert agent.post(f"/customers/{budi.pk}/edit/", data).status_code == 302
    values = {field.key: typed for field, typed in custom_fields.values_for(budi)}
    assert [value.value for value in values["likes"]] == ["Kopi", "Teh"]
    assert values["budget"][0].display() == "IDR 250000"
    assert values["seen"][0].display() == "2024-03-31 14:30"  # unchanged, not re-sent


# --- permissions and CSRF -------------------------------------------------------------------


def test_viewer_can_look_but_not_change(viewer: Client, budi: Customer) -> None:
    assert viewer.get("/customers/").status_code == 200
    detail = viewer.get(f"/customers/{budi.pk}/")
    assert detail.status_code == 200
    assert f"/customers/{budi.pk}/edit/" not in detail.content.decode()
    assert "New customer" not in viewer.get("/customers/").content.decode()
    for url in (f"/customers/{budi.pk}/edit/", "/customers/new/", "/customers/form-row/phones/"):
        response = viewer.get(url)
        assert response.status_code == 403, url
        assert "You are not allowed to do this" in response.content.decode()
    assert (
        viewer.post(f"/customers/{budi.pk}/edit/", form_data(budi, full_name="X Y")).status_code
        == 403
    )
    assert viewer.post(f"/customers/{budi.pk}/notes/", {"body": "hi"}).status_code == 403
    assert viewer.post("/customers/new/", {"full_name": "Siti"}).status_code == 403
    budi.refresh_from_db()
    assert budi.full_name == "Budi Santoso"
    assert not Note.objects.exists()
    assert Customer.objects.count() == 1


def test_user_without_role_permissions_cannot_view(db: None, budi: Customer) -> None:
    nobody = User.objects.create_user("nobody", password="x")  # no role group at all
    client = Client()
    client.force_login(nobody)
    assert client.get("/customers/").status_code == 403
    assert client.get(f"/customers/{budi.pk}/").status_code == 403


def test_posts_without_a_csrf_token_are_refused(
    make_user: Callable[..., User], budi: Customer
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("csrf-agent", Role.AGENT))
    edit = client.post(f"/customers/{budi.pk}/edit/", form_data(budi, full_name="Mallory"))
    assert edit.status_code == 403
    assert client.post(f"/customers/{budi.pk}/notes/", {"body": "x"}).status_code == 403
    assert client.post("/customers/new/", {"full_name": "Mallory"}).status_code == 403
    budi.refresh_from_db()
    assert budi.full_name == "Budi Santoso"
    assert not Note.objects.exists()
    # With the token from the page, the same post goes through.
    page = client.get(f"/customers/{budi.pk}/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token is not None
    ok = client.post(
        f"/customers/{budi.pk}/notes/", {"body": "Called back", "csrfmiddlewaretoken": token[1]}
    )
    assert ok.status_code == 302


# --- back office ----------------------------------------------------------------------------


def test_back_office_shows_every_model(login: Callable[..., Client], budi: Customer) -> None:
    admin = login(Role.ADMIN)
    product = Product.objects.create(sku="TEH-1", name="Teh Melati")
    order = Order.objects.create(
        customer=budi,
        source="pos",
        order_number="POS-1",
        ordered_at=timezone.now(),
        total=Decimal("10000"),
    )
    item = OrderItem.objects.create(order=order, product=product, unit_price=Decimal("10000"))
    services.add_note(budi, "Prefers WhatsApp.", None)
    field = custom_fields.define_field(key="member_no", label="Member number", field_type="text")
    services.update_customer(budi, {"custom": {"member_no": "M-9"}}, Origin(source="web"))
    objects: list[tuple[str, Any]] = [
        ("customers/customer", budi),
        ("customers/tag", budi.tags.get()),
        ("customers/customfield", field),
        ("customers/customfieldvalue", budi.custom_values.get()),
        ("customers/nametoken", budi.name_tokens.first()),
        ("customers/note", budi.notes.get()),
        ("customers/sourcerecord", budi.source_records.first()),
        ("activity/product", product),
        ("activity/order", order),
        ("activity/orderitem", item),
    ]
    for path, obj in objects:
        assert admin.get(f"/admin/{path}/").status_code == 200, path
        assert admin.get(f"/admin/{path}/{obj.pk}/change/").status_code == 200, path
    # Writes go through Kenal's services: the customer and its lineage are read-only here.
    for path in ("customers/customer", "customers/sourcerecord", "customers/nametoken"):
        assert admin.get(f"/admin/{path}/add/").status_code == 403, path
    page = admin.get(f"/admin/customers/customer/{budi.pk}/change/").content.decode()
    assert 'name="_save"' not in page
    assert f'href="/customers/{budi.pk}/"' in page  # "View on site" leads to the Kenal page
    # Searching the back office finds a phone number typed in any format too.
    found = admin.get("/admin/customers/customer/", {"q": "0812 3456 7890"})
    assert list(found.context["cl"].result_list) == [budi]


@pytest.fixture
def members(db: None) -> None:
    custom_fields.define_field(key="points", label="Loyalty points", field_type="integer")
    for name, points in (("Ani Member", "120"), ("Budi Member", "40"), ("Citra Tamu", "")):
        raw: dict[str, Any] = {"full_name": name}
        if points:
            raw["custom"] = {"points": points}
        services.create_customer(raw, Origin(source="pos"))


def test_list_filters_by_a_custom_field(agent: Client, members: None) -> None:
    page = agent.get("/customers/", {"cf": "points", "op": "gte", "v": "100"})
    assert names(page) == ["Ani Member"]
    assert 'option value="points" selected' in page.content.decode()
    assert names(agent.get("/customers/", {"cf": "points", "op": "empty"})) == ["Citra Tamu"]
    with CaptureQueriesContext(connection) as queries:
        agent.get("/customers/", {"cf": "points", "op": "lt", "v": "100"})
    assert not [query for query in queries if "COUNT(" in query["sql"].upper()]


def test_a_bad_custom_filter_value_is_explained(agent: Client, members: None) -> None:
    body = agent.get("/customers/", {"cf": "points", "op": "gte", "v": "banyak"}).content.decode()
    assert "filter.points" in body
    assert "banyak" in body
