"""The activity parts of a customer's page: the timeline, logging an interaction, adding a
note, the traits panel and the contact warning.

Views only translate between HTTP and :mod:`kenal.activity.timeline`,
:mod:`kenal.activity.contact` and the services. With htmx a form answers with itself and
fresh copies of the timeline, the traits panel and the "last contacted" line (swapped in
out of band); without JavaScript it redirects back to the customer's page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kenal.accounts.models import User
from kenal.activity import contact, services, timeline, traits
from kenal.activity.forms import InteractionForm, NoteForm
from kenal.customers import services as customer_services
from kenal.customers.models import Customer
from kenal.customers.normalise import InvalidValue
from kenal.web.requests import HtmxHttpRequest, staff_user

__all__ = [
    "Chip",
    "activity_context",
    "add_note",
    "log_interaction",
    "panel_context",
    "timeline_context",
    "timeline_entries",
]


@dataclass(frozen=True)
class Chip:
    """One filter chip: its kind ("" for all), label, whether it is on, and its query."""

    kind: str
    label: str
    active: bool
    query: str


def _chips(kinds: tuple[str, ...]) -> list[Chip]:
    """The "All" chip, then one chip per kind; each toggles its kind in or out of the filter."""
    chips = [Chip("", _("All"), not kinds, "")]
    for kind, label in timeline.kind_labels().items():
        active = kind in kinds
        toggled = tuple(k for k in timeline.KINDS if (k in kinds) != (k == kind))
        chips.append(Chip(kind, label, active, _query(toggled)))
    return chips


def _query(kinds: tuple[str, ...], before: str | None = None) -> str:
    pairs = [("kind", kind) for kind in kinds]
    if before:
        pairs.append(("before", before))
    return urlencode(pairs)


def _kinds(params: QueryDict) -> tuple[str, ...]:
    return timeline.parse_kinds(params.getlist("kind"))


def timeline_context(
    customer: Customer, kinds: tuple[str, ...], before: str | None = None
) -> dict[str, Any]:
    """What the timeline partials draw: a page of entries, the chips, "show older"."""
    page = timeline.timeline(customer, kinds=kinds, before=before)
    return {
        "customer": customer,
        "timeline": page,
        "chips": _chips(page.kinds),
        "older_query": _query(page.kinds, page.next_cursor) if page.next_cursor else "",
    }


def panel_context(customer: Customer, user: User) -> dict[str, Any]:
    """The traits panel, the "last contacted" line and the contact warning."""
    found = contact.traits_of(customer)
    return {
        "customer": customer,
        "traits": found,
        "days_since_order": traits.days_since(found.last_order_at) if found else None,
        "last_contact": contact.last_contact(customer),
        "warning": contact.contact_warning(customer, user),
    }


def activity_context(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    """Everything the activity parts of the customer's page need (its view adds the rest)."""
    user = staff_user(request)
    params = request.GET
    return {
        **timeline_context(customer, _kinds(params), params.get("before")),
        **panel_context(customer, user),
        "interaction_form": InteractionForm(),
        "note_form": NoteForm(),
    }


def _current(pk: int) -> Customer:
    return get_object_or_404(Customer.objects.select_related("owner"), pk=pk, merged_into=None)


def _page_url(customer: Customer, anchor: str) -> str:
    return reverse("customers:detail", args=[customer.pk]) + anchor


# --- the timeline ---------------------------------------------------------------------------


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def timeline_entries(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The timeline card (filter chips) or, with a cursor, the next older entries."""
    customer = _current(pk)
    params = request.GET
    before = params.get("before")
    response: HttpResponse
    if request.htmx:
        context = timeline_context(customer, _kinds(params), before)
        partial = "activity/_entries.html" if before else "activity/_timeline.html"
        response = render(request, partial, context)
    else:
        # Without JavaScript, the customer's page itself shows the same filter and page.
        query = _query(_kinds(params), before)
        response = HttpResponseRedirect(
            _page_url(customer, f"?{query}#timeline" if query else "#timeline")
        )
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- logging an interaction -----------------------------------------------------------------


@require_POST
@permission_required("activity.add_interaction", raise_exception=True)
def log_interaction(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    customer = _current(pk)
    user = staff_user(request)
    form = InteractionForm(request.POST)
    logged = form.is_valid() and _log(customer, user, form)
    if not request.htmx:
        return _back(request, customer, form, logged, "#log-interaction")
    if logged:
        form = InteractionForm()
    return _answer(request, customer, user, {"interaction_form": form, "logged": logged})


def _log(customer: Customer, user: User, form: InteractionForm) -> bool:
    """Log the interaction, unless it is an outbound contact that needs confirming first."""
    warning = contact.contact_warning(customer, user)
    if warning and form.is_outbound() and not form.cleaned_data.get("contact_anyway"):
        form.require_confirmation()
        return False
    try:
        services.log_interaction(customer, staff=user, **form.service_values())
    except services.ActivityInvalid as error:
        form.add_problems(error.errors)
        return False
    return True


# --- adding a note --------------------------------------------------------------------------


@require_POST
@permission_required("customers.add_note", raise_exception=True)
def add_note(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    customer = _current(pk)
    user = staff_user(request)
    form = NoteForm(request.POST)
    added = False
    if form.is_valid():
        try:
            customer_services.add_note(customer, form.cleaned_data["body"], user)
        except InvalidValue as error:
            form.add_problem(error)
        else:
            added = True
    if not request.htmx:
        return _back(request, customer, form, added, "#notes")
    if added:
        form = NoteForm()
    return _answer(request, customer, user, {"note_form": form, "added": added})


# --- answers --------------------------------------------------------------------------------


def _answer(
    request: HtmxHttpRequest, customer: Customer, user: User, extra: Mapping[str, Any]
) -> HttpResponse:
    """The form again, and the timeline, traits and "last contacted" out of band."""
    context = {
        **timeline_context(customer, _shown_kinds(request)),
        **panel_context(customer, user),
        "interaction_form": InteractionForm(),
        "note_form": NoteForm(),
        **extra,
    }
    template = "activity/_logged.html" if "interaction_form" in extra else "activity/_noted.html"
    return render(request, template, context)


def _shown_kinds(request: HtmxHttpRequest) -> tuple[str, ...]:
    """The timeline's filter on the page the form was sent from (htmx reports its address)."""
    query = urlsplit(request.htmx.current_url or "").query
    return timeline.parse_kinds(parse_qs(query).get("kind", []))


def _back(
    request: HttpRequest,
    customer: Customer,
    form: InteractionForm | NoteForm,
    done: bool,
    anchor: str,
) -> HttpResponseRedirect:
    """Without JavaScript: back to the customer's page, saying what happened."""
    if done:
        text = _("Interaction logged.") if isinstance(form, InteractionForm) else _("Note added.")
        messages.success(request, text)
        return HttpResponseRedirect(_page_url(customer, "#timeline"))
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else str(error))
    return HttpResponseRedirect(_page_url(customer, anchor))
