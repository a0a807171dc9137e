"""Forms of the custom field pages: they shape input; the rules live in custom_fields."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kenal.customers.custom_fields import CHOICE_TYPES, NOT_UNIQUE_TYPES
from kenal.customers.models import CustomField, FieldType


class NeededCharField(forms.CharField):
    """Marked as needed, but left to the service to check, so every problem shows at once."""

    needed = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)


class ChoicesField(forms.CharField):
    """Choices typed one per line; blank lines are dropped."""

    widget = forms.Textarea(attrs={"rows": 5})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Choices"))
        kwargs.setdefault("help_text", _("One per line; only for choice fields."))
        super().__init__(strip=False, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(str(item) for item in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value)
        return [line.strip() for line in str(text).splitlines() if line.strip()]


# The names services give a problem ("type: …") that differ from the form field's name.
PROBLEM_FIELDS = {"type": "field_type"}


class FieldFormMixin:
    """Shows a service's problems ("key: …") beside the form field they name."""

    def add_problems(self, problems: Sequence[str]) -> None:
        form: forms.Form = self  # type: ignore[assignment]
        for problem in problems:
            name = problem.split(":", 1)[0].strip()
            name = PROBLEM_FIELDS.get(name, name)
            form.add_error(name if name in form.fields else None, problem)


class FieldCreateForm(FieldFormMixin, forms.Form):
    key = NeededCharField(
        label=_("Key"),
        max_length=64,
        help_text=_("Used by imports and the API: lower-case letters, digits and _."),
    )
    label = NeededCharField(label=_("Label"), max_length=100)
    field_type = forms.ChoiceField(label=_("Type"), choices=FieldType.choices)
    required = forms.BooleanField(label=_("Required"), required=False)
    unique = forms.BooleanField(
        label=_("Unique"),
        required=False,
        help_text=_("No two customers may have the same value."),
    )
    choices = ChoicesField()
    currency = forms.CharField(
        label=_("Default currency"),
        max_length=3,
        required=False,
        help_text=_("For money fields, e.g. IDR."),
    )
    help_text = forms.CharField(label=_("Help text"), max_length=255, required=False)

    def definition(self) -> dict[str, Any]:
        """Keyword arguments for :func:`custom_fields.define_field`."""
        data = self.cleaned_data
        return {
            "key": data["key"],
            "label": data["label"],
            "field_type": data["field_type"],
            "required": data["required"],
            "unique": data["unique"],
            "choices": data["choices"],
            "currency": data["currency"],
            "help_text": data["help_text"],
        }


class FieldEditForm(FieldFormMixin, forms.Form):
    key = NeededCharField(
        label=_("Key"),
        max_length=64,
        help_text=_("Renaming keeps every value; imports and the API use the new key."),
    )
    label = NeededCharField(label=_("Label"), max_length=100)
    required = forms.BooleanField(label=_("Required"), required=False)
    unique = forms.BooleanField(
        label=_("Unique"),
        required=False,
        help_text=_("No two customers may have the same value."),
    )
    choices = ChoicesField()
    currency = forms.CharField(label=_("Default currency"), max_length=3, required=False)
    help_text = forms.CharField(label=_("Help text"), max_length=255, required=False)

    def __init__(self, *args: Any, field: CustomField, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "key": field.key,
                "label": field.label,
                "required": field.required,
                "unique": field.unique,
                "choices": field.choices,
                "currency": field.currency,
                "help_text": field.help_text,
            },
        )
        super().__init__(*args, **kwargs)
        self.field = field
        # Only the settings this type has are offered.
        if field.field_type not in CHOICE_TYPES:
            del self.fields["choices"]
        if field.field_type != FieldType.MONEY:
            del self.fields["currency"]
        if field.field_type in NOT_UNIQUE_TYPES and not field.unique:
            del self.fields["unique"]

    def changes(self) -> dict[str, Any]:
        """Keyword arguments for :func:`custom_fields.update_field`."""
        data = self.cleaned_data
        return {
            "key": data["key"],
            "label": data["label"],
            "required": data["required"],
            "help_text": data["help_text"],
            # Settings the form does not offer for this type are left as they are.
            **{name: data[name] for name in ("unique", "choices", "currency") if name in data},
        }


class ChangeTypeForm(FieldFormMixin, forms.Form):
    field_type = forms.ChoiceField(label=_("New type"), choices=FieldType.choices)
    choices = ChoicesField(help_text=_("One per line; needed when the new type is a choice."))

    def __init__(self, *args: Any, field: CustomField, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"field_type": field.field_type, "choices": field.choices})
        super().__init__(*args, **kwargs)
        self.field = field

    def choices_for_service(self) -> list[str] | None:
        """The choices to give the new type: the typed ones, else the field keeps its own."""
        chosen: list[str] = self.cleaned_data["choices"]
        if self.cleaned_data["field_type"] not in CHOICE_TYPES:
            return None
        return chosen or None
