"""Form definitions: what an administrator decides about a form, and the checks on it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from kenal.accounts.models import User
from kenal.hosted_forms.catalogue import available_options
from kenal.hosted_forms.models import DEFAULT_MAX_PER_IP, SignupForm
from kenal.privacy.models import Purpose

MAX_PER_IP_LIMIT = 1000
MAX_TITLE = 200  # SignupForm.title
MAX_SOURCE = 100  # SignupForm.source
CONTACT_FIELDS = ("email", "phone")  # a form asks for at least one: matching needs a key
RESERVED_SLUGS = frozenset({"confirm"})  # /f/confirm/<token>/ is the confirmation page
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_HOST_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
ORIGIN_PATTERN = re.compile(
    rf"^https?://(?:\*\.)?{_HOST_LABEL}(?:\.{_HOST_LABEL})*(?::[0-9]{{1,5}})?$"
)


@dataclass(frozen=True)
class FieldSpec:
    """A field on a form: the catalogue key, whether the form requires it, its label."""

    key: str
    required: bool = False
    label: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "required": self.required, "label": self.label}


@dataclass(frozen=True)
class ConsentSpec:
    """A consent checkbox: the purpose it grants and the exact wording shown beside it."""

    purpose: str
    wording: str
    double_opt_in: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose,
            "wording": self.wording,
            "double_opt_in": self.double_opt_in,
        }


@dataclass(frozen=True)
class FormDefinition:
    """Everything an administrator decides about a form."""

    title: str
    slug: str
    intro: str = ""
    thank_you: str = ""
    source: str = ""
    is_active: bool = True
    allowed_origins: tuple[str, ...] = ()
    max_per_ip: int = DEFAULT_MAX_PER_IP
    fields: tuple[FieldSpec, ...] = ()
    consents: tuple[ConsentSpec, ...] = ()


class FormDefinitionError(ValueError):
    """A form definition was refused; ``problems`` lists (setting, message) pairs."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{where}: {message}" for where, message in problems))
        self.problems = list(problems)


def definition_of(form: SignupForm) -> FormDefinition:
    return FormDefinition(
        title=form.title,
        slug=form.slug,
        intro=form.intro,
        thank_you=form.thank_you,
        source=form.source,
        is_active=form.is_active,
        allowed_origins=tuple(form.allowed_origins or ()),
        max_per_ip=form.max_per_ip,
        fields=tuple(
            FieldSpec(spec["key"], bool(spec.get("required")), spec.get("label", ""))
            for spec in form.field_specs
        ),
        consents=tuple(
            ConsentSpec(spec["purpose"], spec["wording"], bool(spec.get("double_opt_in")))
            for spec in form.consent_specs
        ),
    )


def default_double_opt_in(purpose: str) -> bool:
    """Marketing email is confirmed by email by default: it proves the address is theirs."""
    return purpose == Purpose.MARKETING_EMAIL


def save_form(
    form: SignupForm | None, definition: FormDefinition, actor: User | None = None
) -> SignupForm:
    """Create (``form`` None) or change a form; every problem is reported at once."""
    problems = _definition_problems(definition, form)
    if problems:
        raise FormDefinitionError(problems)
    if form is None:
        form = SignupForm(created_by=actor)
    form.title = definition.title.strip()
    form.slug = definition.slug.strip()
    form.intro = definition.intro.strip()
    form.thank_you = definition.thank_you.strip()
    form.source = definition.source.strip()
    form.is_active = definition.is_active
    form.allowed_origins = [_origin(origin) for origin in definition.allowed_origins]
    form.max_per_ip = definition.max_per_ip
    form.fields = [spec.as_dict() for spec in definition.fields]
    form.consents = [
        ConsentSpec(spec.purpose, spec.wording.strip(), spec.double_opt_in).as_dict()
        for spec in definition.consents
    ]
    form.save()
    return form


def _origin(value: str) -> str:
    return value.strip().rstrip("/").lower()


def _definition_problems(
    definition: FormDefinition, form: SignupForm | None
) -> list[tuple[str, str]]:
    problems = _settings_problems(definition, form)
    problems.extend(_field_problems(definition.fields))
    problems.extend(_consent_problems(definition))
    return problems


def _settings_problems(
    definition: FormDefinition, form: SignupForm | None
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    title = definition.title.strip()
    if not title or len(title) > MAX_TITLE:
        problems.append(("title", _("Give the form a title of at most 200 characters.")))
    slug = definition.slug.strip()
    taken = SignupForm.objects.filter(slug=slug)
    if form is not None:
        taken = taken.exclude(pk=form.pk)
    if not SLUG_PATTERN.match(slug):
        problems.append(
            ("slug", _("Use lower-case letters, digits and hyphens, e.g. member-signup."))
        )
    elif slug in RESERVED_SLUGS or taken.exists():
        problems.append(("slug", _("“%(slug)s” is already used; choose another.") % {"slug": slug}))
    if len(definition.source.strip()) > MAX_SOURCE:
        problems.append(("source", _("Use at most 100 characters.")))
    for origin in definition.allowed_origins:
        if not ORIGIN_PATTERN.match(_origin(origin)):
            problems.append(
                (
                    "allowed_origins",
                    _("“%(origin)s” is not a site address such as https://shop.example.com.")
                    % {"origin": origin},
                )
            )
    if not 1 <= definition.max_per_ip <= MAX_PER_IP_LIMIT:
        problems.append(
            ("max_per_ip", _("Use a number from 1 to %(max)d.") % {"max": MAX_PER_IP_LIMIT})
        )
    return problems


def _field_problems(specs: Sequence[FieldSpec]) -> list[tuple[str, str]]:
    options = available_options()
    keys = [spec.key for spec in specs]
    problems: list[tuple[str, str]] = []
    for key in sorted(set(keys) - set(options)):
        problems.append(
            ("fields", _("“%(key)s” is not a field a form can ask for.") % {"key": key})
        )
    for key in sorted({key for key in keys if keys.count(key) > 1}):
        problems.append(("fields", _("“%(key)s” is on the form twice.") % {"key": key}))
    if not any(key in CONTACT_FIELDS for key in keys):
        problems.append(
            ("fields", _("Ask for an email address or a phone number, so people can be matched."))
        )
    for option in options.values():
        if option.always_required and option.key not in keys:
            problems.append(
                (
                    "fields",
                    _("“%(label)s” is required for every customer: add it to the form.")
                    % {"label": option.label},
                )
            )
    for spec in specs:
        if len(spec.label) > 200:
            problems.append(("fields", _("Labels have at most 200 characters.")))
    return problems


def _consent_problems(definition: FormDefinition) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    purposes = [spec.purpose for spec in definition.consents]
    for spec in definition.consents:
        if spec.purpose not in Purpose.values:
            problems.append(
                (
                    "consents",
                    _("“%(purpose)s” is not a consent purpose.") % {"purpose": spec.purpose},
                )
            )
            continue
        label = Purpose(spec.purpose).label
        if not spec.wording.strip():
            problems.append(
                ("consents", _("Write the wording shown for “%(purpose)s”.") % {"purpose": label})
            )
        if purposes.count(spec.purpose) > 1:
            problems.append(("consents", _("“%(purpose)s” is asked twice.") % {"purpose": label}))
        if spec.double_opt_in and "email" not in [f.key for f in definition.fields]:
            problems.append(
                (
                    "consents",
                    _("“%(purpose)s” is confirmed by email: add the email field to the form.")
                    % {"purpose": label},
                )
            )
    return problems
