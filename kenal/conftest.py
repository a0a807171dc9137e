"""Fixtures shared by every app's tests."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import translation

from kenal.accounts.models import Role, User
from kenal.accounts.services import create_api_key, create_user
from kenal.identity import frequency

if TYPE_CHECKING:
    from playwright.sync_api import Page

PASSWORD = "correct-horse-battery-staple"  # noqa: S105 (test users only)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Each test starts in English: a request in Indonesian leaves its language active."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _no_remembered_names() -> Iterator[None]:
    """Matching remembers which name words are common; each test's database starts empty."""
    yield
    frequency.forget()


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    """Create a staff user with a role (password: ``PASSWORD``)."""

    def make(username: str = "staff", role: str = Role.AGENT, email: str = "") -> User:
        return create_user(username=username, email=email, role=role, password=PASSWORD)

    return make


@pytest.fixture
def key_for(make_user: Callable[..., User]) -> Callable[[str], str]:
    """A new API key acting as a new user with ``role``."""

    def create(role: str) -> str:
        user = make_user(f"{role}-api", role)
        return create_api_key(f"{role} integration", user)[1]

    return create


@pytest.fixture
def login(make_user: Callable[..., User]) -> Callable[..., Client]:
    """A test client logged in as a new user with ``role``."""

    def client_for(role: str = Role.AGENT, username: str | None = None) -> Client:
        client = Client()
        client.force_login(make_user(username or f"{role}-user", role))
        return client

    return client_for


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # The machine's network is closed; Chromium's background calls would only fail.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium; missing, the journey is skipped locally and fails under CI."""
    path = os.environ.get("KENAL_CHROMIUM", "/usr/bin/chromium")
    if not Path(path).exists():
        message = f"Chromium not found at {path} (apt-get install chromium, or set KENAL_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def page(chromium_path: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Page]:
    """A browser page in headless Chromium, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the live server's
    # database calls from here are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        yield context.new_page()
        context.close()
        browser.close()
        # Django's connections are per context, and the test body ran in this one: its
        # connection is closed here, so ending the other sessions below spares it.
        connection.close()
    _close_live_server_connections()


def _close_live_server_connections() -> None:
    """End the database sessions the live server's request threads still hold.

    Each thread keeps its connection until the browser's keep-alive socket closes, which can
    outlast the test; PostgreSQL then refuses to drop the test database at the end of the run.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


# --- a real SMTP server, in-process -----------------------------------------------------------


@dataclass
class SmtpServer:
    """An SMTP server on 127.0.0.1 that keeps every message it receives."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)


class _CollectingHandler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    # aiosmtpd calls the handler's handle_DATA for each message received.
    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=email_policy.default)
        assert isinstance(message, EmailMessage)
        self.server.messages.append(message)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) Django sends to for the test; read ``.messages``."""
    from aiosmtpd.controller import Controller

    server = SmtpServer(host="127.0.0.1", port=_free_port())
    controller = Controller(_CollectingHandler(server), hostname=server.host, port=server.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    try:
        yield server
    finally:
        controller.stop()
