"""A staff member's first minutes in Kenal, in a real browser (Debian's Chromium)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from kenal.accounts.models import Role, User
from kenal.conftest import PASSWORD
from kenal.customers import services
from kenal.customers.models import Customer, SourceRecord
from kenal.customers.services import Origin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def budi(transactional_db: None) -> Customer:
    pos = Origin(source="pos")
    services.create_customer({"full_name": "Budiman Hartono", "phones": ["0813-9999-0000"]}, pos)
    services.create_customer({"full_name": "Siti Rahayu", "phones": ["+65 6123 4567"]}, pos)
    return services.create_customer(
        {"full_name": "Budi Santoso", "phones": ["+62 812 3456 7890"], "job_title": "Pedagang"},
        pos,
    )


def test_log_in_switch_language_find_edit_and_see_a_phone_error(
    page: Page, live_server: object, make_user: Callable[..., User], budi: Customer
) -> None:
    make_user("ani", Role.AGENT)
    base = str(live_server)

    page.goto(f"{base}/login/")
    page.fill("#id_username", "ani")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()

    page.locator("button[name=language][value=id]").click()
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.get_by_role("heading", name="Pelanggan")).to_be_visible()

    # The number is stored as +6281234567890; staff type it the way customers say it.
    page.locator("#id_q").press_sequentially("0812-3456-7890")
    results = page.locator("#customer-results")
    expect(results.get_by_role("link", name="Budi Santoso")).to_be_visible()
    expect(results.get_by_role("link", name="Budiman Hartono")).to_have_count(0)
    expect(results.get_by_role("link", name="Siti Rahayu")).to_have_count(0)

    results.get_by_role("link", name="Budi Santoso").click()
    page.locator(f"a[href$='/customers/{budi.pk}/edit/']").click()
    page.fill("#id_job_title", "Pemilik Toko")
    page.locator("form button[type=submit].button-primary").first.click()
    expect(page.locator("main")).to_contain_text("Pemilik Toko")
    budi.refresh_from_db()
    assert budi.job_title == "Pemilik Toko"

    page.locator(f"a[href$='/customers/{budi.pk}/edit/']").click()
    page.fill("input[name=phones-0-number]", "12ab")
    page.locator("form button[type=submit].button-primary").first.click()
    error = page.locator(".field-error").filter(has_text="12ab")
    expect(error).to_be_visible()
    expect(error).to_contain_text("nomor telepon")
    expect(page.locator("input[name=phones-0-number]")).to_have_value("12ab")
    assert list(budi.phones.values_list("number", flat=True)) == ["+6281234567890"]
    assert budi.source_records.filter(status=SourceRecord.Status.REJECTED).count() == 1
