"""Signed update links: making them, reading them, and the values they pre-fill."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kenal.customers import custom_fields
from kenal.customers import services as customers
from kenal.customers.models import Customer, FieldType
from kenal.customers.normalise import InvalidValue
from kenal.customers.services import CustomerQuery
from kenal.hosted_forms import tokens
from kenal.hosted_forms.catalogue import ADDRESS_KEYS, CUSTOM_PREFIX, SCALAR_KEYS
from kenal.hosted_forms.models import SignupForm
from kenal.hosted_forms.services.rendering import FormValues
from kenal.hosted_forms.tokens import TokenInvalid
from kenal.privacy.models import ConsentStatus
from kenal.privacy.services import current_consents

UPDATE_LINK_AGE = dt.timedelta(days=30)


def _id(payload: Mapping[str, Any], key: str) -> int:
    value = payload.get(key)
    if not isinstance(value, int):
        raise TokenInvalid(key)
    return value


def update_link(customer: Customer, form: SignupForm, *, now: dt.datetime | None = None) -> str:
    """The path of a signed link through which ``customer`` updates their own details."""
    token = tokens.make(
        {"c": customer.pk, "f": form.pk}, salt=tokens.UPDATE_SALT, now=now or timezone.now()
    )
    return reverse("public_forms:update", args=[form.slug, token])


def update_target(form: SignupForm, token: str, *, now: dt.datetime) -> Customer:
    """The customer an update link was made for; :class:`TokenInvalid` / :class:`TokenExpired`."""
    payload = tokens.read(token, salt=tokens.UPDATE_SALT, now=now, max_age=UPDATE_LINK_AGE)
    customer = Customer.objects.filter(pk=_id(payload, "c")).first()
    if payload.get("f") != form.pk or customer is None:
        raise TokenInvalid(token)
    return customer


def current_values(form: SignupForm, customer: Customer) -> FormValues:
    """The customer's values for the form's inputs, to pre-fill an update link's page."""
    current = customers.editable_values(customer)
    values: FormValues = {key: str(current[key]) for key in SCALAR_KEYS if current.get(key)}
    values["email"] = _primary(current["emails"], "email")
    values["phone"] = _primary(current["phones"], "number")
    addresses = sorted(current["addresses"], key=lambda row: not row["is_primary"])
    address: Mapping[str, Any] = addresses[0] if addresses else {}
    values.update({key: str(address.get(key) or "") for key in ADDRESS_KEYS})
    for definition, typed in custom_fields.values_for(customer):
        values[CUSTOM_PREFIX + definition.key] = _custom_value(
            definition.field_type, definition, typed
        )
    return {key: value for key, value in values.items() if value}


def _primary(rows: Sequence[Mapping[str, Any]], key: str) -> str:
    chosen = next((row for row in rows if row["is_primary"]), rows[0] if rows else None)
    return str(chosen[key]) if chosen else ""


def _custom_value(field_type: str, definition: Any, typed: list[Any]) -> str | list[str]:
    if field_type == FieldType.MULTIPLE_CHOICE:
        return [str(value.value) for value in typed]
    text = custom_fields.form_value(definition, typed)
    return text.replace(" ", "T", 1) if field_type == FieldType.DATETIME else text


def granted_purposes(customer: Customer) -> set[str]:
    return {
        purpose
        for purpose, record in current_consents(customer).items()
        if record is not None and record.status == ConsentStatus.GRANTED
    }


def find_customer(text: str) -> Customer:
    """The one customer an id, email or phone number names (for making an update link).

    Raises :class:`InvalidValue` when none or several match.
    """
    text = text.strip()
    if text.isdigit() and (by_id := Customer.objects.filter(pk=int(text)).first()):
        return by_id
    found = list(customers.find_customers(CustomerQuery(text=text))[:2]) if text else []
    if len(found) != 1:
        expected = (
            _("the id, email or phone number of one customer (several match)")
            if found
            else _("the id, email or phone number of a customer")
        )
        raise InvalidValue("customer", text, expected)
    return found[0]
