"""API keys: created and shown once, stored as a digest, refused once revoked; managed from
`kenal apikey` and from Settings → API keys (administrators only)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from kenal.accounts.models import ApiKey, Role, User
from kenal.accounts.services import (
    ApiKeyError,
    ApiKeyRefused,
    authenticate_api_key,
    create_api_key,
    revoke_api_key,
)
from kenal.cli import overview

KEY_PATTERN = re.compile(r"^kenal_[A-Za-z0-9_-]{43}$")  # 32 random bytes, base64url


@pytest.fixture
def ani(make_user: Callable[..., User]) -> User:
    return make_user("ani", Role.AGENT)


# --- services -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_key_is_returned_once_and_only_its_digest_is_stored(ani: User) -> None:
    api_key, key = create_api_key("  Online shop ", ani)
    assert KEY_PATTERN.match(key)
    stored = ApiKey.objects.get(pk=api_key.pk)
    assert stored.name == "Online shop"
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert stored.prefix == key.removeprefix("kenal_")[:8]
    assert stored.display_prefix == f"kenal_{stored.prefix}…"
    row = ApiKey.objects.filter(pk=api_key.pk).values().get()
    assert not any(key in str(value) for value in row.values())
    assert create_api_key("Online shop", ani)[1] != key  # every key is new


@pytest.mark.django_db
def test_a_key_authenticates_as_its_user_and_records_its_use(ani: User) -> None:
    api_key, key = create_api_key("shop", ani)
    assert authenticate_api_key(key) == ani
    first_use = ApiKey.objects.get(pk=api_key.pk).last_used_at
    assert first_use is not None
    authenticate_api_key(key)  # within the minute: not written again
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at == first_use
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=first_use - timedelta(minutes=5))
    authenticate_api_key(key)
    last_used = ApiKey.objects.get(pk=api_key.pk).last_used_at
    assert last_used is not None
    assert last_used > first_use


@pytest.mark.django_db
def test_an_unknown_key_is_refused(ani: User) -> None:
    _api_key, key = create_api_key("shop", ani)
    with pytest.raises(ApiKeyRefused, match=r"^The API key is not valid\.$"):
        authenticate_api_key(key + "x")


@pytest.mark.django_db
def test_a_revoked_key_is_refused_and_keeps_its_first_revocation(ani: User) -> None:
    api_key, key = create_api_key("shop", ani)
    revoke_api_key(api_key)
    revoked_at = api_key.revoked_at
    assert revoked_at is not None
    with pytest.raises(ApiKeyRefused, match=rf"^The API key kenal_{api_key.prefix}… was revoked"):
        authenticate_api_key(key)
    revoke_api_key(ApiKey.objects.get(pk=api_key.pk))
    assert ApiKey.objects.get(pk=api_key.pk).revoked_at == revoked_at


@pytest.mark.django_db
def test_bad_key_requests_name_the_field(ani: User) -> None:
    with pytest.raises(ApiKeyError, match=r"^name: must not be empty$"):
        create_api_key("   ", ani)
    with pytest.raises(ApiKeyError, match=r"^name: .* is longer than 100 characters$"):
        create_api_key("x" * 101, ani)
    ani.is_active = False
    ani.save()
    with pytest.raises(ApiKeyError, match=r"^user: 'ani' is deactivated"):
        create_api_key("shop", ani)
    assert not ApiKey.objects.exists()


# --- kenal apikey ---------------------------------------------------------------------------


def apikey(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("apikey", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_the_command_prints_a_new_key_alone_on_standard_output(ani: User) -> None:
    out, err = apikey("create", "Online shop", "--user", "ani")
    key = out.strip()
    assert KEY_PATTERN.match(key)
    assert authenticate_api_key(key) == ani
    api_key = ApiKey.objects.get()
    assert f"Created API key {api_key.pk} ('Online shop') acting as ani (agent)" in err
    assert "shown only this once" in err


@pytest.mark.django_db
def test_the_command_lists_keys_without_revealing_them(ani: User) -> None:
    assert apikey("list")[0].strip() == "No API keys."
    shop, shop_key = create_api_key("Online shop", ani)
    till, _till_key = create_api_key("Till", ani)
    revoke_api_key(till)
    out, _err = apikey("list")
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "USER", "KEY", "CREATED", "LAST", "USED", "STATUS"]
    assert shop.display_prefix in lines[1]
    assert lines[1].split()[-2:] == ["never", "active"]
    assert "revoked" in lines[2]
    assert shop_key not in out


@pytest.mark.django_db
def test_the_command_revokes_a_key(ani: User) -> None:
    api_key, key = create_api_key("shop", ani)
    out, _err = apikey("revoke", str(api_key.pk))
    assert out.strip() == f"Revoked API key {api_key.pk} ('shop'): refused from now on."
    with pytest.raises(ApiKeyRefused):
        authenticate_api_key(key)
    again, _err = apikey("revoke", str(api_key.pk))
    assert "was already revoked on" in again


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create", "shop", "--user", "nobody"), "^--user: no staff member has the username"),
        (("create", " ", "--user", "ani"), "^name: must not be empty$"),
        (("revoke", "999"), "^id: no API key has the id 999"),
    ],
)
def test_the_command_names_what_is_wrong(ani: User, args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        apikey(*args)


def test_kenal_help_lists_the_command() -> None:
    assert re.search(r"^  apikey +Manage REST API keys", overview(), re.MULTILINE)


# --- Settings → API keys --------------------------------------------------------------------

PAGE = "/settings/api-keys/"


@pytest.mark.django_db
def test_an_administrator_creates_a_key_and_sees_it_once(
    login: Callable[..., Client], ani: User
) -> None:
    client = login(Role.ADMIN, "boss")
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "No API keys yet" in page.content.decode()
    created = client.post(f"{PAGE}new/", {"name": "Call centre", "user": ani.pk})
    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    match = re.search(r'value="(kenal_[^"]+)"', created.content.decode())
    assert match is not None
    key = match.group(1)
    assert authenticate_api_key(key) == ani
    api_key = ApiKey.objects.get()
    assert api_key.created_by is not None
    assert api_key.created_by.username == "boss"
    listed = client.get(PAGE).content.decode()
    assert api_key.display_prefix in listed
    assert key not in listed
    # The list says whom the key acts as, and offers to revoke it.
    assert "Acts as" in listed
    assert f"{ani.username} <span" in listed
    assert f'action="{PAGE}{api_key.pk}/revoke/"' in listed


@pytest.mark.django_db
def test_a_refused_key_request_is_shown_on_the_form(
    login: Callable[..., Client], ani: User
) -> None:
    client = login(Role.ADMIN, "boss")
    response = client.post(f"{PAGE}new/", {"name": "", "user": ""})
    assert response.status_code == 200
    assert response.content.decode().count('class="field-error"') == 2
    too_long = client.post(f"{PAGE}new/", {"name": "x" * 101, "user": ani.pk})
    assert "is longer than 100 characters" in too_long.content.decode()
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
def test_an_administrator_revokes_a_key(login: Callable[..., Client], ani: User) -> None:
    client = login(Role.ADMIN, "boss")
    api_key, key = create_api_key("shop", ani)
    response = client.post(f"{PAGE}{api_key.pk}/revoke/", follow=True)
    assert "is revoked" in response.content.decode()
    with pytest.raises(ApiKeyRefused):
        authenticate_api_key(key)
    assert client.get(f"{PAGE}{api_key.pk}/revoke/").status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.MANAGER, Role.AGENT, Role.VIEWER])
def test_only_administrators_manage_keys(
    login: Callable[..., Client], ani: User, role: str
) -> None:
    client = login(role)
    api_key, key = create_api_key("shop", ani)
    assert client.get(PAGE).status_code == 403
    assert client.post(f"{PAGE}new/", {"name": "mine", "user": ani.pk}).status_code == 403
    assert client.post(f"{PAGE}{api_key.pk}/revoke/").status_code == 403
    assert authenticate_api_key(key) == ani
    assert ApiKey.objects.count() == 1
    assert "API keys" not in client.get("/customers/").content.decode()


@pytest.mark.django_db
def test_administrators_find_the_page_in_the_navigation(login: Callable[..., Client]) -> None:
    html = login(Role.ADMIN, "boss").get("/customers/").content.decode()
    assert f'href="{PAGE}"' in html
