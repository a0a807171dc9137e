"""The forms on a customer's page: log an interaction, add a note.

They only carry what was typed to :mod:`kenal.activity.services` and put each problem the
services report back beside its input; what a valid interaction is, the services decide.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kenal.activity.models import Interaction
from kenal.customers.normalise import InvalidValue, parse_datetime

__all__ = ["InteractionForm", "NoteForm", "describe"]


def describe(error: InvalidValue) -> str:
    """A problem as the person who typed the value reads it."""
    value = "" if error.value is None else str(error.value)
    if value.strip():
        return _("“%(value)s” is not valid: expected %(expected)s.") % {
            "value": value,
            "expected": error.expected,
        }
    return _("Expected %(expected)s.") % {"expected": error.expected}


class InteractionForm(forms.Form):
    """A call, chat, email, visit or meeting, as staff log it from the customer's page."""

    kind = forms.CharField(
        label=gettext_lazy("Type"),
        widget=forms.Select(choices=Interaction.Kind.choices),
        initial=Interaction.Kind.CALL,
    )
    direction = forms.CharField(
        label=gettext_lazy("Direction"),
        widget=forms.RadioSelect(choices=Interaction.Direction.choices),
        initial=Interaction.Direction.OUTBOUND,
    )
    channel = forms.CharField(
        label=gettext_lazy("Channel"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("e.g. WhatsApp, phone")}),
    )
    outcome = forms.CharField(
        label=gettext_lazy("Outcome"),
        required=False,
        widget=forms.Select(choices=[("", "—"), *Interaction.Outcome.choices]),
    )
    summary = forms.CharField(
        label=gettext_lazy("Summary"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": gettext_lazy("What was said, what was promised…")}
        ),
    )
    occurred_at = forms.CharField(
        label=gettext_lazy("When"),
        required=False,
        help_text=gettext_lazy("Leave empty to use the current time."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    contact_anyway = forms.BooleanField(
        label=gettext_lazy("I have read the warning: contact anyway"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_interaction_%s")
        super().__init__(*args, **kwargs)

    def clean_occurred_at(self) -> datetime.datetime | None:
        text = self.cleaned_data.get("occurred_at", "")
        if not text:
            return None
        try:
            return parse_datetime(text, field="occurred_at")
        except InvalidValue as error:
            raise forms.ValidationError(describe(error)) from error

    def is_outbound(self) -> bool:
        return self.cleaned_data.get("direction") == Interaction.Direction.OUTBOUND

    def service_values(self) -> dict[str, Any]:
        """The cleaned values as :func:`kenal.activity.services.log_interaction` takes them."""
        names = ("kind", "direction", "channel", "outcome", "summary", "occurred_at")
        return {name: self.cleaned_data.get(name) for name in names}

    def add_problems(self, errors: Sequence[InvalidValue]) -> None:
        """Put each problem the services found beside its input."""
        for error in errors:
            name = error.field if error.field in self.fields else None
            self.add_error(name, describe(error))

    def require_confirmation(self) -> None:
        self.add_error(
            "contact_anyway",
            _("Read the warning above and tick this box to log the contact anyway."),
        )


class NoteForm(forms.Form):
    # Not required here: an empty note is refused by the services, with their message.
    body = forms.CharField(
        label=gettext_lazy("New note"),
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "required": True,
                "placeholder": gettext_lazy("What happened, what was promised…"),
            }
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_note_%s")
        super().__init__(*args, **kwargs)

    def add_problem(self, error: InvalidValue) -> None:
        self.add_error("body", describe(error))
