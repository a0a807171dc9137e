"""Tracking sources: the websites and apps that send tracking calls, and their write keys.

Keys are made and checked as API keys are (:mod:`kenal.accounts.services`): 256 random bits
behind a recognisable mark, only their SHA-256 digest stored, looked up through a unique index.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kenal.accounts.models import User
from kenal.ingest.models import WRITE_KEY_MARK, TrackingSource

__all__ = [
    "SourceError",
    "SourceRefused",
    "authenticate",
    "create_source",
    "revoke_source",
]

KEY_BYTES = 32
NAME_LENGTH = TrackingSource._meta.get_field("name").max_length or 100
# As for API keys: to the minute is enough to spot unused sources, and saves a write per call.
LAST_USED_PRECISION = timedelta(minutes=1)


class SourceError(ValueError):
    """A source could not be created: ``field`` and what is wrong with its value."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(field, problem)
        self.field = field
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.field}: {self.problem}"


class SourceRefused(ValueError):
    """A write key is missing, unknown or revoked; the message says which."""


def _digest(key: str) -> str:
    # A fast hash is enough: the key is 256 random bits (see accounts.services._digest).
    return hashlib.sha256(key.encode()).hexdigest()


def create_source(name: str, created_by: User | None = None) -> tuple[TrackingSource, str]:
    """A new source and its write key: shown once, never stored."""
    name = " ".join(name.split())
    if not name:
        raise SourceError("name", _("must not be empty"))
    if len(name) > NAME_LENGTH:
        raise SourceError(
            "name",
            _("%(name)r is longer than %(limit)d characters")
            % {"name": name, "limit": NAME_LENGTH},
        )
    taken = _("%(name)r is already the name of a source; names are never reused") % {"name": name}
    if TrackingSource.objects.filter(name__iexact=name).exists():
        raise SourceError("name", taken)
    secret = secrets.token_urlsafe(KEY_BYTES)
    key = WRITE_KEY_MARK + secret
    try:
        with transaction.atomic():
            source = TrackingSource.objects.create(
                name=name, prefix=secret[:8], key_hash=_digest(key), created_by=created_by
            )
    except IntegrityError as exc:  # created at the same moment elsewhere
        raise SourceError("name", taken) from exc
    return source, key


def revoke_source(source: TrackingSource) -> TrackingSource:
    """Refuse the source's calls from now on; its events stay. Revoking twice keeps the first
    time."""
    if source.revoked_at is None:
        source.revoked_at = timezone.now()
        source.save(update_fields=["revoked_at"])
    return source


def authenticate(key: str) -> TrackingSource:
    """The source a write key belongs to; raises :class:`SourceRefused` saying why not."""
    key = key.strip()
    if not key:
        raise SourceRefused(
            _(
                "No write key: send the source's write key as the user name of HTTP Basic "
                "authentication (an empty password), or as writeKey in the body."
            )
        )
    source = TrackingSource.objects.filter(key_hash=_digest(key)).first()
    if source is None:
        raise SourceRefused(
            _("The write key %(start)s… is not the key of any tracking source.")
            % {"start": key[: len(WRITE_KEY_MARK) + 4]}
        )
    if source.revoked_at is not None:
        raise SourceRefused(
            _("The write key of source %(name)r was revoked on %(when)s.")
            % {"name": source.name, "when": source.revoked_at.isoformat(timespec="seconds")}
        )
    now = timezone.now()
    if source.last_used_at is None or now - source.last_used_at >= LAST_USED_PRECISION:
        TrackingSource.objects.filter(pk=source.pk).update(last_used_at=now)
    return source
