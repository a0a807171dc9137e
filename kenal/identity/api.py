"""The duplicate and merge endpoints of the REST API: the review queue, comparing two
customers, merging any two and undoing a merge.

They only translate between JSON and the services — :mod:`kenal.identity.review`,
:mod:`kenal.identity.merging`, :func:`kenal.identity.services.score_customers` — under the
rule of the duplicate pages (:mod:`kenal.identity.permissions`): seeing possible duplicates
and merges takes ``customers.change_customer``; merging, undoing and deciding is for
administrators and managers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status
from pydantic import BaseModel, ConfigDict

from kenal.accounts.models import User
from kenal.customers.api import (
    ERRORS,
    CustomerValues,
    ErrorOut,
    MergedInto,
    NextCursor,
    PageParams,
    acting_user,
    customer_or_404,
    decode_cursor,
    encode_cursor,
    page_by_id,
)
from kenal.customers.models import Customer
from kenal.customers.normalise import InvalidValue
from kenal.identity import review
from kenal.identity.merging import MergeError, merge_customers, merge_history, unmerge
from kenal.identity.models import CandidatePair, Merge
from kenal.identity.permissions import VIEW_PERMISSION, check_may_decide
from kenal.identity.services import score_customers

__all__ = ["router"]

# A refused merge, undo or decision: the pair or the customers are not in a state that allows it.
REFUSALS: dict[int, type[Schema]] = {**ERRORS, 409: ErrorOut}
REASON_LENGTH = Merge._meta.get_field("reason").max_length

router = Router()


# --- schemas --------------------------------------------------------------------------------


class CustomerSummary(Schema):
    """Enough to tell who a customer is at a glance."""

    id: int
    full_name: str
    email: str | None = Field(description="The primary email address.")
    phone: str | None = Field(description="The primary phone number (E.164).")
    birth_date: date | None


class ComparedCustomer(CustomerValues):
    """The values a merge chooses between (one per field), and the contact rows it joins."""

    merged_into: MergedInto


EXPLANATION = (
    "Each field that counted, strongest evidence first: field, level, label, the two values "
    "compared (left, right) and the weight it added (negative: against)."
)


class _PairFields(Schema):
    id: int
    status: str = Field(description="pending, merged or distinct (not the same person).")
    score: float = Field(description="Probability that the two are one person.")
    explanation: list[dict[str, Any]] = Field(description=EXPLANATION)
    created_at: datetime = Field(description="When the pair was proposed.")
    decided_at: datetime | None
    decided_by: str | None = Field(description="Username of the staff member who decided.")


class PairOut(_PairFields):
    left: CustomerSummary = Field(description="The customer with the smaller id.")
    right: CustomerSummary


class PairDetailOut(_PairFields):
    left: ComparedCustomer = Field(description="The customer with the smaller id.")
    right: ComparedCustomer


class PairPage(Schema):
    items: list[PairOut]
    next_cursor: NextCursor


class ComparisonOut(Schema):
    left: CustomerSummary
    right: CustomerSummary
    probability: float = Field(description="Probability that the two are one person.")
    explanation: list[dict[str, Any]] = Field(description=EXPLANATION)


class MergeOut(Schema):
    id: int
    survivor: int = Field(description="The customer that stayed.")
    merged: int = Field(description="The customer merged into it (back on its own if undone).")
    score: float | None = Field(description="Probability that the two were one person.")
    explanation: list[dict[str, Any]] = Field(description=EXPLANATION)
    reason: str
    chosen: dict[str, Any] = Field(
        description="The value each field kept (birth date as ISO text, owner as user id)."
    )
    merged_at: datetime
    merged_by: str | None = Field(description="Username; none for merges by matching or CLI.")
    undone_at: datetime | None
    undone_by: str | None
    undo_conflicts: list[dict[str, Any]] = Field(
        description=(
            "Values changed since the merge that the undo kept as they are: kind (changed: a "
            "field of the survivor; removed: a moved row no longer there), customer, field, value."
        )
    )


class MergePage(Schema):
    items: list[MergeOut]
    next_cursor: NextCursor


class MergeFilters(PageParams):
    customer_id: int | None = Field(
        None, description="Only the merges that kept or merged this customer."
    )


# Input models forbid unknown fields: a misspelt choice must be refused by name, not ignored.


class ChosenIn(BaseModel):
    """The value a field keeps: either customer's (as shown) or a new one, validated as in a
    form. Fields not sent keep the survivor's value, or the other's where the survivor has none.
    """

    model_config = ConfigDict(extra="forbid")

    full_name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    gender: str | None = None
    birth_date: str | None = Field(default=None, description="1990-05-17, 17/05/1990, …")
    company: str | None = None
    job_title: str | None = None
    income_band: str | None = None
    marital_status: str | None = None
    education: str | None = None
    preferred_language: str | None = None
    preferred_channel: str | None = None
    lifecycle_stage: str | None = None
    owner: str | int | None = Field(default=None, description="Username (or id) of a staff member.")

    def values(self) -> dict[str, Any]:
        """The fields sent, a ``null`` included: it chooses a blank value."""
        return self.model_dump(exclude_unset=True)


class PairMergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    survivor_id: int = Field(description="The customer of the pair that stays.")
    chosen: ChosenIn = Field(default_factory=ChosenIn)


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    survivor_id: int = Field(description="The customer that stays.")
    merged_id: int = Field(description="The customer merged into it.")
    reason: str = Field(default="", max_length=REASON_LENGTH, description="Why, for the record.")
    chosen: ChosenIn = Field(default_factory=ChosenIn)


# --- the review queue -----------------------------------------------------------------------


@router.get("/duplicates", response={200: PairPage, **ERRORS}, summary="List possible duplicates")
def list_duplicates(request: HttpRequest, params: Query[PageParams]) -> PairPage:
    """Pairs waiting for review, likeliest first; pairs with a merged customer are left out."""
    _reader(request)
    pairs = review.pending_pairs().prefetch_related(*review.on_both_sides("emails", "phones"))
    items, next_cursor = _pairs_page(pairs, params.cursor, params.limit)
    return PairPage(items=[_pair_out(pair) for pair in items], next_cursor=next_cursor)


@router.get(
    "/duplicates/{pair_id}",
    response={200: PairDetailOut, **ERRORS},
    summary="Compare a possible duplicate",
)
def get_duplicate(request: HttpRequest, pair_id: int) -> PairDetailOut:
    """Both customers side by side with the values a merge chooses between, whatever the
    pair's status."""
    _reader(request)
    pair = _pair(pair_id, *review.on_both_sides("emails", "phones", "addresses"))
    return PairDetailOut(
        **_pair_fields(pair), left=_compared(pair.left), right=_compared(pair.right)
    )


@router.post(
    "/duplicates/{pair_id}/merge",
    response={201: MergeOut, **REFUSALS},
    summary="Merge a possible duplicate",
)
def merge_duplicate(request: HttpRequest, pair_id: int, payload: PairMergeIn) -> Status[MergeOut]:
    """The other customer of the pair goes into ``survivor_id``, keeping the chosen values;
    409 if the pair was already decided."""
    user = _decider(request)
    pair = _pair(pair_id)
    with _refusals():
        merge = review.merge_pair(
            pair, actor=user, survivor_id=payload.survivor_id, chosen=payload.chosen.values()
        )
    return Status(201, _merge_out(merge))


@router.post(
    "/duplicates/{pair_id}/distinct",
    response={200: PairOut, **REFUSALS},
    summary="Not the same person",
)
def mark_distinct(request: HttpRequest, pair_id: int) -> PairOut:
    """Remembered: the two are never proposed again. 409 if the pair was already decided."""
    user = _decider(request)
    pair = _pair(pair_id, *review.on_both_sides("emails", "phones"))
    with _refusals():
        review.decide_distinct(pair, user)
    return _pair_out(pair)


# --- comparing and merging any two customers -------------------------------------------------


@router.get(
    "/customers/{customer_id}/compare/{other_id}",
    response={200: ComparisonOut, **ERRORS},
    summary="Compare two customers",
)
def compare_customers(request: HttpRequest, customer_id: int, other_id: int) -> ComparisonOut:
    """How likely the two are one person, and why, by the matching model in use."""
    _reader(request)
    left, right = _customer(customer_id), _customer(other_id)
    scored = score_customers(left.pk, right.pk)
    return ComparisonOut(
        left=_summary(left),
        right=_summary(right),
        probability=scored.probability,
        explanation=list(scored.explanation),
    )


@router.post("/merges", response={201: MergeOut, **REFUSALS}, summary="Merge two customers")
def create_merge(request: HttpRequest, payload: MergeIn) -> Status[MergeOut]:
    """``merged_id`` goes into ``survivor_id``, keeping the chosen values; the merge records
    the two customers' match score. 409 when the merge is refused (the same customer twice,
    one already merged, a chosen value that is not valid)."""
    user = _decider(request)
    survivor = _named_customer("survivor_id", payload.survivor_id)
    merged = _named_customer("merged_id", payload.merged_id)
    # Recorded with the merge, so the history shows how alike the two looked when merged.
    scored = score_customers(survivor.pk, merged.pk)
    with _refusals():
        merge = merge_customers(
            survivor,
            merged,
            actor=user,
            reason=payload.reason,
            score=scored.probability,
            explanation=scored.explanation,
            chosen=payload.chosen.values(),
        )
    return Status(201, _merge_out(merge))


# --- merges and undoing them ----------------------------------------------------------------


@router.get("/merges", response={200: MergePage, **ERRORS}, summary="List merges")
def list_merges(request: HttpRequest, filters: Query[MergeFilters]) -> MergePage:
    """The latest first, undone ones included."""
    _reader(request)
    if filters.customer_id is None:
        merges = Merge.objects.select_related("merged_by", "undone_by")
    else:
        merges = merge_history(_named_customer("customer_id", filters.customer_id))
    items, next_cursor = page_by_id(
        merges, filters.cursor, filters.limit, newest_first=True, key="before"
    )
    return MergePage(items=[_merge_out(merge) for merge in items], next_cursor=next_cursor)


@router.get("/merges/{merge_id}", response={200: MergeOut, **ERRORS}, summary="Get a merge")
def get_merge(request: HttpRequest, merge_id: int) -> MergeOut:
    _reader(request)
    return _merge_out(_merge(merge_id))


@router.post(
    "/merges/{merge_id}/undo", response={200: MergeOut, **REFUSALS}, summary="Undo a merge"
)
def undo_merge(request: HttpRequest, merge_id: int) -> MergeOut:
    """Both customers come back, each with its own rows; values changed since the merge stay
    as they are and are listed in ``undo_conflicts``. 409 if already undone, or if the
    survivor was merged again since (undo that merge first)."""
    user = _decider(request)
    merge = _merge(merge_id)
    with _refusals():
        merge = unmerge(merge, actor=user)
    return _merge_out(merge)


# --- helpers --------------------------------------------------------------------------------


def _reader(request: HttpRequest) -> User:
    """The staff member, once they may see possible duplicates and merges."""
    return acting_user(request, VIEW_PERMISSION)


def _decider(request: HttpRequest) -> User:
    """The staff member, once they may merge, undo and decide."""
    user = acting_user(request)
    check_may_decide(user)
    return user


@contextmanager
def _refusals() -> Iterator[None]:
    """A merge, undo or decision the services refuse answers 409 with their reason."""
    try:
        yield
    except MergeError as exc:
        raise HttpError(409, str(exc)) from exc


def _pair(pair_id: int, *rows: str) -> CandidatePair:
    """The pair, its customers with their owners, and the ``rows`` of both prefetched."""
    pairs = CandidatePair.objects.select_related("left__owner", "right__owner", "decided_by")
    pair = pairs.prefetch_related(*rows).filter(pk=pair_id).first()
    if pair is None:
        raise HttpError(404, _("pair %(id)s: no possible duplicate has this id") % {"id": pair_id})
    return pair


def _customers() -> QuerySet[Customer]:
    # With what a summary shows, merged customers included: a merge names them.
    return Customer.objects.prefetch_related("emails", "phones")


def _customer(customer_id: int) -> Customer:
    """The customer the path names; 404 if there is none."""
    return customer_or_404(_customers(), customer_id)


def _named_customer(field: str, customer_id: int) -> Customer:
    """The customer a body or query field names; refused (400) by that field's name."""
    customer = _customers().filter(pk=customer_id).first()
    if customer is None:
        raise InvalidValue(field, customer_id, _("the id of a customer"))
    return customer


def _merge(merge_id: int) -> Merge:
    merge = Merge.objects.select_related("merged_by", "undone_by").filter(pk=merge_id).first()
    if merge is None:
        raise HttpError(404, _("merge %(id)s: no merge has this id") % {"id": merge_id})
    return merge


def _summary(customer: Customer) -> CustomerSummary:
    return CustomerSummary(
        id=customer.pk,
        full_name=customer.full_name,
        email=next((row.email for row in customer.emails.all() if row.is_primary), None),
        phone=next((row.number for row in customer.phones.all() if row.is_primary), None),
        birth_date=customer.birth_date,
    )


def _compared(customer: Customer) -> ComparedCustomer:
    return ComparedCustomer.of(customer, merged_into=customer.merged_into_id)


def _pair_fields(pair: CandidatePair) -> dict[str, Any]:
    """What a pair is, apart from its two customers."""
    return {
        "id": pair.pk,
        "status": pair.status,
        "score": pair.score,
        "explanation": pair.explanation,
        "created_at": pair.created_at,
        "decided_at": pair.decided_at,
        "decided_by": pair.decided_by.username if pair.decided_by else None,
    }


def _pair_out(pair: CandidatePair) -> PairOut:
    return PairOut(**_pair_fields(pair), left=_summary(pair.left), right=_summary(pair.right))


def _merge_out(merge: Merge) -> MergeOut:
    return MergeOut(
        id=merge.pk,
        survivor=merge.survivor_id,
        merged=merge.merged_id,
        score=merge.score,
        explanation=merge.explanation,
        reason=merge.reason,
        chosen=merge.chosen,
        merged_at=merge.merged_at,
        merged_by=merge.merged_by.username if merge.merged_by else None,
        undone_at=merge.undone_at,
        undone_by=merge.undone_by.username if merge.undone_by else None,
        undo_conflicts=merge.undo_conflicts,
    )


def _pairs_page(
    pairs: QuerySet[CandidatePair], cursor: str, limit: int
) -> tuple[list[CandidatePair], str | None]:
    """One page of pairs, likeliest first, after ``cursor``; and the next page's cursor.

    Keyset paging on (score, id), as for customers: pairs decided meanwhile neither shift
    a page nor make another repeat.
    """
    if cursor:
        after = decode_cursor(cursor, score=(float, int), id=(int,))
        pairs = pairs.filter(
            Q(score__lt=after["score"]) | Q(score=after["score"], pk__gt=after["id"])
        )
    page = list(pairs.order_by("-score", "pk")[: limit + 1])
    last = page[limit - 1] if len(page) > limit else None
    next_cursor = encode_cursor({"score": last.score, "id": last.pk}) if last else None
    return page[:limit], next_cursor
