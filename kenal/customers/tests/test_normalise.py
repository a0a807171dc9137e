"""Tests for kenal.customers.normalise: every accepted form, and what is refused and why."""

from __future__ import annotations

import copy
import datetime
import decimal
import pickle
import zoneinfo

import pytest
from django.test import override_settings

from kenal.customers import normalise
from kenal.customers.normalise import InvalidValue

JAKARTA = zoneinfo.ZoneInfo("Asia/Jakarta")


def assert_invalid(exc_info: pytest.ExceptionInfo[InvalidValue], field, value, expected):
    exc = exc_info.value
    assert exc.field == field
    assert exc.value is value or exc.value == value  # "is" for NaN, which equals nothing
    assert expected in exc.expected
    assert str(exc) == f"{field}: {value!r} is not valid; expected {exc.expected}"


# --- InvalidValue --------------------------------------------------------------------------


def test_invalid_value_message_and_dict():
    exc = InvalidValue("email", "x@", "an email address")
    assert isinstance(exc, ValueError)
    assert (exc.field, exc.value, exc.expected) == ("email", "x@", "an email address")
    assert str(exc) == "email: 'x@' is not valid; expected an email address"
    assert exc.as_dict() == {
        "field": "email",
        "value": "x@",
        "expected": "an email address",
        "message": "email: 'x@' is not valid; expected an email address",
    }


def test_invalid_value_dict_stringifies_value():
    assert InvalidValue("count", 3.5, "a whole number").as_dict()["value"] == "3.5"


def test_invalid_value_survives_pickle_and_copy():
    exc = InvalidValue("phone", "123", "a phone number")
    for clone in (pickle.loads(pickle.dumps(exc)), copy.copy(exc)):  # noqa: S301
        assert isinstance(clone, InvalidValue)
        assert str(clone) == str(exc)
        assert clone.as_dict() == exc.as_dict()


def test_expected_is_plain_text_under_indonesian():
    from django.utils import translation

    with translation.override("id"), pytest.raises(InvalidValue) as exc_info:
        normalise.email("nope")
    assert type(exc_info.value.expected) is str
    assert exc_info.value.expected


# --- empty input, for every function that takes a field ------------------------------------

EMPTY_CALLS = [
    (normalise.email, {}, "email"),
    (normalise.phone, {}, "phone"),
    (normalise.person_name, {}, "name"),
    (normalise.parse_date, {}, "birth_date"),
    (normalise.parse_datetime, {}, "datetime"),
    (normalise.gender, {}, "gender"),
    (normalise.parse_integer, {"field": "count"}, "count"),
    (normalise.parse_decimal, {"field": "amount"}, "amount"),
    (normalise.parse_boolean, {"field": "opt_in"}, "opt_in"),
    (normalise.url, {}, "url"),
    (normalise.text, {"field": "notes", "max_length": 10}, "notes"),
    (normalise.country, {}, "country"),
    (normalise.currency, {}, "currency"),
]


@pytest.mark.parametrize(("func", "kwargs", "field"), EMPTY_CALLS)
@pytest.mark.parametrize("value", ["", "   ", "\t\n", "\u200b\ufeff "])
def test_empty_input_is_refused(func, kwargs, field, value):
    with pytest.raises(InvalidValue) as exc_info:
        func(value, **kwargs)
    assert_invalid(exc_info, field, value, "a value")


def test_none_counts_as_empty():
    with pytest.raises(InvalidValue) as exc_info:
        normalise.text(None, field="notes", max_length=10)
    assert_invalid(exc_info, "notes", None, "a value")


def test_custom_field_name_is_reported():
    with pytest.raises(InvalidValue) as exc_info:
        normalise.email("nope", field="work_email")
    assert exc_info.value.field == "work_email"


# --- email -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("budi@contoh.co.id", "budi@contoh.co.id"),
        ("  Budi.Santoso@Contoh.CO.ID  ", "Budi.Santoso@contoh.co.id"),
        ("BUDI@GMAIL.COM", "BUDI@gmail.com"),
        ("siti+promo@example.com", "siti+promo@example.com"),
        ("budi@MÜNCHEN.de", "budi@münchen.de"),
    ],
)
def test_email_accepts(value, normalised):
    assert normalise.email(value) == normalised


@pytest.mark.parametrize(
    "value",
    ["a@b", "no-at-sign", "two@@x.com", "a b@x.com", "budi@ex ample.com", "@contoh.co.id", "x@"],
)
def test_email_refuses(value):
    with pytest.raises(InvalidValue) as exc_info:
        normalise.email(value)
    assert_invalid(exc_info, "email", value, "an email address such as nama@contoh.co.id")


# --- phone -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "0812-3456-7890",
        "+62 812 3456 7890",
        "62812 3456 7890",
        "0812.3456.7890",
        "+62-812-3456-7890",
        "62-812-3456-7890",
        "812-3456-7890",
        "081234567890",
        "+6281234567890",
        " 0812 3456 7890 ",
    ],
)
def test_phone_indonesian_mobile_forms_are_equal(value):
    assert normalise.phone(value) == "+6281234567890"


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("(0812) 3456789", "+628123456789"),  # one digit shorter: a different, valid number
        ("(021) 555-1234", "+62215551234"),  # Jakarta landline
        ("+62 21 5551234", "+62215551234"),
        ("+65 6123 4567", "+6561234567"),
        ("+65 9123 4567", "+6591234567"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+1 415 555 2671", "+14155552671"),
        ("+60 12-345 6789", "+60123456789"),
    ],
)
def test_phone_accepts(value, normalised):
    assert normalise.phone(value) == normalised


def test_phone_region_argument():
    assert normalise.phone("9123 4567", region="SG") == "+6591234567"
    assert normalise.phone("659123 4567", region="sg") == "+6591234567"
    assert normalise.phone("+62 812 3456 7890", region="SG") == "+6281234567890"


def test_phone_default_region_comes_from_settings():
    with override_settings(KENAL_PHONE_REGION="SG"):
        assert normalise.phone("9123 4567") == "+6591234567"
    assert normalise.phone("0812-3456-7890") == "+6281234567890"


@pytest.mark.parametrize(
    "value",
    [
        "0812345",  # too short
        "12",
        "0812-ABCD-7890",  # letters
        "1-800-FLOWERS",
        "+62 812 3456 7890 ext 5",
        "08123456789012345",  # too long
        "+62 000 0000 000",  # not a valid Indonesian number
        "+999 1234 5678",  # no such country code
        "--",
        "0812+3456",
    ],
)
def test_phone_refuses(value):
    with pytest.raises(InvalidValue) as exc_info:
        normalise.phone(value)
    assert_invalid(
        exc_info, "phone", value, "a phone number such as 0812-3456-7890 or +62 812 3456 7890"
    )


def test_phone_expected_shows_the_region_example():
    with pytest.raises(InvalidValue) as exc_info:
        normalise.phone("12", region="SG")
    assert "+65" in exc_info.value.expected


# --- person names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("BUDI SANTOSO", "Budi Santoso"),
        ("budi santoso", "Budi Santoso"),
        ("  budi    santoso ", "Budi Santoso"),
        ("Sukarno", "Sukarno"),
        ("SUKARNO", "Sukarno"),
        ("McDonald", "McDonald"),
        ("van der Berg", "van der Berg"),  # the capital B makes it mixed: kept as typed
        ("Jan van der Berg", "Jan van der Berg"),
        ("JAN VAN DER BERG", "Jan van der Berg"),
        ("AHMAD BIN ISMAIL", "Ahmad bin Ismail"),
        ("siti binti abdullah", "Siti binti Abdullah"),
        ("MARIA DA SILVA", "Maria da Silva"),
        ("VAN GOGH", "Van Gogh"),  # a particle that starts the name is capitalised
        ("AHMAD AL-FARUQI", "Ahmad Al-Faruqi"),
        ("O'BRIEN", "O'Brien"),
        ("d'arcy", "D'Arcy"),
        ("SITI NUR-AINI", "Siti Nur-Aini"),
        ("MA'RUF AMIN", "Ma'ruf Amin"),
        ("M. HATTA", "M. Hatta"),
        ("m. hatta", "M. Hatta"),
        ("M. Hatta", "M. Hatta"),
        ("budi SANTOSO", "budi SANTOSO"),  # mixed casing is the user's choice
        ("ÉDOUARD", "Édouard"),
        ("Ni Luh Putu Ayu", "Ni Luh Putu Ayu"),
        ("محمد", "محمد"),
    ],
)
def test_person_name_accepts(value, normalised):
    assert normalise.person_name(value) == normalised


@pytest.mark.parametrize("value", ["123", "Budi2", "-", "...", "R2-D2", "'--'"])
def test_person_name_refuses_non_letters(value):
    with pytest.raises(InvalidValue) as exc_info:
        normalise.person_name(value)
    assert_invalid(exc_info, "name", value, "a name made of letters")


def test_person_name_length_limit():
    assert normalise.person_name("A" * 200) == "A" + "a" * 199
    with pytest.raises(InvalidValue) as exc_info:
        normalise.person_name("a" * 201)
    assert_invalid(exc_info, "name", "a" * 201, "at most 200 characters")


# --- dates -----------------------------------------------------------------------------------

MARCH_5 = datetime.date(2024, 3, 5)


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        (MARCH_5, MARCH_5),
        (datetime.datetime(2024, 3, 5, 23, 59), MARCH_5),
        # 20:00 UTC is already 03:00 the next day in Jakarta.
        (datetime.datetime(2024, 3, 4, 20, 0, tzinfo=datetime.UTC), MARCH_5),
        ("2024-03-05", MARCH_5),
        ("2024/3/5", MARCH_5),
        ("05/03/2024", MARCH_5),
        ("5/3/2024", MARCH_5),
        ("05-03-2024", MARCH_5),
        ("5.3.2024", MARCH_5),
        (" 5 Mar 2024 ", MARCH_5),
        ("5 March 2024", MARCH_5),
        ("5 Maret 2024", MARCH_5),
        ("5 MARET 2024", MARCH_5),
        ("5 maret 2024", MARCH_5),
        ("05-Mar-2024", MARCH_5),
        ("5 Mar. 2024", MARCH_5),
        ("March 5, 2024", MARCH_5),
        ("05 Agu 2024", datetime.date(2024, 8, 5)),
        ("05 Agt 2024", datetime.date(2024, 8, 5)),
        ("17 Agustus 1945", datetime.date(1945, 8, 17)),
        ("1 Mei 2000", datetime.date(2000, 5, 1)),
        ("1 May 2000", datetime.date(2000, 5, 1)),
        ("3 Okt 1990", datetime.date(1990, 10, 3)),
        ("3 Oct 1990", datetime.date(1990, 10, 3)),
        ("24 Des 2000", datetime.date(2000, 12, 24)),
        ("24 Dec 2000", datetime.date(2000, 12, 24)),
        ("5 Peb 2000", datetime.date(2000, 2, 5)),
        ("5 Feb 2000", datetime.date(2000, 2, 5)),
        ("5 Pebruari 2000", datetime.date(2000, 2, 5)),
        ("5 Nop 2000", datetime.date(2000, 11, 5)),
        ("5 Nov 2000", datetime.date(2000, 11, 5)),
        ("10 Nopember 1945", datetime.date(1945, 11, 10)),
        ("29/02/2024", datetime.date(2024, 2, 29)),
        # Excel serials (1900 date system)
        (45356, MARCH_5),
        (45356.0, MARCH_5),
        (45356.75, MARCH_5),  # the fraction is a time of day
        (decimal.Decimal(45356), MARCH_5),
        ("45356", MARCH_5),
        ("45356.5", MARCH_5),
        (1, datetime.date(1900, 1, 1)),
        (59, datetime.date(1900, 2, 28)),
        (61, datetime.date(1900, 3, 1)),
        (2958465, datetime.date(9999, 12, 31)),
    ],
)
def test_parse_date_accepts(value, normalised):
    assert normalise.parse_date(value) == normalised


@pytest.mark.parametrize(
    "value",
    [
        "31/02/2024",  # impossible
        "29/02/2023",
        "2024-13-01",
        "2024-02-30",
        "32/01/2024",
        "05/03/24",  # two-digit year: 1924 or 2024?
        "5 Mar 24",
        "24-03-05",
        "garbage",
        "5 Marmalade 2024",
        "5/3-2024",  # mixed separators
        "2024-03-05T10:00",  # a time where a date was asked
        60,  # Excel's 1900-02-29, a day that never existed
        "60",
        0,
        -1,
        2958466,
        1990,  # a year, not a serial
        "2024",
        float("nan"),
        float("inf"),
        True,
        [2024, 3, 5],
    ],
)
def test_parse_date_refuses(value):
    with pytest.raises(InvalidValue) as exc_info:
        normalise.parse_date(value)
    assert_invalid(
        exc_info, "birth_date", value, "a date such as 2024-03-31, 31/03/2024 or 31 Maret 2024"
    )


def test_parse_date_custom_field():
    with pytest.raises(InvalidValue) as exc_info:
        normalise.parse_date("nope", field="joined_on")
    assert exc_info.value.field == "joined_on"


# --- datetimes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("2024-03-05T14:30", datetime.datetime(2024, 3, 5, 14, 30, tzinfo=JAKARTA)),
        ("2024-03-05 14:30:15", datetime.datetime(2024, 3, 5, 14, 30, 15, tzinfo=JAKARTA)),
        ("2024-03-05T14:30:00Z", datetime.datetime(2024, 3, 5, 14, 30, tzinfo=datetime.UTC)),
        (
            "2024-03-05T14:30:00+08:00",
            datetime.datetime(2024, 3, 5, 6, 30, tzinfo=datetime.UTC),
        ),
        ("2024-03-05", datetime.datetime(2024, 3, 5, tzinfo=JAKARTA)),
        ("05/03/2024 14:30", datetime.datetime(2024, 3, 5, 14, 30, tzinfo=JAKARTA)),
        ("5/3/2024 9:05:07", datetime.datetime(2024, 3, 5, 9, 5, 7, tzinfo=JAKARTA)),
        ("05/03/2024 14.30", datetime.datetime(2024, 3, 5, 14, 30, tzinfo=JAKARTA)),
        ("5 Maret 2024 14:30", datetime.datetime(2024, 3, 5, 14, 30, tzinfo=JAKARTA)),
        ("05/03/2024", datetime.datetime(2024, 3, 5, tzinfo=JAKARTA)),
        (
            datetime.datetime(2024, 3, 5, 14, 30),
            datetime.datetime(2024, 3, 5, 14, 30, tzinfo=JAKARTA),
        ),
        (
            datetime.datetime(2024, 3, 5, 7, 30, tzinfo=datetime.UTC),
            datetime.datetime(2024, 3, 5, 14, 30, tzinfo=JAKARTA),
        ),
        (MARCH_5, datetime.datetime(2024, 3, 5, tzinfo=JAKARTA)),
    ],
)
def test_parse_datetime_accepts(value, normalised):
    parsed = normalise.parse_datetime(value)
    assert parsed == normalised
    assert parsed.tzinfo is not None


def test_parse_datetime_naive_uses_settings_time_zone():
    with override_settings(TIME_ZONE="Asia/Makassar"):
        parsed = normalise.parse_datetime("2024-03-05 14:30")
    assert parsed.utcoffset() == datetime.timedelta(hours=8)


@pytest.mark.parametrize(
    "value",
    [
        "05/03/2024 25:00",
        "05/03/2024 14:60",
        "2024-03-05T14:30:00+99:00",
        "31/02/2024 10:00",
        "05/03/24 14:30",
        "yesterday",
        "45356",  # serials are for dates only
        45356,
    ],
)
def test_parse_datetime_refuses(value):
    with pytest.raises(InvalidValue) as exc_info:
        normalise.parse_datetime(value)
    assert_invalid(exc_info, "datetime", value, "a date and time such as")


# --- gender ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("L", "male"),
        ("l", "male"),
        ("Laki-laki", "male"),
        ("LAKI-LAKI", "male"),
        ("Laki laki", "male"),
        ("Lelaki", "male"),
        ("Pria", "male"),
        ("M", "male"),
        ("Male", "male"),
        ("man", "male"),
        ("Mr", "male"),
        ("Mr.", "male"),
        ("P", "female"),  # Perempuan, as on Indonesian ID cards
        ("p", "female"),
        ("Perempuan", "female"),
        ("Wanita", "female"),
        ("F", "female"),
        ("Female", "female"),
        ("WOMAN", "female"),
        ("Mrs", "female"),
        ("Other", "other"),
        ("Lainnya", "other"),
        ("Non-binary", "other"),
        ("nonbinary", "other"),
        (" female ", "female"),
    ],
)
def test_gender_accepts(value, normalised):
    assert normalise.gender(value) == normalised


@pytest.mark.parametrize("value", ["X", "unknown", "Laki", "1", "Pr"])
def test_gender_refuses(value):
    with pytest.raises(InvalidValue) as exc_info:
        normalise.gender(value)
    assert_invalid(exc_info, "gender", value, "L/P, Laki-laki/Perempuan, M/F or Male/Female")


# --- integers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        (42, 42),
        (-7, -7),
        (3.0, 3),
        (decimal.Decimal("12.00"), 12),
        ("42", 42),
        (" 42 ", 42),
        ("-42", -42),
        ("+42", 42),
        ("007", 7),
        ("1.234.567", 1234567),
        ("1,234,567", 1234567),
        ("-1.234", -1234),
        ("1.000", 1000),
        ("3.0", 3),
        ("3.00", 3),
    ],
)
def test_parse_integer_accepts(value, normalised):
    assert normalise.parse_integer(value, field="count") == normalised


@pytest.mark.parametrize(
    "value",
    [
        "3.5",
        3.5,
        decimal.Decimal("3.5"),
        True,
        False,
        "1.23",
        "1.2345",
        "12.345.67",
        "1,234.567",  # mixed grouping
        "1.234,567",
        "1_000",
        "1e3",
        "abc",
        "٤٢",  # Arabic-Indic digits
        float("nan"),
        float("inf"),
        "9" * 5000,
    ],
)
def test_parse_integer_refuses(value):
    with pytest.raises(InvalidValue) as exc_info:
        normalise.parse_integer(value, field="count")
    assert_invalid(exc_info, "count", value, "a whole number")


# --- decimals ----------------------------------------------------------------------------------

D = decimal.Decimal


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        (5, D(5)),
        (0.1, D("0.1")),
        (D("12.50"), D("12.50")),
        ("1500", D(1500)),
        ("12,5", D("12.5")),
        ("12.50", D("12.50")),
        ("1500.00", D("1500.00")),
        ("1500,00", D("1500.00")),
        ("1.500.000", D(1500000)),
        ("1,500,000", D(1500000)),
        ("1.234,56", D("1234.56")),
        ("1,234.56", D("1234.56")),
        ("1.234.567,89", D("1234567.89")),
        ("0.500", D("0.500")),  # a leading 0 cannot be a thousands group
        ("1500.000", D("1500.000")),  # four digits cannot be a thousands group
        ("Rp 1.500.000", D(1500000)),
        ("Rp1.500.000", D(1500000)),
        ("Rp. 1.500.000", D(1500000)),
        ("rp 250.000", D(250000)),  # Rupiah: "." groups thousands
        ("Rp 15.000,-", D(15000)),
        ("15.000,-", D(15000)),
        ("IDR 1.000.000,00", D("1000000.00")),
        ("IDR 2500", D(2500)),
        ("$12.50", D("12.50")),
        ("$ 1,234.56", D("1234.56")),
        ("-12,5", D("-12.5")),
        ("+12,5", D("12.5")),
        ("-Rp 5.000", D(-5000)),
        ("Rp -5.000", D(-5000)),
    ],
)
def test_parse_decimal_accepts(value, normalised):
    parsed = normalise.parse_decimal(value, field="amount")
    assert parsed == normalised
    assert str(parsed) == str(normalised)  # the written precision is kept


@pytest.mark.parametrize("value", ["1.500", "1,500", "12.345", "-1,500", "$1,500"])
def test_parse_decimal_refuses_ambiguous(value):
    with pytest.raises(InvalidValue) as exc_info:
        normalise.parse_decimal(value, field="amount")
    assert_invalid(
        exc_info,
        "amount",
        value,
        "a number with an unambiguous decimal mark, such as 1500 or 1500.00",
    )


@pytest.mark.parametrize(
    "value",
    [
        "NaN",
        "Infinity",
        "-inf",
        float("nan"),
        float("inf"),
        D("NaN"),
        D("-Infinity"),
        True,
        "1e5",
        "5.",
        ".5",
        "12.34,5",
        "1.50.000",
        "1,234,56.7",
        "1.234.567.89,0,1",
        "Rp",
        "€ 5",
        "--5",
        "-Rp -5",
        "12 500",
        "abc",
    ],
)
def test_parse_decimal_refuses(value):
    with pytest.raises(InvalidValue) as exc_info:
        normalise.parse_decimal(value, field="amount")
    assert_invalid(exc_info, "amount", value, "a number")


# --- booleans ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [True, 1, "1", "true", "TRUE", "True", "yes", "Y", "y", "ya", "Ya", "benar", "on", " ON "],
)
def test_parse_boolean_true(value):
    assert normalise.parse_boolean(value, field="opt_in") is True


@pytest.mark.parametrize(
    "value", [False, 0, "0", "false", "FALSE", "no", "N", "n", "tidak", "Tidak", "salah", "off"]
)
def test_parse_boolean_false(value):
    assert normalise.parse_boolean(value, field="opt_in") is False


@pytest.mark.parametrize("value", ["t", "T", "f", "maybe", "2", 2, -1, "yess", 1.0, "ok"])
def test_parse_boolean_refuses(value):
    with pytest.raises(InvalidValue) as exc_info:
        normalise.parse_boolean(value, field="opt_in")
    assert_invalid(exc_info, "opt_in", value, "yes or no")


# --- URLs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("https://contoh.co.id", "https://contoh.co.id"),
        ("http://contoh.co.id/toko?id=1", "http://contoh.co.id/toko?id=1"),
        ("HTTPS://Contoh.co.id", "HTTPS://Contoh.co.id"),
        ("example.com", "https://example.com"),
        (" www.contoh.co.id/promo ", "https://www.contoh.co.id/promo"),
        ("contoh.co.id:8080/a", "https://contoh.co.id:8080/a"),
    ],
)
def test_url_accepts(value, normalised):
    assert normalise.url(value) == normalised


@pytest.mark.parametrize(
    "value",
    [
        "ftp://contoh.co.id",
        "mailto:budi@contoh.co.id",
        "javascript:alert(1)",
        "not a url",
        "https://",
        "contoh",
        "http://contoh .co.id",
    ],
)
def test_url_refuses(value):
    with pytest.raises(InvalidValue) as exc_info:
        normalise.url(value)
    assert_invalid(exc_info, "url", value, "a web address such as https://contoh.co.id")


# --- text --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("  hello  ", "hello"),
        ("two  spaces\ninside", "two  spaces\ninside"),  # only the edges are touched
        (12345, "12345"),
        ("x" * 20, "x" * 20),
    ],
)
def test_text_accepts(value, normalised):
    assert normalise.text(value, field="notes", max_length=20) == normalised


def test_text_too_long():
    with pytest.raises(InvalidValue) as exc_info:
        normalise.text("x" * 11, field="notes", max_length=10)
    assert_invalid(exc_info, "notes", "x" * 11, "at most 10 characters")


def test_text_too_long_singular():
    with pytest.raises(InvalidValue) as exc_info:
        normalise.text("xy", field="initial", max_length=1)
    assert exc_info.value.expected == "at most 1 character"


def test_text_refuses_nul():
    with pytest.raises(InvalidValue) as exc_info:
        normalise.text("a\x00b", field="notes", max_length=10)
    assert_invalid(exc_info, "notes", "a\x00b", "NUL")


# --- countries ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("ID", "ID"),
        ("id", "ID"),
        (" sg ", "SG"),
        ("IDN", "ID"),
        ("idn", "ID"),
        ("USA", "US"),
        ("UK", "GB"),
        ("Indonesia", "ID"),
        ("INDONESIA", "ID"),
        ("Singapore", "SG"),
        ("singapore", "SG"),
        ("Malaysia", "MY"),
        ("United States", "US"),
        ("United States of America", "US"),
        ("United Kingdom", "GB"),
        ("Netherlands", "NL"),
        ("Timor-Leste", "TL"),
        ("Cote d'Ivoire", "CI"),
        ("Côte d’Ivoire", "CI"),  # noqa: RUF001
        ("Swaziland", "SZ"),  # former name
        # Indonesian names
        ("Jerman", "DE"),
        ("Jepang", "JP"),
        ("Amerika Serikat", "US"),
        ("Korea Selatan", "KR"),
        ("Arab Saudi", "SA"),
        ("Singapura", "SG"),
    ],
)
def test_country_accepts(value, normalised):
    assert normalise.country(value) == normalised


@pytest.mark.parametrize("value", ["XX", "ZZZ", "Narnia", "Indo", "I"])
def test_country_refuses(value):
    with pytest.raises(InvalidValue) as exc_info:
        normalise.country(value)
    assert_invalid(exc_info, "country", value, "a country such as ID, Indonesia or SG")


# --- currencies --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("IDR", "IDR"),
        ("idr", "IDR"),
        (" usd ", "USD"),
        ("Rp", "IDR"),
        ("RP.", "IDR"),
        ("sgd", "SGD"),
    ],
)
def test_currency_accepts(value, normalised):
    assert normalise.currency(value) == normalised


@pytest.mark.parametrize("value", ["US", "USDX", "$", "U5D", "ÜSD", "Rupiah"])
def test_currency_refuses(value):
    with pytest.raises(InvalidValue) as exc_info:
        normalise.currency(value)
    assert_invalid(exc_info, "currency", value, "a three-letter currency code")


# --- sort keys and search tokens ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("Budi Santoso", "budi santoso"),
        ("  BUDI   Santoso ", "budi santoso"),
        ("Ñoño Ádám", "nono adam"),
        ("Straße", "strasse"),
        ("Zoë\u200b", "zoe"),
        ("ﬁona", "fiona"),
        ("", ""),
    ],
)
def test_sort_key(value, key):
    assert normalise.sort_key(value) == key


def test_sort_key_orders_accents_with_plain_letters():
    names = ["Zainal", "Éka", "eko", "Adi"]
    assert sorted(names, key=normalise.sort_key) == ["Adi", "Éka", "eko", "Zainal"]


@pytest.mark.parametrize(
    ("value", "tokens"),
    [
        ("Budi Santoso", ["budi", "santoso"]),
        ("Siti Nur-Aini", ["siti", "nur", "aini"]),
        ("O'Brien", ["o", "brien"]),
        ("M. Hatta", ["m", "hatta"]),
        ("Santoso, Budi", ["santoso", "budi"]),
        ("Budi budi BUDI", ["budi"]),
        ("José  Ramírez", ["jose", "ramirez"]),
        ("", []),
        ("- . ,", []),
        ("x" * 150, ["x" * 100]),
    ],
)
def test_name_tokens(value, tokens):
    assert normalise.name_tokens(value) == tokens
