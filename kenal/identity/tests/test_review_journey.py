"""A manager reviews a possible duplicate in a real browser (Debian's Chromium): opens the
queue, compares the two customers, merges them keeping one value from each, then undoes it."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from kenal.accounts.models import Role, User
from kenal.conftest import PASSWORD
from kenal.customers import services
from kenal.customers.models import Customer
from kenal.customers.services import Origin
from kenal.identity.models import CandidatePair, Merge
from kenal.identity.tests.helpers import NAMES_CLOSE, SAME_BIRTH_DATE, propose

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pair(transactional_db: None) -> CandidatePair:
    budi = services.create_customer(
        {
            "full_name": "Budi Santoso",
            "birth_date": "1990-05-12",
            "job_title": "Pedagang",
            "phones": ["0812-3456-7890"],
        },
        Origin(source="pos"),
    )
    boedi = services.create_customer(
        {
            "full_name": "Boedi Santoso",
            "birth_date": "1990-05-12",
            "job_title": "Pemilik Toko",
            "emails": ["boedi@contoh.id"],
        },
        Origin(source="tokopedia"),
    )
    return propose(budi, boedi, 0.93, [NAMES_CLOSE, SAME_BIRTH_DATE])


def test_review_a_duplicate_merge_it_and_undo_the_merge(
    page: Page, live_server: object, make_user: Callable[..., User], pair: CandidatePair
) -> None:
    make_user("maya", Role.MANAGER)
    base = str(live_server)
    page.goto(f"{base}/login/")
    page.fill("#id_username", "maya")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # The queue, from the navigation, which says how many pairs wait.
    duplicates = page.get_by_role("link", name=re.compile(r"^Duplicates"))
    expect(duplicates).to_contain_text("1")
    duplicates.click()
    expect(page.get_by_role("heading", name="Duplicates")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Boedi Santoso")
    expect(row).to_contain_text("Budi Santoso")
    expect(row).to_contain_text("93%")
    expect(row).to_contain_text("Same birth date")
    row.get_by_role("link", name="Compare").click()

    # Side by side, with why they may be one person; Budi's record is kept by default.
    expect(page.get_by_role("heading", name="Budi Santoso or Boedi Santoso?")).to_be_visible()
    expect(page.get_by_text("Names agree after spelling normalisation")).to_be_visible()
    expect(page.get_by_text("boedi@contoh.id")).to_be_visible()
    keep = page.get_by_role("radio", name="Keep this customer")
    expect(keep.first).to_be_checked()
    # The survivorship rules suggest the most recent values, Boedi's; the reviewer keeps
    # Budi's name and takes the suggested job title.
    expect(page.get_by_role("radio", name="Boedi Santoso")).to_be_checked()
    expect(page.get_by_role("radio", name="Pemilik Toko")).to_be_checked()
    page.get_by_role("radio", name="Budi Santoso").check()
    page.get_by_role("button", name="Merge", exact=True).click()

    # The survivor's page, with the chosen value, and a way back.
    expect(page.get_by_role("heading", name="Budi Santoso", exact=True)).to_be_visible()
    messages = page.locator(".messages")
    expect(messages).to_contain_text(
        f"Boedi Santoso (#{pair.right_id}) was merged into Budi Santoso (#{pair.left_id})."
    )
    expect(page.locator("main")).to_contain_text("Pemilik Toko")
    expect(page.locator("main")).to_contain_text("boedi@contoh.id")
    assert Customer.objects.get(pk=pair.right_id).merged_into_id == pair.left_id

    # The queue is empty now; the merge is listed, and undone from there.
    page.get_by_role("link", name="Duplicates", exact=True).click()
    expect(page.get_by_text("No possible duplicates waiting")).to_be_visible()
    page.get_by_role("link", name="Merges").click()
    merge = Merge.objects.get()
    listed = page.locator(f"#merge-{merge.pk}")
    expect(listed).to_contain_text("Budi Santoso")
    expect(listed).to_contain_text("Boedi Santoso")
    listed.get_by_role("link", name="Undo").click()
    expect(
        page.get_by_role(
            "heading",
            name=f"Undo the merge of Boedi Santoso (#{pair.right_id}) "
            f"into Budi Santoso (#{pair.left_id})?",
        )
    ).to_be_visible()
    page.get_by_role("button", name="Undo the merge").click()
    expect(page.locator(".messages")).to_contain_text(
        "Boedi Santoso and Budi Santoso are two customers again."
    )
    expect(page.locator(f"#merge-{merge.pk}")).to_contain_text("undone")

    # Both customers are back, each with their own values.
    page.get_by_role("link", name="Customers", exact=True).click()
    results = page.locator("#customer-results")
    expect(results.get_by_role("link", name="Boedi Santoso")).to_be_visible()
    results.get_by_role("link", name="Budi Santoso").click()
    expect(page.locator("main")).to_contain_text("Pedagang")
    expect(page.locator("main")).not_to_contain_text("boedi@contoh.id")
