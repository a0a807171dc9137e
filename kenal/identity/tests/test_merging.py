"""Merging two customers and undoing merges: every linked row, chosen values, rows added
after the merge, conflicts, refusals, chains, lookups and pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kenal.accounts.models import Role, User
from kenal.activity.models import Order
from kenal.customers import custom_fields, services
from kenal.customers.models import (
    Address,
    Customer,
    CustomerEmail,
    CustomerPhone,
    CustomField,
    CustomFieldValue,
    Note,
    SourceRecord,
)
from kenal.customers.services import CustomerQuery, Origin
from kenal.hosted_forms.models import FormSubmission, SignupForm
from kenal.identity.merging import (
    MERGEABLE_FIELDS,
    MergeError,
    merge_customers,
    merge_history,
    unmerge,
)
from kenal.identity.models import CandidatePair, MatchKey, Merge
from kenal.identity.services import MatchKeys, find_match
from kenal.ingest import services as ingest
from kenal.ingest.models import Import, ImportChange
from kenal.ingest.tests.files import write_csv
from kenal.privacy.models import ConsentRecord
from kenal.privacy.services import parse_declaration, record_consent

pytestmark = pytest.mark.django_db

SHOP = "shop"


def make(name: str, external_id: str, **values: Any) -> Customer:
    return services.create_customer(
        {"full_name": name, **values}, Origin(source=SHOP, external_id=external_id)
    )


@pytest.fixture
def fields(db: None) -> list[CustomField]:
    return [
        custom_fields.define_field(key="member_no", label="Member number", field_type="text"),
        custom_fields.define_field(key="hobby", label="Hobby", field_type="text"),
    ]


@pytest.fixture
def signup(db: None) -> SignupForm:
    return SignupForm.objects.create(title="Daftar member", slug="daftar")


@pytest.fixture
def old_import(db: None) -> Import:
    return Import.objects.create(
        kind="customers", source=SHOP, file_name="lama.csv", file_path="lama.csv", file_format="csv"
    )


def link_rows(customer: Customer, order: str, form: SignupForm, run: Import) -> None:
    """A note, an order, a consent, a form submission and an import change for ``customer``."""
    services.add_note(customer, f"Catatan {customer.full_name}", None)
    Order.objects.create(
        customer=customer,
        source=SHOP,
        order_number=order,
        ordered_at=timezone.now(),
        total=Decimal("150000"),
    )
    record_consent(
        customer,
        parse_declaration({"marketing_email": "granted"}, method="checkbox"),
        source=SHOP,
        source_record=customer.source_records.first(),
    )
    FormSubmission.objects.create(
        form=form,
        customer=customer,
        ip_hash="x" * 64,
        submitted_at=timezone.now(),
        outcome=FormSubmission.Outcome.CREATED,
    )
    ImportChange.objects.create(run=run, customer=customer, field="company", old="", new="X")


@pytest.fixture
def budi(fields: list[CustomField], signup: SignupForm, old_import: Import) -> Customer:
    """The survivor."""
    customer = make(
        "Budi Santoso",
        "A-1",
        emails=["budi@contoh.id", "bersama@contoh.id"],
        phones=["+6281200000001"],
        addresses=[{"street": "Jl. Merdeka 5", "city": "Bandung"}],
        tags="vip",
        company="PT Maju Jaya",
        custom={"member_no": "M-1"},
    )
    link_rows(customer, "INV-A", signup, old_import)
    return customer


@pytest.fixture
def santoso(fields: list[CustomField], signup: SignupForm, old_import: Import) -> Customer:
    """The same person, recorded again: merged into ``budi``."""
    customer = make(
        "B. Santoso",
        "B-1",
        emails=["b.santoso@surel.id", "bersama@contoh.id"],
        phones=["+6281200000002"],
        addresses=[
            {"street": "Jl. Asia Afrika 1", "city": "Bandung"},
            {"street": "Jl. Merdeka 5", "city": "Bandung"},
        ],
        tags="reseller, vip",
        job_title="Pedagang",
        birth_date="1985-08-17",
        custom={"member_no": "M-2", "hobby": "catur"},
    )
    link_rows(customer, "INV-B", signup, old_import)
    return customer


KINDS: dict[str, Any] = {
    "notes": Note,
    "source_records": SourceRecord,
    "orders": Order,
    "consents": ConsentRecord,
    "submissions": FormSubmission,
    "import_changes": ImportChange,
    "custom_values": CustomFieldValue,
}


def rows_of(customer: Customer) -> dict[str, set[Any]]:
    """Every row linked to the customer (contacts with their value and primary flag)."""
    rows: dict[str, set[Any]] = {
        kind: set(model.objects.filter(customer=customer).values_list("pk", flat=True))
        for kind, model in KINDS.items()
    }
    rows["emails"] = set(
        CustomerEmail.objects.filter(customer=customer).values_list("pk", "email", "is_primary")
    )
    rows["phones"] = set(
        CustomerPhone.objects.filter(customer=customer).values_list("pk", "number", "is_primary")
    )
    rows["addresses"] = set(
        Address.objects.filter(customer=customer).values_list("pk", "street", "is_primary")
    )
    rows["tags"] = set(customer.tags.values_list("name", flat=True))
    return rows


def values_of(customer: Customer) -> dict[str, Any]:
    customer.refresh_from_db()
    return {name: customer.serializable_value(name) for name in MERGEABLE_FIELDS}


def listed(**query: Any) -> list[int]:
    return [customer.pk for customer in services.find_customers(CustomerQuery(**query))]


# --- merging ---------------------------------------------------------------------------------


def test_merge_moves_every_linked_row_and_the_merged_customer_leaves_the_list(
    budi: Customer, santoso: Customer
) -> None:
    kept, gone = rows_of(budi), rows_of(santoso)
    merge = merge_customers(budi, santoso, actor=None, reason="Same phone owner")

    santoso.refresh_from_db()
    assert santoso.merged_into_id == budi.pk
    now = rows_of(budi)
    for kind in ("notes", "source_records", "orders", "consents", "submissions", "import_changes"):
        assert now[kind] == kept[kind] | gone[kind], kind
        assert set(merge.moved[kind]) == gone[kind], kind
    # The same email and address stay on the merged customer: the survivor already has them.
    assert {email for _pk, email, _p in now["emails"]} == {
        "budi@contoh.id",
        "bersama@contoh.id",
        "b.santoso@surel.id",
    }
    assert [email for _pk, email, _p in rows_of(santoso)["emails"]] == ["bersama@contoh.id"]
    assert {street for _pk, street, _p in now["addresses"]} == {
        "Jl. Merdeka 5",
        "Jl. Asia Afrika 1",
    }
    assert [street for _pk, street, _p in rows_of(santoso)["addresses"]] == ["Jl. Merdeka 5"]
    assert {number for _pk, number, _p in now["phones"]} == {"+6281200000001", "+6281200000002"}
    for kind in ("emails", "phones", "addresses"):
        assert [primary for *_rest, primary in now[kind]].count(True) == 1, kind
        assert {pk for pk, *_rest in now[kind]} - {pk for pk, *_rest in kept[kind]} == set(
            merge.moved[kind]
        )
    # A custom field the survivor has keeps its value; one it lacks comes over.
    values = dict(custom_fields.values_for(budi))
    assert {field.key: custom_fields.form_value(field, v) for field, v in values.items()} == {
        "member_no": "M-1",
        "hobby": "catur",
    }
    assert now["tags"] == {"vip", "reseller"}
    assert merge.moved["tags"] == list(
        budi.tags.filter(name="reseller").values_list("pk", flat=True)
    )
    # Blank fields of the survivor take the merged customer's values; the others stay.
    budi.refresh_from_db()
    assert (budi.full_name, budi.company, budi.job_title) == (
        "Budi Santoso",
        "PT Maju Jaya",
        "Pedagang",
    )
    assert budi.birth_date == dt.date(1985, 8, 17)
    assert (merge.before["job_title"], merge.chosen["job_title"]) == ("", "Pedagang")
    assert (merge.before["birth_date"], merge.chosen["birth_date"]) == (None, "1985-08-17")
    assert (merge.reason, merge.merged_by, merge.undone_at) == ("Same phone owner", None, None)

    # The merged customer is gone from the list and from every search; its survivor is found.
    assert listed() == [budi.pk]
    assert listed(text="santoso") == [budi.pk]
    assert listed(text="b.santoso@surel.id") == [budi.pk]
    assert listed(text="bersama@contoh.id") == [budi.pk]
    assert listed(text="0812-0000-0002") == [budi.pk]
    assert listed(tag="reseller") == [budi.pk]
    assert list(merge_history(budi)) == [merge] == list(merge_history(santoso))


def test_merged_customers_have_no_match_keys_until_undone(
    budi: Customer, santoso: Customer
) -> None:
    merge = merge_customers(budi, santoso, actor=None)
    assert not MatchKey.objects.filter(customer=santoso).exists()
    assert MatchKey.objects.filter(customer=budi).exists()
    unmerge(merge, actor=None)
    assert MatchKey.objects.filter(customer=santoso).exists()


def test_chosen_values_are_kept_and_recorded(
    budi: Customer, santoso: Customer, make_user: Callable[..., User]
) -> None:
    owner = make_user("sari", Role.MANAGER)
    merge = merge_customers(
        budi,
        santoso,
        actor=owner,
        chosen={
            "full_name": "budi setiawan",  # neither side's value: cleaned like any input
            "company": santoso.company,  # blank on purpose: the survivor's company goes
            "job_title": "Pedagang",
            "owner": "sari",
        },
        score=0.97,
        explanation=[{"field": "phone", "weight": 3.2}],
    )
    budi.refresh_from_db()
    assert (budi.full_name, budi.company, budi.owner) == ("Budi Setiawan", "", owner)
    assert merge.chosen["full_name"] == "Budi Setiawan"
    assert merge.chosen["owner"] == owner.pk
    assert merge.before["full_name"] == "Budi Santoso"
    assert merge.before["owner"] is None
    assert (merge.score, merge.explanation, merge.merged_by) == (
        0.97,
        [{"field": "phone", "weight": 3.2}],
        owner,
    )
    # The search words follow the chosen name.
    assert listed(text="setiawan") == [budi.pk]


@pytest.mark.parametrize(
    ("chosen", "named"),
    [
        ({"sort_name": "x"}, "sort_name"),
        ({"birth_date": "31/02/2001"}, "birth_date: '31/02/2001'"),
        ({"owner": "nobody", "gender": "X"}, "owner: 'nobody'"),
    ],
)
def test_a_bad_choice_is_refused_naming_the_field_and_nothing_changes(
    budi: Customer, santoso: Customer, chosen: dict[str, Any], named: str
) -> None:
    before_budi, before_santoso = rows_of(budi), rows_of(santoso)
    with pytest.raises(MergeError, match=named):
        merge_customers(budi, santoso, actor=None, chosen=chosen)
    assert (rows_of(budi), rows_of(santoso)) == (before_budi, before_santoso)
    assert not Merge.objects.exists()
    santoso.refresh_from_db()
    assert santoso.merged_into is None


def test_the_same_email_on_both_sides_stays_on_each(budi: Customer, santoso: Customer) -> None:
    shared = CustomerEmail.objects.get(customer=santoso, email="bersama@contoh.id")
    merge = merge_customers(budi, santoso, actor=None)
    assert shared.pk not in merge.moved["emails"]
    assert CustomerEmail.objects.filter(email="bersama@contoh.id", customer=budi).count() == 1
    unmerge(merge, actor=None)
    shared.refresh_from_db()
    assert shared.customer_id == santoso.pk
    assert CustomerEmail.objects.filter(email="bersama@contoh.id", customer=budi).exists()


def test_a_key_left_on_the_merged_customer_finds_its_survivor(db: None) -> None:
    # The merged customer's row is the oldest, which the lookup prefers.
    older = make("Siti Rahayu", "S-1", emails=["siti@contoh.id"], phones=["+6281300000001"])
    newer = make("Siti R.", "S-2", emails=["siti@contoh.id"], phones=["+6281300000001"])
    merge_customers(newer, older, actor=None)
    for keys in (MatchKeys(emails=("Siti@Contoh.id",)), MatchKeys(phones=("+6281300000001",))):
        match = find_match(keys)
        assert match is not None
        assert match.customer_id == newer.pk
    match = find_match(MatchKeys(source=SHOP, external_id="S-1"))
    assert match is not None
    assert match.customer_id == newer.pk


def test_the_review_pair_is_decided_by_the_merge_and_reopened_by_the_undo(
    budi: Customer, santoso: Customer, make_user: Callable[..., User]
) -> None:
    reviewer = make_user("rina", Role.MANAGER)
    pair = CandidatePair.objects.create(left=budi, right=santoso, score=0.8)
    merge = merge_customers(santoso, budi, actor=reviewer)
    pair.refresh_from_db()
    assert (pair.status, pair.decided_by) == (CandidatePair.Status.MERGED, reviewer)
    assert pair.decided_at is not None
    unmerge(merge, actor=reviewer)
    reopened = CandidatePair.objects.get(pk=pair.pk)
    assert (reopened.status, reopened.decided_at, reopened.decided_by) == ("pending", None, None)


# --- undoing ---------------------------------------------------------------------------------


def import_file(path: Path, kind: str, **setup: Any) -> Import:
    run = ingest.prepare_import(path, ingest.ImportSetup(kind=kind, source=SHOP, **setup))
    return ingest.run_import(run)


def test_round_trip_each_customer_gets_its_own_rows_and_what_came_through_its_ids(
    budi: Customer, santoso: Customer, tmp_path: Path, make_user: Callable[..., User]
) -> None:
    agent = make_user("agent", Role.AGENT)
    own_budi, own_santoso = rows_of(budi), rows_of(santoso)
    values_budi, values_santoso = values_of(budi), values_of(santoso)
    merge = merge_customers(budi, santoso, actor=agent)

    # After the merge, rows reach the survivor: through the merged customer's own id in the
    # shop, through the survivor's id, through a phone alone, and a note typed by staff.
    note = services.add_note(budi, "Telepon: minta katalog", agent)
    customers_file = write_csv(
        tmp_path / "pelanggan.csv",
        [["Kode", "Email"], ["B-1", "b.santoso@surel.id"], ["A-1", "budi@contoh.id"]],
    )
    import_file(
        customers_file,
        "customers",
        id_column="Kode",
        consent=ingest.consent_from_options(["marketing_whatsapp=granted"], "form", "Boleh WA"),
    )
    orders_file = write_csv(
        tmp_path / "pesanan.csv",
        [
            ["No. Pesanan", "Tanggal Pesanan", "ID Pelanggan", "No. Telepon", "Total Pembayaran"],
            ["INV-10", "05/03/2024", "B-1", "", "100000"],
            ["INV-11", "06/03/2024", "", "0812-0000-0002", "50000"],
            ["INV-12", "07/03/2024", "A-1", "", "70000"],
        ],
    )
    import_file(orders_file, "orders")
    later = {
        number: Order.objects.get(order_number=number) for number in ("INV-10", "INV-11", "INV-12")
    }
    assert {order.customer_id for order in later.values()} == {budi.pk}
    by_id = SourceRecord.objects.filter(
        pk__gt=max(own_budi["source_records"] | own_santoso["source_records"])
    )
    through_santoso = by_id.get(external_id="B-1")
    through_budi = by_id.get(external_id="A-1")
    consent = ConsentRecord.objects.get(purpose="marketing_whatsapp")
    assert consent.source_record == through_santoso
    order_rows = {number: by_id.get(external_id=number).pk for number in later}

    merge = unmerge(merge, actor=agent)

    santoso.refresh_from_db()
    assert santoso.merged_into is None
    assert rows_of(santoso) == own_santoso | {
        "source_records": own_santoso["source_records"]
        | {through_santoso.pk, order_rows["INV-10"]},
        "orders": own_santoso["orders"] | {later["INV-10"].pk},
        "consents": own_santoso["consents"] | {consent.pk},
    }
    assert rows_of(budi) == own_budi | {
        "notes": own_budi["notes"] | {note.pk},
        "source_records": own_budi["source_records"]
        | {through_budi.pk, order_rows["INV-11"], order_rows["INV-12"]},
        "orders": own_budi["orders"] | {later["INV-11"].pk, later["INV-12"].pk},
    }
    assert values_of(budi) == values_budi
    assert values_of(santoso) == values_santoso
    assert merge.undo_conflicts == []
    assert (merge.undone_by, merge.undone_at is not None) == (agent, True)
    assert merge.moved["routed"]["orders"] == [later["INV-10"].pk]
    assert merge.moved["routed"]["consents"] == [consent.pk]
    assert sorted(listed()) == sorted([budi.pk, santoso.pk])
    assert set(listed(text="santoso")) == {budi.pk, santoso.pk}
    match = find_match(MatchKeys(emails=("b.santoso@surel.id",)))
    assert match is not None
    assert match.customer_id == santoso.pk


def test_a_field_changed_since_the_merge_is_kept_and_listed(
    budi: Customer, santoso: Customer
) -> None:
    merge = merge_customers(budi, santoso, actor=None)
    services.update_customer(budi, {"job_title": "Direktur"}, Origin(source="web"))
    merge = unmerge(merge, actor=None)
    budi.refresh_from_db()
    assert budi.job_title == "Direktur"
    assert budi.birth_date is None  # not changed since: restored
    assert merge.undo_conflicts == [
        {
            "kind": "changed",
            "customer": budi.pk,
            "field": "job_title",
            "value": "Direktur",
            "merged": "Pedagang",
        }
    ]


def test_contacts_rewritten_since_the_merge_come_back_by_value(
    budi: Customer, santoso: Customer
) -> None:
    merge = merge_customers(budi, santoso, actor=None)
    # Saving the survivor's emails replaces its rows with new ones; one is removed, one added.
    services.update_customer(
        budi,
        {"emails": ["budi@contoh.id", "b.santoso@surel.id", "baru@contoh.id"]},
        Origin(source="web"),
    )
    services.update_customer(budi, {"custom": {"hobby": "golf"}}, Origin(source="web"))
    merge = unmerge(merge, actor=None)
    assert set(santoso.emails.values_list("email", "is_primary")) == {
        ("b.santoso@surel.id", True),
        ("bersama@contoh.id", False),
    }
    assert set(budi.emails.values_list("email", "is_primary")) == {
        ("budi@contoh.id", True),
        ("baru@contoh.id", False),
    }
    assert merge.undo_conflicts == [
        {"kind": "removed", "customer": budi.pk, "field": "custom.hobby", "value": "catur"}
    ]
    hobby = {field.key: values for field, values in custom_fields.values_for(budi)}["hobby"]
    assert [value.value for value in hobby] == ["golf"]


def test_an_email_removed_since_the_merge_is_listed(budi: Customer, santoso: Customer) -> None:
    merge = merge_customers(budi, santoso, actor=None)
    services.update_customer(budi, {"emails": ["budi@contoh.id"]}, Origin(source="web"))
    merge = unmerge(merge, actor=None)
    assert merge.undo_conflicts == [
        {"kind": "removed", "customer": budi.pk, "field": "emails", "value": "b.santoso@surel.id"}
    ]
    assert list(santoso.emails.values_list("email", "is_primary")) == [("bersama@contoh.id", True)]


# --- refusals --------------------------------------------------------------------------------


def test_refusals_name_the_problem(budi: Customer, santoso: Customer) -> None:
    with pytest.raises(MergeError, match=f"#{budi.pk} cannot be merged into itself"):
        merge_customers(budi, budi, actor=None)
    with pytest.raises(
        MergeError, match="reason: 256 characters is too long; expected at most 255"
    ):
        merge_customers(budi, santoso, actor=None, reason="x" * 256)
    other = make("Dewi Lestari", "D-1")
    merge = merge_customers(budi, santoso, actor=None)
    with pytest.raises(MergeError, match=f"#{santoso.pk} was already merged into #{budi.pk}"):
        merge_customers(other, santoso, actor=None)
    with pytest.raises(MergeError, match=f"merge into #{budi.pk} instead"):
        merge_customers(santoso, other, actor=None)
    later = merge_customers(other, budi, actor=None)
    with pytest.raises(MergeError, match=f"undo merge #{later.pk} first"):
        unmerge(merge, actor=None)
    unmerge(later, actor=None)
    unmerge(merge, actor=None)
    with pytest.raises(MergeError, match=f"Merge #{merge.pk} was already undone on"):
        unmerge(merge, actor=None)


# --- chains ----------------------------------------------------------------------------------


@pytest.fixture
def siti(fields: list[CustomField], signup: SignupForm, old_import: Import) -> Customer:
    """A third record of the same person, with a tag the second also has."""
    customer = make(
        "Budi Santoso",
        "C-1",
        emails=["budi.s@kantor.id"],
        phones=["+6281200000003"],
        tags="reseller",
        gender="L",
        job_title="Guru",
    )
    link_rows(customer, "INV-C", signup, old_import)
    return customer


@pytest.mark.parametrize("first", ["older", "newer"])
def test_two_merges_into_one_survivor_undo_in_either_order(
    budi: Customer, santoso: Customer, siti: Customer, first: str
) -> None:
    customers = (budi, santoso, siti)
    rows = [rows_of(customer) for customer in customers]
    values = [values_of(customer) for customer in customers]
    older = merge_customers(budi, santoso, actor=None)
    newer = merge_customers(budi, siti, actor=None)
    budi.refresh_from_db()
    assert (budi.job_title, budi.gender) == ("Pedagang", "male")
    undo = [older, newer] if first == "older" else [newer, older]
    unmerge(undo[0], actor=None)
    # The tag both merged customers brought stays while one of them is still merged.
    assert rows_of(budi)["tags"] == {"vip", "reseller"}
    unmerge(undo[1], actor=None)
    assert [rows_of(customer) for customer in customers] == rows
    assert [values_of(customer) for customer in customers] == values


def test_a_chain_is_undone_from_its_end(
    budi: Customer, santoso: Customer, siti: Customer, login: Callable[..., Client]
) -> None:
    customers = (budi, santoso, siti)
    rows = [rows_of(customer) for customer in customers]
    first = merge_customers(santoso, siti, actor=None)
    second = merge_customers(budi, santoso, actor=None)
    siti.refresh_from_db()
    assert siti.merged_into_id == budi.pk  # repointed: one step to the customer standing for it
    assert set(second.moved["orders"]) >= set(rows[2]["orders"])
    match = find_match(MatchKeys(source=SHOP, external_id="C-1"))
    assert match is not None
    assert match.customer_id == budi.pk
    page = login(Role.AGENT).get(reverse("customers:detail", args=[siti.pk]))
    assert page.status_code == 302
    assert page["Location"] == reverse("customers:detail", args=[budi.pk])

    with pytest.raises(MergeError, match=f"undo merge #{second.pk} first"):
        unmerge(first, actor=None)
    unmerge(second, actor=None)
    siti.refresh_from_db()
    assert siti.merged_into_id == santoso.pk
    assert rows_of(budi) == rows[0]
    unmerge(first, actor=None)
    assert [rows_of(customer) for customer in customers] == rows


# --- pages -----------------------------------------------------------------------------------


def test_a_merged_customers_pages_lead_to_the_survivor(
    budi: Customer, santoso: Customer, login: Callable[..., Client]
) -> None:
    merge_customers(budi, santoso, actor=None)
    agent = login(Role.AGENT)
    survivor_page = reverse("customers:detail", args=[budi.pk])
    for name in ("customers:detail", "customers:edit"):
        response = agent.get(reverse(name, args=[santoso.pk]), follow=True)
        assert response.redirect_chain == [(survivor_page, 302)]
        shown = [str(message) for message in response.context["messages"]]
        assert shown == [f"B. Santoso (#{santoso.pk}) was merged into Budi Santoso (#{budi.pk})."]
        assert response.context["customer"] == budi
