"""Rendering a public form: its token, its inputs, its consent boxes, and what was typed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from kenal.hosted_forms import tokens
from kenal.hosted_forms.catalogue import FieldOption, PublicInput, available_options
from kenal.hosted_forms.models import SignupForm
from kenal.privacy.models import Purpose

HONEYPOT = "website"  # a hidden input only robots fill in
TOKEN_FIELD = "kf_token"  # noqa: S105 (an input name, not a secret)
CONSENT_PREFIX = "consent."

FormData = Mapping[str, str | Sequence[str]]
FormValues = dict[str, str | list[str]]


@dataclass
class ConsentBox:
    """A consent checkbox as the public page shows it."""

    purpose: str
    wording: str
    double_opt_in: bool
    checked: bool = False

    @property
    def name(self) -> str:
        return CONSENT_PREFIX + self.purpose

    @property
    def title(self) -> str:
        return str(Purpose(self.purpose).label)

    @property
    def id(self) -> str:
        return "c-" + self.purpose


def render_token(form: SignupForm, now: dt.datetime) -> str:
    """The signed token a rendered form carries: its issue time is the time check."""
    return tokens.make({"f": form.pk}, salt=tokens.FORM_SALT, now=now)


def public_inputs(
    form: SignupForm,
    values: Mapping[str, str | list[str]] | None = None,
    errors: Mapping[str, list[str]] | None = None,
) -> list[PublicInput]:
    """The form's inputs in order, with values typed and problems beside them.

    A custom field archived since the form was built is left out.
    """
    options = available_options()
    inputs: list[PublicInput] = []
    for spec in form.field_specs:
        option = options.get(spec["key"])
        if option is None:
            continue
        inputs.append(
            PublicInput(
                option=option,
                label=spec.get("label") or str(option.label),
                required=bool(spec.get("required")) or option.always_required,
                value=(values or {}).get(option.key, [] if option.kind == "checkboxes" else ""),
                errors=list((errors or {}).get(option.key, [])),
            )
        )
    return inputs


def consent_boxes(form: SignupForm, ticked: Collection[str] = ()) -> list[ConsentBox]:
    return [
        ConsentBox(
            spec["purpose"], spec["wording"], bool(spec["double_opt_in"]), spec["purpose"] in ticked
        )
        for spec in form.consent_specs
    ]


def submitted_values(form: SignupForm, data: FormData) -> FormValues:
    """What was typed into the form's own inputs (blank ones left out), to show again."""
    values: FormValues = {}
    for option in _form_options(form):
        if option.kind == "checkboxes":
            chosen = [item.strip() for item in _all(data, option.key) if item.strip()]
            if chosen:
                values[option.key] = chosen
        elif text := _first(data, option.key).strip():
            values[option.key] = text
    return values


def ticked_purposes(form: SignupForm, data: FormData) -> set[str]:
    return {
        spec["purpose"]
        for spec in form.consent_specs
        if _first(data, CONSENT_PREFIX + spec["purpose"])
    }


def _form_options(form: SignupForm) -> list[FieldOption]:
    return [item.option for item in public_inputs(form)]


def _first(data: FormData, key: str) -> str:
    value = data.get(key, "")
    if isinstance(value, str):
        return value
    return str(value[0]) if value else ""


def _all(data: FormData, key: str) -> list[str]:
    value = data.get(key, ())
    return [value] if isinstance(value, str) else [str(item) for item in value]
