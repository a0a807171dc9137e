"""The forms of the duplicate pages: picking two customers, and choosing what a merge keeps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import Field
from django.http import QueryDict
from django.utils import formats
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kenal.customers.models import Customer
from kenal.customers.services import CustomerQuery, find_customers
from kenal.identity.merging import MERGEABLE_FIELDS
from kenal.identity.survivorship import golden_values

__all__ = ["FieldRow", "MergeForm", "PickCustomersForm"]

# Where the value a field keeps comes from: either customer, or the golden record's suggestion
# when it is neither customer's current value (it can come from an older source record).
LEFT, RIGHT, SUGGESTED = "left", "right", "suggested"
HELP = _("The customer number (#123), a phone number, an email address or a name.")


class PickCustomersForm(forms.Form):
    """Any two customers, each given by number, phone number, email address or name."""

    first = forms.CharField(label=_("First customer"), max_length=200, help_text=HELP)
    second = forms.CharField(label=_("Second customer"), max_length=200, help_text=HELP)

    def clean_first(self) -> Customer:
        return _find_customer(self.cleaned_data["first"])

    def clean_second(self) -> Customer:
        return _find_customer(self.cleaned_data["second"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("first"), cleaned.get("second")
        if first is not None and first == second:
            raise forms.ValidationError(gettext("Choose two different customers."))
        return cleaned

    def pair(self) -> tuple[Customer, Customer]:
        """The two customers, the older (smaller number) first, as the review queue orders them."""
        first: Customer = self.cleaned_data["first"]
        second: Customer = self.cleaned_data["second"]
        return (first, second) if first.pk < second.pk else (second, first)


def _find_customer(text: str) -> Customer:
    text = text.strip()
    number = text.removeprefix("#")
    if number.isdigit():
        customer = Customer.objects.filter(pk=int(number)).first()
        if customer is None:
            raise forms.ValidationError(
                gettext("There is no customer #%(number)s.") % {"number": number}
            )
    else:
        found = list(find_customers(CustomerQuery(text=text))[:2])
        if not found:
            raise forms.ValidationError(gettext("No customer matches “%(text)s”.") % {"text": text})
        if len(found) > 1:
            raise forms.ValidationError(
                gettext("More than one customer matches “%(text)s”: give the customer number.")
                % {"text": text}
            )
        customer = found[0]
    if customer.merged_into_id is not None:
        raise forms.ValidationError(
            gettext("Customer #%(number)s was merged into #%(survivor)s.")
            % {"number": customer.pk, "survivor": customer.merged_into_id}
        )
    return customer


@dataclass(frozen=True)
class FieldRow:
    """One field of the side-by-side comparison, as shown (values formatted for reading)."""

    name: str
    label: str
    left: str
    right: str
    suggested: str  # only when it is neither customer's value
    differs: bool
    choice: forms.BoundField | None  # None when there is nothing to choose

    @property
    def choosable(self) -> bool:
        return self.choice is not None


class MergeForm(forms.Form):
    """Which customer survives and, where the two disagree, which value each field keeps.

    The choices name a side ("left", "right", "suggested"), never a value: the value is
    read from the customers again when the form is posted, so no value has to be parsed back.
    """

    survivor = forms.TypedChoiceField(label=_("Keep"), coerce=int, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Why (optional)"), max_length=255, required=False)

    def __init__(self, left: Customer, right: Customer, data: QueryDict | None = None) -> None:
        super().__init__(data)
        self.left, self.right = left, right
        suggested = golden_values([left, right])
        survivor = self.fields["survivor"]
        assert isinstance(survivor, forms.TypedChoiceField)
        survivor.choices = [(left.pk, str(left)), (right.pk, str(right))]
        # The older record survives by default: other systems are likelier to know its number.
        survivor.initial = min(left.pk, right.pk)
        self.options: dict[str, dict[str, Any]] = {}
        for name in MERGEABLE_FIELDS:
            field = Customer._meta.get_field(name)
            assert isinstance(field, Field)
            hint = _as_field_value(field, suggested.get(name))
            options = _options(getattr(left, name), getattr(right, name), hint)
            self.options[name] = options
            if len(options) > 1:
                self.fields[name] = forms.ChoiceField(
                    label=capfirst(str(field.verbose_name)),
                    choices=[(side, side) for side in options],
                    initial=_initial(options, hint),
                    widget=forms.RadioSelect,
                )

    def rows(self) -> list[FieldRow]:
        rows = []
        for name, options in self.options.items():
            field = Customer._meta.get_field(name)
            assert isinstance(field, Field)
            left, right = getattr(self.left, name), getattr(self.right, name)
            rows.append(
                FieldRow(
                    name=name,
                    label=capfirst(str(field.verbose_name)),
                    left=_display(field, left),
                    right=_display(field, right),
                    suggested=_display(field, options[SUGGESTED]) if SUGGESTED in options else "",
                    differs=left != right,
                    choice=self[name] if name in self.fields else None,
                )
            )
        return rows

    @property
    def has_suggestions(self) -> bool:
        return any(SUGGESTED in options for options in self.options.values())

    def chosen(self) -> dict[str, Any]:
        """The value each field with a choice keeps (call after ``is_valid``)."""
        return {
            name: options[self.cleaned_data[name]]
            for name, options in self.options.items()
            if name in self.fields
        }


def _options(left: Any, right: Any, hint: Any) -> dict[str, Any]:
    options = {LEFT: left}
    if right != left:
        options[RIGHT] = right
    # The rules may suggest a value neither customer holds now; offered, not imposed.
    if not _blank(hint) and hint not in options.values():
        options[SUGGESTED] = hint
    return options


def _as_field_value(field: Field[Any, Any], value: Any) -> Any:
    """``value`` as the model holds it, so it compares equal to the customers' own."""
    if _blank(value) or field.is_relation:
        return value
    try:
        return field.to_python(value)
    except forms.ValidationError:
        return value


def _initial(options: dict[str, Any], hint: Any) -> str:
    """The side holding the suggested value, else the first that holds any value."""
    for side, value in options.items():
        if value == hint and not _blank(value):
            return side
    return next((side for side, value in options.items() if not _blank(value)), LEFT)


def _blank(value: Any) -> bool:
    return value is None or value == ""


def _display(field: Field[Any, Any], value: Any) -> str:
    if _blank(value):
        return ""
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(formats.localize(value))
