"""Undoing an import: customers it created go, values it changed come back.

A value changed again since the import (by a person or another import) is left as it is and
listed, so nobody's later work is undone silently.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kenal.activity import traits
from kenal.activity.models import Order
from kenal.customers import custom_fields, normalise
from kenal.customers.models import (
    Customer,
    CustomerEmail,
    CustomerPhone,
    NameToken,
    SourceRecord,
    Tag,
)
from kenal.customers.normalise import InvalidValue
from kenal.ingest.models import Import, ImportChange
from kenal.ingest.profiles import address_dict, as_json
from kenal.privacy.models import ConsentRecord

__all__ = ["RevertResult", "revert_import"]


@dataclass
class RevertResult:
    removed_customers: int = 0
    removed_orders: int = 0
    restored: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)


@transaction.atomic
def revert_import(run: Import) -> RevertResult:
    if run.status == Import.Status.REVERTED:
        raise InvalidValue("import", run.pk, _("an import that has not been reverted yet"))
    if not run.is_finished or run.dry_run:
        raise InvalidValue("import", run.pk, _("a finished import that wrote data"))
    result = RevertResult()
    created = set(
        SourceRecord.objects.filter(
            batch_id=run.batch_id, action=SourceRecord.Action.CREATED
        ).values_list("customer_id", flat=True)
    ) - {None}
    # Latest change first: a field changed twice by one import ends at its first old value.
    changes = run.changes.exclude(customer_id__in=created).select_related("customer")
    customers: dict[int, Customer] = {}
    for change in changes.order_by("-id"):
        # One instance per customer, so restoring one field never saves another's stale value.
        change.customer = customers.setdefault(change.customer_id, change.customer)
        if _undo(change):
            result.restored += 1
        else:
            result.conflicts.append(_conflict(change))
    reverted_orders = Order.objects.filter(import_batch=run.batch_id)
    buyers = set(reverted_orders.values_list("customer_id", flat=True))
    removed = reverted_orders.delete()[1]
    result.removed_orders = removed.get("activity.Order", 0)
    ConsentRecord.objects.filter(batch_id=run.batch_id).delete()
    result.removed_customers = (
        Customer.objects.filter(pk__in=created).delete()[1].get("customers.Customer", 0)
    )
    traits.refresh(buyers - created)
    run.status, run.reverted_at = Import.Status.REVERTED, timezone.now()
    run.revert_conflicts = result.conflicts
    run.save(update_fields=["status", "reverted_at", "revert_conflicts"])
    return result


def _undo(change: ImportChange) -> bool:
    """Restore one change; False when the value was changed again since the import."""
    customer = change.customer
    name = change.field
    if name in ("emails", "phones"):
        model = CustomerEmail if name == "emails" else CustomerPhone
        column = "email" if name == "emails" else "number"
        model.objects.filter(customer=customer, **{column: change.new}).delete()
        return True
    if name == "addresses":
        for address in customer.addresses.all():
            if address_dict(address) == change.new:
                address.delete()
        return True
    if name == "tags":
        customer.tags.remove(*Tag.objects.filter(name__iexact=change.new))
        return True
    if name.startswith("custom."):
        return _undo_custom(change)
    if as_json(getattr(customer, name)) != change.new:
        return False
    setattr(customer, name, _scalar(name, change.old))
    customer.sort_name = normalise.sort_key(customer.full_name)
    customer.save(update_fields=[name, "sort_name", "updated_at"])
    if name == "full_name":
        NameToken.objects.filter(customer=customer).delete()
        NameToken.objects.bulk_create(
            NameToken(customer=customer, token=token)
            for token in normalise.name_tokens(customer.full_name)
        )
    return True


def _scalar(name: str, old: Any) -> Any:
    if name == "birth_date":
        return datetime.date.fromisoformat(old) if old else None
    return old if old is not None else ""


def _undo_custom(change: ImportChange) -> bool:
    key = change.field.removeprefix("custom.")
    definition = custom_fields.definitions().get(key)
    if definition is None:
        return False
    current = dict(custom_fields.values_for(change.customer, include_archived=True)).get(
        definition, []
    )
    if custom_fields.form_value(definition, current) != change.new:
        return False
    values = custom_fields.clean_value(definition, change.old or "", path=change.field)
    custom_fields.write_values(change.customer, {definition: values})
    return True


def _conflict(change: ImportChange) -> dict[str, Any]:
    customer: Customer = change.customer
    if change.field.startswith("custom."):
        definition = custom_fields.definitions().get(change.field.removeprefix("custom."))
        current: Any = ""
        if definition is not None:
            values = dict(custom_fields.values_for(customer, include_archived=True))
            current = custom_fields.form_value(definition, values.get(definition, []))
    else:
        current = as_json(getattr(customer, change.field))
    return {
        "customer": customer.pk,
        "name": str(customer),
        "field": change.field,
        "imported": change.new,
        "current": current,
    }
