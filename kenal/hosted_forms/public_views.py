"""The public pages of hosted forms: the form, its thank-you page, update links and the
double opt-in confirmation. Nobody logs in to use them.

Embedding: the global X-Frame-Options DENY is lifted for the form pages only, and a
Content-Security-Policy frame-ancestors header names the sites the form allows.

CSRF: a form embedded on another site is a cross-site iframe, where browsers do not send
Django's SameSite=Lax CSRF cookie, so the cookie check would refuse every submission. The
POSTs are exempt from it because (1) they act on no one's session or login — nothing a
forged request could borrow — and (2) each rendered form carries its own signed, per-render
token (the time-check token) that a submission must return: only a page Kenal rendered,
less than a day ago, can be submitted, which is the role the CSRF token plays elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from kenal.hosted_forms import services
from kenal.hosted_forms.models import SignupForm
from kenal.hosted_forms.services import (
    SubmissionInvalid,
    SubmissionRefused,
    TokenExpired,
    TokenInvalid,
)

View = Callable[..., HttpResponse]


def public(view: View) -> View:
    """A page anyone may open, never cached (each render carries a fresh token)."""
    return login_not_required(never_cache(view))


def _language(request: HttpRequest) -> str:
    """?lang= (or the posted lang) wins over the browser's Accept-Language."""
    wanted = request.GET.get("lang") or request.POST.get("lang") or ""
    if wanted in dict(settings.LANGUAGES):
        translation.activate(wanted)
        request.LANGUAGE_CODE = wanted
    return translation.get_language() or settings.LANGUAGE_CODE


def _framable(response: HttpResponse, form: SignupForm) -> HttpResponse:
    ancestors = " ".join(["'self'", *form.allowed_origins])
    response["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
    return response


def _form_data(request: HttpRequest) -> dict[str, list[str]]:
    return dict(request.POST.lists())


def _site_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _active_form(slug: str) -> SignupForm:
    return get_object_or_404(SignupForm, slug=slug)


@public
@xframe_options_exempt
@csrf_exempt  # see the module docstring: the signed per-render token stands in for it
@require_http_methods(["GET", "POST"])
def form_page(request: HttpRequest, slug: str) -> HttpResponse:
    form = _active_form(slug)
    language = _language(request)
    if not form.is_active:
        return _framable(
            render(request, "hosted_forms/public/closed.html", {"form": form}, status=410), form
        )
    if request.method != "POST":
        return _render_form(request, form, {}, language=language)
    return _submit(request, form, language=language)


@public
@xframe_options_exempt
@csrf_exempt  # see the module docstring
@require_http_methods(["GET", "POST"])
def update_page(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    form = _active_form(slug)
    language = _language(request)
    if not form.is_active:
        return _framable(
            render(request, "hosted_forms/public/closed.html", {"form": form}, status=410), form
        )
    try:
        customer = services.update_target(form, token, now=timezone.now())
    except (TokenInvalid, TokenExpired) as exc:
        return _bad_link(request, form, expired=isinstance(exc, TokenExpired))
    if request.method == "POST":
        return _submit(request, form, language=language, update_token=token)
    values = services.current_values(form, customer)
    ticked = services.granted_purposes(customer)
    return _render_form(request, form, values, ticked=ticked, language=language, update=True)


def _submit(
    request: HttpRequest, form: SignupForm, *, language: str, update_token: str = ""
) -> HttpResponse:
    data = _form_data(request)
    values = services.submitted_values(form, data)
    ticked = services.ticked_purposes(form, data)
    again: dict[str, Any] = {"ticked": ticked, "language": language, "update": bool(update_token)}
    try:
        result = services.submit(
            form,
            data,
            ip=request.META.get("REMOTE_ADDR", ""),
            now=timezone.now(),
            language=language,
            site_url=_site_url(request),
            update_token=update_token,
        )
    except SubmissionRefused as exc:
        return _render_form(request, form, values, refusal=exc.message, status=exc.status, **again)
    except SubmissionInvalid as exc:
        return _render_form(
            request,
            form,
            values,
            errors=exc.field_errors,
            general=exc.general_errors,
            status=400,
            **again,
        )
    except (TokenInvalid, TokenExpired) as exc:
        return _bad_link(request, form, expired=isinstance(exc, TokenExpired))
    query = f"?lang={language}" + ("&confirm=1" if result.awaiting_confirmation else "")
    return redirect(reverse("public_forms:thanks", args=[form.slug]) + query)


def _render_form(
    request: HttpRequest,
    form: SignupForm,
    values: Mapping[str, str | list[str]],
    *,
    language: str,
    ticked: Collection[str] = (),
    errors: Mapping[str, list[str]] | None = None,
    general: Collection[str] = (),
    refusal: str = "",
    status: int = 200,
    update: bool = False,
) -> HttpResponse:
    context = {
        "form": form,
        "inputs": services.public_inputs(form, values, errors),
        "boxes": services.consent_boxes(form, ticked),
        "token": services.render_token(form, timezone.now()),
        "token_field": services.TOKEN_FIELD,
        "honeypot": services.HONEYPOT,
        "general_errors": list(general),
        "refusal": refusal,
        "language": language,
        "update": update,
    }
    response = render(request, "hosted_forms/public/form.html", context, status=status)
    return _framable(response, form)


def _bad_link(request: HttpRequest, form: SignupForm, *, expired: bool) -> HttpResponse:
    context = {"form": form, "expired": expired, "kind": "update"}
    return _framable(
        render(request, "hosted_forms/public/bad_link.html", context, status=400), form
    )


@public
@xframe_options_exempt
@require_GET
def thanks_page(request: HttpRequest, slug: str) -> HttpResponse:
    form = _active_form(slug)
    _language(request)
    context = {"form": form, "confirm": request.GET.get("confirm") == "1"}
    return _framable(render(request, "hosted_forms/public/thanks.html", context), form)


@public
@require_GET
def confirm_page(request: HttpRequest, token: str) -> HttpResponse:
    """The double opt-in link from the email (a top-level page: never framed)."""
    _language(request)
    try:
        result = services.confirm(token, now=timezone.now())
    except (TokenInvalid, TokenExpired) as exc:
        context = {"form": None, "expired": isinstance(exc, TokenExpired), "kind": "confirm"}
        return render(request, "hosted_forms/public/bad_link.html", context, status=400)
    return render(
        request, "hosted_forms/public/confirmed.html", {"result": result, "form": result.form}
    )
