"""The duplicate pages: the review queue, comparing two customers, merging, undoing merges.

Views only translate between HTTP and :mod:`kenal.identity.review` and
:mod:`kenal.identity.merging`; a refused merge or undo is a message, never an error page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Count, Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kenal.activity.models import Order
from kenal.customers.models import Customer, Note, SourceRecord
from kenal.identity import review
from kenal.identity.forms import MergeForm, PickCustomersForm
from kenal.identity.merging import MergeError, merge_customers, unmerge
from kenal.identity.models import CandidatePair, Merge
from kenal.identity.permissions import VIEW_PERMISSION, may_decide
from kenal.privacy.models import ConsentRecord
from kenal.web.requests import only_for, staff_user

SECTION = "duplicates"  # the navigation item the pages belong to
PER_PAGE = 50
REASONS_SHOWN = 3

M = TypeVar("M", bound=Model)

deciders_only = only_for(may_decide)


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    context.setdefault("section", SECTION)
    context.setdefault("can_decide", may_decide(request.user))
    return render(request, f"identity/{template}", context)


@dataclass(frozen=True)
class Slice:
    """One page of rows; ``has_next`` comes from fetching one row more, never a COUNT."""

    items: list[Any]
    number: int
    has_next: bool


def _slice(queryset: QuerySet[M], page: str | None) -> Slice:
    try:
        number = max(1, int(page or 1))
    except ValueError:
        number = 1
    offset = (number - 1) * PER_PAGE
    rows = list(queryset[offset : offset + PER_PAGE + 1])
    return Slice(rows[:PER_PAGE], number, has_next=len(rows) > PER_PAGE)


# --- the queue ------------------------------------------------------------------------------


@require_GET
@permission_required(VIEW_PERMISSION, raise_exception=True)
def queue(request: HttpRequest) -> HttpResponse:
    pairs = review.pending_pairs().prefetch_related(
        *review.on_both_sides("emails", "phones", "addresses")
    )
    page = _slice(pairs, request.GET.get("page"))
    rows = [(pair, _reasons(pair.explanation)) for pair in page.items]
    return _page(request, "queue.html", {"page": page, "rows": rows})


def _reasons(explanation: Sequence[dict[str, Any]]) -> list[str]:
    """What speaks most for the match, strongest first."""
    items = sorted(explanation, key=lambda item: -_weight(item))
    return [str(item.get("label", "")) for item in items if _weight(item) > 0][:REASONS_SHOWN]


def _weight(item: dict[str, Any]) -> float:
    try:
        return float(item.get("weight") or 0)
    except (TypeError, ValueError):
        return 0.0


# --- comparing and deciding a proposed pair -------------------------------------------------


def _pair(pk: int) -> CandidatePair:
    return get_object_or_404(CandidatePair.objects.select_related("left", "right"), pk=pk)


@require_GET
@permission_required(VIEW_PERMISSION, raise_exception=True)
def compare(request: HttpRequest, pk: int) -> HttpResponse:
    pair = _pair(pk)
    form = MergeForm(pair.left, pair.right)
    context = {
        "pair": pair,
        "explanation": _explanation(pair.explanation),
        "action": reverse("identity:merge_pair", args=[pair.pk]),
    }
    return _compare(request, form, context)


@require_POST
@deciders_only
def merge_pair(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    pair = _pair(pk)
    if refused := _already_decided(request, pair):
        return refused
    form = MergeForm(pair.left, pair.right, request.POST)
    if not form.is_valid():
        messages.error(request, _not_merged(_refused_choices(form)))
        return redirect("identity:compare", pk=pair.pk)
    try:
        merge = review.merge_pair(
            pair,
            actor=staff_user(request),
            survivor_id=form.cleaned_data["survivor"],
            chosen=form.chosen(),
        )
    except MergeError as exc:
        messages.error(request, _not_merged(exc))
        return redirect("identity:compare", pk=pair.pk)
    return _merged(request, merge)


@require_POST
@deciders_only
def distinct(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    pair = _pair(pk)
    if refused := _already_decided(request, pair):
        return refused
    review.decide_distinct(pair, staff_user(request))
    messages.success(
        request,
        _("%(left)s and %(right)s are kept apart and will not be proposed again.")
        % {"left": pair.left, "right": pair.right},
    )
    return redirect("identity:queue")


def _already_decided(request: HttpRequest, pair: CandidatePair) -> HttpResponseRedirect | None:
    """Back to the pair, saying so, when it was decided already; None while it waits."""
    if pair.status == CandidatePair.Status.PENDING:
        return None
    # A page left open while someone else decided: their decision stands.
    messages.error(
        request,
        _("This pair was already decided: %(status)s.") % {"status": pair.get_status_display()},
    )
    return redirect("identity:compare", pk=pair.pk)


# --- merging any two customers --------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@deciders_only
def merge_any(request: HttpRequest) -> HttpResponse:
    """Pick two customers (a GET form, so the comparison can be linked to), compare, merge."""
    data = request.POST if request.method == "POST" else request.GET
    pick = PickCustomersForm(data or None)
    if not pick.is_valid():
        return _page(request, "pick.html", {"pick": pick})
    left, right = pick.pair()
    if request.method != "POST":
        context = {"pick": pick, "action": reverse("identity:merge")}
        return _compare(request, MergeForm(left, right), context)
    form = MergeForm(left, right, request.POST)
    if not form.is_valid():
        messages.error(request, _not_merged(_refused_choices(form)))
        return _compare(request, form, {"pick": pick, "action": reverse("identity:merge")})
    survivor, merged = (left, right) if form.cleaned_data["survivor"] == left.pk else (right, left)
    try:
        merge = merge_customers(
            survivor,
            merged,
            actor=staff_user(request),
            reason=form.cleaned_data["reason"],
            chosen=form.chosen(),
        )
    except MergeError as exc:
        messages.error(request, _not_merged(exc))
        return _compare(request, form, {"pick": pick, "action": reverse("identity:merge")})
    return _merged(request, merge)


def _not_merged(problem: object) -> str:
    return _("Nothing was merged: %(problem)s") % {"problem": problem}


def _refused_choices(form: MergeForm) -> str:
    """Why the choices posted were refused, per field (only a stale or altered page gets here)."""
    return "; ".join(
        f"{form.fields[name].label}: {' '.join(map(str, errors))}"
        for name, errors in form.errors.items()
    )


def _compare(request: HttpRequest, form: MergeForm, context: dict[str, Any]) -> HttpResponse:
    left, right = form.left, form.right
    customers = {
        customer.pk: customer
        for customer in Customer.objects.filter(pk__in=[left.pk, right.pk]).prefetch_related(
            "emails", "phones", "addresses"
        )
    }
    context.update(
        {
            "form": form,
            "left": customers[left.pk],
            "right": customers[right.pk],
            "counts": _counts(left.pk, right.pk),
        }
    )
    return _page(request, "compare.html", context)


def _counts(left: int, right: int) -> list[tuple[str, int, int]]:
    """How much history each customer brings: all of it moves to the survivor."""
    kinds: list[tuple[str, type[Model]]] = [
        (_("Orders"), Order),
        (_("Source records"), SourceRecord),
        (_("Consent records"), ConsentRecord),
        (_("Notes"), Note),
    ]
    rows = []
    for label, model in kinds:
        counts = dict(
            model._default_manager.filter(customer__in=[left, right])
            .order_by()
            .values_list("customer")
            .annotate(count=Count("pk"))
        )
        rows.append((label, counts.get(left, 0), counts.get(right, 0)))
    return rows


def _explanation(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The score's explanation with each weight ready to draw on one shared scale."""
    weights = [_weight(item) for item in items]
    shown = [
        {**item, "weight": weight, "weight_text": _signed(weight)}
        for item, weight in zip(items, weights, strict=True)
    ]
    return {"items": shown, "scale": max(1, math.ceil(max(map(abs, weights), default=1)))}


def _signed(weight: float) -> str:
    sign = "+" if weight > 0 else "−" if weight < 0 else ""  # noqa: RUF001 - a minus sign
    return sign + formats.number_format(abs(weight), 1)


def _merged(request: HttpRequest, merge: Merge) -> HttpResponseRedirect:
    messages.success(
        request,
        format_html(
            '{} <a href="{}">{}</a>',
            # Named with numbers: after the merge both may carry the same name.
            _("%(merged)s (#%(merged_id)s) was merged into %(survivor)s (#%(survivor_id)s).")
            % {
                "merged": merge.merged,
                "merged_id": merge.merged_id,
                "survivor": merge.survivor,
                "survivor_id": merge.survivor_id,
            },
            reverse("identity:undo", args=[merge.pk]),
            _("Undo this merge"),
        ),
    )
    return redirect("customers:detail", pk=merge.survivor_id)


# --- merges and undoing them ----------------------------------------------------------------


@require_GET
@permission_required(VIEW_PERMISSION, raise_exception=True)
def merge_list(request: HttpRequest) -> HttpResponse:
    merges = Merge.objects.select_related("survivor", "merged", "merged_by", "undone_by")
    return _page(request, "merges.html", {"page": _slice(merges, request.GET.get("page"))})


@require_http_methods(["GET", "POST"])
@deciders_only
def undo(request: HttpRequest, pk: int) -> HttpResponse:
    """A page that says what undoing does, and whose button undoes (no JavaScript needed)."""
    merge = get_object_or_404(Merge.objects.select_related("survivor", "merged"), pk=pk)
    if request.method != "POST":
        return _page(request, "undo.html", {"merge": merge})
    try:
        merge = unmerge(merge, actor=staff_user(request))
    except MergeError as exc:
        messages.error(request, _("The merge was not undone: %(problem)s") % {"problem": exc})
    else:
        messages.success(
            request,
            _("%(merged)s and %(survivor)s are two customers again.")
            % {"merged": merge.merged, "survivor": merge.survivor},
        )
        if merge.undo_conflicts:
            messages.warning(
                request,
                _("Some values changed since the merge were kept as they are; see below."),
            )
    return HttpResponseRedirect(reverse("identity:merges") + f"#merge-{merge.pk}")
