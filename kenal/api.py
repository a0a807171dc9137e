"""Kenal's REST API (django-ninja), served at /api/: who may call it and how errors look.

A request is authenticated by an API key (``Authorization: Bearer <key>`` or ``X-API-Key``),
which acts as the staff member it was created for, with their role; or by the session of a
staff member signed in to the web UI, whose unsafe requests must carry the CSRF token, as a
form would. Each endpoint then checks the permission its action needs.

Every error is JSON, ``{"detail": "..."}``; a refused value (400) adds ``errors``, one
``{"field", "value", "expected", "message"}`` per problem, the way the services report them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import (
    AuthenticationError,
    HttpError,
    ValidationError,
    ValidationErrorContext,
)
from ninja.security import APIKeyCookie, APIKeyHeader, HttpBearer
from ninja.utils import check_csrf

from kenal.accounts.models import User
from kenal.accounts.services import ApiKeyRefused, authenticate_api_key
from kenal.activity.api import router as activity_router
from kenal.activity.services import ActivityInvalid
from kenal.customers.api import router as customers_router
from kenal.customers.normalise import InvalidValue
from kenal.customers.services import CustomerInvalid
from kenal.identity.api import router as identity_router
from kenal.lookup.api import router as lookup_router

__all__ = ["api"]


class KeyRefused(AuthenticationError):
    """A key was sent but refused: the message says why (unknown, revoked, deactivated)."""


def _user_for_key(key: str) -> User:
    try:
        return authenticate_api_key(key)
    except ApiKeyRefused as exc:
        # Raised rather than returned as None: a wrong key must not fall through to the
        # session, and the caller learns why the key was refused.
        raise KeyRefused(message=str(exc)) from exc


class BearerKey(HttpBearer):
    """``Authorization: Bearer <key>``."""

    def authenticate(self, request: HttpRequest, token: str) -> User:
        return _user_for_key(token)


class HeaderKey(APIKeyHeader):
    """``X-API-Key: <key>``, for clients that cannot set the Authorization header."""

    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        return _user_for_key(key) if key else None


class StaffSession(APIKeyCookie):
    """The staff member signed in to the web UI; unsafe methods need the CSRF token.

    Without it any page a staff member visits could make their browser change customers.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            # No session: nothing to protect, and the answer is 401, not a CSRF refusal.
            return None
        if check_csrf(request) is not None:
            raise HttpError(
                403,
                _(
                    "CSRF check failed: a request signed in through the web UI must send the "
                    "page's CSRF token in the X-CSRFToken header; programs should use an API "
                    "key instead."
                ),
            )
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        return user if isinstance(user, User) else None


class KenalAPI(NinjaAPI):
    """The API, its views exempt from the login redirect of ``LoginRequiredMiddleware``.

    The API authenticates every request itself and answers 401 in JSON; a redirect to the
    login page would mean nothing to a program. The schema and its documentation page are
    public: they describe the endpoints, not any data.
    """

    @property
    def urls(self) -> tuple[list[URLResolver | URLPattern], str, str]:
        patterns, app_name, namespace = super().urls
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                login_not_required(pattern.callback)
        return patterns, app_name, namespace

    def validation_error_from_error_contexts(
        self, error_contexts: list[ValidationErrorContext[Any]]
    ) -> ValidationError:
        """Ninja's errors in Kenal's shape, keeping the refused value (ninja drops it)."""
        errors = []
        for context in error_contexts:
            model = context.model
            for error in context.pydantic_validation_error.errors(include_url=False):
                loc = model.__ninja_flatten_map_reverse__.get(error["loc"], error["loc"])
                if model.__ninja_param_source__ == "body":
                    loc = loc[1:]  # the endpoint's parameter name means nothing to the caller
                value = "" if error["type"] == "missing" else error["input"]
                errors.append(InvalidValue(_field_path(loc), value, _expected(error["msg"])))
        return ValidationError([error.as_dict() for error in errors])


def _field_path(loc: tuple[int | str, ...]) -> str:
    """``("emails", 0, "email")`` as ``emails[0].email``, the way services name fields."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else part
    return path or "body"  # the body as a whole, e.g. a list where an object belongs


def _expected(message: str) -> str:
    """Pydantic's message as what is expected: "Input should be a valid list" → "a valid list"."""
    if message == "Field required":
        return _("a value: the field is required")
    if message == "Extra inputs are not permitted":
        return _("no such field: only the fields the API documents are accepted")
    return message.removeprefix("Input should be ")


api = KenalAPI(
    title="Kenal API",
    version="1",
    description=(
        "Customer records of Kenal. Authenticate with an API key (Settings → API keys, or "
        "`kenal apikey create`) sent as `Authorization: Bearer <key>` or `X-API-Key: <key>`."
    ),
    urls_namespace="api",
    auth=[BearerKey(), HeaderKey(), StaffSession()],
)
api.add_router("/customers", customers_router, tags=["customers"])
api.add_router("", identity_router, tags=["duplicates and merges"])
api.add_router("", lookup_router, tags=["lookup"])
api.add_router("", activity_router, tags=["activity"])


def _error(request: HttpRequest, status: int, detail: str, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"detail": detail, **extra}, status=status)


@api.exception_handler(CustomerInvalid)
def customer_invalid(request: HttpRequest, exc: CustomerInvalid) -> HttpResponse:
    extra: dict[str, Any] = {"errors": [error.as_dict() for error in exc.errors]}
    if exc.source_record is not None:
        # What was sent is kept; the caller can refer to it when correcting the values.
        extra["source_record"] = exc.source_record.pk
    return _error(request, 400, str(exc), **extra)


@api.exception_handler(ActivityInvalid)
def activity_invalid(request: HttpRequest, exc: ActivityInvalid) -> HttpResponse:
    return _error(request, 400, str(exc), errors=[error.as_dict() for error in exc.errors])


@api.exception_handler(InvalidValue)
def invalid_value(request: HttpRequest, exc: InvalidValue) -> HttpResponse:
    return _error(request, 400, str(exc), errors=[exc.as_dict()])


@api.exception_handler(ValidationError)
def request_invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """A parameter or body of the wrong shape: 400, like every refused value (not 422)."""
    detail = "; ".join(error["message"] for error in exc.errors)
    return _error(request, 400, detail, errors=exc.errors)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    detail = (
        str(exc)
        if isinstance(exc, KeyRefused)
        else _(
            "Authentication required: send an API key as 'Authorization: Bearer <key>' or "
            "'X-API-Key: <key>', or sign in to the web UI."
        )
    )
    response = _error(request, 401, detail)
    response["WWW-Authenticate"] = 'Bearer realm="Kenal API"'
    return response


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, str(exc) or _("You may not do this."))
