"""Merging two customers into one, and undoing any merge later.

A merge keeps the merged customer's own row (``merged_into`` points at the survivor) and
moves everything linked to it to the survivor. ``Merge.moved`` records what the undo needs:

- per kind of row (:data:`ROW_KINDS`: ``"emails"``, ``"orders"``, …), the ids it moved;
- ``"tags"``: the ids of the tags the survivor gained;
- ``"snapshots"``: the moved emails, phones and addresses as they were (value and primary
  flag), and the moved custom fields' values as text. Editing a customer replaces its
  emails, phones and addresses whole, with new ids, so a moved row rewritten since the merge
  still comes back, found by its value;
- ``"repointed"``: the customers merged earlier into the merged one (see chains below);
- ``"pair"``: the review-queue pair of the two customers as it was, when there was one;
- once undone, ``"returned"`` and ``"routed"``: the rows that went back, per kind.

Rows the survivor cannot take because it already holds the value (the same email or phone,
the same address, a value of the same custom field) stay on the merged customer; the undo
finds them there.

**Chains.** ``merged_into`` always names the final survivor: merging B into A points the
customers merged into B earlier at A (recorded), and undoing that merge points them back at
B. A merged customer is therefore always one step from the customer standing for it. Undos
go in reverse order along a chain: once A has been merged into D, the rows of A's merges
are on D, so those merges wait until A's own merge into D is undone. Merges into one
survivor can be undone in any order: a tag two of them brought stays until both are undone,
and a field the other merge set since is kept (and listed as changed since the merge).

**Rows added after the merge** stay on the survivor, except those that came through the
restored customer's own identity in a source, which the undo sends to it:

- a source record whose source and id in that source (not empty) are those of one of the
  restored customer's own source records: the source itself says it is that record;
- an order imported after the merge whose file row gave one of those ids as the customer's
  id in the import's source, with the source records of its rows;
- the consent records and form submissions citing a source record sent over by these rules;
- a web or app event tracked after the merge whose userId, in its tracking source, is one of
  those ids.

Everything else added after the merge stays on the survivor, where it was written: notes
(written by staff on the survivor's page), emails, phones, addresses, tags, field and custom
values (nothing tells whose they are), and orders matched by an email or phone alone.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kenal.accounts.models import User
from kenal.activity import traits
from kenal.activity.models import Cart, Event, Feedback, Interaction, Order, Subscription, Ticket
from kenal.customers import custom_fields, normalise
from kenal.customers.models import (
    Address,
    Customer,
    CustomerEmail,
    CustomerPhone,
    CustomFieldValue,
    Note,
    SourceRecord,
)
from kenal.customers.services import (
    CHOICE_FIELDS,
    NAME_FIELDS,
    TEXT_FIELDS,
    AddressRow,
    CustomerInvalid,
    EmailRow,
    PhoneRow,
    clean_customer,
    index_name,
)
from kenal.hosted_forms.models import FormSubmission
from kenal.identity import keys
from kenal.identity.models import CandidatePair, Merge
from kenal.ingest.models import Import, ImportChange, ImportKind
from kenal.ingest.profiles import address_dict, address_key, as_json
from kenal.privacy.models import ConsentRecord

__all__ = [
    "MERGEABLE_FIELDS",
    "ROW_KINDS",
    "MergeError",
    "merge_customers",
    "merge_history",
    "unmerge",
]

# The customer's own values a merge chooses between, one per field.
MERGEABLE_FIELDS: tuple[str, ...] = (
    *NAME_FIELDS,
    "gender",
    "birth_date",
    *TEXT_FIELDS,
    *CHOICE_FIELDS,
    "owner",
)
# Rows that can hold a value the survivor already has, and then stay where they are.
CONTACTS: dict[str, type[Model]] = {
    "emails": CustomerEmail,
    "phones": CustomerPhone,
    "addresses": Address,
}
CONTACT_ROWS: dict[str, type[EmailRow | PhoneRow | AddressRow]] = {
    "emails": EmailRow,
    "phones": PhoneRow,
    "addresses": AddressRow,
}
# Rows that always move whole.
LINKED: dict[str, type[Model]] = {
    "notes": Note,
    "source_records": SourceRecord,
    "orders": Order,
    "interactions": Interaction,
    "tickets": Ticket,
    "services": Subscription,
    "feedback": Feedback,
    "events": Event,
    "carts": Cart,
    "consents": ConsentRecord,
    "submissions": FormSubmission,
    "import_changes": ImportChange,
}
ROW_KINDS: tuple[str, ...] = (*CONTACTS, "custom_values", *LINKED)
# Large IN lists are split so no query passes SQLite's 32,766-parameter limit.
CHUNK = 5_000
Item = TypeVar("Item")
REASON_LENGTH = Merge._meta.get_field("reason").max_length or 255


class MergeError(ValueError):
    """A merge or an undo was refused; the message says why and what to do."""


# --- merging --------------------------------------------------------------------------------


@transaction.atomic
def merge_customers(
    survivor: Customer,
    merged: Customer,
    *,
    actor: User | None,
    reason: str = "",
    score: float | None = None,
    explanation: Sequence[Mapping[str, Any]] = (),
    chosen: Mapping[str, Any] | None = None,
) -> Merge:
    """Merge ``merged`` into ``survivor``: one customer from now on, until undone.

    ``chosen`` maps fields of :data:`MERGEABLE_FIELDS` to the value the survivor keeps;
    any other field keeps the survivor's value, or takes the merged one's where the
    survivor has none.
    """
    if survivor.pk == merged.pk:
        raise MergeError(_("Customer #%(id)s cannot be merged into itself.") % {"id": merged.pk})
    if len(reason) > REASON_LENGTH:
        raise MergeError(
            _("reason: %(length)d characters is too long; expected at most %(limit)d")
            % {"length": len(reason), "limit": REASON_LENGTH}
        )
    survivor, merged = _locked(survivor.pk, merged.pk)
    if merged.merged_into_id is not None:
        raise MergeError(
            _("Customer #%(id)s was already merged into #%(into)s; undo that merge first.")
            % {"id": merged.pk, "into": merged.merged_into_id}
        )
    if survivor.merged_into_id is not None:
        raise MergeError(
            _("Customer #%(id)s was merged into #%(into)s: merge into #%(into)s instead.")
            % {"id": survivor.pk, "into": survivor.merged_into_id}
        )
    before = {name: _value(survivor, name) for name in MERGEABLE_FIELDS}
    applied = _choose(survivor, merged, chosen or {})
    for name, value in applied.items():
        _set(survivor, name, value)
    survivor.sort_name = normalise.sort_key(survivor.full_name)
    survivor.save()
    index_name(survivor)

    moved: dict[str, Any] = {"snapshots": {}}
    for kind in CONTACTS:
        moved[kind], moved["snapshots"][kind] = _move_contacts(kind, merged, survivor)
    moved["custom_values"], moved["snapshots"]["custom_values"] = _move_custom_values(
        merged, survivor
    )
    for kind, model in LINKED.items():
        rows = model._default_manager.filter(customer=merged)
        moved[kind] = list(rows.values_list("pk", flat=True))
        # Both customers are locked, so no row was linked to ``merged`` since the ids were read.
        rows.update(customer=survivor)
    moved["tags"] = list(
        merged.tags.exclude(pk__in=survivor.tags.values("pk")).values_list("pk", flat=True)
    )
    survivor.tags.add(*moved["tags"])
    moved["repointed"] = list(
        Customer.objects.filter(merged_into=merged).values_list("pk", flat=True)
    )
    Customer.objects.filter(pk__in=moved["repointed"]).update(merged_into=survivor)
    moved["pair"] = _decide_pair(survivor, merged, actor)

    merged.merged_into = survivor
    merged.save(update_fields=["merged_into", "updated_at"])
    merge = Merge.objects.create(
        survivor=survivor,
        merged=merged,
        score=score,
        explanation=[dict(item) for item in explanation],
        reason=reason,
        merged_by=actor,
        before=before,
        chosen=applied,
        moved=moved,
    )
    keys.refresh([survivor.pk, merged.pk])
    traits.refresh([survivor.pk, merged.pk])
    return merge


def _locked(*ids: int) -> list[Customer]:
    """The customers, read again and locked in id order (two merges never deadlock)."""
    rows = Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    found = {customer.pk: customer for customer in rows}
    for pk in ids:
        if pk not in found:
            raise MergeError(_("There is no customer #%(id)s.") % {"id": pk})
    return [found[pk] for pk in ids]


def _value(customer: Customer, name: str) -> Any:
    """A field's value as JSON: text, ISO date, or the owner's id."""
    return as_json(customer.serializable_value(name))


def _set(customer: Customer, name: str, value: Any) -> None:
    if name == "birth_date":
        customer.birth_date = datetime.date.fromisoformat(value) if value else None
    elif name == "owner":
        # A staff member deleted since the merge left their customers without an owner.
        customer.owner_id = value if User.objects.filter(pk=value).exists() else None
    else:
        setattr(customer, name, value)


def _blank(value: Any) -> bool:
    return value is None or value == ""


def _choose(survivor: Customer, merged: Customer, chosen: Mapping[str, Any]) -> dict[str, Any]:
    """The value each field keeps, as JSON; a chosen value neither side holds is validated."""
    unknown = sorted(set(chosen) - set(MERGEABLE_FIELDS))
    if unknown:
        raise MergeError(
            _("chosen: %(fields)s cannot be chosen by a merge; expected some of: %(known)s")
            % {"fields": ", ".join(unknown), "known": ", ".join(MERGEABLE_FIELDS)}
        )
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name in MERGEABLE_FIELDS:
        kept, other = _value(survivor, name), _value(merged, name)
        if name not in chosen:
            values[name] = other if _blank(kept) else kept
        elif as_json(chosen[name]) in (kept, other):
            values[name] = as_json(chosen[name])
        else:
            try:
                clean = clean_customer({name: chosen[name]}, customer=survivor)
            except CustomerInvalid as exc:
                problems.extend(str(error) for error in exc.errors)
            else:
                values[name] = as_json(clean.scalars[name])
    if problems:
        raise MergeError("; ".join(problems))
    return values


def _contact_key(kind: str, row: Any) -> Any:
    """What makes two emails, phones or addresses the same value."""
    if kind == "emails":
        return row.email.lower()
    if kind == "phones":
        return row.number
    return address_key(row)


def _snapshot(kind: str, row: Any) -> dict[str, Any]:
    if kind == "emails":
        value: dict[str, Any] = {"email": row.email}
    elif kind == "phones":
        value = {"number": row.number}
    else:
        value = address_dict(row)
    return {**value, "is_primary": row.is_primary}


def _move_contacts(
    kind: str, merged: Customer, survivor: Customer
) -> tuple[list[int], dict[str, dict[str, Any]]]:
    """Move the rows whose value the survivor lacks; it keeps its own primary row, if any."""
    manager = CONTACTS[kind]._default_manager
    held: list[Any] = list(manager.filter(customer=survivor))
    known = {_contact_key(kind, row) for row in held}
    rows: list[Any] = [
        row for row in manager.filter(customer=merged) if _contact_key(kind, row) not in known
    ]
    ids = [row.pk for row in rows]
    changes: dict[str, Any] = {"customer": survivor}
    if any(row.is_primary for row in held):
        changes["is_primary"] = False
    for chunk in _chunks(ids):
        manager.filter(pk__in=chunk).update(**changes)
    return ids, {str(row.pk): _snapshot(kind, row) for row in rows}


def _move_custom_values(merged: Customer, survivor: Customer) -> tuple[list[int], dict[str, str]]:
    """Move the values of the custom fields the survivor has no value for."""
    taken = CustomFieldValue.objects.filter(customer=survivor).values("field_id")
    rows = list(
        CustomFieldValue.objects.filter(customer=merged)
        .exclude(field_id__in=taken)
        .select_related("field")
    )
    typed = custom_fields.typed_values(rows, {row.field_id: row.field for row in rows})
    ids = [row.pk for row in rows]
    for chunk in _chunks(ids):
        CustomFieldValue.objects.filter(pk__in=chunk).update(customer=survivor)
    return ids, {
        field.key: custom_fields.form_value(field, values) for field, values in typed.items()
    }


def _decide_pair(survivor: Customer, merged: Customer, actor: User | None) -> dict[str, Any] | None:
    """Mark the two customers' review-queue pair merged; returns its state before."""
    left, right = sorted((survivor.pk, merged.pk))
    pair = CandidatePair.objects.filter(left_id=left, right_id=right).first()
    if pair is None:
        return None
    state = {
        "id": pair.pk,
        "status": pair.status,
        "decided_at": pair.decided_at.isoformat() if pair.decided_at else None,
        "decided_by": pair.decided_by_id,
    }
    pair.decide(CandidatePair.Status.MERGED, actor)
    return state


def _chunks(items: Sequence[Item]) -> Iterator[Sequence[Item]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


# --- undoing --------------------------------------------------------------------------------


@transaction.atomic
def unmerge(merge: Merge, *, actor: User | None) -> Merge:
    """Undo a merge: both customers come back, each with its own rows.

    A survivor's field changed since the merge keeps its current value, and a moved row
    changed or removed since stays where it is; ``undo_conflicts`` lists both.
    """
    merge = Merge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise MergeError(
            _("Merge #%(id)s was already undone on %(when)s.")
            % {"id": merge.pk, "when": f"{timezone.localtime(merge.undone_at):%Y-%m-%d %H:%M}"}
        )
    survivor, restored = _locked(merge.survivor_id, merge.merged_id)
    if survivor.merged_into_id is not None:
        later = (
            Merge.objects.filter(merged=survivor, undone_at=None)
            .values_list("pk", flat=True)
            .first()
        )
        raise MergeError(
            _(
                "Customer #%(survivor)s, kept by merge #%(id)s, has since been merged into "
                "#%(into)s by merge #%(later)s, which now holds its rows: undo merge "
                "#%(later)s first."
            )
            % {
                "survivor": survivor.pk,
                "id": merge.pk,
                "into": survivor.merged_into_id,
                "later": later,
            }
        )
    moved = merge.moved
    conflicts: list[dict[str, Any]] = []
    returned: dict[str, list[int]] = {}
    for kind in CONTACTS:
        returned[kind] = _return_contacts(kind, moved, survivor, restored, conflicts)
    returned["custom_values"] = _return_custom_values(moved, survivor, restored, conflicts)
    for kind, model in LINKED.items():
        returned[kind] = _move_back(model, moved.get(kind, []), survivor, restored)
    routed = _route_later_rows(merge, survivor, restored)
    _restore_fields(merge, survivor, conflicts)
    Customer.objects.filter(pk__in=moved.get("repointed", []), merged_into=survivor).update(
        merged_into=restored
    )
    restored.merged_into = None
    restored.save(update_fields=["merged_into", "updated_at"])
    _remove_tags(merge, survivor)
    for model in CONTACTS.values():
        for customer in (survivor, restored):
            _ensure_primary(model, customer)
    _restore_pair(moved.get("pair"))

    merge.moved = {**moved, "returned": returned, "routed": routed}
    merge.undone_at = timezone.now()
    merge.undone_by = actor
    merge.undo_conflicts = conflicts
    merge.save(update_fields=["moved", "undone_at", "undone_by", "undo_conflicts"])
    merge.survivor, merge.merged = survivor, restored
    keys.refresh([survivor.pk, restored.pk])
    traits.refresh([survivor.pk, restored.pk])
    return merge


def _move_back(
    model: type[Model],
    ids: Sequence[int],
    survivor: Customer,
    restored: Customer,
    *,
    by: str = "pk",
) -> list[int]:
    """Move the survivor's rows whose ``by`` (their id, or the source record they cite) is
    one of ``ids`` to ``restored``; their ids."""
    back: list[int] = []
    for chunk in _chunks(ids):
        rows = model._default_manager.filter(**{f"{by}__in": chunk}, customer=survivor)
        back += rows.values_list("pk", flat=True)
        rows.update(customer=restored)
    return back


def _return_contacts(
    kind: str,
    moved: Mapping[str, Any],
    survivor: Customer,
    restored: Customer,
    conflicts: list[dict[str, Any]],
) -> list[int]:
    """Send the moved rows back by id, or by value when rewritten since, with their flag."""
    manager = CONTACTS[kind]._default_manager
    free: dict[int, Any] = {row.pk: row for row in manager.filter(customer=survivor)}
    back = []
    for pk, saved in moved.get("snapshots", {}).get(kind, {}).items():
        value = CONTACT_ROWS[kind](**saved)
        key = _contact_key(kind, value)
        row = free.get(int(pk)) or next(
            (row for row in free.values() if _contact_key(kind, row) == key), None
        )
        if row is None:
            conflicts.append(_removed(survivor, kind, _shown(kind, value)))
            continue
        del free[row.pk]
        row.customer = restored
        row.is_primary = value.is_primary
        back.append(row)
    manager.bulk_update(back, ["customer", "is_primary"])
    return [row.pk for row in back]


def _shown(kind: str, value: EmailRow | PhoneRow | AddressRow) -> str:
    if isinstance(value, EmailRow):
        return value.email
    if isinstance(value, PhoneRow):
        return value.number
    return ", ".join(address_dict(value).values())


def _return_custom_values(
    moved: Mapping[str, Any],
    survivor: Customer,
    restored: Customer,
    conflicts: list[dict[str, Any]],
) -> list[int]:
    """Send the moved values back; a field rewritten on the survivor since keeps its value."""
    back = _move_back(CustomFieldValue, moved.get("custom_values", []), survivor, restored)
    came = set(CustomFieldValue.objects.filter(pk__in=back).values_list("field__key", flat=True))
    for key, text in moved.get("snapshots", {}).get("custom_values", {}).items():
        if key not in came:
            conflicts.append(_removed(survivor, f"custom.{key}", text))
    return back


def _removed(survivor: Customer, field: str, value: str) -> dict[str, Any]:
    """A moved value no longer on the survivor as it was: it does not come back."""
    return {"kind": "removed", "customer": survivor.pk, "field": field, "value": value}


def _route_later_rows(merge: Merge, survivor: Customer, restored: Customer) -> dict[str, list[int]]:
    """Send the rows that came through the restored customer's identity since the merge to it
    (the rule is in the module's docstring)."""
    own: dict[str, set[str]] = {}
    for source, external_id in (
        SourceRecord.objects.filter(customer=restored)
        .exclude(external_id="")
        .values_list("source", "external_id")
    ):
        own.setdefault(source, set()).add(external_id)
    if not own:
        return {}
    later = SourceRecord.objects.filter(customer=survivor, received_at__gt=merge.merged_at)
    orders, named = _orders_named(own, later, merge.merged_at)
    for source, ids in own.items():
        for chunk in _chunks(sorted(ids)):
            same = later.filter(source=source, external_id__in=chunk)
            named.update(same.values_list("pk", flat=True))
    records = sorted(named)
    return {
        "events": _events_named(own, survivor, restored, merge.merged_at),
        "source_records": _move_back(SourceRecord, records, survivor, restored),
        "orders": _move_back(Order, orders, survivor, restored),
        "consents": _move_back(ConsentRecord, records, survivor, restored, by="source_record_id"),
        "submissions": _move_back(
            FormSubmission, records, survivor, restored, by="source_record_id"
        ),
    }


def _events_named(
    own: Mapping[str, set[str]],
    survivor: Customer,
    restored: Customer,
    since: datetime.datetime,
) -> list[int]:
    """Move back the events tracked since the merge under one of ``own``, the restored
    customer's ids in their sources; their ids."""
    back: list[int] = []
    for source, ids in own.items():
        for chunk in _chunks(sorted(ids)):
            rows = Event.objects.filter(
                customer=survivor, received_at__gt=since, source=source, user_id__in=chunk
            )
            back += rows.values_list("pk", flat=True)
            rows.update(customer=restored)
    return back


def _orders_named(
    own: Mapping[str, set[str]], later: QuerySet[SourceRecord], since: datetime.datetime
) -> tuple[list[int], set[int]]:
    """Orders imported since the merge whose rows name one of ``own`` as the customer's id in
    the import's source, and the source records of those rows."""
    columns = {
        run.batch_id: [column for column, target in run.mapping.items() if target == "customer_id"]
        for run in Import.objects.filter(kind=ImportKind.ORDERS, source__in=own).filter(
            Q(finished_at=None) | Q(finished_at__gt=since)
        )
    }
    named: set[tuple[str, str, str]] = set()  # (source, batch, order number)
    records: set[int] = set()
    rows = later.filter(batch_id__in=columns).exclude(external_id="")
    for pk, source, batch, number, data in rows.values_list(
        "pk", "source", "batch_id", "external_id", "data"
    ):
        # As the import read it: the first non-blank cell of a column mapped to the id.
        cells = (str(data.get(column) or "").strip() for column in columns[batch])
        if next((cell for cell in cells if cell), "") in own.get(source, ()):
            named.add((source, batch, number))
            records.add(pk)
    orders = Order.objects.filter(
        import_batch__in={batch for _source, batch, _number in named},
        order_number__in={number for _source, _batch, number in named},
    ).values_list("pk", "source", "import_batch", "order_number")
    # The order's own batch is the one that created it: a later import of an order known
    # before the merge only updates that order, which went back with the merge's rows.
    return [pk for pk, *key in orders if tuple(key) in named], records


def _restore_fields(merge: Merge, survivor: Customer, conflicts: list[dict[str, Any]]) -> None:
    """Put back the survivor's values from before the merge, unless they changed since."""
    restored: list[str] = []
    for name, old in merge.before.items():
        current = _value(survivor, name)
        if current == merge.chosen.get(name):
            _set(survivor, name, old)
            restored.append(name)
        elif current != old:
            conflicts.append(
                {
                    "kind": "changed",
                    "customer": survivor.pk,
                    "field": name,
                    "value": current,
                    "merged": merge.chosen.get(name),
                }
            )
    survivor.sort_name = normalise.sort_key(survivor.full_name)
    survivor.save(update_fields=[*restored, "sort_name", "updated_at"])
    index_name(survivor)


def _remove_tags(merge: Merge, survivor: Customer) -> None:
    """Take off the tags the merge added, except those another merge into the survivor also
    brings: that merge now answers for them, and its undo takes them off."""
    tags = set(merge.moved.get("tags", []))
    others = Merge.objects.select_for_update().filter(survivor=survivor, undone_at=None)
    for other in others.exclude(pk=merge.pk).order_by("pk"):
        brought = tags & set(other.merged.tags.values_list("pk", flat=True))
        if brought:
            other.moved = {**other.moved, "tags": sorted({*other.moved.get("tags", []), *brought})}
            other.save(update_fields=["moved"])
            tags -= brought
    survivor.tags.remove(*tags)


def _ensure_primary(model: type[Model], customer: Customer) -> None:
    """A customer with emails (phones, addresses) has a primary one: the first, if none."""
    rows = model._default_manager.filter(customer=customer)
    if not rows.filter(is_primary=True).exists():
        rows.filter(pk__in=rows.order_by("pk").values("pk")[:1]).update(is_primary=True)


def _restore_pair(state: Mapping[str, Any] | None) -> None:
    """The review-queue pair goes back to its state before the merge (pending, for a merge
    made from the queue): the two are proposed again, and a reviewer can say they differ."""
    if state is None:
        return
    decided_by = state["decided_by"]
    CandidatePair.objects.filter(pk=state["id"], status=CandidatePair.Status.MERGED).update(
        status=state["status"],
        decided_at=datetime.datetime.fromisoformat(state["decided_at"])
        if state["decided_at"]
        else None,
        decided_by_id=decided_by if User.objects.filter(pk=decided_by).exists() else None,
    )


# --- history --------------------------------------------------------------------------------


def merge_history(customer: Customer) -> QuerySet[Merge]:
    """The merges that kept or merged ``customer``, the latest first (undone ones included)."""
    return Merge.objects.filter(Q(survivor=customer) | Q(merged=customer)).select_related(
        "survivor", "merged", "merged_by", "undone_by"
    )
