"""Blocking keys: who is compared with whom, and that the keys follow every write."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client

from kenal.accounts.models import Role
from kenal.customers.models import Customer
from kenal.customers.services import Origin, create_customer, update_customer
from kenal.customers.tests.test_views import form_data
from kenal.identity import keys
from kenal.identity.models import MatchKey
from kenal.identity.people import Person, load_people
from kenal.identity.tests.test_matching import (
    D,
    add_customer,
    customer_of,
    import_rows,
    raw_customer,
    resolve,
    row,
)

pytestmark = pytest.mark.django_db


def stored_keys(customer: Customer) -> set[str]:
    return set(MatchKey.objects.filter(customer=customer).values_list("key", flat=True))


def found_for(person: Person) -> set[int]:
    (found,) = keys.candidates([person])
    return found


def test_day_and_month_swapped_share_a_key() -> None:
    stored = add_customer("Muhammad Rizki Pratama", born=D(1990, 5, 12))
    add_customer("Muhammad Rizki Pratama", born=D(1990, 6, 12))

    swapped = Person.of(full_name="M. Rizky Pratama", birth_date=D(1990, 12, 5))

    assert keys.blocking_keys(swapped) & stored_keys(stored)
    assert stored.pk in found_for(swapped)


def test_spelling_variants_share_keys() -> None:
    old = Person.of(full_name="Soedjatmoko", birth_date=D(1975, 3, 3))
    new = Person.of(full_name="Sujatmoko", birth_date=D(1975, 3, 3))
    phonetic = Person.of(full_name="Fatimah Zahra", birth_date=D(1999, 9, 9))
    written = Person.of(full_name="Fatima Sahra", birth_date=D(1999, 9, 9))

    assert keys.blocking_keys(old) & keys.blocking_keys(new)
    assert keys.blocking_keys(phonetic) & keys.blocking_keys(written)


def test_a_mononym_gets_keys_and_is_found() -> None:
    sukarno = add_customer("Sukarno", born=D(1901, 6, 6))
    at_home = add_customer("Suharti", postcode="57111")
    by_email = add_customer("Wiranto", email="wiranto1947@contoh.id")

    assert stored_keys(sukarno)
    assert sukarno.pk in found_for(Person.of(full_name="Soekarno", birth_date=D(1901, 6, 6)))
    assert at_home.pk in found_for(Person.of(full_name="Suharti", places=[("", "", "57111")]))
    assert by_email.pk in found_for(Person.of(full_name="W", emails=["wiranto1947@mail.id"]))


def test_typos_in_every_word_still_meet_by_birth_date() -> None:
    stored = add_customer("Kyle Bullivant", born=D(1959, 5, 23), postcode="3192")

    typed = Person.of(
        full_name="Kyale Bullivnt", birth_date=D(1959, 5, 23), places=[("", "", "3912")]
    )

    assert stored.pk in found_for(typed)
    # The start of a word alone, without the birth date, is no key.
    assert stored.pk not in found_for(Person.of(full_name="Kyale Bullivnt"))


def test_an_identifying_number_a_slip_off_meets_its_owner() -> None:
    nik = "3201011234560001"
    owner = Person.of(full_name="Siti Aminah", identifiers=[f"7:{nik}"])
    substituted = Person.of(full_name="Rina", identifiers=["7:3201011234569001"])
    swapped = Person.of(full_name="Rina", identifiers=["7:3201011243560001"])
    other = Person.of(full_name="Rina", identifiers=["7:3201019999990001"])
    other_field = Person.of(full_name="Rina", identifiers=[f"8:{nik}"])

    assert keys.blocking_keys(owner) & keys.blocking_keys(substituted)
    assert keys.blocking_keys(owner) & keys.blocking_keys(swapped)
    assert not keys.blocking_keys(owner) & keys.blocking_keys(other)
    assert not keys.blocking_keys(owner) & keys.blocking_keys(other_field)
    # Short numbers say too little.
    assert keys.blocking_keys(Person.of(identifiers=["7:12345"])) == set()


def test_people_who_share_nothing_are_not_compared() -> None:
    add_customer("Budi Santoso", born=D(1990, 5, 12), postcode="40111")

    assert found_for(Person.of(full_name="Budi Hartono", birth_date=D(1991, 5, 12))) == set()
    assert found_for(Person.of(full_name="Agus Santoso", places=[("", "", "40112")])) == set()


def test_over_common_keys_are_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys, "MAX_BLOCK", 2)
    first = add_customer("Budi Santoso")
    second = add_customer("Budi Santoso")
    probe = Person.of(full_name="Budi Santoso", birth_date=D(1990, 5, 12))
    assert found_for(probe) == {first.pk, second.pk}  # at the limit, still used

    dated = add_customer("Budi Santoso", born=D(1990, 5, 12))

    # Three now share the name key: it is skipped, but the rarer name + birth date key is not.
    assert found_for(probe) == {dated.pk}
    assert found_for(Person.of(full_name="Budi Santoso")) == set()


def test_the_match_keys_of_an_import_are_written(tmp_path: Path) -> None:
    run = import_rows(tmp_path, [row("Ratna Sari", born=D(1988, 7, 21), postcode="40115")])

    ratna = customer_of(run)

    assert stored_keys(ratna) == keys.blocking_keys(load_people([ratna.pk])[ratna.pk])
    assert ratna.pk in found_for(Person.of(full_name="Ratna Sari", birth_date=D(1988, 7, 21)))


def test_keys_follow_an_update_by_import(tmp_path: Path) -> None:
    import_rows(tmp_path, [row("Ratna Sari", id="R-1", postcode="40115")])
    ratna = Customer.objects.get()
    before = stored_keys(ratna)

    import_rows(tmp_path, [row("Ratna Sari Dewi", id="R-1", born=D(1988, 7, 21), postcode="40115")])

    after = stored_keys(ratna)
    assert after != before
    assert after == keys.blocking_keys(load_people([ratna.pk])[ratna.pk])
    match = resolve("Ratna Dewi", born=D(1988, 7, 21), postcode="40115").match
    assert match is not None
    assert match.customer_id == ratna.pk


def test_keys_follow_an_update_on_the_customer_page(login: Callable[..., Client]) -> None:
    agent = login(Role.AGENT)
    ratna = add_customer("Ratna Sari", postcode="40115")

    response = agent.post(f"/customers/{ratna.pk}/edit/", form_data(ratna, birth_date="1988-07-21"))
    assert response.status_code == 302

    assert stored_keys(ratna) == keys.blocking_keys(load_people([ratna.pk])[ratna.pk])
    match = resolve("Ratna Sari", born=D(1988, 7, 21)).match
    assert match is not None
    assert match.customer_id == ratna.pk


def test_refresh_rewrites_keys_from_the_current_values() -> None:
    ratna = add_customer("Ratna Sari", born=D(1988, 7, 21))
    update_customer(ratna, {"full_name": "Wulan Sari"}, Origin(source="crm"))

    keys.refresh([ratna.pk])

    assert ratna.pk in found_for(Person.of(full_name="Wulan Sari", birth_date=D(1988, 7, 21)))
    assert ratna.pk not in found_for(Person.of(full_name="Ratna", birth_date=D(1988, 7, 21)))


def test_a_merged_customer_has_no_keys_and_is_never_a_candidate() -> None:
    survivor = add_customer("Ratna Sari", born=D(1988, 7, 21))
    merged = add_customer("Ratna Sari", born=D(1988, 7, 21))
    Customer.objects.filter(pk=merged.pk).update(merged_into=survivor)

    keys.refresh([survivor.pk, merged.pk])

    assert stored_keys(merged) == set()
    assert stored_keys(survivor)
    assert found_for(Person.of(full_name="Ratna Sari", birth_date=D(1988, 7, 21))) == {survivor.pk}
    assert merged.pk not in load_people([merged.pk])


def test_candidates_answers_a_batch_in_one_go() -> None:
    ratna = add_customer("Ratna Sari", born=D(1988, 7, 21))
    budi = add_customer("Budi Santoso", born=D(1990, 5, 12))

    found = keys.candidates(
        [
            Person.of(full_name="Budi Santoso", birth_date=D(1990, 12, 5)),
            Person.of(full_name="Nobody"),
            Person.of(full_name="Ratna Sari", birth_date=D(1988, 7, 21)),
        ]
    )

    assert found == [{budi.pk}, set(), {ratna.pk}]


def test_customers_written_in_a_deferred_block_get_their_keys_when_it_ends() -> None:
    def write(name: str) -> Customer:
        return create_customer(raw_customer(name, born=D(1988, 7, 21)), Origin(source="crm"))

    with keys.deferred():
        ratna = write("Ratna Sari")
        assert stored_keys(ratna) == set()
    assert stored_keys(ratna) == keys.blocking_keys(load_people([ratna.pk])[ratna.pk])
    # Outside a block, a write refreshes at once.
    assert stored_keys(write("Budi Santoso"))
