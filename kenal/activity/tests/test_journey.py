"""An agent logs a call and a note on a customer's page in a real browser (Debian's Chromium):
the timeline, "last contacted" and the traits panel update without a reload; a colleague who
opens the page next is warned, and must confirm before contacting the customer again.

The whole of issue 5 in one journey: from the home page, find the caller by a phone number
typed in another format, open their page with the keyboard, log the call, watch the page
update in place, and find it all still there after a reload."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from playwright.sync_api import Locator, Page, expect

from kenal.accounts.models import Role, User
from kenal.activity import traits
from kenal.activity.models import Interaction, Order
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


def trait(page: Page, label: str) -> Locator:
    """The value beside ``label`` in the traits panel ("At a glance")."""
    panel = page.get_by_role("region", name="At a glance")
    row = panel.locator("div").filter(has=page.get_by_text(label, exact=True))
    return row.get_by_role("definition")


def test_find_a_caller_by_phone_open_their_page_and_log_the_call(
    page: Page, live_server: object, make_user: Callable[..., User], budi: Customer
) -> None:
    services.create_customer(
        {"full_name": "Sri Wahyuni", "phones": ["0813-1111-2222"]}, Origin(source="pos")
    )
    make_user("ani", Role.AGENT)
    base = str(live_server)

    # The home page sends a visitor to log in, and the agent on to the customer list.
    page.goto(f"{base}/")
    page.get_by_label("Username").fill("ani")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    # The shortcuts are listened for once the deferred search script has run.
    page.wait_for_load_state("load")

    # "/" jumps to the search box; the number is stored as +6281234567890.
    box = page.get_by_role("combobox", name="Find a customer")
    page.keyboard.press("/")
    expect(box).to_be_focused()
    page.keyboard.type("0812-3456-7890")
    results = page.get_by_role("listbox", name="Customers found")
    expect(results.get_by_role("option")).to_have_count(1)
    expect(results.get_by_role("option")).to_contain_text("Budi Santoso")
    expect(results.get_by_role("option")).to_contain_text("Phone number +6281234567890")
    page.keyboard.press("ArrowDown")
    expect(results.get_by_role("option", selected=True)).to_contain_text("Budi Santoso")
    expect(box).to_have_attribute("aria-activedescendant", "global-search-option-0")
    page.keyboard.press("Enter")

    # The 360° page: not contacted yet, one order on the timeline.
    expect(page).to_have_url(f"{base}/customers/{budi.pk}/")
    expect(page.get_by_role("heading", name="Budi Santoso", level=1)).to_be_visible()
    page.wait_for_load_state("load")
    timeline = page.get_by_role("region", name="Timeline")
    entries = timeline.get_by_role("listitem")
    last_contact = page.locator("#last-contact")
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("Order INV/2024/0042")
    expect(last_contact).to_have_text("Not contacted yet")
    expect(trait(page, "Orders")).to_have_text("1")
    expect(trait(page, "Last contact")).to_have_text("—")
    # Marks this very page: after the call is logged, it is still here (no reload).
    page.evaluate("window.notReloaded = true")

    log_card = page.get_by_role("region", name="Log a call or interaction")
    log_card.get_by_role("combobox", name="Type").select_option(label="Call")
    log_card.get_by_role("radio", name="Outbound").check()
    log_card.get_by_role("combobox", name="Outcome").select_option(label="Reached")
    log_card.get_by_role("textbox", name="Summary").fill("Asked about the Gayo blend")
    log_card.get_by_role("button", name="Log interaction").click()

    expect(log_card.get_by_role("status")).to_have_text("Interaction logged.")
    expect(log_card.get_by_role("textbox", name="Summary")).to_have_value("")
    call = Interaction.objects.get(customer=budi)
    assert call.staff is not None
    assert (call.kind, call.direction, call.staff.username) == ("call", "outbound", "ani")
    when = timezone.localtime(call.occurred_at)
    logged_at = date_format(when, "j M Y, H:i")
    logged_on = date_format(when, "j M Y")

    def shows_the_call() -> None:
        expect(entries).to_have_count(2)
        expect(entries.first).to_contain_text("Outbound call")
        expect(entries.first).to_contain_text("Reached")
        expect(entries.first).to_contain_text("Asked about the Gayo blend")
        expect(entries.first).to_contain_text(f"{logged_at} · ani")
        expect(entries.nth(1)).to_contain_text("Order INV/2024/0042")
        expect(last_contact).to_have_text(f"Last contacted by ani on {logged_at} via Call")
        expect(trait(page, "Last contact")).to_contain_text(logged_on)
        expect(trait(page, "Last contact")).to_contain_text("ani · Call")
        expect(trait(page, "Orders")).to_have_text("1")

    shows_the_call()
    assert page.evaluate("window.notReloaded") is True

    page.reload()
    shows_the_call()
    expect(log_card.get_by_role("status")).to_have_count(0)
    assert page.evaluate("window.notReloaded") is None
