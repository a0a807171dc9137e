"""The upload step's form: it shapes the input; the import services check it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kenal.customers.field_forms import NeededCharField
from kenal.customers.normalise import InvalidValue
from kenal.ingest.models import ImportKind
from kenal.privacy.models import ConsentStatus, Purpose

CONSENT_PREFIX = "consent_"
# Where a service's problem ("sheet: …", "consent.method: …") is shown on the form.
PROBLEM_FIELDS = {"sheet": "file", "consent": "consent_method"}


def consent_choices() -> list[tuple[str, Any]]:
    return [
        ("", gettext_lazy("No information (records nothing)")),
        (ConsentStatus.GRANTED.value, ConsentStatus.GRANTED.label),
        (ConsentStatus.DENIED.value, ConsentStatus.DENIED.label),
    ]


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy(
            "CSV (any delimiter or encoding), Excel workbook (.xlsx) or phone contacts "
            "(vCard .vcf). The first row names the columns."
        ),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("The rows are"),
        choices=ImportKind.choices,
        initial=ImportKind.CUSTOMERS,
    )
    source = NeededCharField(
        label=gettext_lazy("Source"),
        max_length=100,
        help_text=gettext_lazy(
            "The channel or app the data comes from, e.g. Tokopedia, POS Jakarta, "
            "membership form. Its column mapping is remembered."
        ),
        widget=forms.TextInput(attrs={"list": "source-options", "autocomplete": "off"}),
    )
    consent_method = forms.CharField(
        label=gettext_lazy("How the consent was obtained"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Needed when a purpose is granted or refused, e.g. paper form."),
    )
    consent_wording = forms.CharField(
        label=gettext_lazy("The wording people agreed to"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for purpose in Purpose:
            self.fields[f"{CONSENT_PREFIX}{purpose.value}"] = forms.ChoiceField(
                label=purpose.label, choices=consent_choices(), required=False
            )

    def consent_fields(self) -> list[forms.BoundField]:
        return [self[f"{CONSENT_PREFIX}{purpose.value}"] for purpose in Purpose]

    def consent_statuses(self) -> dict[str, str]:
        """The declared status per purpose; purposes left at "no information" are left out."""
        data = self.cleaned_data
        return {
            purpose.value: data[f"{CONSENT_PREFIX}{purpose.value}"]
            for purpose in Purpose
            if data.get(f"{CONSENT_PREFIX}{purpose.value}")
        }

    def add_invalid(self, exc: InvalidValue) -> None:
        """Show a service's refusal beside the field it names."""
        name = exc.field.replace(".", "_")
        name = name if name in self.fields else PROBLEM_FIELDS.get(exc.field, "file")
        self.add_error(name, invalid_message(exc))


def invalid_message(exc: InvalidValue) -> str:
    return _("“%(value)s” is not accepted; expected %(expected)s.") % {
        "value": exc.value,
        "expected": exc.expected,
    }
