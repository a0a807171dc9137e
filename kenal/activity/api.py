"""The activity endpoints of the REST API: what customers do and what was done for them —
interactions, support tickets, services, feedback, orders — and their computed traits.

They only translate between JSON and :mod:`kenal.activity.services`, which validate every
value and refresh the customer's traits before they return, so traits read right after a
write include it. Staff are named by username, both ways. A customer merged into another
answers reads with a redirect to the survivor, as the customer endpoints do; writes for it go
to the survivor, where its whole history now lives.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Self, TypeVar

from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status
from pydantic import BaseModel, ConfigDict

from kenal.accounts.models import User
from kenal.activity import services, traits
from kenal.activity.models import (
    CustomerTraits,
    Feedback,
    Interaction,
    Order,
    Product,
    Subscription,
    Ticket,
)
from kenal.activity.services import ActivityInvalid
from kenal.customers.api import (
    ERRORS,
    MergedOut,
    NextCursor,
    PageParams,
    _redirect_to_survivor,
    acting_user,
    customer_or_404,
    decode_cursor,
    encode_cursor,
)
from kenal.customers.models import Customer
from kenal.customers.normalise import InvalidValue
from kenal.identity.services import survivors

__all__ = ["router"]

router = Router()

# A read for a customer answers the page, or 307 to the survivor of a merge.
READ: dict[int, type[Schema]] = {307: MergedOut, **ERRORS}
# Cursor positions hold moments as whole microseconds since this one: exact, unlike a float.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

M = TypeVar("M", bound=models.Model)

NOT_FOUND: dict[type[models.Model], Promise] = {
    Interaction: gettext_lazy("interaction %(id)s: no interaction has this id"),
    Ticket: gettext_lazy("ticket %(id)s: no ticket has this id"),
    Subscription: gettext_lazy("service %(id)s: no service has this id"),
    Feedback: gettext_lazy("feedback %(id)s: no feedback has this id"),
}


def _one_of(choices: type[models.TextChoices]) -> str:
    return ", ".join(choices.values)


# --- schemas: answers -----------------------------------------------------------------------

CustomerId = Annotated[
    int, Field(description="The customer's id (the survivor's, for a merged customer).")
]


class InteractionOut(Schema):
    id: int
    customer: CustomerId
    kind: str = Field(description=_one_of(Interaction.Kind))
    direction: str = Field(description=_one_of(Interaction.Direction))
    channel: str = Field(description="e.g. whatsapp, phone, instagram; free text.")
    staff: str | None = Field(description="Username of the staff member who spoke to them.")
    outcome: str = Field(description=f"Empty, or {_one_of(Interaction.Outcome)}.")
    summary: str
    occurred_at: datetime
    created_at: datetime

    @classmethod
    def of(cls, row: Interaction) -> Self:
        return cls(
            id=row.pk,
            customer=row.customer_id,
            kind=row.kind,
            direction=row.direction,
            channel=row.channel,
            staff=_username(row.staff),
            outcome=row.outcome,
            summary=row.summary,
            occurred_at=row.occurred_at,
            created_at=row.created_at,
        )


class TicketOut(Schema):
    id: int
    customer: CustomerId
    subject: str
    description: str
    status: str = Field(description=_one_of(Ticket.Status))
    priority: str = Field(description=_one_of(Ticket.Priority))
    assignee: str | None = Field(description="Username of the staff member it is assigned to.")
    opened_at: datetime
    closed_at: datetime | None = Field(description="When it was resolved or closed.")

    @classmethod
    def of(cls, row: Ticket) -> Self:
        return cls(
            id=row.pk,
            customer=row.customer_id,
            subject=row.subject,
            description=row.description,
            status=row.status,
            priority=row.priority,
            assignee=_username(row.assignee),
            opened_at=row.opened_at,
            closed_at=row.closed_at,
        )


class ServiceOut(Schema):
    id: int
    customer: CustomerId
    name: str
    product: str | None = Field(description="SKU of the product the service is for.")
    status: str = Field(description=_one_of(Subscription.Status))
    started_on: date
    interval_days: int | None = Field(description="Due again this many days after each visit.")
    next_due: date | None
    overdue: bool = Field(description="Active and due before today.")

    @classmethod
    def of(cls, row: Subscription) -> Self:
        today = timezone.localdate()
        return cls(
            id=row.pk,
            customer=row.customer_id,
            name=row.name,
            product=row.product.sku if row.product else None,
            status=row.status,
            started_on=row.started_on,
            interval_days=row.interval_days,
            next_due=row.next_due,
            overdue=bool(
                row.status == Subscription.Status.ACTIVE and row.next_due and row.next_due < today
            ),
        )


class FeedbackOut(Schema):
    id: int
    customer: CustomerId
    kind: str = Field(description=_one_of(Feedback.Kind))
    score: int | None = Field(description="rating and csat 1-5, nps 0-10; none for a comment.")
    comment: str
    channel: str
    order: int | None = Field(description="The id of the order it is about.")
    given_at: datetime

    @classmethod
    def of(cls, row: Feedback) -> Self:
        return cls(
            id=row.pk,
            customer=row.customer_id,
            kind=row.kind,
            score=row.score,
            comment=row.comment,
            channel=row.channel,
            order=row.order_id,
            given_at=row.given_at,
        )


class ProductOut(Schema):
    sku: str
    name: str
    category: str


class OrderItemOut(Schema):
    product: ProductOut
    quantity: int
    unit_price: Decimal


class OrderOut(Schema):
    id: int
    customer: CustomerId
    source: str = Field(description="The system the order came from (shop, marketplace, POS).")
    order_number: str = Field(description="The order's number in `source`.")
    ordered_at: datetime
    status: str = Field(description=_one_of(Order.Status))
    channel: str
    currency: str
    total: Decimal
    items: list[OrderItemOut]

    @classmethod
    def of(cls, row: Order) -> Self:
        return cls(
            id=row.pk,
            customer=row.customer_id,
            source=row.source,
            order_number=row.order_number,
            ordered_at=row.ordered_at,
            status=row.status,
            channel=row.channel,
            currency=row.currency,
            total=row.total,
            items=[
                OrderItemOut(
                    product=ProductOut(
                        sku=item.product.sku, name=item.product.name, category=item.product.category
                    ),
                    quantity=item.quantity,
                    unit_price=item.unit_price,
                )
                for item in row.items.all()
            ],
        )


class TraitsOut(Schema):
    """Figures computed from the customer's activity whenever it changes."""

    customer: CustomerId
    order_count: int = Field(description="Completed and pending orders (not cancelled/returned).")
    total_spend: Decimal
    average_spend: Decimal
    first_order_at: datetime | None
    last_order_at: datetime | None
    days_since_last_order: int | None = Field(description="Whole days, as of now.")
    favourite_category: str = Field(description="The product category bought most (items).")
    last_contact_at: datetime | None
    last_contact_channel: str
    last_contact_by: str | None = Field(description="Username of who spoke to them last.")
    open_tickets: int
    overdue_services: int
    latest_nps: int | None
    nps_category: str = Field(description="Empty, or promoter (9-10), passive (7-8), detractor.")
    visits_30d: int = Field(description="Days with a page or screen view in the last 30 days.")
    opens_30d: int = Field(description="Emails opened in the last 30 days.")
    computed_at: datetime | None = Field(description="None: no activity recorded yet.")

    @classmethod
    def of(cls, customer_id: int, row: CustomerTraits | None) -> Self:
        values = traits.as_dict(row)
        values["last_contact_by"] = _username(row.last_contact_by if row else None)
        return cls(
            customer=customer_id,
            days_since_last_order=traits.days_since(values["last_order_at"]),
            **values,
        )


class InteractionPage(Schema):
    items: list[InteractionOut]
    next_cursor: NextCursor


class TicketPage(Schema):
    items: list[TicketOut]
    next_cursor: NextCursor


class ServicePage(Schema):
    items: list[ServiceOut]
    next_cursor: NextCursor


class FeedbackPage(Schema):
    items: list[FeedbackOut]
    next_cursor: NextCursor


class OrderPage(Schema):
    items: list[OrderOut]
    next_cursor: NextCursor


# --- schemas: requests ----------------------------------------------------------------------
# Input models forbid unknown fields: a misspelt field must be refused by name, not ignored.
# Choices are plain text, checked by the services, which name the values they accept.

PAST = "ISO 8601; now when left out; never in the future."


class InteractionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description=_one_of(Interaction.Kind))
    direction: str = Field(description=_one_of(Interaction.Direction))
    channel: str = Field("", description="e.g. whatsapp, phone, instagram.")
    staff: str | None = Field(
        None,
        description=(
            "Username of the staff member who spoke to them; left out: the one the key acts "
            "as; null: nobody recorded."
        ),
    )
    outcome: str = Field("", description=_one_of(Interaction.Outcome))
    summary: str = ""
    occurred_at: datetime | None = Field(None, description=PAST)


class TicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str
    description: str = ""
    priority: str = Field(Ticket.Priority.NORMAL.value, description=_one_of(Ticket.Priority))
    assignee: str | None = Field(None, description="Username of a staff member.")
    opened_at: datetime | None = Field(None, description=PAST)


class TicketPatch(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    status: str | None = Field(
        None, description=f"{_one_of(Ticket.Status)}; resolving or closing stamps closed_at."
    )
    priority: str | None = Field(None, description=_one_of(Ticket.Priority))
    assignee: str | None = Field(None, description="Username of a staff member; null: nobody.")


class ServiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    started_on: date | None = Field(None, description="Today when left out.")
    interval_days: int | None = Field(
        None, description="Due again this many days after a visit (1 to 36,500)."
    )
    next_due: date | None = Field(None, description="Left out: one interval after the start.")
    product: str | None = Field(None, description="SKU of a known product.")


class ServiceDoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on: date | None = Field(None, description="The day it was carried out; today when left out.")


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description=_one_of(Feedback.Kind))
    score: int | None = Field(None, description="rating and csat 1-5, nps 0-10.")
    comment: str = Field("", description="Required for a comment.")
    channel: str = ""
    order: int | None = Field(None, description="The id of one of the customer's orders.")
    given_at: datetime | None = Field(None, description=PAST)


# --- interactions ---------------------------------------------------------------------------


@router.get(
    "/customers/{customer_id}/interactions",
    response={200: InteractionPage, **READ},
    url_name="customer_interactions",
    summary="List a customer's interactions",
)
def list_interactions(
    request: HttpRequest, customer_id: int, params: Query[PageParams], response: HttpResponse
) -> InteractionPage | Status[MergedOut]:
    """Calls, chats, emails, store visits and meetings, the latest first."""
    acting_user(request, "activity.view_interaction")
    customer = _customer(customer_id)
    if customer.merged_into_id is not None:
        return _redirect_to_survivor(customer, response, "customer_interactions")
    rows = Interaction.objects.filter(customer=customer).select_related("staff")
    items, next_cursor = _newest_first(rows, "occurred_at", params)
    return InteractionPage(items=[InteractionOut.of(row) for row in items], next_cursor=next_cursor)


@router.post(
    "/customers/{customer_id}/interactions",
    response={201: InteractionOut, **ERRORS},
    summary="Log an interaction",
)
def create_interaction(
    request: HttpRequest, customer_id: int, payload: InteractionIn
) -> Status[InteractionOut]:
    """Record a call, chat, email, store visit or meeting; the customer's last contact
    traits follow."""
    user = acting_user(request, "activity.add_interaction")
    customer = _survivor(customer_id)
    staff = _staff("staff", payload.staff) if "staff" in payload.model_fields_set else user
    interaction = services.log_interaction(
        customer,
        kind=payload.kind,
        direction=payload.direction,
        staff=staff,
        channel=payload.channel,
        outcome=payload.outcome,
        summary=payload.summary,
        occurred_at=payload.occurred_at,
    )
    return Status(201, InteractionOut.of(interaction))


@router.delete(
    "/interactions/{interaction_id}",
    response={204: None, **ERRORS},
    summary="Delete an interaction",
)
def delete_interaction(request: HttpRequest, interaction_id: int) -> Status[None]:
    acting_user(request, "activity.delete_interaction")
    services.delete_activity(_row(Interaction, interaction_id))
    return Status(204, None)


# --- tickets --------------------------------------------------------------------------------


@router.get(
    "/customers/{customer_id}/tickets",
    response={200: TicketPage, **READ},
    url_name="customer_tickets",
    summary="List a customer's support tickets",
)
def list_tickets(
    request: HttpRequest, customer_id: int, params: Query[PageParams], response: HttpResponse
) -> TicketPage | Status[MergedOut]:
    """Open and closed, the latest opened first."""
    acting_user(request, "activity.view_ticket")
    customer = _customer(customer_id)
    if customer.merged_into_id is not None:
        return _redirect_to_survivor(customer, response, "customer_tickets")
    rows = Ticket.objects.filter(customer=customer).select_related("assignee")
    items, next_cursor = _newest_first(rows, "opened_at", params)
    return TicketPage(items=[TicketOut.of(row) for row in items], next_cursor=next_cursor)


@router.post(
    "/customers/{customer_id}/tickets",
    response={201: TicketOut, **ERRORS},
    summary="Open a support ticket",
)
def create_ticket(request: HttpRequest, customer_id: int, payload: TicketIn) -> Status[TicketOut]:
    acting_user(request, "activity.add_ticket")
    customer = _survivor(customer_id)
    assignee = _staff("assignee", payload.assignee)
    ticket = services.open_ticket(
        customer,
        subject=payload.subject,
        description=payload.description,
        priority=payload.priority,
        assignee=assignee,
        opened_at=payload.opened_at,
    )
    return Status(201, TicketOut.of(ticket))


@router.patch(
    "/tickets/{ticket_id}", response={200: TicketOut, **ERRORS}, summary="Change a ticket"
)
def patch_ticket(request: HttpRequest, ticket_id: int, payload: TicketPatch) -> TicketOut:
    """Move a ticket on (status), reprioritise or reassign it; only the fields sent change,
    all of them or none."""
    acting_user(request, "activity.change_ticket")
    sent = payload.model_fields_set
    with transaction.atomic():
        ticket = _row(Ticket, ticket_id, Ticket.objects.select_for_update())
        errors: list[InvalidValue] = []
        if sent & {"priority", "assignee"}:
            assignee = ticket.assignee
            if "assignee" in sent:
                try:
                    assignee = _staff("assignee", payload.assignee)
                except InvalidValue as error:
                    errors.append(error)
            priority = payload.priority or "" if "priority" in sent else ticket.priority
            try:
                services.change_ticket(ticket, priority=priority, assignee=assignee)
            except ActivityInvalid as exc:
                errors.extend(exc.errors)
        if "status" in sent:
            try:
                services.set_ticket_status(ticket, payload.status or "")
            except ActivityInvalid as exc:
                errors.extend(exc.errors)
        if errors:  # nothing changes: the transaction is rolled back
            raise ActivityInvalid(errors)
    return TicketOut.of(_row(Ticket, ticket_id, _tickets()))


@router.delete("/tickets/{ticket_id}", response={204: None, **ERRORS}, summary="Delete a ticket")
def delete_ticket(request: HttpRequest, ticket_id: int) -> Status[None]:
    acting_user(request, "activity.delete_ticket")
    services.delete_activity(_row(Ticket, ticket_id))
    return Status(204, None)


# --- services -------------------------------------------------------------------------------


@router.get(
    "/customers/{customer_id}/services",
    response={200: ServicePage, **READ},
    url_name="customer_services",
    summary="List a customer's services",
)
def list_services(
    request: HttpRequest, customer_id: int, params: Query[PageParams], response: HttpResponse
) -> ServicePage | Status[MergedOut]:
    """Services the customer has (a maintenance contract, a membership…), the latest started
    first, with when each is next due."""
    acting_user(request, "activity.view_subscription")
    customer = _customer(customer_id)
    if customer.merged_into_id is not None:
        return _redirect_to_survivor(customer, response, "customer_services")
    rows = Subscription.objects.filter(customer=customer).select_related("product")
    items, next_cursor = _newest_first(rows, "started_on", params)
    return ServicePage(items=[ServiceOut.of(row) for row in items], next_cursor=next_cursor)


@router.post(
    "/customers/{customer_id}/services",
    response={201: ServiceOut, **ERRORS},
    summary="Add a service",
)
def create_service(
    request: HttpRequest, customer_id: int, payload: ServiceIn
) -> Status[ServiceOut]:
    acting_user(request, "activity.add_subscription")
    customer = _survivor(customer_id)
    product = _product(payload.product) if payload.product else None
    service = services.add_subscription(
        customer,
        name=payload.name,
        started_on=payload.started_on or timezone.localdate(),
        interval_days=payload.interval_days,
        next_due=payload.next_due,
        product=product,
    )
    return Status(201, ServiceOut.of(service))


@router.post(
    "/services/{service_id}/done",
    response={200: ServiceOut, **ERRORS},
    summary="Record that a service was carried out",
)
def service_done(
    request: HttpRequest, service_id: int, payload: ServiceDoneIn | None = None
) -> ServiceOut:
    """The service was carried out on a day (today when not given): it is next due one
    interval later. No body is needed."""
    acting_user(request, "activity.change_subscription")
    service = _row(Subscription, service_id, _services())
    on = payload.on if payload and payload.on else timezone.localdate()
    service = services.service_done(service, on)
    return ServiceOut.of(service)


@router.delete("/services/{service_id}", response={204: None, **ERRORS}, summary="Delete a service")
def delete_service(request: HttpRequest, service_id: int) -> Status[None]:
    acting_user(request, "activity.delete_subscription")
    services.delete_activity(_row(Subscription, service_id))
    return Status(204, None)


# --- feedback -------------------------------------------------------------------------------


@router.get(
    "/customers/{customer_id}/feedback",
    response={200: FeedbackPage, **READ},
    url_name="customer_feedback",
    summary="List a customer's feedback",
)
def list_feedback(
    request: HttpRequest, customer_id: int, params: Query[PageParams], response: HttpResponse
) -> FeedbackPage | Status[MergedOut]:
    """Ratings, NPS and CSAT answers and comments, the latest first."""
    acting_user(request, "activity.view_feedback")
    customer = _customer(customer_id)
    if customer.merged_into_id is not None:
        return _redirect_to_survivor(customer, response, "customer_feedback")
    rows = Feedback.objects.filter(customer=customer)
    items, next_cursor = _newest_first(rows, "given_at", params)
    return FeedbackPage(items=[FeedbackOut.of(row) for row in items], next_cursor=next_cursor)


@router.post(
    "/customers/{customer_id}/feedback",
    response={201: FeedbackOut, **ERRORS},
    summary="Record feedback",
)
def create_feedback(
    request: HttpRequest, customer_id: int, payload: FeedbackIn
) -> Status[FeedbackOut]:
    """A rating (1-5), NPS (0-10) or CSAT (1-5) answer, or a comment; an NPS answer sets the
    customer's latest NPS and category."""
    acting_user(request, "activity.add_feedback")
    customer = _survivor(customer_id)
    order = _order(customer, payload.order) if payload.order is not None else None
    feedback = services.record_feedback(
        customer,
        kind=payload.kind,
        score=payload.score,
        comment=payload.comment,
        channel=payload.channel,
        order=order,
        given_at=payload.given_at,
    )
    return Status(201, FeedbackOut.of(feedback))


@router.delete("/feedback/{feedback_id}", response={204: None, **ERRORS}, summary="Delete feedback")
def delete_feedback(request: HttpRequest, feedback_id: int) -> Status[None]:
    acting_user(request, "activity.delete_feedback")
    services.delete_activity(_row(Feedback, feedback_id))
    return Status(204, None)


# --- orders and traits ----------------------------------------------------------------------


@router.get(
    "/customers/{customer_id}/orders",
    response={200: OrderPage, **READ},
    url_name="customer_orders",
    summary="List a customer's orders",
)
def list_orders(
    request: HttpRequest, customer_id: int, params: Query[PageParams], response: HttpResponse
) -> OrderPage | Status[MergedOut]:
    """Orders with their items and products, the latest ordered first, whatever their status."""
    acting_user(request, "activity.view_order")
    customer = _customer(customer_id)
    if customer.merged_into_id is not None:
        return _redirect_to_survivor(customer, response, "customer_orders")
    rows = Order.objects.filter(customer=customer).prefetch_related("items__product")
    items, next_cursor = _newest_first(rows, "ordered_at", params)
    return OrderPage(items=[OrderOut.of(row) for row in items], next_cursor=next_cursor)


@router.get(
    "/customers/{customer_id}/traits",
    response={200: TraitsOut, **READ},
    url_name="customer_traits",
    summary="Get a customer's computed traits",
)
def get_traits(
    request: HttpRequest, customer_id: int, response: HttpResponse
) -> TraitsOut | Status[MergedOut]:
    """Orders and spend, last contact, open tickets, overdue services, NPS and engagement,
    as recomputed at the last write of the customer's activity (`computed_at`)."""
    acting_user(request, "activity.view_customertraits")
    customer = _customer(customer_id)
    if customer.merged_into_id is not None:
        return _redirect_to_survivor(customer, response, "customer_traits")
    row = CustomerTraits.objects.select_related("last_contact_by").filter(customer=customer).first()
    return TraitsOut.of(customer.pk, row)


# --- helpers --------------------------------------------------------------------------------


def _customer(customer_id: int) -> Customer:
    return customer_or_404(Customer.objects.all(), customer_id)


def _survivor(customer_id: int) -> Customer:
    """The customer a write for ``customer_id`` goes to: itself, or the survivor of its merge."""
    customer = _customer(customer_id)
    if customer.merged_into_id is None:
        return customer
    return Customer.objects.get(pk=survivors([customer.pk])[customer.pk])


def _row(model: type[M], pk: int, rows: QuerySet[M] | None = None) -> M:
    """The row of ``model`` a path names; 404 if there is none."""
    found = (model._default_manager.all() if rows is None else rows).filter(pk=pk).first()
    if found is None:
        raise HttpError(404, str(NOT_FOUND[model]) % {"id": pk})
    return found


def _tickets() -> QuerySet[Ticket]:
    return Ticket.objects.select_related("assignee")


def _services() -> QuerySet[Subscription]:
    return Subscription.objects.select_related("product")


def _staff(field: str, username: str | None) -> User | None:
    """The active staff member ``username`` names (any case); None for null or ""."""
    text = (username or "").strip()
    if not text:
        return None
    staff = User.objects.filter(is_active=True)
    user = staff.filter(username=text).first() or staff.filter(username__iexact=text).first()
    if user is None:
        raise InvalidValue(field, username, _("the username of an active staff member"))
    return user


def _username(user: User | None) -> str | None:
    return user.username if user else None


def _product(sku: str) -> Product:
    product = Product.objects.filter(sku=sku.strip()).first()
    if product is None:
        raise InvalidValue("product", sku, _("the SKU of a known product"))
    return product


def _order(customer: Customer, order_id: int) -> Order:
    order = Order.objects.filter(pk=order_id, customer=customer).first()
    if order is None:
        raise InvalidValue("order", order_id, _("the id of one of the customer's orders"))
    return order


def _one_of_text(choices: type[models.TextChoices]) -> str:
    return _("one of: %(values)s") % {"values": _one_of(choices)}


def _newest_first(rows: QuerySet[M], field: str, params: PageParams) -> tuple[list[M], str | None]:
    """One page of ``rows``, the latest by ``field`` (a date or a moment) first, then by id.

    Keyset paging, as :func:`kenal.customers.api.page_by_id` does by id alone: the cursor
    holds the last row's ``field`` and id, so each page is one indexed range read however
    deep it is, and rows logged meanwhile (even back-dated ones) neither repeat nor shift a
    page.
    """
    if params.cursor:
        position = decode_cursor(params.cursor, at=(int,), id=(int,))
        try:
            at = _from_position(position["at"], is_date=_is_date(rows, field))
        except (ValueError, OverflowError) as exc:  # a position no page ends at
            raise InvalidValue(
                "cursor", params.cursor, _("the next_cursor of a previous page")
            ) from exc
        rows = rows.filter(Q(**{f"{field}__lt": at}) | Q(**{field: at, "pk__lt": position["id"]}))
    limit = params.limit
    page = list(rows.order_by(f"-{field}", "-pk")[: limit + 1])
    next_cursor = None
    if len(page) > limit:
        last = page[limit - 1]
        next_cursor = encode_cursor({"at": _to_position(getattr(last, field)), "id": last.pk})
    return page[:limit], next_cursor


def _is_date(rows: QuerySet[Any], field: str) -> bool:
    return not isinstance(rows.model._meta.get_field(field), models.DateTimeField)


def _to_position(value: date | datetime) -> int:
    if isinstance(value, datetime):
        return (value - EPOCH) // timedelta(microseconds=1)
    return value.toordinal()


def _from_position(value: int, *, is_date: bool) -> date | datetime:
    return date.fromordinal(value) if is_date else EPOCH + timedelta(microseconds=value)
