"""The search box in every page's header, its htmx partial and the results page at /search/."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from kenal.accounts.models import Role, User
from kenal.customers.models import Customer
from kenal.lookup.tests.helpers import make

pytestmark = pytest.mark.django_db

SUGGEST = "/search/suggest/"


@pytest.fixture
def sri() -> Customer:
    return make("Sri Wahyuni", phones=["0812-3456-7890"], emails=["sri@contoh.co.id"])


def test_every_page_has_the_search_box_with_its_hooks(login: Callable[..., Client]) -> None:
    body = login(Role.VIEWER).get("/customers/").content.decode()
    assert re.search(r'<input type="search" id="global-search" name="q"', body)
    assert 'hx-get="/search/suggest/"' in body
    assert 'id="global-search-results"' in body
    assert 'action="/search/"' in body
    assert "/static/lookup/search.js" in body
    assert 'aria-keyshortcuts="/ Control+K Meta+K"' in body


def test_the_box_is_not_offered_to_whoever_may_not_see_customers(
    make_user: Callable[..., User],
) -> None:
    user = make_user("no-rights", Role.VIEWER)
    user.groups.clear()
    client = Client()
    client.force_login(user)
    login_page = Client().get("/login/").content.decode()
    assert 'id="global-search"' not in login_page
    assert client.get(SUGGEST, {"q": "sri"}).status_code == 403
    assert client.get("/search/", {"q": "sri"}).status_code == 403


def test_signed_out_visitors_are_sent_to_the_login_page() -> None:
    response = Client().get("/search/", {"q": "sri"})
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_partial_lists_results_as_links_to_the_customer_page(
    login: Callable[..., Client], sri: Customer
) -> None:
    make("Sri Wahyuni Putri")
    response = login(Role.AGENT).get(
        SUGGEST, {"q": "+62 812 3456 7890"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    links = re.findall(
        r'<a class="lookup-result" href="([^"]+)" id="global-search-option-(\d+)" role="option"',
        body,
    )
    assert links == [(f"/customers/{sri.pk}/", "0")]
    assert "Phone number +6281234567890" in body
    assert "sri@contoh.co.id" in body
    assert "HX-Request" in response["Vary"]


def test_the_partial_says_when_nothing_matches_and_is_empty_for_no_text(
    login: Callable[..., Client],
) -> None:
    client = login(Role.AGENT)
    nothing = client.get(SUGGEST, {"q": "zzqx"}, headers={"HX-Request": "true"})
    assert "No customer matches “zzqx”." in nothing.content.decode()
    assert client.get(SUGGEST, {"q": " "}).content.decode().strip() == ""


def test_the_results_page(login: Callable[..., Client], sri: Customer) -> None:
    make("Budi Santoso")
    client = login(Role.VIEWER)
    body = client.get("/search/", {"q": "sri wahyni"}).content.decode()
    assert "<h1>Search</h1>" in body
    assert 'value="sri wahyni"' in body
    assert "1 result" in body
    assert f'href="/customers/{sri.pk}/"' in body
    assert "Name close to the words typed (wahyni → wahyuni)" in body
    assert "Budi Santoso" not in body
    empty = client.get("/search/").content.decode()
    assert "result" not in empty.split("<h1>Search</h1>")[1].split("</form>")[1]


def test_the_results_page_is_escaped(login: Callable[..., Client]) -> None:
    body = login(Role.AGENT).get("/search/", {"q": "<script>alert(1)</script>"}).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_the_search_pages_only_answer_get(login: Callable[..., Client]) -> None:
    client = login(Role.AGENT)
    assert client.post("/search/", {"q": "sri"}).status_code == 405
    assert client.post(SUGGEST, {"q": "sri"}).status_code == 405
