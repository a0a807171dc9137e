"""Finding customers by any phone format, email, name, order number or unique field, and the
caller lookup, on the real database."""

from __future__ import annotations

import pytest

from kenal.activity.models import Subscription, Ticket
from kenal.customers import custom_fields
from kenal.customers.models import Customer
from kenal.customers.normalise import InvalidValue
from kenal.identity.merging import merge_customers
from kenal.lookup import services
from kenal.lookup.services import Rank
from kenal.lookup.tests.helpers import make, order, service, ticket

pytestmark = pytest.mark.django_db


def found(text: str, limit: int = services.DEFAULT_LIMIT) -> list[str]:
    return [result.customer.full_name for result in services.search(text, limit)]


@pytest.fixture
def sri() -> Customer:
    return make("Sri Wahyuni", phones=["0812-3456-7890"], emails=["Sri.Wahyuni@Contoh.co.id"])


@pytest.mark.parametrize(
    "typed",
    [
        "0812-3456-7890",
        "+62 812 3456 7890",
        "62812345678 90",
        "812 3456 7890",
        "(0812) 3456-7890",
        "+6281234567890",
        "081234567890",
    ],
)
def test_a_phone_number_in_any_format_finds_the_customer(sri: Customer, typed: str) -> None:
    results = services.search(typed)
    assert [result.customer for result in results] == [sri]
    assert results[0].rank == Rank.IDENTIFIER
    assert results[0].reason.kind == "phone"
    assert results[0].reason.value == "+6281234567890"


def test_a_phone_number_of_nobody_finds_nobody_and_is_not_read_as_a_name(sri: Customer) -> None:
    assert found("0813-0000-0000") == []
    assert found("0812") == []  # too short to be a number, and not a name either


@pytest.mark.parametrize("typed", ["sri.wahyuni@contoh.co.id", "SRI.WAHYUNI@CONTOH.CO.ID"])
def test_an_email_in_any_case_finds_the_customer(sri: Customer, typed: str) -> None:
    results = services.search(typed)
    assert [result.customer for result in results] == [sri]
    assert results[0].reason.kind == "email"
    assert results[0].reason.detail == "Email Sri.Wahyuni@contoh.co.id"


@pytest.mark.parametrize(
    "typed",
    [
        "Sri Wahyuni",
        "sri wahyuni",
        "SRI WAHYUNI",
        "Wahyuni Sri",  # word order
        "Srí Wähyuni",  # accents
        "sri wahyni",  # a letter dropped
        "Sri Wahyunu",  # a letter changed
        "sri wahyuuni",  # a letter added
        "sri wayhuni",  # two letters swapped
        "wahyni sri",  # a typo and the words swapped
    ],
)
def test_a_name_is_found_despite_case_accents_order_and_a_typo(sri: Customer, typed: str) -> None:
    assert found(typed) == ["Sri Wahyuni"]


def test_accented_names_are_found_without_the_accents() -> None:
    make("José Ramírez")
    assert found("jose ramirez") == ["José Ramírez"]
    assert found("Ramirez") == ["José Ramírez"]


def test_one_typo_per_word_is_tolerated_not_two() -> None:
    make("Budi Santoso")
    assert found("Budy Santosa") == ["Budi Santoso"]  # one typo in each word
    assert found("Budi Santana") == []  # two edits in one word


def test_results_are_ranked_exact_names_first_then_longer_names_then_typos() -> None:
    make("Budi Santoso Wijaya")
    make("Budi Santosa")
    make("Budi Santoso")
    results = services.search("santoso budi")
    assert [result.customer.full_name for result in results] == [
        "Budi Santoso",
        "Budi Santoso Wijaya",
        "Budi Santosa",
    ]
    assert [result.rank for result in results] == [Rank.FULL_NAME, Rank.ALL_WORDS, Rank.FUZZY]
    assert [result.reason.detail for result in results] == [
        "Full name",
        "Name has every word typed",
        "Name close to the words typed (santoso → santosa)",
    ]


def test_a_word_being_typed_matches_as_a_prefix() -> None:
    make("Budi Santoso")
    make("Budiman Hartono")
    results = services.search("budi sant")
    assert [result.customer.full_name for result in results] == ["Budi Santoso"]
    assert results[0].rank == Rank.PREFIX
    assert found("bud") == ["Budi Santoso", "Budiman Hartono"]


def test_results_are_limited() -> None:
    for number in range(5):
        make(f"Dewi Lestari {chr(ord('a') + number)}")
    assert len(services.search("dewi lestari", limit=3)) == 3
    assert len(services.search("dewi lestari")) == 5


def test_an_order_number_finds_its_customer(sri: Customer) -> None:
    order(sri, "INV/2026/000123", days_ago=3, source="tokopedia")
    results = services.search("INV/2026/000123")
    assert [result.customer for result in results] == [sri]
    assert results[0].reason.kind == "order"
    assert results[0].reason.detail == "Order INV/2026/000123 from tokopedia"
    # Typed in lower case, a number written in capitals is still found.
    assert [result.customer for result in services.search("inv/2026/000123")] == [sri]


def test_a_unique_custom_field_finds_its_customer() -> None:
    custom_fields.define_field(
        key="member_number", label="Member number", field_type="text", unique=True
    )
    custom_fields.define_field(key="hobby", label="Hobby", field_type="text")
    member = make("Agus Salim", custom={"member_number": "MBR-0042", "hobby": "Catur"})
    results = services.search("mbr-0042")
    assert [result.customer for result in results] == [member]
    assert results[0].reason.kind == "custom_field"
    assert results[0].reason.field == "member_number"
    assert results[0].reason.detail == "Member number mbr-0042"
    # Only unique fields identify a customer.
    assert found("Catur") == []


def test_a_merged_customer_is_never_returned_its_survivor_is() -> None:
    survivor = make("Budi Santoso", phones=["0812-1111-2222"])
    merged = make("Boedi Santoso", emails=["boedi@contoh.id"])
    order(merged, "SHP-777", days_ago=10)
    merge_customers(survivor, merged, actor=None)

    for typed in ("boedi@contoh.id", "SHP-777", "Boedi Santoso", "santoso"):
        results = services.search(typed)
        assert [result.customer for result in results] == [survivor], typed
    by_old_name = services.search("Boedi Santoso")[0]
    assert by_old_name.reasons[0].merged_customer == merged.pk
    assert Customer.objects.get(pk=merged.pk).merged_into_id == survivor.pk


def test_empty_or_blank_text_finds_nobody(sri: Customer) -> None:
    assert services.search("") == []
    assert services.search("   ") == []
    assert services.search("?!") == []


# --- the caller lookup ------------------------------------------------------------------------


def test_the_caller_lookup_gives_the_last_order_open_tickets_and_overdue_services(
    sri: Customer,
) -> None:
    order(sri, "SHP-1", days_ago=40)
    last = order(sri, "SHP-2", days_ago=2)
    late = ticket(sri, "Paket belum sampai")
    waiting = ticket(sri, "Minta faktur", status=Ticket.Status.PENDING)
    ticket(sri, "Sudah beres", status=Ticket.Status.CLOSED)
    overdue = service(sri, "Servis AC", due_in_days=-5)
    service(sri, "Ganti filter", due_in_days=10)
    service(sri, "Langganan lama", due_in_days=-30, status=Subscription.Status.CANCELLED)

    found = services.caller_lookup("+62 812-3456-7890")

    assert found.number == "+6281234567890"
    (card,) = found.cards
    assert card.customer == sri
    assert card.last_order == last
    assert set(card.open_tickets) == {late, waiting}
    assert card.overdue_services == [overdue]
    assert card.days_overdue(overdue) == 5


def test_a_shared_number_gives_every_customer_the_latest_buyer_first() -> None:
    mother = make("Siti Aminah", phones=["0813-5555-0001"])
    son = make("Rizky Pratama", phones=["0813 5555 0001"])
    order(mother, "A-1", days_ago=30)
    order(son, "A-2", days_ago=1)
    cards = services.caller_lookup("6281355550001").cards
    assert [card.customer for card in cards] == [son, mother]


def test_the_caller_lookup_follows_merges_and_refuses_what_is_not_a_number() -> None:
    survivor = make("Budi Santoso")
    merged = make("Boedi Santoso", phones=["0812-9999-0000"])
    merge_customers(survivor, merged, actor=None)
    assert [card.customer for card in services.caller_lookup("0812-9999-0000").cards] == [survivor]
    assert services.caller_lookup("0899-0000-0000").cards == []
    with pytest.raises(InvalidValue) as refused:
        services.caller_lookup("budi")
    assert refused.value.field == "phone"


def test_typo_variants_are_one_edit_away() -> None:
    variants = services.edits("budi")
    assert {"bud", "budy", "bdui", "buddi"} <= variants
    assert "budi" not in variants
    assert all(abs(len(variant) - 4) <= 1 for variant in variants)


def test_many_namesakes_of_a_near_spelling_do_not_crowd_out_the_name_meant() -> None:
    for _ in range(services.DEFAULT_LIMIT * 2 + 5):
        make("Damu Prayoga")
    daru = make("Daru Prayoga")
    results = services.search("prayoag daru")  # one typo, the words swapped
    assert results[0].customer == daru
    assert results[0].reason.detail == "Name close to the words typed (prayoag → prayoga)"


def test_a_unique_value_that_is_also_a_name_comes_first_then_the_namesakes() -> None:
    custom_fields.define_field(key="nickname", label="Nickname", field_type="text", unique=True)
    budi = make("Budi Santoso")
    nick = make("Agus Salim", custom={"nickname": "budi"})
    results = services.search("Budi")
    assert [result.customer for result in results] == [nick, budi]
    assert [result.reason.kind for result in results] == ["custom_field", "name"]


def test_the_closest_spelling_comes_first_however_many_namesakes_a_near_one_has() -> None:
    for _ in range(services.DEFAULT_LIMIT * 2 + 5):
        make("Damu Hasanah")
    meant = make("Damu Hassanah")
    results = services.search("hassnah damu")  # one letter short of both
    assert results[0].customer == meant
    assert {result.customer.full_name for result in results} == {"Damu Hassanah", "Damu Hasanah"}


def test_a_typo_in_a_three_letter_word_is_tolerated() -> None:
    make("Edi Susanto")
    assert found("eti susanto") == ["Edi Susanto"]
    assert found("Ed Susanto") == ["Edi Susanto"]  # a word being typed
