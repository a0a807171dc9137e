"""Golden record pages: the survivorship rules (settings) and a customer's lineage card.

Views only translate between HTTP and :mod:`kenal.identity.survivorship`.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kenal.accounts.services import manages
from kenal.customers.models import Customer
from kenal.customers.normalise import InvalidValue
from kenal.identity import survivorship
from kenal.identity.models import SurvivorshipRule
from kenal.identity.survivorship import RulesInvalid
from kenal.web.requests import HtmxHttpRequest, only_for, render_htmx

SECTION = "golden"  # the navigation entry the rules page belongs to
# Survivorship rules decide what every customer record shows: only administrators and
# managers set them, as for custom fields. The roles' permission groups do not cover the
# identity app, so the role itself is checked.
managers_only = only_for(manages)


# --- rules ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@managers_only
def rule_list(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _rules_page(request, {}, {})
    posted = {
        name: (
            request.POST.get(f"rule-{name}", ""),
            request.POST.get(f"priority-{name}", ""),
        )
        for name in request.POST.getlist("field")
    }
    try:
        saved = survivorship.save_rules(
            {name: (rule, _sources(text)) for name, (rule, text) in posted.items()}
        )
    except RulesInvalid as exc:
        return _rules_page(request, posted, exc.errors, status=400)
    if saved:
        message = ngettext("%(count)d rule saved.", "%(count)d rules saved.", len(saved)) % {
            "count": len(saved)
        }
        messages.success(request, message)
    else:
        messages.info(request, _("Nothing was changed."))
    return redirect("golden:rules")


def _sources(text: str) -> list[str]:
    """A comma-separated (or one per line) source priority, most trusted first."""
    return [part.strip() for part in text.replace("\n", ",").split(",")]


def _rules_page(
    request: HttpRequest,
    posted: Mapping[str, tuple[str, str]],
    errors: Mapping[str, InvalidValue],
    status: int = 200,
) -> HttpResponse:
    rows = []
    for row in survivorship.rule_rows():
        rule, priority = posted.get(row.field, (row.rule, ", ".join(row.source_priority)))
        rows.append(
            {"row": row, "rule": rule, "priority": priority, "error": errors.get(row.field)}
        )
    shown = {row.field for row in survivorship.rule_rows()}
    context = {
        "section": SECTION,
        "rows": rows,
        # Problems with a field the page does not list (a stale or altered form).
        "other_errors": [error for name, error in errors.items() if name not in shown],
        "rule_choices": SurvivorshipRule.Rule.choices,
        "sources": survivorship.known_sources(),
    }
    return render(request, "identity/golden/rules.html", context, status=status)


# --- lineage --------------------------------------------------------------------------------


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def lineage(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    return _lineage_response(request, customer, changed=None)


@require_POST
@permission_required("customers.change_customer", raise_exception=True)
@managers_only
def recompute(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    changed = survivorship.apply_rules(customer)
    if request.htmx:
        return _lineage_response(request, customer, changed=changed)
    messages.success(request, _changed_message(changed))
    return redirect(reverse("golden:lineage", args=[customer.pk]))


def _changed_message(changed: list[str]) -> str:
    if not changed:
        return _("Recomputed from the source records: nothing changed.")
    labels = ", ".join(survivorship.field_label(name) for name in changed)
    return _("Recomputed from the source records; changed: %(fields)s.") % {"fields": labels}


def _lineage_response(
    request: HtmxHttpRequest, customer: Customer, changed: list[str] | None
) -> HttpResponse:
    context = {
        "section": "customers",
        "customer": customer,
        "fields": survivorship.lineage_table(customer),
        "can_recompute": manages(request.user, "customers.change_customer"),
        "changed_message": _changed_message(changed) if changed is not None else "",
    }
    # Loaded into the customer page, only the card; opened as a link, a page of its own.
    return render_htmx(
        request, "identity/golden/_lineage.html", "identity/golden/lineage.html", context
    )
