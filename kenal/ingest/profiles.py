"""A customer's values as an import sees them: folded row by row, then compared and written.

A :class:`Profile` starts empty (a new customer) or from a stored customer, absorbs cleaned
rows — non-empty values win, emails, phones, addresses and tags are added, never replaced —
and reports what changed, so the writer can save only that and a revert can undo it.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kenal.accounts.models import User
from kenal.customers import custom_fields
from kenal.customers.custom_fields import TypedValue
from kenal.customers.models import (
    Address,
    Customer,
    CustomerEmail,
    CustomerPhone,
    CustomField,
    CustomFieldValue,
)
from kenal.customers.services import (
    ADDRESS_PARTS,
    AddressRow,
    CleanCustomer,
    EmailRow,
    PhoneRow,
)

ADDRESS_KEY_PARTS = (*ADDRESS_PARTS, "country")
# A stored row, or one cleaned from the file and not saved yet.
AnyEmail = CustomerEmail | EmailRow
AnyPhone = CustomerPhone | PhoneRow
AnyAddress = Address | AddressRow


def address_key(address: AnyAddress) -> tuple[str, ...]:
    return tuple(str(getattr(address, part) or "").casefold() for part in ADDRESS_KEY_PARTS)


def address_dict(address: AnyAddress) -> dict[str, str]:
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
    emails: list[AnyEmail] = field(default_factory=list)
    phones: list[AnyPhone] = field(default_factory=list)
    addresses: list[AnyAddress] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    custom: dict[CustomField, list[TypedValue]] = field(default_factory=dict)
    # What absorbing rows changed, against the state the profile started from.
    changed_scalars: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    added_emails: list[AnyEmail] = field(default_factory=list)
    added_phones: list[AnyPhone] = field(default_factory=list)
    added_addresses: list[AnyAddress] = field(default_factory=list)
    added_tags: list[str] = field(default_factory=list)
    changed_custom: dict[CustomField, tuple[list[TypedValue], list[TypedValue]]] = field(
        default_factory=dict
    )
    # The comparison keys of the lists above, kept up to date as rows are absorbed.
    _email_keys: set[str] = field(init=False, repr=False, compare=False)
    _phone_keys: set[str] = field(init=False, repr=False, compare=False)
    _address_keys: set[tuple[str, ...]] = field(init=False, repr=False, compare=False)
    _tag_keys: set[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.index()

    def index(self) -> None:
        """(Re)build the comparison keys from the lists (after filling them directly)."""
        self._email_keys = {row.email.lower() for row in self.emails}
        self._phone_keys = {row.number for row in self.phones}
        self._address_keys = {address_key(row) for row in self.addresses}
        self._tag_keys = {name.casefold() for name in self.tags}

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

    def absorb(self, clean: CleanCustomer) -> None:
        for name, value in clean.scalars.items():
            if value in (None, "") or self.scalars.get(name) == value:
                continue
            old = self.changed_scalars.get(name, (self.scalars.get(name), None))[0]
            self.scalars[name] = value
            self.changed_scalars[name] = (old, value)
        self._add_contacts(clean)
        for address in clean.addresses or []:
            key = address_key(address)
            if key not in self._address_keys:
                address.is_primary = not self.addresses
                self.addresses.append(address)
                self.added_addresses.append(address)
                self._address_keys.add(key)
        for tag in clean.tags or []:
            if tag.casefold() not in self._tag_keys:
                self.tags.append(tag)
                self.added_tags.append(tag)
                self._tag_keys.add(tag.casefold())
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
            if row.email.lower() not in self._email_keys:
                row.is_primary = not self.emails
                self.emails.append(row)
                self.added_emails.append(row)
                self._email_keys.add(row.email.lower())
        for phone in clean.phones or []:
            if phone.number not in self._phone_keys:
                phone.is_primary = not self.phones
                self.phones.append(phone)
                self.added_phones.append(phone)
                self._phone_keys.add(phone.number)


def stored_profiles(
    ids: Collection[int], scalar_names: Sequence[str], fields: Mapping[int, CustomField]
) -> dict[int, Profile]:
    """The stored customers among ``ids`` as profiles, by id, in ascending id order.

    One query per table and plain rows: a prefetch would build a model instance (and a
    queryset per relation) for every customer, email, phone and address.
    """
    columns = ["pk", *scalar_names]
    profiles: dict[int, Profile] = {}
    owner_ids: dict[int, int] = {}
    for pk, *values in Customer.objects.filter(pk__in=ids).order_by("pk").values_list(*columns):
        scalars = dict(zip(scalar_names, values, strict=True))
        if scalars.get("owner") is not None:
            owner_ids[pk] = scalars["owner"]  # the id: the profile holds the user
        profiles[pk] = Profile(scalars=scalars)
    owners = User.objects.in_bulk(set(owner_ids.values()))
    for pk, owner_id in owner_ids.items():
        profiles[pk].scalars["owner"] = owners.get(owner_id)
    found = list(profiles)
    for customer_id, email, is_primary, is_verified in CustomerEmail.objects.filter(
        customer_id__in=found
    ).values_list("customer_id", "email", "is_primary", "is_verified"):
        profiles[customer_id].emails.append(EmailRow(email, is_primary, is_verified))
    for customer_id, number, is_primary, is_verified in CustomerPhone.objects.filter(
        customer_id__in=found
    ).values_list("customer_id", "number", "is_primary", "is_verified"):
        profiles[customer_id].phones.append(PhoneRow(number, is_primary, is_verified))
    for customer_id, *parts in Address.objects.filter(customer_id__in=found).values_list(
        "customer_id", *ADDRESS_KEY_PARTS, "is_primary"
    ):
        profiles[customer_id].addresses.append(AddressRow(*parts))
    for customer_id, name in (
        Customer.tags.through.objects.filter(customer_id__in=found)
        .order_by("tag__name")
        .values_list("customer_id", "tag__name")
    ):
        profiles[customer_id].tags.append(name)
    if fields:
        rows: dict[int, list[CustomFieldValue]] = {}
        for row in CustomFieldValue.objects.filter(customer_id__in=found):
            rows.setdefault(row.customer_id, []).append(row)
        for customer_id, stored in rows.items():
            profiles[customer_id].custom = custom_fields.typed_values(stored, fields)
    for profile in profiles.values():
        profile.index()
    return profiles
