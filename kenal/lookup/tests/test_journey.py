"""An agent finds a customer from the header's search box in a real browser (Debian's
Chromium): "/" focuses it, a phone number typed in another format finds the customer, the
arrow keys and Enter open their page; Ctrl+K and Escape work too."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from kenal.accounts.models import Role, User
from kenal.conftest import PASSWORD
from kenal.lookup.tests.helpers import make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    # The shortcuts are listened for once the deferred script has run.
    page.wait_for_load_state("load")


def test_find_a_caller_by_phone_and_open_their_page_with_the_keyboard(
    page: Page, live_server: object, make_user: Callable[..., User]
) -> None:
    sri = make("Sri Wahyuni", phones=["0812-3456-7890"])
    make("Budi Santoso", phones=["0813-1111-2222"])
    make_user("ani", Role.AGENT)
    base = str(live_server)
    sign_in(page, base, "ani")

    box = page.locator("#global-search")
    results = page.locator("#global-search-results")
    page.locator("body").press("/")
    expect(box).to_be_focused()
    page.keyboard.type("+62 812 3456 7890")
    expect(results).to_be_visible()
    expect(results.locator("a")).to_have_count(1)
    expect(results.locator("a").first).to_contain_text("Sri Wahyuni")
    expect(results.locator("a").first).to_contain_text("Phone number +6281234567890")

    box.press("ArrowDown")
    expect(results.locator("a").first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "global-search-option-0")
    box.press("Enter")
    expect(page).to_have_url(re.compile(rf"/customers/{sri.pk}/$"))
    expect(page.get_by_role("heading", name="Sri Wahyuni")).to_be_visible()


def test_ctrl_k_escape_and_the_results_page(
    page: Page, live_server: object, make_user: Callable[..., User]
) -> None:
    make("Budi Santoso")
    make("Budi Santoso Wijaya")
    make_user("ani", Role.AGENT)
    base = str(live_server)
    sign_in(page, base, "ani")

    box = page.locator("#global-search")
    results = page.locator("#global-search-results")
    page.keyboard.press("Control+k")
    expect(box).to_be_focused()
    page.keyboard.type("santosa budi")  # a typo, the words swapped
    expect(results.locator("a")).to_have_count(2)
    expect(results.locator("a").first).to_contain_text("Budi Santoso")

    box.press("Escape")
    expect(results).to_be_hidden()
    expect(box).to_be_focused()
    box.press("ArrowDown")  # the list opens again on the first result
    expect(results).to_be_visible()
    box.press("ArrowUp")  # and wraps round to the last
    expect(results.locator("a").nth(1)).to_have_attribute("aria-selected", "true")
    box.press("Escape")
    box.press("Escape")
    expect(box).not_to_be_focused()

    # "/" typed into another field is a character, not the shortcut.
    box.fill("")
    box.focus()
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=$"))
    page.wait_for_load_state("load")
    page.locator("#id_search_q").press_sequentially("a/b")
    expect(page.locator("#id_search_q")).to_have_value("a/b")

    # Enter with no result chosen opens the results page.
    page.locator("#global-search").fill("budi santoso")
    page.locator("#global-search").press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=budi\+santoso$"))
    expect(page.get_by_role("heading", name="2 results")).to_be_visible()
