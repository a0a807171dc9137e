"""The warning before contacting a customer, and who last contacted them."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from kenal.accounts.models import Role, User
from kenal.activity import contact, services
from kenal.customers import services as customer_services
from kenal.customers.models import Customer
from kenal.customers.services import Origin


@pytest.fixture
def budi(db: None) -> Customer:
    return customer_services.create_customer(
        {"full_name": "Budi Santoso", "phones": ["0812-3456-7890"]}, Origin(source="pos")
    )


@pytest.fixture
def ani(make_user: Callable[..., User]) -> User:
    return make_user("ani", Role.AGENT)


@pytest.fixture
def dewi(make_user: Callable[..., User]) -> User:
    return make_user("dewi", Role.AGENT)


def called(customer: Customer, by: User | None, days_ago: float, **values: Any) -> None:
    services.log_interaction(
        customer,
        kind=values.pop("kind", "call"),
        direction=values.pop("direction", "outbound"),
        staff=by,
        occurred_at=timezone.now() - datetime.timedelta(days=days_ago),
        **values,
    )


def test_no_warning_for_a_customer_nobody_contacted(budi: Customer, ani: User) -> None:
    assert contact.contact_warning(budi, ani) is None


def test_do_not_contact_warns_everyone(budi: Customer, ani: User) -> None:
    budi.do_not_contact = True
    budi.save(update_fields=["do_not_contact"])
    warning = contact.contact_warning(budi, ani)
    assert warning is not None
    assert (warning.do_not_contact, warning.colleague) == (True, None)
    assert warning.reasons == ["This customer is marked do not contact."]


def test_a_colleagues_recent_contact_warns(budi: Customer, ani: User, dewi: User) -> None:
    called(budi, dewi, 2, channel="WhatsApp")
    warning = contact.contact_warning(budi, ani)
    assert warning is not None
    assert warning.colleague is not None
    assert (warning.do_not_contact, warning.colleague.by, warning.colleague.channel) == (
        False,
        "dewi",
        "WhatsApp",
    )
    [reason] = warning.reasons
    assert reason.startswith("dewi contacted this customer on ")
    assert reason.endswith("via WhatsApp, within the last 7 days.")


def test_the_channel_is_the_kind_when_none_was_given(budi: Customer, ani: User, dewi: User) -> None:
    called(budi, dewi, 1, kind="visit", direction="inbound")
    warning = contact.contact_warning(budi, ani)
    assert warning is not None
    assert warning.colleague is not None
    assert warning.colleague.channel == "Store visit"


def test_ones_own_contact_does_not_warn(budi: Customer, ani: User) -> None:
    called(budi, ani, 1)
    assert contact.contact_warning(budi, ani) is None


def test_a_contact_with_no_staff_member_does_not_warn(budi: Customer, ani: User) -> None:
    called(budi, None, 1, kind="email")
    assert contact.contact_warning(budi, ani) is None


def test_the_latest_colleague_within_the_period_is_named(
    budi: Customer, ani: User, dewi: User, make_user: Callable[..., User]
) -> None:
    rudi = make_user("rudi", Role.MANAGER)
    called(budi, rudi, 5)
    called(budi, dewi, 3)
    called(budi, ani, 1)
    warning = contact.contact_warning(budi, ani)
    assert warning is not None
    assert warning.colleague is not None
    assert warning.colleague.by == "dewi"


def test_the_period_comes_from_the_setting(
    budi: Customer, ani: User, dewi: User, settings: Any
) -> None:
    called(budi, dewi, 10)
    assert contact.contact_warning(budi, ani) is None  # the default: 7 days
    settings.KENAL_CONTACT_WARNING_DAYS = 14
    warning = contact.contact_warning(budi, ani)
    assert warning is not None
    assert warning.colleague is not None
    assert "within the last 14 days" in warning.reasons[0]
    settings.KENAL_CONTACT_WARNING_DAYS = 0  # colleagues never warn; do-not-contact still does
    assert contact.contact_warning(budi, ani) is None
    budi.do_not_contact = True
    warning = contact.contact_warning(budi, ani)
    assert warning is not None
    assert (warning.do_not_contact, warning.colleague) == (True, None)


def test_both_reasons_together(budi: Customer, ani: User, dewi: User) -> None:
    budi.do_not_contact = True
    called(budi, dewi, 1)
    warning = contact.contact_warning(budi, ani)
    assert warning is not None
    assert len(warning.reasons) == 2


def test_last_contact_comes_from_the_traits(budi: Customer, ani: User, dewi: User) -> None:
    assert contact.last_contact(budi) is None  # no activity, no traits yet
    called(budi, dewi, 3, channel="WhatsApp")
    called(budi, ani, 1, kind="meeting")
    budi = Customer.objects.get(pk=budi.pk)
    last = contact.last_contact(budi)
    assert last is not None
    assert (last.by, last.channel) == ("ani", "Meeting")
    assert abs((timezone.now() - last.at) - datetime.timedelta(days=1)) < datetime.timedelta(
        minutes=5
    )


def test_a_bad_setting_in_the_environment_is_named(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "KENAL_DATA_DIR": str(tmp_path),
        "KENAL_CONTACT_WARNING_DAYS": "a week",
        "DJANGO_SETTINGS_MODULE": "kenal.settings",
    }
    env.pop("KENAL_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "KENAL_CONTACT_WARNING_DAYS=a week: expected a whole number of days" in result.stderr
