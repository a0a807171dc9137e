"""A customer's values as an import sees them: folded row by row, then compared and written.

A :class:`Profile` starts empty (a new customer) or from a stored customer, absorbs cleaned
rows — non-empty values win, emails, phones, addresses and tags are added, never replaced —
and reports what changed, so the writer can save only that and a revert can undo it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from kenal.customers import custom_fields
from kenal.customers.custom_fields import TypedValue
from kenal.customers.models import (
    Address,
    Customer,
    CustomerEmail,
    CustomerPhone,
    CustomField,
)
from kenal.customers.services import ADDRESS_PARTS, CleanCustomer

ADDRESS_KEY_PARTS = (*ADDRESS_PARTS, "country")


def address_key(address: Address) -> tuple[str, ...]:
    return tuple(str(getattr(address, part) or "").casefold() for part in ADDRESS_KEY_PARTS)


def address_dict(address: Address) -> dict[str, str]:
    return {part: getattr(address, part) for part in ADDRESS_KEY_PARTS if getattr(address, part)}


def as_json(value: Any) -> Any:
    """A scalar as the JSON an :class:`ImportChange` keeps (dates as ISO text)."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


@dataclass
class Profile:
    scalars: dict[str, Any] = field(default_factory=dict)
    emails: list[CustomerEmail] = field(default_factory=list)
    phones: list[CustomerPhone] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    custom: dict[CustomField, list[TypedValue]] = field(default_factory=dict)
    # What absorbing rows changed, against the state the profile started from.
    changed_scalars: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    added_emails: list[CustomerEmail] = field(default_factory=list)
    added_phones: list[CustomerPhone] = field(default_factory=list)
    added_addresses: list[Address] = field(default_factory=list)
    added_tags: list[str] = field(default_factory=list)
    changed_custom: dict[CustomField, tuple[list[TypedValue], list[TypedValue]]] = field(
        default_factory=dict
    )

    @classmethod
    def of(
        cls, customer: Customer, scalar_names: list[str], fields: dict[int, CustomField]
    ) -> Profile:
        """The stored customer (with emails, phones, addresses, tags, custom values prefetched)."""
        return cls(
            scalars={name: getattr(customer, name) for name in scalar_names},
            emails=list(customer.emails.all()),
            phones=list(customer.phones.all()),
            addresses=list(customer.addresses.all()),
            tags=[tag.name for tag in customer.tags.all()],
            custom=custom_fields.typed_values(customer.custom_values.all(), fields),
        )

    @property
    def is_changed(self) -> bool:
        return bool(
            self.changed_scalars
            or self.added_emails
            or self.added_phones
            or self.added_addresses
            or self.added_tags
            or self.changed_custom
        )

    def keys(self) -> list[str]:
        return [
            *(f"e:{row.email.lower()}" for row in self.emails),
            *(f"p:{row.number}" for row in self.phones),
        ]

    def absorb(self, clean: CleanCustomer) -> None:
        for name, value in clean.scalars.items():
            if value in (None, "") or self.scalars.get(name) == value:
                continue
            old = self.changed_scalars.get(name, (self.scalars.get(name), None))[0]
            self.scalars[name] = value
            self.changed_scalars[name] = (old, value)
        self._add_contacts(clean)
        for address in clean.addresses or []:
            if address_key(address) not in {address_key(row) for row in self.addresses}:
                address.is_primary = not self.addresses
                self.addresses.append(address)
                self.added_addresses.append(address)
        for tag in clean.tags or []:
            if tag.casefold() not in {name.casefold() for name in self.tags}:
                self.tags.append(tag)
                self.added_tags.append(tag)
        for custom_field, values in clean.custom.items():
            if not values or self.custom.get(custom_field) == values:
                continue
            old_values = self.changed_custom.get(
                custom_field, (self.custom.get(custom_field, []), [])
            )[0]
            self.custom[custom_field] = values
            self.changed_custom[custom_field] = (old_values, values)

    def _add_contacts(self, clean: CleanCustomer) -> None:
        for row in clean.emails or []:
            if row.email.lower() not in {known.email.lower() for known in self.emails}:
                row.is_primary = not self.emails
                self.emails.append(row)
                self.added_emails.append(row)
        for phone in clean.phones or []:
            if phone.number not in {known.number for known in self.phones}:
                phone.is_primary = not self.phones
                self.phones.append(phone)
                self.added_phones.append(phone)
