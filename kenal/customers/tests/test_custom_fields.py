"""Custom field services against a real database (SQLite, or PostgreSQL in CI)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from kenal.customers import custom_fields
from kenal.customers.custom_fields import (
    FieldConversionError,
    FieldDefinitionError,
    TypedValue,
)
from kenal.customers.models import Customer, CustomField, CustomFieldValue, FieldType
from kenal.customers.normalise import InvalidValue
from kenal.customers.services import (
    CustomerInvalid,
    CustomerQuery,
    Origin,
    create_customer,
    find_customers,
    update_customer,
)

pytestmark = pytest.mark.django_db

ORIGIN = Origin(source="test")
COLUMNS = ("text", "long_text", "integer", "decimal", "date", "datetime", "boolean")
JAKARTA = dt.timezone(dt.timedelta(hours=7))


def define(key: str, field_type: str, **options: Any) -> CustomField:
    return custom_fields.define_field(
        key=key, label=key.replace("_", " ").title(), field_type=field_type, **options
    )


def customer(custom: dict[str, Any], name: str = "Budi Santoso") -> Customer:
    return create_customer({"full_name": name, "custom": custom}, ORIGIN)


def rows(who: Customer, field: CustomField) -> list[CustomFieldValue]:
    return list(CustomFieldValue.objects.filter(customer=who, field=field).order_by("ordinal"))


def stored(who: Customer, field: CustomField) -> list[Any]:
    """The values as read back from the database by the service."""
    found = dict(custom_fields.values_for(who, include_archived=True))
    return [value.value for value in found[field]]


def refused(excinfo: pytest.ExceptionInfo[CustomerInvalid]) -> dict[str, InvalidValue]:
    return {error.field: error for error in excinfo.value.errors}


def matching(*filters: tuple[str, str, str]) -> set[int]:
    return set(find_customers(CustomerQuery(custom_filters=filters)).values_list("pk", flat=True))


# --- every type, typed in its own column --------------------------------------------------

SIMPLE_TYPES = [
    (FieldType.TEXT, {}, "  Jakarta Selatan ", "text", "Jakarta Selatan"),
    (FieldType.LONG_TEXT, {}, "Suka batik.\nDatang tiap bulan.", "long_text", None),
    (FieldType.INTEGER, {}, "1.234.567", "integer", 1234567),
    (FieldType.INTEGER, {}, 42, "integer", 42),
    (FieldType.DECIMAL, {}, "12,5", "decimal", Decimal("12.5")),
    (FieldType.DECIMAL, {}, "0.000001", "decimal", Decimal("0.000001")),
    (FieldType.DATE, {}, "2024-03-31", "date", dt.date(2024, 3, 31)),
    (FieldType.DATE, {}, "31/03/2024", "date", dt.date(2024, 3, 31)),
    (FieldType.DATE, {}, "31 Maret 2024", "date", dt.date(2024, 3, 31)),
    (FieldType.DATE, {}, "March 31, 2024", "date", dt.date(2024, 3, 31)),
    (
        FieldType.DATETIME,
        {},
        "2024-03-31 14:30",
        "datetime",
        dt.datetime(2024, 3, 31, 14, 30, tzinfo=JAKARTA),
    ),
    (FieldType.BOOLEAN, {}, "ya", "boolean", True),
    (FieldType.BOOLEAN, {}, "tidak", "boolean", False),
    (FieldType.CHOICE, {"choices": ["Silver", "Gold"]}, " gOLD ", "text", "Gold"),
    (FieldType.EMAIL, {}, " Budi@Contoh.CO.ID ", "text", "Budi@contoh.co.id"),
    (FieldType.PHONE, {}, "0812-3456-7890", "text", "+6281234567890"),
    (FieldType.URL, {}, "contoh.co.id/toko", "text", "https://contoh.co.id/toko"),
]


@pytest.mark.parametrize(("field_type", "options", "raw", "column", "expected"), SIMPLE_TYPES)
def test_each_type_is_stored_typed_in_its_column_and_read_back(
    field_type: str, options: dict[str, Any], raw: Any, column: str, expected: Any
) -> None:
    field = define("extra", field_type, **options)
    expected = raw if expected is None else expected
    budi = customer({"extra": raw})

    [row] = rows(budi, field)
    assert getattr(row, column) == expected
    assert type(getattr(row, column)) is type(expected)
    assert all(getattr(row, other) is None for other in COLUMNS if other != column)
    assert stored(budi, field) == [expected]


@pytest.mark.parametrize(
    ("raw", "amount", "currency"),
    [
        ("IDR 150000", Decimal(150000), "IDR"),
        ("150000 idr", Decimal(150000), "IDR"),
        ("Rp 1.500.000", Decimal(1500000), "SGD"),  # the field's default currency
        ({"amount": "25.50", "currency": "usd"}, Decimal("25.5"), "USD"),
        ({"amount": 99}, Decimal(99), "SGD"),
    ],
)
def test_money_keeps_amount_and_currency(raw: Any, amount: Decimal, currency: str) -> None:
    field = define("balance", FieldType.MONEY, currency="sgd")
    budi = customer({"balance": raw})

    [row] = rows(budi, field)
    assert (row.decimal, row.currency) == (amount, currency)
    assert row.text is None
    assert row.integer is None
    [value] = dict(custom_fields.values_for(budi))[field]
    assert value == TypedValue(amount, currency)
    assert custom_fields.form_value(field, [value]) == f"{currency} {amount}"


def test_money_without_field_currency_defaults_to_rupiah() -> None:
    field = define("balance", FieldType.MONEY)
    [row] = rows(customer({"balance": "75000"}), field)
    assert (row.decimal, row.currency) == (Decimal(75000), "IDR")


@pytest.mark.parametrize("raw", [["Batik", "kopi", "BATIK"], "batik, Kopi ,", ("Batik", "Kopi")])
def test_multiple_choice_keeps_one_row_per_canonical_option(raw: Any) -> None:
    field = define("interests", FieldType.MULTIPLE_CHOICE, choices=["Batik", "Kopi", "Kain"])
    budi = customer({"interests": raw})

    assert [(row.ordinal, row.text) for row in rows(budi, field)] == [(0, "Batik"), (1, "Kopi")]
    assert stored(budi, field) == ["Batik", "Kopi"]


def test_empty_value_clears_the_field() -> None:
    field = define("member_no", FieldType.INTEGER)
    budi = customer({"member_no": "7"})
    update_customer(budi, {"custom": {"member_no": ""}}, ORIGIN)
    assert rows(budi, field) == []


def test_decimal_with_too_many_places_is_refused_not_rounded() -> None:
    field = define("weight", FieldType.DECIMAL)
    with pytest.raises(CustomerInvalid) as excinfo:
        customer({"weight": "1.1234567"})
    error = refused(excinfo)["custom.weight"]
    assert error.value == "1.1234567"
    assert "6 decimal places" in error.expected
    assert not CustomFieldValue.objects.filter(field=field).exists()


def test_bad_values_name_the_field_and_value() -> None:
    define("member_no", FieldType.INTEGER)
    define("joined", FieldType.DATE)
    with pytest.raises(CustomerInvalid) as excinfo:
        customer({"member_no": "tujuh", "joined": "31/02/2024", "nope": "x"})
    errors = refused(excinfo)
    assert errors["custom.member_no"].value == "tujuh"
    assert errors["custom.joined"].value == "31/02/2024"
    assert errors["custom.nope"].expected == "the key of an existing custom field"
    assert not Customer.objects.exists()


# --- required -----------------------------------------------------------------------------


def test_required_field_missing_on_create_is_refused() -> None:
    define("member_no", FieldType.TEXT, required=True)
    with pytest.raises(CustomerInvalid) as excinfo:
        customer({})
    assert "custom.member_no" in refused(excinfo)


def test_required_field_given_empty_on_create_is_refused() -> None:
    define("member_no", FieldType.TEXT, required=True)
    with pytest.raises(CustomerInvalid) as excinfo:
        customer({"member_no": "  "})
    assert list(refused(excinfo)) == ["custom.member_no"]


def test_required_field_with_a_bad_value_is_reported_once() -> None:
    define("member_no", FieldType.INTEGER, required=True)
    with pytest.raises(CustomerInvalid) as excinfo:
        customer({"member_no": "abc"})
    assert [(e.field, e.value) for e in excinfo.value.errors] == [("custom.member_no", "abc")]

    budi = customer({"member_no": "1"})
    with pytest.raises(CustomerInvalid) as excinfo:
        update_customer(budi, {"custom": {"member_no": "abc"}}, ORIGIN)
    assert [(e.field, e.value) for e in excinfo.value.errors] == [("custom.member_no", "abc")]


def test_update_without_a_required_key_leaves_its_value() -> None:
    field = define("member_no", FieldType.TEXT, required=True)
    budi = customer({"member_no": "M-1"})
    update_customer(budi, {"company": "Toko Maju"}, ORIGIN)
    assert stored(budi, field) == ["M-1"]

    with pytest.raises(CustomerInvalid) as excinfo:
        update_customer(budi, {"custom": {"member_no": ""}}, ORIGIN)
    assert "custom.member_no" in refused(excinfo)
    assert stored(budi, field) == ["M-1"]


def test_archived_required_field_is_not_demanded() -> None:
    field = define("member_no", FieldType.TEXT, required=True)
    custom_fields.archive_field(field)
    assert customer({}).pk


# --- unique -------------------------------------------------------------------------------


def test_unique_value_of_another_customer_is_refused_naming_them() -> None:
    define("member_no", FieldType.TEXT, unique=True)
    budi = customer({"member_no": "AB-1"})
    with pytest.raises(CustomerInvalid) as excinfo:
        customer({"member_no": "ab-1"}, name="Siti")  # text compares case-insensitively
    error = refused(excinfo)["custom.member_no"]
    assert error.value == "ab-1"
    assert f"#{budi.pk}" in error.expected
    assert Customer.objects.count() == 1


def test_unique_value_may_be_saved_again_by_its_owner() -> None:
    field = define("member_no", FieldType.INTEGER, unique=True)
    budi = customer({"member_no": "7"})
    update_customer(budi, {"custom": {"member_no": 7}}, ORIGIN)
    assert stored(budi, field) == [7]
    other = customer({"member_no": "8"}, name="Siti")
    assert stored(other, field) == [8]


def test_making_a_field_unique_with_duplicates_is_refused_listing_them() -> None:
    field = define("member_no", FieldType.TEXT)
    budi = customer({"member_no": "AB-1"})
    siti = customer({"member_no": "ab-1"}, name="Siti")
    customer({"member_no": "AB-2"}, name="Ani")

    with pytest.raises(FieldDefinitionError) as excinfo:
        custom_fields.update_field(field, unique=True)
    [problem] = excinfo.value.problems
    assert "ab-1" in problem.casefold()
    assert f"#{budi.pk}" in problem
    assert f"#{siti.pk}" in problem
    field.refresh_from_db()
    assert not field.unique


def test_making_a_field_unique_enforces_it_on_existing_values() -> None:
    field = define("member_no", FieldType.TEXT)
    budi = customer({"member_no": "AB-1"})
    custom_fields.update_field(field, unique=True)

    with pytest.raises(CustomerInvalid) as excinfo:
        customer({"member_no": "ab-1"}, name="Siti")
    assert f"#{budi.pk}" in refused(excinfo)["custom.member_no"].expected

    custom_fields.update_field(field, unique=False)
    assert customer({"member_no": "ab-1"}, name="Siti").pk


# --- choices ------------------------------------------------------------------------------


def test_bad_choice_lists_the_choices() -> None:
    define("tier", FieldType.CHOICE, choices=["Silver", "Gold"])
    define("interests", FieldType.MULTIPLE_CHOICE, choices=["Batik", "Kopi"])
    with pytest.raises(CustomerInvalid) as excinfo:
        customer({"tier": "Platinum", "interests": "Batik, Teh"})
    errors = refused(excinfo)
    assert errors["custom.tier"].value == "Platinum"
    assert "Silver, Gold" in errors["custom.tier"].expected
    assert str(errors["custom.interests"].value).strip() == "Teh"
    assert "Batik, Kopi" in errors["custom.interests"].expected


def test_removing_a_choice_in_use_is_refused() -> None:
    field = define("tier", FieldType.CHOICE, choices=["Silver", "Gold", "Bronze"])
    customer({"tier": "gold"})

    with pytest.raises(FieldDefinitionError) as excinfo:
        custom_fields.update_field(field, choices=["Silver"])
    assert len(excinfo.value.problems) == 1
    assert "'Gold'" in excinfo.value.problems[0]
    field.refresh_from_db()
    assert field.choices == ["Silver", "Gold", "Bronze"]

    custom_fields.update_field(field, choices=["Silver", "Gold", "Platinum"])
    field.refresh_from_db()
    assert field.choices == ["Silver", "Gold", "Platinum"]


# --- archive, restore, rename -------------------------------------------------------------


def test_archive_hides_values_but_keeps_them_and_restore_brings_them_back() -> None:
    field = define("member_no", FieldType.TEXT)
    budi = customer({"member_no": "M-1"})

    custom_fields.archive_field(field)
    assert field not in dict(custom_fields.values_for(budi))
    assert [row.text for row in rows(budi, field)] == ["M-1"]
    assert field in dict(custom_fields.values_for(budi, include_archived=True))

    custom_fields.restore_field(field)
    assert [v.value for v in dict(custom_fields.values_for(budi))[field]] == ["M-1"]


def test_writing_to_an_archived_field_is_refused() -> None:
    field = define("member_no", FieldType.TEXT)
    budi = customer({"member_no": "M-1"})
    custom_fields.archive_field(field)

    with pytest.raises(CustomerInvalid) as excinfo:
        update_customer(budi, {"custom": {"member_no": "M-2"}}, ORIGIN)
    assert "archived" in refused(excinfo)["custom.member_no"].expected
    assert [row.text for row in rows(budi, field)] == ["M-1"]


def test_rename_label_and_key_keeps_values() -> None:
    field = define("member_no", FieldType.TEXT)
    budi = customer({"member_no": "M-1"})

    custom_fields.update_field(field, key="card_no", label="Card number")
    field.refresh_from_db()
    assert (field.key, field.label) == ("card_no", "Card number")
    assert stored(budi, field) == ["M-1"]

    update_customer(budi, {"custom": {"card_no": "M-2"}}, ORIGIN)
    assert stored(budi, field) == ["M-2"]
    with pytest.raises(CustomerInvalid):
        update_customer(budi, {"custom": {"member_no": "M-3"}}, ORIGIN)


def test_rename_to_a_used_key_is_refused() -> None:
    define("card_no", FieldType.TEXT)
    field = define("member_no", FieldType.TEXT)
    with pytest.raises(FieldDefinitionError) as excinfo:
        custom_fields.update_field(field, key="card_no")
    assert any("already used" in problem for problem in excinfo.value.problems)
    field.refresh_from_db()
    assert field.key == "member_no"


# --- changing the type --------------------------------------------------------------------


def convert(
    field_type: str,
    raw: Any,
    new_type: str,
    *,
    options: dict[str, Any] | None = None,
    choices: list[str] | None = None,
) -> tuple[CustomField, Customer, int]:
    field = define("extra", field_type, **(options or {}))
    budi = customer({"extra": raw})
    count = custom_fields.change_field_type(field, new_type, choices=choices)
    field.refresh_from_db()
    assert field.field_type == new_type
    return field, budi, count


def test_text_to_integer_converts() -> None:
    field, budi, count = convert(FieldType.TEXT, "123", FieldType.INTEGER)
    assert count == 1
    [row] = rows(budi, field)
    assert (row.integer, row.text) == (123, None)


def test_text_that_is_not_a_number_refuses_the_whole_change() -> None:
    field = define("extra", FieldType.TEXT)
    budi = customer({"extra": "123"})
    siti = customer({"extra": "abc"}, name="Siti")

    with pytest.raises(FieldConversionError) as excinfo:
        custom_fields.change_field_type(field, FieldType.INTEGER)
    [(customer_id, value, reason)] = excinfo.value.failures
    assert (customer_id, value) == (siti.pk, "abc")
    assert "whole number" in reason
    field.refresh_from_db()
    assert field.field_type == FieldType.TEXT
    assert [row.text for row in rows(budi, field)] == ["123"]
    assert [row.integer for row in rows(budi, field)] == [None]


def test_integer_to_decimal() -> None:
    field, budi, _count = convert(FieldType.INTEGER, "42", FieldType.DECIMAL)
    [row] = rows(budi, field)
    assert (row.decimal, row.integer) == (Decimal(42), None)


def test_decimal_to_money_takes_the_default_currency() -> None:
    field, budi, _count = convert(FieldType.DECIMAL, "12.5", FieldType.MONEY)
    [row] = rows(budi, field)
    assert (row.decimal, row.currency) == (Decimal("12.5"), "IDR")


def test_text_to_date() -> None:
    field, budi, _count = convert(FieldType.TEXT, "31/03/2024", FieldType.DATE)
    [row] = rows(budi, field)
    assert (row.date, row.text) == (dt.date(2024, 3, 31), None)


def test_choice_to_multiple_choice() -> None:
    field, budi, _count = convert(
        FieldType.CHOICE, "gold", FieldType.MULTIPLE_CHOICE, options={"choices": ["Gold", "Silver"]}
    )
    assert stored(budi, field) == ["Gold"]
    assert field.choices == ["Gold", "Silver"]


def test_text_to_choice_with_new_choices() -> None:
    field, budi, _count = convert(
        FieldType.TEXT, "gold", FieldType.CHOICE, choices=["Silver", "Gold"]
    )
    assert stored(budi, field) == ["Gold"]
    assert field.choices == ["Silver", "Gold"]


def test_multiple_choice_with_two_options_cannot_become_a_choice() -> None:
    field = define("interests", FieldType.MULTIPLE_CHOICE, choices=["Batik", "Kopi"])
    customer({"interests": "Kopi"}, name="Siti")
    budi = customer({"interests": "Batik, Kopi"})

    with pytest.raises(FieldConversionError) as excinfo:
        custom_fields.change_field_type(field, FieldType.CHOICE)
    [(customer_id, value, _reason)] = excinfo.value.failures
    assert (customer_id, value) == (budi.pk, "Batik, Kopi")
    field.refresh_from_db()
    assert field.field_type == FieldType.MULTIPLE_CHOICE
    assert stored(budi, field) == ["Batik", "Kopi"]


def test_date_to_text() -> None:
    field, budi, _count = convert(FieldType.DATE, "31 Maret 2024", FieldType.TEXT)
    [row] = rows(budi, field)
    assert (row.text, row.date) == ("2024-03-31", None)


def test_money_to_text_keeps_the_currency() -> None:
    field, budi, _count = convert(FieldType.MONEY, "USD 12.50", FieldType.TEXT)
    assert stored(budi, field) == ["USD 12.5"]


def test_conversion_that_would_repeat_a_unique_value_is_refused() -> None:
    field = define("extra", FieldType.TEXT, unique=True)
    customer({"extra": "7"})
    siti = customer({"extra": "007"}, name="Siti")

    with pytest.raises(FieldConversionError) as excinfo:
        custom_fields.change_field_type(field, FieldType.INTEGER)
    [(customer_id, value, _reason)] = excinfo.value.failures
    assert (customer_id, value) == (siti.pk, "007")
    field.refresh_from_db()
    assert field.field_type == FieldType.TEXT


def test_conversion_counts_every_converted_customer() -> None:
    field = define("extra", FieldType.TEXT)
    for number in range(3):
        customer({"extra": str(number)}, name=f"Budi {'abc'[number]}")
    customer({}, name="Ani")  # no value: nothing to convert
    assert custom_fields.change_field_type(field, FieldType.INTEGER) == 3
    converted = CustomFieldValue.objects.filter(field=field).values_list("integer", flat=True)
    assert sorted(value or 0 for value in converted) == [0, 1, 2]


# --- filters ------------------------------------------------------------------------------


def test_integer_filters() -> None:
    define("visits", FieldType.INTEGER)
    two, five, nine = (
        customer({"visits": n}, name=name)
        for n, name in (("2", "Dua"), ("5", "Lima"), ("9", "Sembilan"))
    )
    customer({}, name="None")
    assert matching(("visits", "eq", "5")) == {five.pk}
    assert matching(("visits", "lt", "5")) == {two.pk}
    assert matching(("visits", "gte", "5")) == {five.pk, nine.pk}
    assert matching(("visits", "gt", "2"), ("visits", "lte", "5")) == {five.pk}


def test_decimal_filters() -> None:
    define("score", FieldType.DECIMAL)
    low = customer({"score": "1.25"}, name="Low")
    high = customer({"score": "10.5"}, name="High")
    assert matching(("score", "gte", "1.3")) == {high.pk}
    assert matching(("score", "lte", "1,25")) == {low.pk}
    assert matching(("score", "eq", "10.50")) == {high.pk}


def test_money_filters_compare_only_the_same_currency() -> None:
    define("spend", FieldType.MONEY)
    rupiah = customer({"spend": "IDR 150000"}, name="Rupiah")
    customer({"spend": "IDR 50000"}, name="Less")
    dollars = customer({"spend": "USD 200000"}, name="Dollars")
    assert matching(("spend", "gte", "100000")) == {rupiah.pk}
    assert matching(("spend", "gte", "USD 100000")) == {dollars.pk}
    assert matching(("spend", "eq", "IDR 150000")) == {rupiah.pk}


def test_date_filters() -> None:
    define("joined", FieldType.DATE)
    march = customer({"joined": "2024-03-31"}, name="March")
    july = customer({"joined": "1 Juli 2024"}, name="July")
    assert matching(("joined", "gte", "01/03/2024"), ("joined", "lt", "2024-07-01")) == {march.pk}
    assert matching(("joined", "gte", "2024-07-01")) == {july.pk}
    assert matching(("joined", "eq", "31 Maret 2024")) == {march.pk}


def test_text_contains_set_and_empty() -> None:
    define("city", FieldType.TEXT)
    jakarta = customer({"city": "Jakarta Selatan"}, name="Jakarta")
    bandung = customer({"city": "Bandung"}, name="Bandung")
    nowhere = customer({}, name="Nowhere")
    assert matching(("city", "contains", "KARTA")) == {jakarta.pk}
    assert matching(("city", "set", "")) == {jakarta.pk, bandung.pk}
    assert matching(("city", "empty", "")) == {nowhere.pk}


def test_multiple_choice_eq_matches_any_chosen_option() -> None:
    define("interests", FieldType.MULTIPLE_CHOICE, choices=["Batik", "Kopi", "Teh"])
    both = customer({"interests": "Batik, Kopi"}, name="Both")
    kopi = customer({"interests": "kopi"}, name="Kopi")
    customer({"interests": "Teh"}, name="Teh")
    assert matching(("interests", "eq", "KOPI")) == {both.pk, kopi.pk}
    assert matching(("interests", "eq", "batik")) == {both.pk}


def test_choice_eq_is_case_insensitive() -> None:
    define("tier", FieldType.CHOICE, choices=["Silver", "Gold"])
    gold = customer({"tier": "Gold"})
    assert matching(("tier", "eq", "gold")) == {gold.pk}


@pytest.mark.parametrize(
    ("field_type", "operator", "value"),
    [
        (FieldType.TEXT, "lt", "b"),
        (FieldType.BOOLEAN, "gte", "ya"),
        (FieldType.INTEGER, "contains", "1"),
        (FieldType.DATE, "contains", "2024"),
        (FieldType.INTEGER, "like", "1"),
        (FieldType.INTEGER, "eq", "satu"),
    ],
)
def test_bad_operator_or_value_for_the_type_is_refused(
    field_type: str, operator: str, value: str
) -> None:
    define("extra", field_type)
    with pytest.raises(InvalidValue) as excinfo:
        matching(("extra", operator, value))
    assert excinfo.value.field == "filter.extra"


def test_filter_on_an_unknown_field_is_refused() -> None:
    with pytest.raises(InvalidValue) as excinfo:
        matching(("nope", "eq", "1"))
    assert excinfo.value.field == "filter.nope"


# --- definitions --------------------------------------------------------------------------


def test_definition_problems_are_reported_together() -> None:
    with pytest.raises(FieldDefinitionError) as excinfo:
        custom_fields.define_field(
            key="full_name", label=" ", field_type=FieldType.MULTIPLE_CHOICE, unique=True
        )
    problems = excinfo.value.problems
    assert len(problems) == 4
    assert problems[0].startswith("key:")
    assert "built-in" in problems[0]
    assert any(problem.startswith("label:") for problem in problems)
    assert any(problem.startswith("choices:") for problem in problems)
    assert any(problem.startswith("unique:") for problem in problems)
    assert not CustomField.objects.exists()


def test_bad_key_and_unique_boolean_are_reported_together() -> None:
    with pytest.raises(FieldDefinitionError) as excinfo:
        define("Member No!", FieldType.BOOLEAN, unique=True)
    problems = excinfo.value.problems
    assert len(problems) == 2
    assert problems[0].startswith("key:")
    assert "'Member No!'" in problems[0]
    assert problems[1].startswith("unique:")


@pytest.mark.parametrize("key", ["email", "phone", "full_name", "birth_date", "tags", "custom"])
def test_reserved_keys_are_refused(key: str) -> None:
    with pytest.raises(FieldDefinitionError) as excinfo:
        define(key, FieldType.TEXT)
    assert "built-in" in excinfo.value.problems[0]


def test_key_used_twice_and_bad_currency_are_refused() -> None:
    define("member_no", FieldType.TEXT)
    with pytest.raises(FieldDefinitionError) as excinfo:
        define("member_no", FieldType.MONEY, currency="rupiah")
    problems = excinfo.value.problems
    assert len(problems) == 2
    assert any("already used" in problem for problem in problems)
    assert any("currency" in problem for problem in problems)


def test_unknown_type_is_refused() -> None:
    with pytest.raises(FieldDefinitionError) as excinfo:
        define("extra", "colour")
    assert excinfo.value.problems[0].startswith("type:")
    field = define("extra", FieldType.TEXT)
    with pytest.raises(FieldDefinitionError):
        custom_fields.change_field_type(field, "colour")


def test_fields_keep_their_order_and_archived_ones_leave_active_fields() -> None:
    first = define("first", FieldType.TEXT)
    second = define("second", FieldType.TEXT)
    assert list(custom_fields.active_fields()) == [first, second]
    custom_fields.archive_field(first)
    assert list(custom_fields.active_fields()) == [second]


# --- storage ------------------------------------------------------------------------------


def test_value_columns_are_indexed_with_the_field() -> None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(
            cursor, CustomFieldValue._meta.db_table
        )
    indexed = [tuple(info["columns"]) for info in constraints.values() if info["index"]]
    for column in ("text", "integer", "decimal", "date", "datetime", "boolean"):
        assert ("field_id", column) in indexed, column
    unique = [tuple(info["columns"]) for info in constraints.values() if info["unique"]]
    assert ("unique_key",) in unique
    assert ("customer_id", "field_id", "ordinal") in unique
