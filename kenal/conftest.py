"""Fixtures shared by every app's tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from kenal.accounts.models import Role, User
from kenal.accounts.services import create_user

PASSWORD = "correct-horse-battery-staple"  # noqa: S105 (test users only)


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    """Create a staff user with a role (password: ``PASSWORD``)."""

    def make(username: str = "staff", role: str = Role.AGENT, email: str = "") -> User:
        return create_user(username=username, email=email, role=role, password=PASSWORD)

    return make


@pytest.fixture
def login(make_user: Callable[..., User]) -> Callable[..., Client]:
    """A test client logged in as a new user with ``role``."""

    def client_for(role: str = Role.AGENT, username: str | None = None) -> Client:
        client = Client()
        client.force_login(make_user(username or f"{role}-user", role))
        return client

    return client_for
