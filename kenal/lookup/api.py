"""The lookup endpoints of the REST API: ``GET /api/lookup?q=`` finds customers by anything,
``GET /api/caller?phone=`` tells a phone system who is calling. Both only translate between
JSON and :mod:`kenal.lookup.services`."""

from __future__ import annotations

import datetime
from dataclasses import asdict
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from kenal.activity.models import Order, Subscription, Ticket
from kenal.customers.api import ERRORS, acting_user
from kenal.customers.models import Customer
from kenal.lookup import services

__all__ = ["router"]

VIEW = "customers.view_customer"
# The caller card shows orders, tickets and services too.
VIEW_CALLER = (VIEW, "activity.view_order", "activity.view_ticket", "activity.view_subscription")

router = Router()


class LookupParams(Schema):
    q: Annotated[
        str,
        Field(
            min_length=1,
            max_length=services.MAX_QUERY_LENGTH,
            description=(
                "A phone number in any format, an email address, a name (typos, case, accents "
                "and word order tolerated), an order number or a unique custom field's value."
            ),
        ),
    ]
    limit: Annotated[int, Field(ge=1, le=services.MAX_LIMIT)] = services.DEFAULT_LIMIT


class CallerParams(Schema):
    phone: Annotated[
        str,
        Field(
            min_length=1,
            max_length=64,
            description="The calling number in any format: +62 812…, 0812-…, 62812…, 812…",
        ),
    ]


class ReasonOut(Schema):
    kind: str = Field(description="phone, email, order, custom_field or name")
    field: str
    value: str = Field(description="The stored value that matched.")
    detail: str
    merged_customer: int | None = Field(
        None, description="Set when the value belongs to a record merged into this customer."
    )


class CustomerBrief(Schema):
    id: int
    full_name: str
    primary_phone: str
    primary_email: str
    lifecycle_stage: str
    do_not_contact: bool
    url: str = Field(description="The customer's page in the web UI.")


class LookupResult(CustomerBrief):
    rank: int = Field(
        description=(
            "0 identifier (phone, email, order, unique field), 1 full name, 2 every word of the "
            "query in the name, 3 name words starting so, 4 name with a typo"
        )
    )
    score: float = Field(description="Closeness within the rank, 0 to 1.")
    reasons: list[ReasonOut]


class LookupOut(Schema):
    query: str
    results: list[LookupResult]


class OrderOut(Schema):
    id: int
    order_number: str
    source: str
    ordered_at: datetime.datetime
    status: str
    currency: str
    total: Decimal


class TicketOut(Schema):
    id: int
    subject: str
    status: str
    priority: str
    opened_at: datetime.datetime


class ServiceOut(Schema):
    id: int
    name: str
    next_due: datetime.date | None
    days_overdue: int


class CallerCustomer(CustomerBrief):
    last_order: OrderOut | None
    open_tickets: list[TicketOut]
    overdue_services: list[ServiceOut]


class CallerOut(Schema):
    phone: str = Field(description="The number as Kenal stores it (E.164).")
    customers: list[CallerCustomer] = Field(
        description="Usually one; a shared family or office number can give several."
    )


@router.get("/lookup", response={200: LookupOut, **ERRORS}, summary="Find customers by anything")
def lookup(request: HttpRequest, params: Query[LookupParams]) -> LookupOut:
    """Customers ``q`` identifies or names, best first, each with why it matched. Merged
    customers are never returned: their survivor is, with ``merged_customer`` set."""
    acting_user(request, VIEW)
    results = services.search(params.q, params.limit)
    return LookupOut(query=params.q, results=[_result_out(result) for result in results])


@router.get("/caller", response={200: CallerOut, **ERRORS}, summary="Who is calling")
def caller(request: HttpRequest, params: Query[CallerParams]) -> CallerOut:
    """The customer a phone number belongs to, with their last order, open tickets and
    overdue services. 404 when no customer has the number, 400 when it is not a number."""
    acting_user(request, *VIEW_CALLER)
    found = services.caller_lookup(params.phone)
    if not found.cards:
        raise HttpError(
            404, _("No customer has the phone number %(number)s.") % {"number": found.number}
        )
    return CallerOut(phone=found.number, customers=[_card_out(card) for card in found.cards])


def _brief(customer: Customer) -> dict[str, Any]:
    return CustomerBrief(
        id=customer.pk,
        full_name=customer.full_name,
        primary_phone=customer.primary_phone,
        primary_email=customer.primary_email,
        lifecycle_stage=customer.lifecycle_stage,
        do_not_contact=customer.do_not_contact,
        url=reverse("customers:detail", args=[customer.pk]),
    ).model_dump()


def _result_out(result: services.Result) -> LookupResult:
    return LookupResult(
        **_brief(result.customer),
        rank=result.rank,
        score=result.score,
        reasons=[ReasonOut(**asdict(reason)) for reason in result.reasons],
    )


def _card_out(card: services.CallerCard) -> CallerCustomer:
    return CallerCustomer(
        **_brief(card.customer),
        last_order=_order_out(card.last_order) if card.last_order else None,
        open_tickets=[_ticket_out(ticket) for ticket in card.open_tickets],
        overdue_services=[_service_out(card, service) for service in card.overdue_services],
    )


def _order_out(order: Order) -> OrderOut:
    return OrderOut(
        id=order.pk,
        order_number=order.order_number,
        source=order.source,
        ordered_at=order.ordered_at,
        status=order.status,
        currency=order.currency,
        total=order.total,
    )


def _ticket_out(ticket: Ticket) -> TicketOut:
    return TicketOut(
        id=ticket.pk,
        subject=ticket.subject,
        status=ticket.status,
        priority=ticket.priority,
        opened_at=ticket.opened_at,
    )


def _service_out(card: services.CallerCard, service: Subscription) -> ServiceOut:
    return ServiceOut(
        id=service.pk,
        name=service.name,
        next_due=service.next_due,
        days_overdue=card.days_overdue(service),
    )
