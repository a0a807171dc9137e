"""Validation and normalisation of every value written to Kenal.

Web forms, imports and the API all call these functions, so a value means the same thing
whichever way it arrived. Each function strips surrounding whitespace, rejects empty input
(callers skip empty optional values themselves) and raises :class:`InvalidValue`, which
names the field, the value and what was expected, in words a user can act on.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import math
import re
import unicodedata

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_countries import countries
from email_validator import EmailNotValidError, validate_email
from phonenumbers.geodata.locale import LOCALE_DATA

__all__ = [
    "InvalidValue",
    "country",
    "currency",
    "email",
    "gender",
    "name_tokens",
    "parse_boolean",
    "parse_date",
    "parse_datetime",
    "parse_decimal",
    "parse_integer",
    "person_name",
    "phone",
    "sort_key",
    "text",
    "url",
]


class InvalidValue(ValueError):
    """A value that cannot be accepted: names the field, the value and what is expected."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        # All three go to ValueError so the exception pickles and copies intact.
        super().__init__(field, value, expected)
        self.field = field
        self.value = value
        self.expected = expected

    def __str__(self) -> str:
        return f"{self.field}: {self.value!r} is not valid; expected {self.expected}"

    def as_dict(self) -> dict[str, str]:
        return {
            "field": self.field,
            "value": str(self.value),
            "expected": self.expected,
            "message": str(self),
        }


# Zero-width characters ride along from spreadsheets and web pages; they are invisible, so
# they count as surrounding whitespace.
_EDGES = re.compile(r"^[\s\u200b\u200c\u200d\u2060\ufeff]+|[\s\u200b\u200c\u200d\u2060\ufeff]+$")


def _clean(value: object, field: str) -> str:
    """The value as stripped text; empty (or None) is rejected."""
    cleaned = _EDGES.sub("", "" if value is None else str(value))
    if not cleaned:
        raise InvalidValue(field, value, _("a value"))
    return cleaned


# --- email -------------------------------------------------------------------------------


def email(value: str, *, field: str = "email") -> str:
    cleaned = _clean(value, field)
    normalised = _normalised_email(cleaned)
    if normalised is None:
        raise InvalidValue(field, value, _("an email address such as nama@contoh.co.id"))
    return normalised


# A plain ASCII local part (RFC 5322 dot-atom, at most 64 characters) needs no more checking
# than this; only the domain then goes through email-validator, once per domain.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_EMAIL_MAX_LENGTH = 254


def _normalised_email(cleaned: str) -> str | None:
    local, at, domain = cleaned.rpartition("@")
    if at and len(local) <= 64 and len(cleaned) <= _EMAIL_MAX_LENGTH and _DOT_ATOM.fullmatch(local):
        checked = _checked_domain(domain)
        return None if checked is None else f"{local}@{checked}"
    try:
        result = validate_email(cleaned, check_deliverability=False)
    except EmailNotValidError:
        return None
    # Domains are case-insensitive and duplicate detection compares whole addresses, so the
    # domain is always lower-case; the local part stays as given (servers may honour case).
    return f"{result.local_part}@{result.domain.lower()}"


@functools.lru_cache(maxsize=4096)
def _checked_domain(domain: str) -> str | None:
    try:
        result = validate_email(f"a@{domain}", check_deliverability=False)
    except EmailNotValidError:
        return None
    return str(result.domain).lower()


# --- phone -------------------------------------------------------------------------------

# Letters are refused outright: phonenumbers would read them as a keypad word ("1-800-FLOWERS").
_PHONE_SHAPE = re.compile(r"\+?[0-9\s().\-/]+")


def _phone_expected(region: str) -> str:
    if region == "ID":
        national, international = "0812-3456-7890", "+62 812 3456 7890"
    else:
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        if example is None:
            national, international = "0812-3456-7890", "+62 812 3456 7890"
        else:
            national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
            international = phonenumbers.format_number(
                example, phonenumbers.PhoneNumberFormat.INTERNATIONAL
            )
    return _("a phone number such as %(national)s or %(international)s") % {
        "national": national,
        "international": international,
    }


def phone(value: str, *, field: str = "phone", region: str | None = None) -> str:
    cleaned = _clean(value, field)
    default_region = (region or str(getattr(settings, "KENAL_PHONE_REGION", "ID"))).upper()
    if not _PHONE_SHAPE.fullmatch(cleaned):
        raise InvalidValue(field, value, _phone_expected(default_region))
    # Only the digits and a leading "+" change how the number reads, so "0812-3456-7890" and
    # "(0812) 3456 7890" share one cached answer.
    digits = re.sub(r"[^0-9]", "", cleaned)
    number = _e164(("+" if cleaned.startswith("+") else "") + digits, default_region)
    if number is None:
        raise InvalidValue(field, value, _phone_expected(default_region))
    return number


@functools.lru_cache(maxsize=65536)
def _e164(plain: str, region: str) -> str | None:
    candidates = [plain]
    # People often drop the "+" from an international number ("62812…"); when the national
    # reading is not a valid number, the digits are tried as international.
    country_code = phonenumbers.country_code_for_region(region)
    if not plain.startswith("+") and country_code and plain.startswith(str(country_code)):
        candidates.append(f"+{plain}")
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


# --- person names --------------------------------------------------------------------------

# Particles stay lower-case inside a name ("Ahmad bin Ismail", "Jan van der Berg").
_NAME_PARTICLES = frozenset({"bin", "binti", "binte", "van", "von", "der", "den", "de", "da", "di"})
_APOSTROPHES = "'’ʼ"  # noqa: RUF001 - the curly and modifier apostrophes are the point
_NAME_PART_SEPARATORS = re.compile(r"([\-'’ʼ])")  # noqa: RUF001
_NAME_MAX_LENGTH = 200


def _capitalise(segment: str) -> str:
    for index, char in enumerate(segment):
        if char.isalpha():
            return segment[:index] + char.title() + segment[index + 1 :].lower()
    return segment


def _title_word(word: str) -> str:
    parts = _NAME_PART_SEPARATORS.split(word)  # [segment, separator, segment, ...]
    out = [_capitalise(parts[0])]
    for index in range(2, len(parts), 2):
        separator, segment, previous = parts[index - 1], parts[index], parts[index - 2]
        # After an apostrophe only a one-letter prefix starts a new capital ("O'Brien",
        # "D'Arcy"); in Arabic-derived Indonesian names it marks a glottal stop inside one
        # word ("Ma'ruf", "Syafi'i").
        if separator in _APOSTROPHES and len(previous) > 1:
            out.append(separator + segment.lower())
        else:
            out.append(separator + _capitalise(segment))
    return "".join(out)


def _title_case(name: str) -> str:
    words = name.split(" ")
    return " ".join(
        word.lower() if index > 0 and word.lower() in _NAME_PARTICLES else _title_word(word)
        for index, word in enumerate(words)
    )


def person_name(value: str, *, field: str = "name") -> str:
    cleaned = " ".join(_clean(value, field).split())
    if any(char.isdigit() for char in cleaned) or not any(char.isalpha() for char in cleaned):
        raise InvalidValue(field, value, _("a name made of letters"))
    # Only a shouted or all-lower name is re-cased: any other casing was typed on purpose
    # ("McDonald", "van der Berg") and no rule knows better.
    if cleaned in (cleaned.upper(), cleaned.lower()):
        cleaned = _title_case(cleaned)
    if len(cleaned) > _NAME_MAX_LENGTH:
        raise InvalidValue(
            field, value, _("a name of at most %(count)d characters") % {"count": _NAME_MAX_LENGTH}
        )
    return cleaned


# --- dates and times -----------------------------------------------------------------------

_MONTHS: dict[str, int] = {
    # English
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
    # Indonesian, with the older spellings (Pebruari, Nopember) still seen on documents
    "januari": 1,
    "februari": 2,
    "pebruari": 2,
    "peb": 2,
    "maret": 3,
    "mei": 5,
    "juni": 6,
    "juli": 7,
    "agustus": 8,
    "agu": 8,
    "agt": 8,
    "ags": 8,
    "agus": 8,
    "oktober": 10,
    "okt": 10,
    "nopember": 11,
    "nop": 11,
    "desember": 12,
    "des": 12,
}

# Every pattern wants a four-digit year: "05/03/24" could be 1924 or 2024.
_YEAR_FIRST = re.compile(r"([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})")
# Day first, as in Indonesia and most of the world; never month first.
_DAY_FIRST = re.compile(r"([0-9]{1,2})([-/.])([0-9]{1,2})\2([0-9]{4})")
_DAY_MONTH_NAME = re.compile(r"([0-9]{1,2})[\s./-]*([^\W\d_]+)\.?[\s./,-]*([0-9]{4})")
_MONTH_NAME_DAY = re.compile(r"([^\W\d_]+)\.?\s*([0-9]{1,2}),?\s+([0-9]{4})")
_SERIAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_DATE_AND_TIME = re.compile(
    r"(?P<date>.+?)[\sT,]+(?P<hour>[0-9]{1,2})[:.](?P<minute>[0-9]{2})(?:[:.](?P<second>[0-9]{2}))?"
)
_ISO_DATE_START = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# Excel's 1900 date system: serial 1 is 1900-01-01 and serial 60 is 1900-02-29, a day that
# never existed (kept for Lotus 1-2-3 compatibility), so serials after it are one day ahead.
_EXCEL_EPOCH = datetime.date(1899, 12, 30)
_EXCEL_MAX_SERIAL = 2958465  # 9999-12-31
_EXCEL_FAKE_LEAP_DAY = 60


def _date_expected() -> str:
    return _("a date such as 2024-03-31, 31/03/2024 or 31 Maret 2024")


def _make_date(year: str, month: int | str, day: str) -> datetime.date | None:
    try:
        return datetime.date(int(year), int(month), int(day))
    except ValueError:
        return None


def _parse_date_text(text: str) -> datetime.date | None:
    """The date written in ``text``, or None when it is not one."""
    if match := _YEAR_FIRST.fullmatch(text):
        return _make_date(match[1], match[3], match[4])
    if match := _DAY_FIRST.fullmatch(text):
        return _make_date(match[4], match[3], match[1])
    if match := _DAY_MONTH_NAME.fullmatch(text):
        month = _MONTHS.get(match[2].casefold())
        return None if month is None else _make_date(match[3], month, match[1])
    if match := _MONTH_NAME_DAY.fullmatch(text):
        month = _MONTHS.get(match[1].casefold())
        return None if month is None else _make_date(match[3], month, match[2])
    return None


def _from_excel_serial(serial: float | decimal.Decimal) -> datetime.date | None:
    if not math.isfinite(serial):
        return None
    # A fraction is the time of day, which a date drops.
    days = math.floor(serial)
    # A bare four-digit number is far more likely a year typed into a date column than a
    # serial for 1902-1908, and reading it as a serial would store a wrong date silently.
    if 1000 <= days < 3000:
        return None
    if days < 1 or days > _EXCEL_MAX_SERIAL or days == _EXCEL_FAKE_LEAP_DAY:
        return None
    if days < _EXCEL_FAKE_LEAP_DAY:
        days += 1
    return _EXCEL_EPOCH + datetime.timedelta(days=days)


def parse_date(value: object, *, field: str = "birth_date") -> datetime.date:
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value, timezone.get_default_timezone())
        return value.date()
    if isinstance(value, datetime.date):
        return value
    parsed: datetime.date | None
    if isinstance(value, bool):
        parsed = None
    elif isinstance(value, int | float | decimal.Decimal):
        parsed = _from_excel_serial(value)
    else:
        cleaned = _clean(value, field)
        if _SERIAL.fullmatch(cleaned):
            parsed = _from_excel_serial(decimal.Decimal(cleaned))
        else:
            parsed = _parse_date_text(cleaned)
    if parsed is None:
        raise InvalidValue(field, value, _date_expected())
    return parsed


def _parse_datetime_text(text: str) -> datetime.datetime | None:
    if _ISO_DATE_START.match(text):
        try:
            return datetime.datetime.fromisoformat(text)
        except ValueError:
            pass
    if match := _DATE_AND_TIME.fullmatch(text):
        day = _parse_date_text(match["date"])
        if day is None:
            return None
        try:
            time = datetime.time(
                int(match["hour"]), int(match["minute"]), int(match["second"] or 0)
            )
        except ValueError:
            return None
        return datetime.datetime.combine(day, time)
    day = _parse_date_text(text)
    return None if day is None else datetime.datetime.combine(day, datetime.time())


def parse_datetime(value: object, *, field: str = "datetime") -> datetime.datetime:
    parsed: datetime.datetime | None
    if isinstance(value, datetime.datetime):
        parsed = value
    elif isinstance(value, datetime.date):
        parsed = datetime.datetime.combine(value, datetime.time())
    else:
        parsed = _parse_datetime_text(_clean(value, field))
    if parsed is None:
        raise InvalidValue(
            field, value, _("a date and time such as 2024-03-31 14:30 or 31/03/2024 14:30")
        )
    if timezone.is_naive(parsed):
        # A time without a zone is the organisation's local time, not the server's.
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    return parsed


# --- gender ------------------------------------------------------------------------------

_GENDERS: dict[str, str] = {
    # Indonesian ID cards (KTP) print L (laki-laki) or P (perempuan), so here "P" means
    # female, never "pria" (male).
    "l": "male",
    "laki laki": "male",
    "lakilaki": "male",
    "lelaki": "male",
    "pria": "male",
    "m": "male",
    "male": "male",
    "man": "male",
    "mr": "male",
    "p": "female",
    "perempuan": "female",
    "wanita": "female",
    "f": "female",
    "female": "female",
    "woman": "female",
    "mrs": "female",
    "ms": "female",
    "other": "other",
    "lainnya": "other",
    "non binary": "other",
    "nonbinary": "other",
}


def gender(value: str, *, field: str = "gender") -> str:
    cleaned = _clean(value, field)
    key = " ".join(re.sub(r"[-_.]", " ", cleaned.casefold()).split())
    try:
        return _GENDERS[key]
    except KeyError:
        raise InvalidValue(
            field, value, _("L/P, Laki-laki/Perempuan, M/F or Male/Female")
        ) from None


# --- numbers -----------------------------------------------------------------------------

_INTEGER = re.compile(r"[+-]?[0-9]+")
# Thousands grouping with one separator used throughout, in groups of exactly three.
_GROUPED_INTEGER = re.compile(r"[+-]?[0-9]{1,3}(?P<sep>[.,])[0-9]{3}(?:(?P=sep)[0-9]{3})*")
# Spreadsheets and data tools write whole numbers as "3.0"; three zeros would be grouping.
_WHOLE_WITH_ZEROS = re.compile(r"([+-]?[0-9]+)\.0{1,2}")


def _integer_expected() -> str:
    return _("a whole number such as 42 or 1.234.567")


def parse_integer(value: object, *, field: str) -> int:
    if isinstance(value, bool):
        # True is an int to Python but never a count or amount a user meant.
        raise InvalidValue(field, value, _integer_expected())
    if isinstance(value, int):
        return value
    if isinstance(value, float | decimal.Decimal):
        if not math.isfinite(value) or value != math.floor(value):
            raise InvalidValue(field, value, _integer_expected())
        return int(value)
    cleaned = _clean(value, field)
    if _INTEGER.fullmatch(cleaned) or _GROUPED_INTEGER.fullmatch(cleaned):
        digits = re.sub(r"[.,]", "", cleaned)
    elif match := _WHOLE_WITH_ZEROS.fullmatch(cleaned):
        digits = match[1]
    else:
        raise InvalidValue(field, value, _integer_expected())
    try:
        return int(digits)
    except ValueError:  # more digits than Python converts
        raise InvalidValue(field, value, _integer_expected()) from None


_AMOUNT = re.compile(
    r"(?P<sign>[+-]?)\s*(?P<prefix>(?i:rp\.?|idr|\$))?\s*(?P<sign2>[+-]?)\s*"
    r"(?P<number>[0-9][0-9.,]*?)(?P<no_cents>,-|\.-)?"
)


class _AmbiguousNumberError(ValueError):
    pass


def _decimal_expected() -> str:
    return _("a number such as 1500, 1.500.000 or 12,5")


def _plain_number(number: str, *, dot_groups: bool) -> str | None:
    """``number`` rewritten with only a "." decimal mark, or None when malformed.

    ``dot_groups`` says the writing is Indonesian ("Rp 1.500", "15.000,-"), where "." only
    ever groups thousands; it settles the one otherwise ambiguous shape.
    """
    dots, commas = number.count("."), number.count(",")
    if not dots and not commas:
        return number
    if dots and commas:
        # Both present: the last one is the decimal mark.
        mark = "." if number.rfind(".") > number.rfind(",") else ","
    else:
        separator = "." if dots else ","
        whole, _sep, fraction = number.partition(separator)
        if max(dots, commas) > 1:
            mark = "," if separator == "." else "."  # repeated: grouping
        elif len(fraction) == 3 and len(whole) <= 3 and whole != "0":
            # "1.500" is 1500 in Indonesia and 1.5 in much of the world.
            if not (dot_groups and separator == "."):
                raise _AmbiguousNumberError(number)
            mark = ","
        else:
            mark = separator
    group = "," if mark == "." else "."
    whole, has_mark, fraction = number.partition(mark)
    if has_mark and (not fraction or not fraction.isdigit()):
        return None
    if group in whole:
        if not re.fullmatch(rf"[0-9]{{1,3}}(?:\{group}[0-9]{{3}})+", whole):
            return None
        whole = whole.replace(group, "")
    return f"{whole}.{fraction}" if has_mark else whole


def parse_decimal(value: object, *, field: str) -> decimal.Decimal:
    if isinstance(value, bool):
        raise InvalidValue(field, value, _decimal_expected())
    if isinstance(value, int):
        return decimal.Decimal(value)
    if isinstance(value, float | decimal.Decimal):
        if not math.isfinite(value):
            raise InvalidValue(field, value, _decimal_expected())
        # Via str() so 0.1 stays 0.1 instead of its binary expansion.
        return value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))
    cleaned = _clean(value, field)
    match = _AMOUNT.fullmatch(cleaned)
    if match is None or (match["sign"] and match["sign2"]):
        raise InvalidValue(field, value, _decimal_expected())
    prefix = (match["prefix"] or "").casefold()
    dot_groups = prefix.startswith(("rp", "idr")) or match["no_cents"] == ",-"
    try:
        plain = _plain_number(match["number"], dot_groups=dot_groups)
    except _AmbiguousNumberError:
        raise InvalidValue(
            field,
            value,
            _("a number with an unambiguous decimal mark, such as 1500 or 1500.00"),
        ) from None
    if plain is None:
        raise InvalidValue(field, value, _decimal_expected())
    sign = match["sign"] or match["sign2"]
    return decimal.Decimal(f"{sign}{plain}")


# --- booleans ----------------------------------------------------------------------------

# "t" is left out on purpose: it is "true" in English exports but "tidak" (no) on
# Indonesian Y/T forms. "f" goes with it so the pair stays symmetrical.
_TRUE = frozenset({"1", "true", "yes", "y", "ya", "benar", "on"})
_FALSE = frozenset({"0", "false", "no", "n", "tidak", "salah", "off"})


def parse_boolean(value: object, *, field: str) -> bool:
    if isinstance(value, bool):
        return value
    key = value if isinstance(value, int) else _clean(value, field).casefold()
    if key in (1, "1") or key in _TRUE:
        return True
    if key in (0, "0") or key in _FALSE:
        return False
    raise InvalidValue(field, value, _("yes or no, such as ya/tidak, true/false or 1/0"))


# --- web addresses -----------------------------------------------------------------------

_URL_VALIDATOR = URLValidator(schemes=["http", "https"])
# A scheme other than http(s) ("mailto:", "javascript:", "ftp://"): prefixing "https://"
# would turn it into something else, so it is refused. "host:8080" is a port, not a scheme.
_OTHER_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:(?![0-9])")
_HTTP_SCHEME = re.compile(r"https?://", re.IGNORECASE)


def url(value: str, *, field: str = "url") -> str:
    cleaned = _clean(value, field)
    expected = _("a web address such as https://contoh.co.id")
    if _HTTP_SCHEME.match(cleaned):
        candidate = cleaned
    elif _OTHER_SCHEME.match(cleaned):
        raise InvalidValue(field, value, expected)
    else:
        # People type "contoh.co.id"; https is the safe assumption today.
        candidate = f"https://{cleaned}"
    try:
        _URL_VALIDATOR(candidate)
    except ValidationError:
        raise InvalidValue(field, value, expected) from None
    return candidate


# --- free text ---------------------------------------------------------------------------


def text(value: object, *, field: str, max_length: int) -> str:
    cleaned = _clean(value, field)
    if "\x00" in cleaned:
        # PostgreSQL cannot store NUL in text; refuse it here rather than fail on save.
        raise InvalidValue(field, value, _("text without hidden NUL characters"))
    if len(cleaned) > max_length:
        expected = ngettext(
            "at most %(max_length)d character", "at most %(max_length)d characters", max_length
        ) % {"max_length": max_length}
        raise InvalidValue(field, value, expected)
    return cleaned


# --- countries and currencies ------------------------------------------------------------

# ISO 3166 reserves "UK" for the United Kingdom, and people type it more than "GB".
_COUNTRY_CODE_ALIASES = {"UK": "GB"}


def _locale_country_name(code: str, language: str) -> str:
    # phonenumbers ships CLDR country names; "*xx" means "same as language xx".
    names = LOCALE_DATA.get(code, {})
    name = names.get(language, "")
    if name.startswith("*"):
        name = names.get(name[1:], "")
    return name


@functools.cache
def _country_names() -> dict[str, str]:
    """Country name (as :func:`_name_key`) to alpha-2 code, in English and Indonesian.

    django-countries supplies the English, common and former names; it has no Indonesian
    translation, so Indonesian names come from the CLDR data bundled with phonenumbers.
    """
    names: dict[str, str] = {}
    with translation.override("en"):
        for code, name in countries:
            names[_name_key(str(name))] = code
        for code, shadowed in countries.shadowed_names.items():
            for name in shadowed:
                names.setdefault(_name_key(str(name)), code)
        known = {code for code, _name in countries}
    for language in ("en", "id"):
        for code in known:
            if name := _locale_country_name(code, language):
                names.setdefault(_name_key(name), code)
    return names


def _name_key(name: str) -> str:
    return " ".join(name_tokens(name))


def country(value: str, *, field: str = "country") -> str:
    cleaned = _clean(value, field)
    if cleaned.isascii() and cleaned.isalnum() and len(cleaned) in (2, 3):
        code = _COUNTRY_CODE_ALIASES.get(cleaned.upper()) or countries.alpha2(cleaned)
        if code:
            return code.upper()
    code = _country_names().get(_name_key(cleaned), "")
    if not code:
        raise InvalidValue(field, value, _("a country such as ID, Indonesia or SG"))
    return code


def currency(value: str, *, field: str = "currency") -> str:
    """An ISO 4217 code, upper-cased.

    Only the shape (three ASCII letters) is checked: no currency list ships with the
    project's dependencies, and a hand-kept list would go stale.
    """
    cleaned = _clean(value, field)
    # Rupiah amounts are written "Rp" on price tags and invoices.
    if cleaned.casefold().rstrip(".") == "rp":
        return "IDR"
    if len(cleaned) == 3 and cleaned.isascii() and cleaned.isalpha():
        return cleaned.upper()
    raise InvalidValue(field, value, _("a three-letter currency code such as IDR or USD"))


# --- sorting and search keys -------------------------------------------------------------

# Empty input gives an empty key here rather than an error: a record always needs a key.


# Names repeat (family names, common given names) and imports index each customer's name
# twice (sort key and search words), so recent answers are kept.
@functools.lru_cache(maxsize=65536)
def sort_key(value: str) -> str:
    """Lower-case, accent-free, whitespace-collapsed: "Ñoño  Ádám" sorts as "nono adam"."""
    decomposed = unicodedata.normalize("NFKD", value)
    # Combining marks are the accents; format characters (zero-width spaces) are invisible.
    kept = "".join(
        char
        for char in decomposed
        if not unicodedata.combining(char) and unicodedata.category(char) != "Cf"
    )
    # casefold, not lower: "Straße" and "STRASSE" must sort and match alike.
    return " ".join(unicodedata.normalize("NFC", kept).casefold().split())


_TOKEN_SEPARATORS = re.compile(r"[\s\-‐‑–—'’ʼ`.,]+")  # noqa: RUF001
_TOKEN_MAX_LENGTH = 100


def name_tokens(value: str) -> list[str]:
    """Search-index words of ``value``: "Budi Santoso" gives ["budi", "santoso"]."""
    tokens = (
        token[:_TOKEN_MAX_LENGTH] for token in _TOKEN_SEPARATORS.split(sort_key(value)) if token
    )
    return list(dict.fromkeys(tokens))
