"""The web shell: logging in and out, the layout, languages, static files, error pages."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.test import Client

from kenal.accounts.models import Role, User
from kenal.conftest import PASSWORD


def test_pages_need_a_login(client: Client, db: None) -> None:
    response = client.get("/customers/?q=budi")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/customers/%3Fq%3Dbudi"
    assert client.get("/").status_code == 302


def test_login_page_renders_and_logs_in(client: Client, make_user: Callable[..., User]) -> None:
    make_user("sari", Role.AGENT)
    page = client.get("/login/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="username"' in body
    assert 'name="password"' in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert 'class="sidenav"' not in body  # no navigation before logging in

    wrong = client.post("/login/", {"username": "sari", "password": "nope"})
    assert wrong.status_code == 200
    assert 'role="alert"' in wrong.content.decode()

    response = client.post("/login/", {"username": "sari", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/customers/"


def test_home_goes_to_the_customer_list(login: Callable[..., Client]) -> None:
    response = login(Role.AGENT).get("/")
    assert response.status_code == 302
    assert response["Location"] == "/customers/"


def test_logout_is_a_post_with_csrf(login: Callable[..., Client]) -> None:
    client = login(Role.AGENT)
    body = client.get("/customers/").content.decode()
    form = re.search(r'<form action="/logout/" method="post"[^>]*>(.*?)</form>', body, re.S)
    assert form is not None
    assert 'name="csrfmiddlewaretoken"' in form.group(1)
    assert client.post("/logout/").status_code == 302
    assert client.get("/customers/").status_code == 302  # logged out


def test_layout_navigation(login: Callable[..., Client]) -> None:
    body = login(Role.MANAGER, username="maya").get("/customers/").content.decode()
    assert '<html lang="en">' in body
    assert 'aria-current="page">' in body
    assert re.search(r'href="/customers/" class="nav-link is-active"', body)
    assert 'href="/imports/" class="nav-link"' in body  # managers import
    assert 'href="/duplicates/" class="nav-link"' in body
    for soon in ("Segments", "Insights", "Campaigns", "Privacy"):
        item = re.search(rf'<span class="nav-link is-soon" aria-disabled="true">{soon} <span', body)
        assert item is not None, soon
    assert body.count('class="badge badge-soon"') == 4
    assert "maya" in body
    assert "Manager" in body
    assert 'href="/admin/"' in body  # managers are staff: the back office is linked


def test_settings_link_only_when_the_fields_page_exists(login: Callable[..., Client]) -> None:
    from django.urls import NoReverseMatch, reverse

    body = login(Role.AGENT).get("/customers/").content.decode()
    try:
        fields_url = reverse("fields:list")
    except NoReverseMatch:
        assert "Custom fields" not in body
    else:
        assert f'href="{fields_url}"' in body


def test_htmx_comes_from_the_installed_package(login: Callable[..., Client]) -> None:
    body = login(Role.AGENT).get("/customers/").content.decode()
    script = re.search(r'<script src="(/static/django_htmx/htmx[^"]*\.js)"', body)
    assert script is not None
    assert "unpkg" not in body
    assert "cdn" not in body.lower()
    served = Client().get(script.group(1))
    assert served.status_code == 200
    assert b"htmx" in b"".join(served.streaming_content)  # type: ignore[attr-defined]


def test_stylesheet_is_served(client: Client, db: None) -> None:
    page = client.get("/login/").content.decode()
    assert '<link rel="stylesheet" href="/static/kenal/kenal.css">' in page
    response = client.get("/static/kenal/kenal.css")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert b".topbar" in b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_language_switch(login: Callable[..., Client]) -> None:
    client = login(Role.AGENT)
    page = client.get("/customers/?q=x").content.decode()
    switch = re.search(
        r'<form class="lang-switch" action="([^"]+)" method="post">(.*?)</form>', page, re.S
    )
    assert switch is not None
    assert switch.group(1) == "/i18n/setlang/"
    assert '<input type="hidden" name="next" value="/customers/?q=x">' in switch.group(2)
    assert 'value="id"' in switch.group(2)
    assert "Bahasa Indonesia" in switch.group(2)
    assert 'value="en"' in switch.group(2)
    assert "English" in switch.group(2)

    response = client.post("/i18n/setlang/", {"language": "id", "next": "/customers/"})
    assert response.status_code == 302
    assert response["Location"] == "/customers/"
    page = client.get("/customers/").content.decode()
    assert '<html lang="id">' in page
    assert 'value="id" lang="id" title="Bahasa Indonesia" aria-pressed="true"' in page


def test_language_switch_works_before_logging_in(client: Client, db: None) -> None:
    response = client.post("/i18n/setlang/", {"language": "id", "next": "/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert '<html lang="id">' in client.get("/login/").content.decode()


def test_not_found_page(login: Callable[..., Client]) -> None:
    response = login(Role.AGENT).get("/no-such-page/")
    assert response.status_code == 404
    assert "This page does not exist" in response.content.decode()


def test_forbidden_page(login: Callable[..., Client]) -> None:
    response = login(Role.VIEWER).get("/customers/new/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "You are not allowed to do this" in body
    assert 'class="sidenav"' in body  # still inside the layout
