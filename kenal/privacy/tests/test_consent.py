"""The consent ledger: records are added, the latest per purpose is the customer's answer."""

from __future__ import annotations

import pytest

from kenal.customers import services as customer_services
from kenal.customers.services import Origin
from kenal.privacy.models import ConsentRecord
from kenal.privacy.services import current_consents, parse_declaration, record_consent

pytestmark = pytest.mark.django_db


def test_the_latest_record_per_purpose_is_current_and_history_is_kept() -> None:
    siti = customer_services.create_customer({"full_name": "Siti"}, Origin(source="web"))
    record_consent(
        siti,
        parse_declaration({"marketing_email": "granted", "profiling": "denied"}, method="form"),
        source="web",
    )
    record_consent(
        siti, parse_declaration({"marketing_email": "withdrawn"}, method="email reply"), source="cs"
    )
    current = current_consents(siti)
    assert current["marketing_email"] is not None
    assert (current["marketing_email"].status, current["marketing_email"].method) == (
        "withdrawn",
        "email reply",
    )
    assert current["profiling"] is not None
    assert current["profiling"].status == "denied"
    assert current["marketing_whatsapp"] is None  # never asked: unknown, not refused
    assert ConsentRecord.objects.filter(customer=siti).count() == 3


def test_purposes_and_statuses_are_read_by_code_or_label() -> None:
    declaration = parse_declaration(
        {"Marketing by email": "Granted", "profiling": "REFUSED"}, method="form"
    )
    assert dict(declaration.statuses) == {"marketing_email": "granted", "profiling": "denied"}
    assert parse_declaration({}).is_empty
