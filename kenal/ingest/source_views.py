"""Settings → Tracking sources (managers and administrators): list, create (the write key
shown once), revoke. Every rule is in :mod:`kenal.ingest.sources`."""

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

from kenal.accounts.services import manages
from kenal.ingest.models import TrackingSource
from kenal.ingest.sources import SourceError, create_source, revoke_source
from kenal.web.requests import only_for, staff_user

SECTION = "sources"  # the navigation entry the pages belong to


def _may_manage(user: AbstractBaseUser | AnonymousUser) -> bool:
    return manages(user, "ingest.add_trackingsource", "ingest.change_trackingsource")


managers_only = only_for(_may_manage)


class SourceForm(forms.Form):
    # Its length and uniqueness are checked by the service, which every way in goes through.
    name = forms.CharField(
        label=gettext_lazy("Name"),
        help_text=gettext_lazy(
            "The website or app that sends events, e.g. “Online shop” or “Android app”. "
            "Events, carts and orders name it as their source."
        ),
    )


@require_GET
@managers_only
def source_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request, SourceForm())


def _list_page(request: HttpRequest, form: SourceForm) -> HttpResponse:
    context = {
        "section": SECTION,
        "form": form,
        "items": TrackingSource.objects.select_related("created_by"),
        "revoke_url": "sources:revoke",
    }
    return render(request, "ingest/sources.html", context)


@require_POST
@managers_only
def source_create(request: HttpRequest) -> HttpResponse:
    form = SourceForm(request.POST)
    if not form.is_valid():
        return _list_page(request, form)
    try:
        source, key = create_source(form.cleaned_data["name"], created_by=staff_user(request))
    except SourceError as exc:
        form.add_error(exc.field, exc.problem)
        return _list_page(request, form)
    # The key is rendered here, never stored or redirected with: this page is its only showing.
    response = render(
        request,
        "ingest/sources_created.html",
        {"section": SECTION, "source": source, "key": key},
    )
    add_never_cache_headers(response)
    return response


@require_POST
@managers_only
def source_revoke(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    source = revoke_source(get_object_or_404(TrackingSource, pk=pk))
    messages.success(
        request,
        _("Source “%(name)s” (%(prefix)s) is revoked: its calls are refused from now on.")
        % {"name": source.name, "prefix": source.display_prefix},
    )
    return redirect("sources:list")
