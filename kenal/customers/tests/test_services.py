"""The customer write path, its source records, and finding customers."""

from __future__ import annotations

import datetime as dt

import pytest

from kenal.customers import services
from kenal.customers.models import Customer, SourceRecord
from kenal.customers.normalise import InvalidValue
from kenal.customers.services import CustomerInvalid, CustomerQuery, Origin

WEB = Origin(source="web")

BUDI = {
    "full_name": "BUDI SANTOSO",
    "gender": "L",
    "birth_date": "17/08/1985",
    "emails": ["Budi.Santoso@Example.CO.ID"],
    "phones": [{"number": "0812-3456-7890", "is_verified": "ya"}, "+65 6123 4567"],
    "addresses": [
        {
            "street": "Jl. Merdeka No. 5",
            "village": "Gambir",
            "district": "Gambir",
            "city": "Jakarta Pusat",
            "province": "DKI Jakarta",
            "postcode": "10110",
            "country": "Indonesia",
        }
    ],
    "tags": "vip, reseller",
    "lifecycle_stage": "customer",
    "company": "PT Maju Jaya",
}


@pytest.fixture
def budi(db: None) -> Customer:
    return services.create_customer(BUDI, Origin(source="pos", batch_id="b1", external_id="C-7"))


def test_create_normalises_every_value(budi: Customer) -> None:
    assert budi.full_name == "Budi Santoso"
    assert budi.gender == "male"
    assert budi.birth_date == dt.date(1985, 8, 17)
    assert budi.primary_email == "Budi.Santoso@example.co.id"
    phones = list(budi.phones.values_list("number", "is_primary", "is_verified"))
    assert phones == [("+6281234567890", True, True), ("+6561234567", False, False)]
    address = budi.addresses.get()
    assert (address.city, address.country, address.is_primary) == ("Jakarta Pusat", "ID", True)
    assert sorted(budi.tags.values_list("name", flat=True)) == ["reseller", "vip"]


def test_values_are_kept_as_received_with_their_origin(budi: Customer) -> None:
    record = SourceRecord.objects.get(customer=budi)
    assert record.status == SourceRecord.Status.APPLIED
    assert (record.source, record.batch_id, record.external_id) == ("pos", "b1", "C-7")
    assert record.data["full_name"] == "BUDI SANTOSO"
    assert record.data["phones"][0]["number"] == "0812-3456-7890"


def test_invalid_values_are_all_reported_and_kept(db: None) -> None:
    raw = {"full_name": "Siti", "phones": ["12ab"], "birth_date": "31/02/2001", "gender": "X"}
    with pytest.raises(CustomerInvalid) as caught:
        services.create_customer(raw, WEB)
    fields = {error.field: error for error in caught.value.errors}
    assert set(fields) == {"phones[0].number", "birth_date", "gender"}
    assert fields["phones[0].number"].value == "12ab"
    assert "12ab" in str(caught.value)
    assert not Customer.objects.exists()
    record = SourceRecord.objects.get()
    assert record.status == SourceRecord.Status.REJECTED
    assert record.data == raw
    assert {error["field"] for error in record.errors} == set(fields)


def test_a_customer_needs_a_name_email_or_phone(db: None) -> None:
    with pytest.raises(CustomerInvalid) as caught:
        services.create_customer({"company": "PT Sepi"}, WEB)
    assert caught.value.errors[0].field == "full_name"


def test_unknown_field_is_refused_not_dropped(db: None) -> None:
    with pytest.raises(CustomerInvalid) as caught:
        services.create_customer({"full_name": "Ani", "shoe_size": "38"}, WEB)
    assert caught.value.errors[0].field == "shoe_size"


def test_more_than_one_primary_is_refused(db: None) -> None:
    raw = {
        "full_name": "Ani",
        "emails": [
            {"email": "a@contoh.id", "is_primary": True},
            {"email": "b@contoh.id", "is_primary": True},
        ],
    }
    with pytest.raises(CustomerInvalid) as caught:
        services.create_customer(raw, WEB)
    assert caught.value.errors[0].field == "emails"


def test_the_same_phone_in_two_formats_is_kept_once(db: None) -> None:
    customer = services.create_customer(
        {
            "full_name": "Ani",
            "phones": ["0812-3456-7890", {"number": "+62 812 3456 7890", "is_verified": True}],
        },
        WEB,
    )
    assert list(customer.phones.values_list("number", "is_verified")) == [("+6281234567890", True)]


def test_update_changes_only_given_fields(budi: Customer) -> None:
    services.update_customer(budi, {"job_title": "Pemilik", "phones": ["0813 1111 2222"]}, WEB)
    budi.refresh_from_db()
    assert budi.job_title == "Pemilik"
    assert budi.company == "PT Maju Jaya"
    assert list(budi.phones.values_list("number", flat=True)) == ["+6281311112222"]
    assert budi.primary_email == "Budi.Santoso@example.co.id"
    assert budi.source_records.count() == 2


def test_refused_update_changes_nothing(budi: Customer) -> None:
    with pytest.raises(CustomerInvalid):
        services.update_customer(budi, {"job_title": "Pemilik", "phones": ["bad"]}, WEB)
    budi.refresh_from_db()
    assert budi.job_title == ""
    assert budi.phones.count() == 2
    assert budi.source_records.filter(status=SourceRecord.Status.REJECTED).count() == 1


def test_editable_values_round_trip(budi: Customer) -> None:
    values = services.editable_values(budi)
    services.update_customer(budi, values, WEB)
    assert services.editable_values(budi) == values


def test_owner_by_username(budi: Customer, make_user) -> None:
    agent = make_user("agent1")
    services.update_customer(budi, {"owner": "agent1"}, WEB)
    budi.refresh_from_db()
    assert budi.owner == agent
    with pytest.raises(CustomerInvalid) as caught:
        services.update_customer(budi, {"owner": "nobody"}, WEB)
    assert caught.value.errors[0].field == "owner"


def test_add_note(budi: Customer, make_user) -> None:
    author = make_user("agent1")
    note = services.add_note(budi, "  Suka batik  ", author)
    assert (note.body, note.author) == ("Suka batik", author)
    assert list(budi.notes.all()) == [note]


@pytest.fixture
def people(db: None) -> dict[str, Customer]:
    names = {
        "budi": ("Budi Santoso", "0812-3456-7890", "budi@contoh.id"),
        "budiman": ("Budiman Hartono", "0813-0000-1111", "budiman@contoh.id"),
        "siti": ("Siti Nurhaliza", "+65 6123 4567", "siti@contoh.id"),
        "sant": ("Agus Santosa", "0857-1234-5678", "agus@contoh.id"),
    }
    return {
        key: services.create_customer(
            {"full_name": name, "phones": [phone], "emails": [email]}, WEB
        )
        for key, (name, phone, email) in names.items()
    }


def names(query: CustomerQuery) -> list[str]:
    return [customer.full_name for customer in services.find_customers(query)]


@pytest.mark.parametrize("typed", ["+62 812 3456 7890", "6281234567890", "(0812) 3456-7890"])
def test_find_by_phone_in_any_format(people: dict[str, Customer], typed: str) -> None:
    assert names(CustomerQuery(text=typed)) == ["Budi Santoso"]


def test_find_by_email_ignoring_domain_case(people: dict[str, Customer]) -> None:
    assert names(CustomerQuery(text="siti@CONTOH.id")) == ["Siti Nurhaliza"]


def test_find_by_name_word_prefixes(people: dict[str, Customer]) -> None:
    assert names(CustomerQuery(text="bud")) == ["Budi Santoso", "Budiman Hartono"]
    assert names(CustomerQuery(text="santos")) == ["Agus Santosa", "Budi Santoso"]
    assert names(CustomerQuery(text="SANT bud")) == ["Budi Santoso"]
    assert names(CustomerQuery(text="zzz")) == []


def test_renaming_updates_the_search_index(people: dict[str, Customer]) -> None:
    services.update_customer(people["siti"], {"full_name": "Siti Rahayu"}, WEB)
    assert names(CustomerQuery(text="rahayu")) == ["Siti Rahayu"]
    assert names(CustomerQuery(text="nurhaliza")) == []


def test_sorts(people: dict[str, Customer]) -> None:
    assert names(CustomerQuery(sort="-name"))[0] == "Siti Nurhaliza"
    assert names(CustomerQuery(sort="created"))[0] == "Budi Santoso"
    with pytest.raises(InvalidValue) as caught:
        names(CustomerQuery(sort="phone"))
    assert caught.value.field == "sort"


def test_filter_by_stage_and_tag(budi: Customer, people: dict[str, Customer]) -> None:
    assert names(CustomerQuery(lifecycle_stage="customer")) == ["Budi Santoso"]
    assert names(CustomerQuery(tag="vip")) == ["Budi Santoso"]


def test_pages_without_counting(people: dict[str, Customer]) -> None:
    first = services.page_of(services.find_customers(CustomerQuery()), 1, per_page=3)
    assert (len(first.items), first.has_next, first.has_previous) == (3, True, False)
    second = services.page_of(services.find_customers(CustomerQuery()), 2, per_page=3)
    assert (len(second.items), second.has_next, second.start_index) == (1, False, 4)
