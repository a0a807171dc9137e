"""The fields a hosted form can ask for, and how each one is shown as an input.

Built-in customer fields have fixed keys ("email", "city"…); custom fields are offered as
"custom.<key>", the same path the customer services name them by in their errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kenal.customers import custom_fields
from kenal.customers.models import CustomField, FieldType, Gender

CUSTOM_PREFIX = "custom."
SCALAR_KEYS = (
    "full_name",
    "given_name",
    "family_name",
    "gender",
    "birth_date",
    "company",
    "job_title",
)
ADDRESS_KEYS = ("street", "city", "province", "postcode")
CONTACT_KEYS = ("email", "phone")

# The input type of each custom field type on the public page.
CUSTOM_KINDS: dict[str, str] = {
    FieldType.TEXT: "text",
    FieldType.LONG_TEXT: "textarea",
    FieldType.INTEGER: "number",
    FieldType.DECIMAL: "decimal",
    FieldType.MONEY: "decimal",
    FieldType.DATE: "date",
    FieldType.DATETIME: "datetime-local",
    FieldType.BOOLEAN: "yesno",
    FieldType.CHOICE: "select",
    FieldType.MULTIPLE_CHOICE: "checkboxes",
    FieldType.EMAIL: "email",
    FieldType.PHONE: "tel",
    FieldType.URL: "url",
}


@dataclass(frozen=True)
class FieldOption:
    """One field a form may include: its key, default label and input."""

    key: str
    label: str | Promise
    kind: str = "text"  # text, email, tel, date, select, textarea, checkboxes, yesno, …
    autocomplete: str = ""
    choices: tuple[tuple[str, str | Promise], ...] = ()
    help_text: str = ""
    # Required for every customer (a required custom field): a form must include it.
    always_required: bool = False

    @property
    def is_custom(self) -> bool:
        return self.key.startswith(CUSTOM_PREFIX)

    @property
    def custom_key(self) -> str:
        return self.key.removeprefix(CUSTOM_PREFIX)


@dataclass
class PublicInput:
    """An input as the public page renders it, with the value typed and its problems."""

    option: FieldOption
    label: str
    required: bool
    value: str | list[str] = ""
    errors: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.option.key

    @property
    def id(self) -> str:
        return "f-" + self.option.key.replace(".", "-")

    @property
    def error_id(self) -> str:
        return f"{self.id}-error"


def builtin_options() -> list[FieldOption]:
    return [
        FieldOption("full_name", _("Full name"), autocomplete="name"),
        FieldOption("given_name", _("Given name"), autocomplete="given-name"),
        FieldOption("family_name", _("Family name"), autocomplete="family-name"),
        FieldOption("email", _("Email"), "email", autocomplete="email"),
        FieldOption("phone", _("Phone number"), "tel", autocomplete="tel"),
        FieldOption("birth_date", _("Birth date"), "date", autocomplete="bday"),
        FieldOption("gender", _("Gender"), "select", choices=tuple(Gender.choices)),
        FieldOption("company", _("Company"), autocomplete="organization"),
        FieldOption("job_title", _("Job title"), autocomplete="organization-title"),
        FieldOption("street", _("Street address"), autocomplete="street-address"),
        FieldOption("city", _("City"), autocomplete="address-level2"),
        FieldOption("province", _("Province"), autocomplete="address-level1"),
        FieldOption("postcode", _("Postcode"), autocomplete="postal-code"),
    ]


def custom_option(definition: CustomField) -> FieldOption:
    return FieldOption(
        key=CUSTOM_PREFIX + definition.key,
        label=definition.label,
        kind=CUSTOM_KINDS.get(definition.field_type, "text"),
        choices=tuple((choice, choice) for choice in definition.choices),
        help_text=definition.help_text,
        always_required=definition.required,
    )


def available_options() -> dict[str, FieldOption]:
    """Every field a form may ask for, by key: the built-in ones, then active custom fields."""
    options = {option.key: option for option in builtin_options()}
    for definition in custom_fields.active_fields():
        option = custom_option(definition)
        options[option.key] = option
    return options
