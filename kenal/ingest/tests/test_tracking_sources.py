"""Tracking sources: `kenal source`, and Settings > Tracking sources."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from kenal.accounts.models import Role
from kenal.ingest.models import WRITE_KEY_MARK, TrackingSource
from kenal.ingest.sources import SourceError, SourceRefused, authenticate, create_source

pytestmark = pytest.mark.django_db


def source_command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("source", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_prints_the_key_alone_and_stores_only_its_digest() -> None:
    out, err = source_command("create", "Online shop")
    key = out.strip()
    assert key.startswith(WRITE_KEY_MARK)
    assert "shown only this once" in err
    source = TrackingSource.objects.get()
    assert source.name == "Online shop"
    assert key not in (source.key_hash, source.prefix)
    assert authenticate(key) == source


def test_list_and_revoke() -> None:
    source_command("create", "Online shop")
    out, _err = source_command("list")
    assert "Online shop" in out
    assert "active" in out
    out, _err = source_command("revoke", "online shop")
    assert "Revoked source 'Online shop'" in out
    assert "revoked" in source_command("list")[0]
    assert "already revoked" in source_command("revoke", "Online shop")[0]


def test_command_errors_name_the_field() -> None:
    source_command("create", "Online shop")
    with pytest.raises(CommandError, match="name: 'online shop' is already the name"):
        source_command("create", "online  shop")
    with pytest.raises(CommandError, match="name: no tracking source is named 'Nope'"):
        source_command("revoke", "Nope")
    with pytest.raises(CommandError, match="name: must not be empty"):
        source_command("create", "  ")
    assert source_command("list")[0].count("Online shop") == 1


def test_names_are_limited_and_revoked_keys_refused() -> None:
    with pytest.raises(SourceError, match="longer than 100 characters"):
        create_source("x" * 101)
    source, key = create_source("Shop")
    call_command("source", "revoke", "Shop", stdout=io.StringIO())
    with pytest.raises(SourceRefused, match="was revoked on"):
        authenticate(key)
    assert source.pk


# --- the settings page ------------------------------------------------------------------------


def test_a_manager_creates_a_source_and_sees_the_key_once(login: Callable[..., Client]) -> None:
    client = login(Role.MANAGER)
    page = client.get("/settings/sources/")
    assert page.status_code == 200
    assert "No tracking sources yet" in page.content.decode()
    created = client.post("/settings/sources/new/", {"name": "Online shop"})
    assert created.status_code == 200
    assert "no-cache" in created["Cache-Control"]
    html = created.content.decode()
    key = html.split('id="write-key" type="text" value="')[1].split('"')[0]
    assert authenticate(key).name == "Online shop"
    listed = client.get("/settings/sources/").content.decode()
    assert "Online shop" in listed
    assert key not in listed
    source = TrackingSource.objects.get()
    assert source.created_by is not None
    assert source.display_prefix in listed
    assert f'action="/settings/sources/{source.pk}/revoke/"' in listed


def test_the_page_reports_a_taken_name(login: Callable[..., Client]) -> None:
    create_source("Online shop")
    client = login(Role.ADMIN)
    response = client.post("/settings/sources/new/", {"name": "online shop"})
    assert "is already the name of a source" in response.content.decode()
    assert TrackingSource.objects.count() == 1


def test_a_manager_revokes_a_source(login: Callable[..., Client]) -> None:
    source, _key = create_source("Online shop")
    client = login(Role.MANAGER)
    response = client.post(f"/settings/sources/{source.pk}/revoke/", follow=True)
    assert "is revoked" in response.content.decode()
    source.refresh_from_db()
    assert source.is_revoked


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_agents_and_viewers_may_not_manage_sources(login: Callable[..., Client], role: str) -> None:
    client = login(role)
    assert client.get("/settings/sources/").status_code == 403
    assert client.post("/settings/sources/new/", {"name": "X"}).status_code == 403
    assert not TrackingSource.objects.exists()


def test_the_page_needs_a_csrf_token(make_user: Callable[..., object]) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("boss", Role.MANAGER))  # type: ignore[arg-type]
    assert client.post("/settings/sources/new/", {"name": "X"}).status_code == 403
