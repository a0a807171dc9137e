"""The public pages in an iframe and in two languages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kenal.accounts.models import Role

from .conftest import post_form

pytestmark = pytest.mark.django_db


def test_the_form_may_be_framed_by_the_allowed_sites_only(make_form) -> None:
    form = make_form(allowed_origins=("https://shop.example.com", "https://*.example.org"))

    page = Client().get(reverse("public_forms:form", args=["members"]))
    thanks = Client().get(
        post_form(Client(), form, {"full_name": "A", "email": "a@example.com"})["Location"]
    )

    for response in (page, thanks):
        assert "X-Frame-Options" not in response
        assert response["Content-Security-Policy"] == (
            "frame-ancestors 'self' https://shop.example.com https://*.example.org"
        )


def test_without_allowed_sites_only_kenal_may_frame_it(make_form) -> None:
    make_form()

    response = Client().get(reverse("public_forms:form", args=["members"]))

    assert response["Content-Security-Policy"] == "frame-ancestors 'self'"


def test_staff_pages_still_refuse_every_frame(login, make_form) -> None:
    make_form()

    response = login(Role.MANAGER).get(reverse("hosted_forms:list"))

    assert response["X-Frame-Options"] == "DENY"


def test_the_language_follows_the_lang_parameter_or_the_browser(make_form) -> None:
    make_form()
    url = reverse("public_forms:form", args=["members"])

    by_parameter = Client().get(url, {"lang": "id"}).content.decode()
    by_browser = Client(HTTP_ACCEPT_LANGUAGE="id").get(url).content.decode()
    english = Client().get(url).content.decode()

    assert '<html lang="id">' in by_parameter
    assert 'name="lang" value="id"' in by_parameter
    assert '<html lang="id">' in by_browser
    assert '<html lang="en">' in english


def test_an_unknown_form_is_not_found() -> None:
    assert Client().get("/f/nothing-here/").status_code == 404
