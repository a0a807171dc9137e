"""What every staff view needs from a request: the signed-in staff member, htmx details."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from kenal.accounts.models import User

__all__ = ["HtmxHttpRequest", "staff_user"]


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def staff_user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # LoginRequiredMiddleware lets no one else through
        raise PermissionDenied
    return user
