"""The form builder page: it shapes what was typed into a :class:`FormDefinition` and puts
the problems the services report back beside what they concern.

No rule about what a valid form is lives here; :mod:`kenal.hosted_forms.services` decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from kenal.hosted_forms.catalogue import FieldOption, available_options
from kenal.hosted_forms.models import DEFAULT_MAX_PER_IP
from kenal.hosted_forms.services import (
    ConsentSpec,
    FieldSpec,
    FormDefinition,
    default_double_opt_in,
)
from kenal.privacy.models import Purpose

FORM_SETTINGS = (
    "title",
    "slug",
    "intro",
    "thank_you",
    "source",
    "is_active",
    "allowed_origins",
    "max_per_ip",
)
SETTINGS = frozenset(FORM_SETTINGS)


class FormSettingsForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    slug = forms.SlugField(
        label=_("Address"),
        max_length=64,
        help_text=_("The form is served at /f/<address>/, e.g. member-signup."),
    )
    intro = forms.CharField(
        label=_("Introduction"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    thank_you = forms.CharField(
        label=_("Thank-you text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown after a successful submission."),
    )
    source = forms.CharField(
        label=_("Source name"),
        max_length=100,
        required=False,
        help_text=_("Recorded on every submission; empty means form:<address>."),
    )
    is_active = forms.BooleanField(label=_("Accepting submissions"), required=False)
    allowed_origins = forms.CharField(
        label=_("Sites allowed to embed the form"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, e.g. https://shop.example.com. Kenal itself always may."),
    )
    max_per_ip = forms.IntegerField(
        label=_("Submissions per network per 10 minutes"),
        min_value=1,
        max_value=1000,
        help_text=_("Raise it for a kiosk or a shared network at an event."),
    )

    def add_problem(self, where: str, message: str) -> None:
        self.add_error(where if where in self.fields else None, message)


@dataclass
class FieldRow:
    """One field of the catalogue as the builder shows it."""

    option: FieldOption
    included: bool = False
    required: bool = False
    label: str = ""
    order: str = ""

    @property
    def prefix(self) -> str:
        return f"field-{self.option.key}"


@dataclass
class ConsentRow:
    """One consent purpose as the builder shows it."""

    purpose: str
    title: str
    included: bool = False
    wording: str = ""
    double_opt_in: bool = False

    @property
    def prefix(self) -> str:
        return f"consent-{self.purpose}"


@dataclass
class Builder:
    """The whole builder page: settings, field rows, consent rows and their problems."""

    settings: FormSettingsForm
    fields: list[FieldRow]
    consents: list[ConsentRow]

    def add_problems(self, problems: list[tuple[str, str]]) -> None:
        for where, message in problems:
            self.settings.add_problem(where if where in SETTINGS else "__all__", message)

    def definition(self) -> FormDefinition:
        data: Mapping[str, Any] = self.settings.cleaned_data
        included = sorted(
            (row for row in self.fields if row.included),
            key=lambda row: (_number(row.order), self.fields.index(row)),
        )
        return FormDefinition(
            title=data["title"],
            slug=data["slug"],
            intro=data["intro"],
            thank_you=data["thank_you"],
            source=data["source"],
            is_active=data["is_active"],
            allowed_origins=tuple(
                line.strip() for line in data["allowed_origins"].splitlines() if line.strip()
            ),
            max_per_ip=data["max_per_ip"],
            fields=tuple(FieldSpec(row.option.key, row.required, row.label) for row in included),
            consents=tuple(
                ConsentSpec(row.purpose, row.wording, row.double_opt_in)
                for row in self.consents
                if row.included
            ),
        )


def _number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 10_000  # rows without a position go last, in catalogue order


def initial_builder(definition: FormDefinition | None) -> Builder:
    """The builder for a new form (sensible defaults) or an existing one."""
    if definition is None:
        definition = FormDefinition(
            title="",
            slug="",
            fields=(FieldSpec("full_name", True), FieldSpec("email", True), FieldSpec("phone")),
        )
    settings = FormSettingsForm(
        initial={
            "title": definition.title,
            "slug": definition.slug,
            "intro": definition.intro,
            "thank_you": definition.thank_you,
            "source": definition.source,
            "is_active": definition.is_active,
            "allowed_origins": "\n".join(definition.allowed_origins),
            "max_per_ip": definition.max_per_ip or DEFAULT_MAX_PER_IP,
        }
    )
    chosen = {spec.key: (index, spec) for index, spec in enumerate(definition.fields)}
    rows = []
    for option in available_options().values():
        index, spec = chosen.get(option.key, (-1, None))
        rows.append(
            FieldRow(
                option,
                included=spec is not None,
                required=bool(spec and spec.required) or option.always_required,
                label=spec.label if spec else "",
                order=str((index + 1) * 10) if spec else "",
            )
        )
    rows.sort(key=lambda row: (not row.included, _number(row.order)))
    asked = {spec.purpose: spec for spec in definition.consents}
    consents = [
        ConsentRow(
            purpose,
            str(label),
            included=purpose in asked,
            wording=asked[purpose].wording if purpose in asked else "",
            double_opt_in=(
                asked[purpose].double_opt_in if purpose in asked else default_double_opt_in(purpose)
            ),
        )
        for purpose, label in Purpose.choices
    ]
    return Builder(settings, rows, consents)


def posted_builder(post: QueryDict) -> Builder:
    """The builder as submitted; ``settings.is_valid()`` still has to be called."""
    rows = [
        FieldRow(
            option,
            included=bool(post.get(f"field-{option.key}-on")),
            required=bool(post.get(f"field-{option.key}-required")),
            label=post.get(f"field-{option.key}-label", "").strip(),
            order=post.get(f"field-{option.key}-order", "").strip(),
        )
        for option in available_options().values()
    ]
    consents = [
        ConsentRow(
            purpose,
            str(label),
            included=bool(post.get(f"consent-{purpose}-on")),
            wording=post.get(f"consent-{purpose}-wording", "").strip(),
            double_opt_in=bool(post.get(f"consent-{purpose}-double")),
        )
        for purpose, label in Purpose.choices
    ]
    return Builder(FormSettingsForm(post), rows, consents)
