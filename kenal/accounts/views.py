"""Settings → API keys (administrators only): list, create (the key shown once), revoke.

The views only shape requests and responses: every rule is in :mod:`kenal.accounts.services`.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kenal.accounts.models import ApiKey, User
from kenal.accounts.services import ApiKeyError, create_api_key, revoke_api_key
from kenal.web.requests import only_for, staff_user

SECTION = "api_keys"  # the navigation entry the pages belong to


def _is_admin(user: AbstractBaseUser | AnonymousUser) -> bool:
    return isinstance(user, User) and user.is_superuser


# A key can act as any staff member, so only administrators (superusers) manage keys.
admins_only = only_for(_is_admin)


class ApiKeyForm(forms.Form):
    # Its length is checked by the service, which every way of creating a key goes through.
    name = forms.CharField(
        label=gettext_lazy("Name"),
        help_text=gettext_lazy("What uses the key, e.g. “Online shop” or “Call centre”."),
    )
    user = forms.ModelChoiceField(
        label=gettext_lazy("Acts as"),
        queryset=User.objects.filter(is_active=True).order_by("username"),
        help_text=gettext_lazy("The key may do what this staff member's role allows."),
    )


@require_GET
@admins_only
def api_key_list(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(initial={"user": staff_user(request)})
    return _list_page(request, form)


def _list_page(request: HttpRequest, form: ApiKeyForm) -> HttpResponse:
    context = {
        "section": SECTION,
        "form": form,
        "items": ApiKey.objects.select_related("user", "created_by"),
        "revoke_url": "api_keys:revoke",
    }
    return render(request, "accounts/api_keys/list.html", context)


@require_POST
@admins_only
def api_key_create(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _list_page(request, form)
    try:
        api_key, key = create_api_key(
            form.cleaned_data["name"], form.cleaned_data["user"], created_by=staff_user(request)
        )
    except ApiKeyError as exc:
        form.add_error(exc.field, exc.problem)
        return _list_page(request, form)
    # The key is rendered here, never stored or redirected with: this page is its only showing.
    response = render(
        request,
        "accounts/api_keys/created.html",
        {"section": SECTION, "api_key": api_key, "key": key},
    )
    add_never_cache_headers(response)
    return response


@require_POST
@admins_only
def api_key_revoke(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    api_key = revoke_api_key(get_object_or_404(ApiKey, pk=pk))
    messages.success(
        request,
        _("API key “%(name)s” (%(prefix)s) is revoked: requests with it are refused.")
        % {"name": api_key.name, "prefix": api_key.display_prefix},
    )
    return redirect("api_keys:list")
