"""Recording and reading consent; every channel (import, forms, API) goes through here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kenal.accounts.models import User
from kenal.customers.models import Customer, SourceRecord
from kenal.customers.normalise import InvalidValue
from kenal.privacy.models import ConsentRecord, ConsentStatus, Purpose

__all__ = [
    "ConsentDeclaration",
    "current_consents",
    "parse_declaration",
    "record_consent",
    "records_for",
]

MAX_METHOD_LENGTH = 200


@dataclass(frozen=True)
class ConsentDeclaration:
    """What a batch of people agreed to: a status per purpose, how it was obtained, the wording.

    An empty declaration means "no consent information": nothing is recorded, so the
    customers' consent stays unknown, never granted.
    """

    statuses: Mapping[str, str] = field(default_factory=dict)
    method: str = ""
    wording: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.statuses

    def as_dict(self) -> dict[str, object]:
        return {"statuses": dict(self.statuses), "method": self.method, "wording": self.wording}


def parse_declaration(
    statuses: Mapping[str, str], method: str = "", wording: str = ""
) -> ConsentDeclaration:
    """A checked declaration; raises :class:`InvalidValue` naming the purpose or status at fault.

    Purposes and statuses are accepted by code or by label (English or Indonesian).
    """
    checked: dict[str, str] = {}
    for purpose, status in statuses.items():
        code = _code(f"consent.{purpose}", purpose, Purpose.choices, _("a consent purpose"))
        checked[code] = _code(
            f"consent.{code}", status, ConsentStatus.choices, _("a consent status")
        )
    method = method.strip()
    if checked and not method:
        raise InvalidValue(
            "consent.method", method, _("how the consent was obtained, e.g. 'paper form'")
        )
    if len(method) > MAX_METHOD_LENGTH:
        raise InvalidValue(
            "consent.method",
            method,
            _("at most %(count)d characters") % {"count": MAX_METHOD_LENGTH},
        )
    return ConsentDeclaration(checked, method, wording.strip())


def _code(field_name: str, value: str, choices: Iterable[tuple[str, object]], what: str) -> str:
    wanted = value.strip().casefold()
    for code, label in choices:
        if wanted in (code.casefold(), str(label).casefold()):
            return code
    codes = ", ".join(code for code, _label in choices)
    raise InvalidValue(field_name, value, f"{what} ({codes})")


def record_consent(
    customer: Customer,
    declaration: ConsentDeclaration,
    *,
    source: str,
    batch_id: str = "",
    source_record: SourceRecord | None = None,
    actor: User | None = None,
) -> list[ConsentRecord]:
    """Add one ledger record per declared purpose for ``customer``."""
    records = build_records([customer.pk], declaration, source=source, batch_id=batch_id)
    for record in records:
        record.source_record = source_record
        record.recorded_by = actor
    return ConsentRecord.objects.bulk_create(records)


def build_records(
    customer_ids: Iterable[int], declaration: ConsentDeclaration, *, source: str, batch_id: str
) -> list[ConsentRecord]:
    """Unsaved ledger records, one per customer and purpose, for bulk writers."""
    now = timezone.now()
    return [
        ConsentRecord(
            customer_id=customer_id,
            purpose=purpose,
            status=status,
            method=declaration.method,
            wording=declaration.wording,
            source=source,
            batch_id=batch_id,
            recorded_at=now,
        )
        for customer_id in customer_ids
        for purpose, status in declaration.statuses.items()
    ]


def records_for(customer: Customer) -> QuerySet[ConsentRecord]:
    return customer.consents.select_related("recorded_by", "source_record")


def current_consents(customer: Customer) -> dict[str, ConsentRecord | None]:
    """The latest record per purpose (None where the customer was never asked: unknown)."""
    latest: dict[str, ConsentRecord | None] = dict.fromkeys(Purpose.values)
    for record in records_for(customer):
        if latest.get(record.purpose) is None:
            latest[record.purpose] = record
    return latest
