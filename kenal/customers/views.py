"""Customer pages: the list, a customer's page, the create / edit form and notes.

Views only translate between HTTP and the services: :mod:`kenal.customers.services` for the
record, :mod:`kenal.identity.candidates` for the possible duplicates a new customer's details
reveal.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kenal.activity import traits
from kenal.activity.views import activity_context
from kenal.customers import custom_fields, services
from kenal.customers.forms import MAX_ROW_INDEX, ROW_KINDS, CustomerForm, make_row
from kenal.customers.models import Customer, LifecycleStage, SourceRecord, Tag
from kenal.customers.normalise import InvalidValue
from kenal.customers.services import CustomerInvalid, CustomerQuery, Origin
from kenal.identity import candidates
from kenal.privacy.models import Purpose
from kenal.privacy.services import current_consents
from kenal.web.requests import HtmxHttpRequest, render_htmx, staff_user

RECENT_SOURCE_RECORDS = 20
SORT_OPTIONS = ("name", "-name", "created", "-created", "updated", "-updated")


def _sort_labels() -> dict[str, str]:
    return {
        "name": _("Name A–Z"),  # noqa: RUF001 - an en dash, as typeset
        "-name": _("Name Z–A"),  # noqa: RUF001
        "created": _("Oldest first"),
        "-created": _("Newest first"),
        "updated": _("Least recently updated"),
        "-updated": _("Recently updated"),
    }


# --- list -----------------------------------------------------------------------------------


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def customer_list(request: HtmxHttpRequest) -> HttpResponse:
    params = request.GET
    query = CustomerQuery(
        text=params.get("q", "").strip(),
        sort=params.get("sort") or "name",
        lifecycle_stage=params.get("stage", "").strip(),
        tag=params.get("tag", "").strip(),
        custom_filters=_custom_filter(
            params.get("cf", ""), params.get("op", ""), params.get("v", "")
        ),
        trait_filters=_custom_filter(
            params.get("tf", ""), params.get("top", ""), params.get("tv", "")
        ),
    )
    page = None
    error = None
    try:
        page = services.page_of(services.find_customers(query), _page_number(params.get("page")))
    except InvalidValue as exc:
        error = exc
    context: dict[str, Any] = {
        "section": "customers",
        "query": query,
        "page": page,
        "error": error,
        "filtered": bool(
            query.text
            or query.lifecycle_stage
            or query.tag
            or query.custom_filters
            or query.trait_filters
        ),
        "custom_fields": list(custom_fields.active_fields()),
        "custom_operators": list(_operator_labels().items()),
        "custom_filter": {
            "key": params.get("cf", ""),
            "op": params.get("op", ""),
            "value": params.get("v", ""),
        },
        "traits": list(traits.filter_labels().items()),
        "trait_operators": list(_operator_labels().items())[:5],
        "trait_filter": {
            "name": params.get("tf", ""),
            "op": params.get("top", ""),
            "value": params.get("tv", ""),
        },
        "stages": LifecycleStage.choices,
        "tags": list(Tag.objects.order_by("name").values_list("name", flat=True)[:500]),
        "sort_options": list(_sort_labels().items()),
    }
    # A search-as-you-type request only needs the results.
    return render_htmx(request, "customers/_results.html", "customers/list.html", context)


def _custom_filter(key: str, operator: str, value: str) -> tuple[tuple[str, str, str], ...]:
    """The list's custom-field or trait filter as the service takes it (none when none is
    chosen)."""
    key = key.strip()
    return ((key, operator.strip() or "eq", value.strip()),) if key else ()


def _operator_labels() -> dict[str, str]:
    return {
        "eq": _("is"),
        "lt": _("less than / before"),
        "lte": _("at most"),
        "gt": _("more than / after"),
        "gte": _("at least"),
        "contains": _("contains"),
        "set": _("has a value"),
        "empty": _("is empty"),
    }


def _page_number(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


# --- detail ---------------------------------------------------------------------------------


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer's 360° page: who they are, how to reach them, what they did, and
    what staff did with them (the timeline, with logging a call or a note right there)."""
    customer = get_object_or_404(
        Customer.objects.select_related("owner", "traits__last_contact_by").prefetch_related(
            "emails", "phones", "addresses", "tags"
        ),
        pk=pk,
    )
    if customer.merged_into_id is not None:
        return _to_survivor(request, customer)
    records = list(
        customer.source_records.select_related("received_by")[: RECENT_SOURCE_RECORDS + 1]
    )
    latest = current_consents(customer)
    context = {
        **activity_context(request, customer),
        "section": "customers",
        "customer": customer,
        "addresses": list(customer.addresses.all()),
        "custom_values": custom_fields.values_for(customer),
        "consents": [(purpose, label, latest[purpose]) for purpose, label in Purpose.choices],
        "records": [(record, _pretty(record.data)) for record in records[:RECENT_SOURCE_RECORDS]],
        "more_records": len(records) > RECENT_SOURCE_RECORDS,
    }
    return render(request, "customers/detail.html", context)


def _to_survivor(request: HttpRequest, customer: Customer) -> HttpResponseRedirect:
    """A merged customer's pages lead to the customer it was merged into, saying so."""
    survivor = services.survivor_of(customer)
    messages.info(
        request,
        _("%(merged)s (#%(merged_id)s) was merged into %(survivor)s (#%(survivor_id)s).")
        % {
            "merged": customer,
            "merged_id": customer.pk,
            "survivor": survivor,
            "survivor_id": survivor.pk,
        },
    )
    return HttpResponseRedirect(reverse("customers:detail", args=[survivor.pk]))


def _pretty(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)


@require_POST
@permission_required("customers.change_customer", raise_exception=True)
def add_note(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    customer = get_object_or_404(Customer, pk=pk)
    try:
        services.add_note(customer, request.POST.get("body", ""), staff_user(request))
    except InvalidValue as exc:
        messages.error(
            request,
            _("The note was not added: expected %(expected)s.") % {"expected": exc.expected},
        )
    else:
        messages.success(request, _("Note added."))
    return HttpResponseRedirect(reverse("customers:detail", args=[customer.pk]) + "#notes")


# --- create and edit ------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@permission_required("customers.add_customer", raise_exception=True)
def customer_create(request: HttpRequest) -> HttpResponse:
    return _customer_form(request, None)


@require_http_methods(["GET", "POST"])
@permission_required("customers.change_customer", raise_exception=True)
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(
        Customer.objects.select_related("owner").prefetch_related(
            "emails", "phones", "addresses", "tags"
        ),
        pk=pk,
    )
    if customer.merged_into_id is not None:
        return _to_survivor(request, customer)
    return _customer_form(request, customer)


# A GET of the form with this parameter answers with the possible-duplicates panel only.
CHECK_DUPLICATES = "check_duplicates"


def _customer_form(request: HttpRequest, customer: Customer | None) -> HttpResponse:
    fields = list(custom_fields.active_fields())
    current = services.editable_values(customer) if customer is not None else None
    if request.method != "POST":
        if CHECK_DUPLICATES in request.GET:
            return _duplicates_hint(request, customer)
        return _render_form(request, customer, CustomerForm.initial(current, fields))
    form = CustomerForm.from_post(request.POST, fields)
    if request.POST.get("add_row") in ROW_KINDS:
        # "Add another" without JavaScript: the same form again, one row longer, nothing saved.
        form.add_row(request.POST["add_row"])
        return _render_form(request, customer, form)
    origin = Origin(source="web", actor=staff_user(request))
    try:
        if customer is None:
            return _create(request, form, origin)
        assert current is not None
        raw = form.raw_for_update(current)
        if not raw:
            messages.info(request, _("Nothing was changed."))
            return redirect("customers:detail", pk=customer.pk)
        saved = services.update_customer(customer, raw, origin)
        messages.success(request, _("Changes to %(name)s saved.") % {"name": saved})
    except CustomerInvalid as exc:
        form.add_errors(exc.errors)
        form.pad_rows()
        return _render_form(request, customer, form, rejected=exc.source_record)
    return redirect("customers:detail", pk=saved.pk)


# The new-customer form's answers to "this may be a customer you already have".
ADD_TO = "add_to"  # the known customer's id: add what was typed to them
CONFIRM_NEW = "confirm_new"  # "yes": create a new customer anyway


def _create(request: HttpRequest, form: CustomerForm, origin: Origin) -> HttpResponse:
    """Create the customer typed in, unless it may be one already known: then the form comes
    back with the candidates, for the person to open one, add the details to one, or confirm
    a new customer. Raises ``CustomerInvalid`` on bad values."""
    if target := request.POST.get(ADD_TO, "").strip():
        if not request.user.has_perm("customers.change_customer"):
            raise PermissionDenied
        known = get_object_or_404(Customer, pk=int(target) if target.isdigit() else 0)
        saved = candidates.add_details(known, form.raw_for_adding(), origin)
        messages.success(
            request, _("The details you entered were added to %(name)s.") % {"name": saved}
        )
        return redirect("customers:detail", pk=saved.pk)
    anyway = request.POST.get(CONFIRM_NEW) == "yes"
    outcome = candidates.create_new(form.raw_for_create(), origin, anyway=anyway)
    if outcome.customer is None:
        form.pad_rows()
        return _render_form(request, None, form, duplicates=outcome.candidates)
    messages.success(request, _("Customer %(name)s created.") % {"name": outcome.customer})
    if outcome.candidates:
        messages.info(
            request,
            ngettext(
                "The possible duplicate waits in the duplicates queue for a decision.",
                "The %(count)d possible duplicates wait in the duplicates queue for a decision.",
                len(outcome.candidates),
            )
            % {"count": len(outcome.candidates)},
        )
    return redirect("customers:detail", pk=outcome.customer.pk)


def _render_form(
    request: HttpRequest,
    customer: Customer | None,
    form: CustomerForm,
    rejected: SourceRecord | None = None,
    duplicates: Sequence[candidates.Candidate] = (),
) -> HttpResponse:
    context = {
        "section": "customers",
        "customer": customer,
        "form": form,
        "rejected": rejected,
        "next_index": {kind: form.next_index(kind) for kind in ROW_KINDS},
        **_duplicates_context(request, duplicates, customer),
    }
    return render(request, "customers/form.html", context)


def _duplicates_context(
    request: HttpRequest, duplicates: Sequence[candidates.Candidate], customer: Customer | None
) -> dict[str, Any]:
    """What the possible-duplicates panel shows, and which of its actions this person has."""
    new = customer is None
    return {
        "duplicates": list(duplicates),
        "duplicate_actions": new,
        "can_add_details": new and request.user.has_perm("customers.change_customer"),
        "sure_match": any(candidate.sure for candidate in duplicates),
    }


def _duplicates_hint(request: HttpRequest, customer: Customer | None) -> HttpResponse:
    """The possible-duplicates panel for what is being typed into the form (fetched by htmx
    after an email or phone changes). Reads only; the customer being edited is left out."""
    if not request.user.has_perm("customers.view_customer"):
        raise PermissionDenied
    form = CustomerForm.from_post(request.GET, [])
    found = candidates.possible_duplicates(
        form.raw_for_create(), exclude=customer.pk if customer is not None else None
    )
    context = _duplicates_context(request, found, customer)
    return render(request, "customers/_possible_duplicates.html", context)


@require_GET
def form_row(request: HttpRequest, kind: str) -> HttpResponse:
    """One more blank email, phone or address row for the form ("add another" with htmx)."""
    user = request.user
    if not (user.has_perm("customers.add_customer") or user.has_perm("customers.change_customer")):
        raise PermissionDenied
    if kind not in ROW_KINDS:
        raise Http404
    try:
        index = min(max(0, int(request.GET.get("index") or 0)), MAX_ROW_INDEX)
    except ValueError:
        index = 0
    context = {"row": make_row(kind, index), "kind": kind, "next_index": index + 1}
    return render(request, "customers/_row_added.html", context)
