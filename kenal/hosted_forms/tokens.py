"""Signed tokens: the per-render form token, update links and email confirmations.

Each kind has its own salt, so a token made for one purpose is refused for another. The
issue time travels inside the signed payload and is checked against the ``now`` the caller
passes, so every rule is testable without waiting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core import signing

FORM_SALT = "kenal.hosted_forms.render"
UPDATE_SALT = "kenal.hosted_forms.update"
CONFIRM_SALT = "kenal.hosted_forms.confirm"


class TokenInvalid(ValueError):
    """The token was not made by this installation, was altered, or is for something else."""


class TokenExpired(ValueError):
    """The token is genuine but older than it may be."""


def make(payload: Mapping[str, Any], *, salt: str, now: dt.datetime) -> str:
    return signing.dumps({**payload, "t": int(now.timestamp())}, salt=salt, compress=True)


def read(token: str, *, salt: str, now: dt.datetime, max_age: dt.timedelta) -> dict[str, Any]:
    """The payload of a genuine, unexpired token; its age is ``now`` minus the issue time."""
    try:
        payload = signing.loads(token, salt=salt)
    except signing.BadSignature as exc:
        raise TokenInvalid(token) from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("t"), int):
        raise TokenInvalid(token)
    if age(payload, now) > max_age:
        raise TokenExpired(token)
    return payload


def age(payload: Mapping[str, Any], now: dt.datetime) -> dt.timedelta:
    return now - dt.datetime.fromtimestamp(payload["t"], tz=dt.UTC)
