"""An agent logs a call and a note on a customer's page in a real browser (Debian's Chromium):
the timeline, "last contacted" and the traits panel update without a reload; a colleague who
opens the page next is warned, and must confirm before contacting the customer again."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from kenal.accounts.models import Role, User
from kenal.activity import traits
from kenal.activity.models import Order
from kenal.conftest import PASSWORD
from kenal.customers import services
from kenal.customers.models import Customer
from kenal.customers.services import Origin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def budi(transactional_db: None) -> Customer:
    customer = services.create_customer(
        {"full_name": "Budi Santoso", "phones": ["+62 812 3456 7890"]}, Origin(source="pos")
    )
    Order.objects.create(
        customer=customer,
        source="tokopedia",
        order_number="INV/2024/0042",
        ordered_at=timezone.now(),
        total=Decimal("150000"),
    )
    traits.refresh([customer.pk])
    return customer


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()


def test_log_a_call_see_it_everywhere_and_warn_a_colleague(
    page: Page, live_server: object, make_user: Callable[..., User], budi: Customer
) -> None:
    make_user("ani", Role.AGENT)
    make_user("dewi", Role.AGENT)
    base = str(live_server)
    customer_page = f"{base}/customers/{budi.pk}/"

    log_in(page, base, "ani")
    page.goto(customer_page)
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Order INV/2024/0042")
    expect(page.locator("#last-contact")).to_contain_text("Not contacted yet")
    expect(page.locator("#trait-last-contact")).to_have_text("—")
    expect(page.locator("#contact-warning")).to_be_empty()
    # Marks this very page: after the forms are sent, it is still here (no reload).
    page.evaluate("window.notReloaded = true")

    form = page.locator("#log-interaction")
    form.get_by_label("Type").select_option("call")
    form.get_by_label("Outbound").check()
    form.get_by_label("Channel").fill("WhatsApp")
    form.get_by_label("Outcome").select_option("reached")
    form.get_by_label("Summary").fill("Offered the new Gayo blend")
    form.get_by_role("button", name="Log interaction").click()

    expect(page.locator("#log-interaction")).to_contain_text("Interaction logged.")
    expect(timeline.locator(".tl-entry").first).to_contain_text("Offered the new Gayo blend")
    expect(timeline.locator(".tl-entry").first).to_contain_text("Outbound call")
    expect(page.locator("#last-contact")).to_contain_text("Last contacted by ani")
    expect(page.locator("#last-contact")).to_contain_text("via WhatsApp")
    expect(page.locator("#trait-last-contact")).to_contain_text("ani · WhatsApp")
    expect(page.locator("#log-interaction").get_by_label("Summary")).to_have_value("")

    page.locator("#id_note_body").fill("Prefers calls after 5 pm")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#note-form")).to_contain_text("Note added.")
    expect(timeline.locator(".tl-entry").first).to_contain_text("Prefers calls after 5 pm")

    # Filter chips change the timeline only, and the address remembers the filter.
    timeline.get_by_role("link", name="Notes", exact=True).click()
    expect(timeline.locator(".tl-entry")).to_have_count(1)
    expect(timeline.get_by_role("link", name="Notes", exact=True)).to_have_attribute(
        "aria-current", "true"
    )
    expect(page).to_have_url(f"{customer_page}?kind=note")
    timeline.get_by_role("link", name="All", exact=True).click()
    expect(timeline.locator(".tl-entry")).to_have_count(3)
    assert page.evaluate("window.notReloaded") is True
    log_out(page)

    # A colleague opens the page: warned by the contacts, and in the form.
    log_in(page, base, "dewi")
    page.goto(customer_page)
    warning = page.locator("#contact-warning")
    expect(warning).to_contain_text("ani contacted this customer on")
    expect(warning).to_contain_text("via WhatsApp, within the last 7 days")
    form = page.locator("#log-interaction")
    form.get_by_label("Outbound").check()
    form.get_by_label("Summary").fill("Followed up on the blend")
    form.get_by_role("button", name="Log interaction").click()
    expect(page.locator("#log-interaction")).to_contain_text(
        "tick this box to log the contact anyway"
    )
    expect(page.locator("#log-interaction").get_by_label("Summary")).to_have_value(
        "Followed up on the blend"
    )
    page.locator("#log-interaction").get_by_label("contact anyway").check()
    page.locator("#log-interaction").get_by_role("button", name="Log interaction").click()
    expect(page.locator("#log-interaction")).to_contain_text("Interaction logged.")
    expect(page.locator("#last-contact")).to_contain_text("Last contacted by dewi")
    expect(timeline.locator(".tl-entry").first).to_contain_text("Followed up on the blend")
