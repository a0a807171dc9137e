"""The customer edit form: it shapes what was typed into the raw values services accept,
and puts each problem services report back beside the input it concerns.

No rule about what a valid customer is lives here; :mod:`kenal.customers.services` decides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import QueryDict
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kenal.accounts.models import User
from kenal.customers.models import (
    Channel,
    CustomField,
    Education,
    FieldType,
    Gender,
    IncomeBand,
    LifecycleStage,
    MaritalStatus,
)
from kenal.customers.normalise import InvalidValue

ROW_KINDS = ("emails", "phones", "addresses")
CONTACT_KEYS = {"emails": "email", "phones": "number"}
ADDRESS_PARTS = (
    "label",
    "street",
    "village",
    "district",
    "city",
    "province",
    "postcode",
    "country",
)
NEW_CUSTOMER_STAGE = LifecycleStage.PROSPECT  # where the new-customer form starts
BLANK_ROWS = 1  # blank rows offered after the existing ones, ready to be filled in

_ROW_NAME = re.compile(r"^(emails|phones|addresses)-(\d+)-(\w+)$")
_ROW_PATH = re.compile(r"^(emails|phones|addresses)\[(\d+)\](?:\.(\w+))?$")
_MAX_ROWS = 50  # more rows than anyone types by hand; a bigger index is ignored
MAX_ROW_INDEX = _MAX_ROWS - 1

Choices = list[tuple[str, str]]


def _blank(label: str | Promise) -> Choices:
    return [("", str(label))]


def _choices(pairs: Sequence[tuple[Any, Any]]) -> Choices:
    return [(str(code), str(label)) for code, label in pairs]


# The scalar inputs in the order the form shows them: (name, label, kind, choices).
def _scalar_specs() -> list[tuple[str, str, str, Choices]]:
    return [
        ("full_name", _("Full name"), "text", []),
        ("given_name", _("Given name"), "text", []),
        ("family_name", _("Family name"), "text", []),
        ("gender", _("Gender"), "select", _blank(_("Not known")) + _choices(Gender.choices)),
        ("birth_date", _("Birth date"), "date", []),
        (
            "marital_status",
            _("Marital status"),
            "select",
            _blank("—") + _choices(MaritalStatus.choices),
        ),
        ("education", _("Education"), "select", _blank("—") + _choices(Education.choices)),
        ("income_band", _("Income band"), "select", _blank("—") + _choices(IncomeBand.choices)),
        ("company", _("Company"), "text", []),
        ("job_title", _("Job title"), "text", []),
        (
            "preferred_language",
            _("Preferred language"),
            "select",
            _blank("—") + _choices(settings.LANGUAGES),
        ),
        (
            "preferred_channel",
            _("Preferred channel"),
            "select",
            _blank("—") + _choices(Channel.choices),
        ),
        ("lifecycle_stage", _("Lifecycle stage"), "select", _choices(LifecycleStage.choices)),
        ("owner", _("Owner"), "select", []),  # choices: the active staff, filled in per form
        ("tags", _("Tags"), "text", []),
        ("do_not_contact", _("Do not contact"), "select", [("no", _("No")), ("yes", _("Yes"))]),
    ]


SCALAR_NAMES = (
    "full_name",
    "given_name",
    "family_name",
    "gender",
    "birth_date",
    "marital_status",
    "education",
    "income_band",
    "company",
    "job_title",
    "preferred_language",
    "preferred_channel",
    "lifecycle_stage",
    "owner",
    "tags",
    "do_not_contact",
)
# Yes/no inputs: the form shows "yes" / "no", services take a bool.
BOOLEAN_SCALARS = frozenset({"do_not_contact"})
SCALAR_HELP = {
    "tags": gettext_lazy("Separate tags with commas, e.g. VIP, reseller."),
    "full_name": gettext_lazy("Given and family names fill it in when left empty."),
    "do_not_contact": gettext_lazy("Staff are warned before contacting this customer."),
}


def _address_labels() -> dict[str, str]:
    return {
        "label": _("Label"),
        "street": _("Street"),
        "village": _("Village / kelurahan"),
        "district": _("District / kecamatan"),
        "city": _("City / kabupaten"),
        "province": _("Province"),
        "postcode": _("Postcode"),
        "country": _("Country"),
    }


@dataclass
class Input:
    """One input of the form with what the template needs to draw it."""

    name: str
    label: str
    kind: str  # text, textarea, select, checkboxes, date, datetime-local, number, email, tel, url
    value: Any = ""  # a list of strings for "checkboxes"
    choices: Choices = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    help_text: str = ""
    required: bool = False
    placeholder: str = ""
    step: str = ""

    @property
    def id(self) -> str:
        return f"id_{self.name}"

    @property
    def error_id(self) -> str:
        return f"{self.name}-error"


@dataclass
class Row:
    """One email, phone or address row; ``index`` numbers its inputs (``phones-2-number``)."""

    kind: str
    index: int
    inputs: list[Input]
    is_primary: bool = False
    is_verified: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def position(self) -> int:
        return self.index + 1

    @property
    def title(self) -> str:
        titles = {
            "emails": _("Email address %(n)d"),
            "phones": _("Phone number %(n)d"),
            "addresses": _("Address %(n)d"),
        }
        return titles[self.kind] % {"n": self.position}

    def input(self, part: str) -> Input:
        return next(item for item in self.inputs if item.name.endswith(f"-{part}"))

    def is_blank(self) -> bool:
        return all(not str(item.value).strip() for item in self.inputs)


@dataclass
class Problem:
    """An error for the summary at the top; ``anchor`` is the id of its input, if any."""

    label: str
    message: str
    anchor: str = ""


def make_row(kind: str, index: int, values: Mapping[str, Any] | None = None) -> Row:
    values = values or {}
    if kind == "addresses":
        labels = _address_labels()
        inputs = [
            Input(
                name=f"addresses-{index}-{part}",
                label=labels[part],
                kind="text",
                value=str(values.get(part) or ""),
                placeholder="ID" if part == "country" else "",
            )
            for part in ADDRESS_PARTS
        ]
    elif kind == "emails":
        inputs = [
            Input(
                name=f"emails-{index}-email",
                label=_("Email address %(n)d") % {"n": index + 1},
                kind="email",
                value=str(values.get("email") or ""),
                placeholder="nama@contoh.co.id",
            )
        ]
    elif kind == "phones":
        inputs = [
            Input(
                name=f"phones-{index}-number",
                label=_("Phone number %(n)d") % {"n": index + 1},
                kind="tel",
                value=str(values.get("number") or ""),
                placeholder="0812-3456-7890",
            )
        ]
    else:
        raise ValueError(kind)
    return Row(
        kind=kind,
        index=index,
        inputs=inputs,
        is_primary=bool(values.get("is_primary")),
        is_verified=bool(values.get("is_verified")),
    )


def _custom_input(custom_field: CustomField, value: Any) -> Input:
    kinds: dict[str, str] = {
        FieldType.TEXT: "text",
        FieldType.LONG_TEXT: "textarea",
        FieldType.INTEGER: "number",
        FieldType.DECIMAL: "number",
        FieldType.MONEY: "text",
        FieldType.DATE: "date",
        FieldType.DATETIME: "datetime-local",
        FieldType.BOOLEAN: "select",
        FieldType.CHOICE: "select",
        FieldType.MULTIPLE_CHOICE: "checkboxes",
        FieldType.EMAIL: "email",
        FieldType.PHONE: "tel",
        FieldType.URL: "url",
    }
    field_type = custom_field.field_type
    item = Input(
        name=f"custom-{custom_field.key}",
        label=custom_field.label,
        kind=kinds.get(field_type, "text"),
        value=value,
        help_text=custom_field.help_text,
        required=custom_field.required,
    )
    if field_type == FieldType.BOOLEAN:
        item.choices = [("", "—"), ("yes", _("Yes")), ("no", _("No"))]
    elif field_type == FieldType.CHOICE:
        item.choices = _blank("—") + [(str(c), str(c)) for c in custom_field.choices]
    elif field_type == FieldType.MULTIPLE_CHOICE:
        item.choices = [(str(c), str(c)) for c in custom_field.choices]
        if isinstance(value, str):  # stored values show as "a, b" (a choice may hold a comma)
            joined = f", {value}, "
            item.value = [code for code, _label in item.choices if f", {code}, " in joined]
    elif field_type == FieldType.MONEY:
        item.placeholder = f"{custom_field.currency or 'IDR'} 150000"
    elif field_type == FieldType.INTEGER:
        item.step = "1"
    elif field_type == FieldType.DECIMAL:
        item.step = "any"
    elif field_type == FieldType.URL:
        item.placeholder = "https://"
    elif field_type == FieldType.DATETIME and isinstance(value, str):
        # Stored values show as "2024-03-31 14:30"; the browser's input wants a "T".
        item.value = value.replace(" ", "T", 1)
    return item


class CustomerForm:
    """The values of the create / edit form, and the problems found in them."""

    def __init__(
        self,
        values: Mapping[str, Any],
        fields: Sequence[CustomField],
        rows: Mapping[str, list[Row]],
    ) -> None:
        owners = [
            (user.username, str(user))
            for user in User.objects.filter(is_active=True).order_by("username")
        ]
        owner = str(values.get("owner") or "")
        if owner and owner not in (code for code, _label in owners):
            owners.append((owner, owner))  # the current owner, even if no longer active
        self.scalars: dict[str, Input] = {}
        for name, label, kind, choices in _scalar_specs():
            self.scalars[name] = Input(
                name=name,
                label=label,
                kind=kind,
                value=_yes_no(values.get(name))
                if name in BOOLEAN_SCALARS
                else str(values.get(name) or ""),
                choices=_blank(_("No owner")) + owners if name == "owner" else choices,
                help_text=str(SCALAR_HELP.get(name, "")),
            )
        self.fields = list(fields)
        custom = values.get("custom") or {}
        self.custom = [_custom_input(cf, custom.get(cf.key, "")) for cf in self.fields]
        self.rows = {kind: list(rows.get(kind, [])) for kind in ROW_KINDS}
        self.group_errors: dict[str, list[str]] = {kind: [] for kind in ROW_KINDS}
        self.unmapped: list[Problem] = []
        self.problems: list[Problem] = []
        # Position of each row in the lists sent to services -> the row it came from.
        self._sent_rows: dict[str, list[Row]] = {kind: [] for kind in ROW_KINDS}

    # --- building -------------------------------------------------------------------------

    @classmethod
    def initial(
        cls, values: Mapping[str, Any] | None, fields: Sequence[CustomField]
    ) -> CustomerForm:
        """The form for a new customer (``values`` None) or for stored values."""
        values = values or {"lifecycle_stage": NEW_CUSTOMER_STAGE}
        rows = {
            kind: [make_row(kind, i, entry) for i, entry in enumerate(values.get(kind) or [])]
            for kind in ROW_KINDS
        }
        form = cls(values, fields, rows)
        form.pad_rows()
        return form

    @classmethod
    def from_post(cls, data: QueryDict, fields: Sequence[CustomField]) -> CustomerForm:
        """The form as submitted, every value kept as typed."""
        values: dict[str, Any] = {name: data.get(name, "") for name in SCALAR_NAMES}
        custom: dict[str, Any] = {}
        for cf in fields:
            name = f"custom-{cf.key}"
            if cf.field_type == FieldType.MULTIPLE_CHOICE:
                custom[cf.key] = [item for item in data.getlist(name) if item.strip()]
            else:
                custom[cf.key] = data.get(name, "")
        values["custom"] = custom
        found: dict[str, dict[int, dict[str, Any]]] = {kind: {} for kind in ROW_KINDS}
        for key in data:
            match = _ROW_NAME.match(key)
            if match and int(match[2]) < _MAX_ROWS:
                found[match[1]].setdefault(int(match[2]), {})[match[3]] = data.get(key, "")
        rows: dict[str, list[Row]] = {}
        for kind in ROW_KINDS:
            primary = data.get(f"{kind}-primary", "")
            rows[kind] = []
            for index in sorted(found[kind]):
                entry = found[kind][index]
                entry["is_primary"] = primary == str(index)
                entry["is_verified"] = bool(entry.get("is_verified"))
                rows[kind].append(make_row(kind, index, entry))
        return cls(values, fields, rows)

    def pad_rows(self) -> None:
        """Make sure each list ends with a blank row to type a new entry into."""
        for kind in ROW_KINDS:
            rows = self.rows[kind]
            blanks = 0
            for row in reversed(rows):
                if not row.is_blank():
                    break
                blanks += 1
            for _i in range(BLANK_ROWS - blanks):
                self.add_row(kind)

    def add_row(self, kind: str) -> Row | None:
        if kind not in ROW_KINDS:
            return None
        rows = self.rows[kind]
        index = rows[-1].index + 1 if rows else 0
        if index >= _MAX_ROWS:
            return None
        row = make_row(kind, index)
        rows.append(row)
        return row

    def next_index(self, kind: str) -> int:
        rows = self.rows[kind]
        return rows[-1].index + 1 if rows else 0

    # --- raw values for services ---------------------------------------------------------

    def submitted(self) -> dict[str, Any]:
        """Every value in the shape of :func:`services.editable_values`; blank rows left out."""
        raw: dict[str, Any] = {name: item.value for name, item in self.scalars.items()}
        for name in BOOLEAN_SCALARS:
            raw[name] = raw[name] == "yes"
        for kind in ROW_KINDS:
            entries = []
            self._sent_rows[kind] = []
            for row in self.rows[kind]:
                if row.is_blank():
                    continue
                self._sent_rows[kind].append(row)
                if kind == "addresses":
                    entry: dict[str, Any] = {part: row.input(part).value for part in ADDRESS_PARTS}
                    entry["is_primary"] = row.is_primary
                else:
                    key = CONTACT_KEYS[kind]
                    entry = {
                        key: row.input(key).value,
                        "is_primary": row.is_primary,
                        "is_verified": row.is_verified,
                    }
                entries.append(entry)
            raw[kind] = entries
        raw["custom"] = {
            cf.key: item.value for cf, item in zip(self.fields, self.custom, strict=True)
        }
        return raw

    def raw_for_create(self) -> dict[str, Any]:
        """What a new customer is created from: only what was filled in.

        Blank custom values are left out so that services can tell a required field is missing.
        """
        raw = {
            key: value
            for key, value in self.submitted().items()
            if not _empty(value) and value is not False
        }
        custom = {key: value for key, value in raw.get("custom", {}).items() if not _empty(value)}
        raw.pop("custom", None)
        if custom:
            raw["custom"] = custom
        return raw

    def raw_for_adding(self) -> dict[str, Any]:
        """What the new-customer form adds to a customer already known: what was filled in,
        except the lifecycle stage the form starts at (a loyal customer is not set back to
        prospect because nobody touched the select)."""
        raw = self.raw_for_create()
        if raw.get("lifecycle_stage") == NEW_CUSTOMER_STAGE:
            del raw["lifecycle_stage"]
        return raw

    def raw_for_update(self, current: Mapping[str, Any]) -> dict[str, Any]:
        """Only the values that differ from ``current`` (the stored customer's values).

        The source record of an edit then shows what the person changed.
        """
        raw: dict[str, Any] = {}
        for key, value in self.submitted().items():
            if key == "custom":
                stored = current.get("custom") or {}
                changed = {
                    cf.key: value[cf.key]
                    for cf in self.fields
                    if _comparable(value[cf.key], cf) != _comparable(stored.get(cf.key, ""), cf)
                }
                if changed:
                    raw["custom"] = changed
            elif _comparable(value) != _comparable(
                current.get(key, False if key in BOOLEAN_SCALARS else "")
            ):
                raw[key] = value
        return raw

    # --- problems -------------------------------------------------------------------------

    def add_errors(self, errors: Sequence[InvalidValue]) -> None:
        """Put each problem beside its input; the summary lists them in the form's order."""
        for error in errors:
            self._place(error)
        self.problems.sort(key=_form_position)

    def _place(self, error: InvalidValue) -> None:
        path = error.field
        message = describe(error)
        if path in self.scalars:
            item = self.scalars[path]
            item.errors.append(message)
            self.problems.append(Problem(item.label, message, item.id))
            return
        if path.startswith("tags["):
            item = self.scalars["tags"]
            item.errors.append(message)
            self.problems.append(Problem(item.label, message, item.id))
            return
        if path.startswith("custom."):
            key = path.split(".")[1]
            for cf, item in zip(self.fields, self.custom, strict=True):
                if cf.key == key:
                    item.errors.append(message)
                    self.problems.append(Problem(item.label, message, item.id))
                    return
        if path in ROW_KINDS:
            self.group_errors[path].append(message)
            self.problems.append(Problem(_group_label(path), message, f"{path}-group"))
            return
        match = _ROW_PATH.match(path)
        if match:
            kind, position, part = match[1], int(match[2]), match[3] or ""
            sent = self._sent_rows[kind]
            if position < len(sent):
                row = sent[position]
                target = next((i for i in row.inputs if i.name.endswith(f"-{part}")), None)
                if target is not None:
                    target.errors.append(message)
                    label = target.label
                    if kind == "addresses":
                        label = f"{row.title} · {target.label}"
                    self.problems.append(Problem(label, message, target.id))
                else:
                    row.errors.append(message)
                    anchor = row.inputs[0].id
                    self.problems.append(Problem(row.title, message, anchor))
                return
        problem = Problem(path, str(error))
        self.unmapped.append(problem)
        self.problems.append(problem)

    @property
    def error_count(self) -> int:
        return len(self.problems)


# The order the form shows its inputs in (rows and custom fields as groups).
FORM_ORDER = (
    "full_name",
    "given_name",
    "family_name",
    "phones",
    "emails",
    "gender",
    "birth_date",
    "marital_status",
    "education",
    "income_band",
    "company",
    "job_title",
    "lifecycle_stage",
    "owner",
    "tags",
    "preferred_language",
    "preferred_channel",
    "do_not_contact",
    "addresses",
    "custom",
)


def _form_position(problem: Problem) -> tuple[int, int]:
    """Where a problem's input sits in the form; problems without an input come last."""
    name = problem.anchor.removeprefix("id_")
    group, _sep, rest = name.partition("-")
    if group not in FORM_ORDER:
        return (len(FORM_ORDER), 0)
    row = rest.split("-", 1)[0]
    return (FORM_ORDER.index(group), int(row) if row.isdigit() else 0)


def describe(error: InvalidValue) -> str:
    """What is wrong with a value, for the person who typed it: the value and what is expected."""
    value = "" if error.value is None else str(error.value)
    if value.strip():
        return _("“%(value)s” is not valid: expected %(expected)s.") % {
            "value": value,
            "expected": error.expected,
        }
    return _("Expected %(expected)s.") % {"expected": error.expected}


def _group_label(kind: str) -> str:
    return {
        "emails": _("Email addresses"),
        "phones": _("Phone numbers"),
        "addresses": _("Addresses"),
    }[kind]


def _yes_no(value: Any) -> str:
    return "yes" if value is True or str(value).strip().casefold() in ("yes", "true") else "no"


def _empty(value: Any) -> bool:
    if isinstance(value, list | tuple | dict):
        return not value
    return value is None or str(value).strip() == ""


def _comparable(value: Any, custom_field: CustomField | None = None) -> Any:
    """A value in a form that compares equal however the form and the database spell it."""
    if isinstance(value, list | tuple):
        items = [_comparable(item) for item in value]
        if custom_field is not None:  # a multiple choice: stored as "a, b"
            return ", ".join(str(item) for item in items)
        return items
    if isinstance(value, dict):
        return {key: _comparable(item) for key, item in value.items()}
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip()
    if custom_field is not None and custom_field.field_type == FieldType.DATETIME:
        text = text.replace("T", " ", 1)
    return text
