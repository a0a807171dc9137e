"""What every staff view needs from a request: the signed-in staff member, who may see a
view, htmx details and the answer to an htmx request."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django_htmx.middleware import HtmxDetails

from kenal.accounts.models import User

__all__ = ["HtmxHttpRequest", "View", "only_for", "render_htmx", "staff_user"]

View = Callable[..., HttpResponse]


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def staff_user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # LoginRequiredMiddleware lets no one else through
        raise PermissionDenied
    return user


def only_for(may: Callable[[AbstractBaseUser | AnonymousUser], bool]) -> Callable[[View], View]:
    """A view decorator: the view answers 403 to a user for whom ``may(user)`` is false."""

    def decorator(view: View) -> View:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not may(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return checked

    return decorator


def render_htmx(
    request: HtmxHttpRequest, partial: str, page: str, context: Mapping[str, Any]
) -> HttpResponse:
    """Only the ``partial`` template for an htmx request, the whole ``page`` otherwise.

    A history restore (htmx reloading a page it no longer has) needs the whole page; the two
    answers are cached apart.
    """
    partial_only = request.htmx and not request.htmx.history_restore_request
    response = render(request, partial if partial_only else page, context)
    patch_vary_headers(response, ("HX-Request",))
    return response
