"""The customer endpoints of the REST API, mounted at /api/customers.

They only translate between JSON and the services: values are cleaned by
:mod:`kenal.customers.services`, and a new record goes through identity resolution
(:func:`kenal.identity.services.resolve`) like every other write path, so the API never
creates a duplicate of a customer it can recognise.
"""

from __future__ import annotations

import json
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Self, TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status
from pydantic import BaseModel, ConfigDict, model_validator

from kenal.accounts.models import User
from kenal.accounts.services import check_permissions
from kenal.customers import custom_fields
from kenal.customers.models import Customer, CustomField, SourceRecord
from kenal.customers.normalise import InvalidValue
from kenal.customers.services import CustomerQuery, Origin, find_customers, update_customer
from kenal.identity import services as identity

__all__ = ["router"]

VIEW = "customers.view_customer"
ADD = "customers.add_customer"
CHANGE = "customers.change_customer"
VIEW_RECORDS = "customers.view_sourcerecord"
# Body fields that say where values come from, not values of the customer.
ORIGIN_FIELDS = ("source", "external_id")

router = Router()


# --- schemas --------------------------------------------------------------------------------


class ErrorItem(Schema):
    field: str
    value: str
    expected: str
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[ErrorItem] | None = None
    source_record: int | None = Field(
        None, description="The kept source record holding the refused values."
    )


ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class MergedOut(Schema):
    detail: str
    merged_into: int


MergedInto = Annotated[int | None, Field(description="Set when merged into another customer.")]
NextCursor = Annotated[str | None, Field(description="Pass as `cursor` for the next page.")]


# Input models are plain pydantic models: ninja's Schema reads only declared fields, and
# unknown ones must reach the services to be refused by name.


class _TextOrObject(BaseModel):
    """A contact row sent as the text of ``text_field`` alone, or as an object."""

    text_field: ClassVar[str]

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        return {cls.text_field: value} if isinstance(value, str) else value


class EmailIn(_TextOrObject):
    """An email address, or an object with its flags."""

    text_field = "email"

    email: str
    is_primary: bool = False
    is_verified: bool = False


class PhoneIn(_TextOrObject):
    """A phone number in any format (stored in E.164), or an object with its flags."""

    text_field = "number"

    number: str
    is_primary: bool = False
    is_verified: bool = False


class AddressIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    label: str | None = None
    street: str | None = None
    village: str | None = None
    district: str | None = None
    city: str | None = None
    province: str | None = None
    postcode: str | None = None
    country: str | None = Field(None, description="ISO 3166 code or name.")
    is_primary: bool = False


class CustomerIn(BaseModel):
    """Customer values; only the fields sent are written (``null`` or "" clears a field).

    Lists (emails, phones, addresses, tags) replace the stored list whole. The model checks
    the shape of a request and documents it; the services clean the values as sent.
    """

    model_config = ConfigDict(extra="allow")

    source: str = Field(
        "api",
        min_length=1,
        max_length=100,
        description="The system sending the values: matching by external_id is per source.",
    )
    external_id: str = Field("", max_length=200, description="The customer's id in `source`.")
    full_name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    gender: str | None = Field(None, description="female, male or other.")
    birth_date: str | None = Field(None, description="1990-05-17, 17/05/1990, …")
    company: str | None = None
    job_title: str | None = None
    income_band: str | None = None
    marital_status: str | None = None
    education: str | None = None
    preferred_language: str | None = None
    preferred_channel: str | None = None
    lifecycle_stage: str | None = None
    owner: str | None = Field(None, description="Username of the staff member in charge.")
    do_not_contact: bool | None = Field(None, description="Staff are warned before contacting.")
    emails: list[EmailIn] | None = None
    phones: list[PhoneIn] | None = None
    addresses: list[AddressIn] | None = None
    tags: list[str] | None = None
    custom: dict[str, Any] | None = Field(None, description="Custom field values by key.")

    def origin(self, actor: User) -> Origin:
        return Origin(source=self.source, external_id=self.external_id, actor=actor)


class EmailOut(Schema):
    email: str
    is_primary: bool
    is_verified: bool


class PhoneOut(Schema):
    number: str
    is_primary: bool
    is_verified: bool


class AddressOut(Schema):
    label: str
    street: str
    village: str
    district: str
    city: str
    province: str
    postcode: str
    country: str
    is_primary: bool


class CustomerValues(Schema):
    """A customer's own values, one per field, and their contact rows: the part of a customer
    that every answer showing one in full has (here and in :mod:`kenal.identity.api`)."""

    id: int
    full_name: str
    given_name: str
    family_name: str
    gender: str
    birth_date: date | None
    company: str
    job_title: str
    income_band: str
    marital_status: str
    education: str
    preferred_language: str
    preferred_channel: str
    lifecycle_stage: str
    owner: str | None = Field(description="Username of the staff member in charge.")
    do_not_contact: bool
    emails: list[EmailOut]
    phones: list[PhoneOut]
    addresses: list[AddressOut]

    @classmethod
    def of(cls, customer: Customer, **more: Any) -> Self:
        """The schema for ``customer``, with ``more``: the fields a subclass adds."""
        return cls(
            id=customer.pk,
            full_name=customer.full_name,
            given_name=customer.given_name,
            family_name=customer.family_name,
            gender=customer.gender,
            birth_date=customer.birth_date,
            company=customer.company,
            job_title=customer.job_title,
            income_band=customer.income_band,
            marital_status=customer.marital_status,
            education=customer.education,
            preferred_language=customer.preferred_language,
            preferred_channel=customer.preferred_channel,
            lifecycle_stage=customer.lifecycle_stage,
            owner=customer.owner.username if customer.owner else None,
            do_not_contact=customer.do_not_contact,
            emails=[EmailOut.model_validate(row) for row in customer.emails.all()],
            phones=[PhoneOut.model_validate(row) for row in customer.phones.all()],
            addresses=[AddressOut.model_validate(row) for row in customer.addresses.all()],
            **more,
        )


class CustomerOut(CustomerValues):
    tags: list[str]
    custom: dict[str, str] = Field(description="Custom field values by key, as text.")
    merged_into: MergedInto
    created_at: datetime
    updated_at: datetime


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: NextCursor


class ResolvedOut(Schema):
    decision: str = Field(
        description=(
            "created: a new customer; matched: the values went to the customer they belong "
            "to; review: a new customer, proposed for review as a possible duplicate."
        )
    )
    match_score: float | None
    explanation: list[dict[str, Any]]
    customer: CustomerOut


class SourceRecordOut(Schema):
    id: int
    source: str
    batch_id: str
    external_id: str
    row_number: int | None
    action: str
    status: str
    received_at: datetime
    received_by: str | None
    data: dict[str, Any]
    errors: list[dict[str, Any]]


class SourceRecordPage(Schema):
    items: list[SourceRecordOut]
    next_cursor: str | None


class PageParams(Schema):
    cursor: str = Field("", description="The `next_cursor` of the previous page.")
    limit: int = Field(50, ge=1, le=200)


class CustomerFilters(PageParams):
    q: str = Field("", description="An email, a phone number (any format) or name words.")
    stage: str = Field("", description="Lifecycle stage.")
    tag: str = ""
    trait: list[str] = Field(
        [],
        description=(
            "Filter by a computed trait as NAME:OPERATOR:VALUE, e.g. order_count:gte:3 or "
            "days_since_last_order:gt:90 (operators eq, lt, lte, gt, gte); repeat to combine."
        ),
    )


# --- endpoints ------------------------------------------------------------------------------


@router.get("", response={200: CustomerPage, **ERRORS}, summary="List customers")
def list_customers(request: HttpRequest, filters: Query[CustomerFilters]) -> CustomerPage:
    """Customers in the order they were created, a page at a time; merged ones are left out."""
    acting_user(request, VIEW)
    query = CustomerQuery(
        text=filters.q,
        lifecycle_stage=filters.stage,
        tag=filters.tag,
        trait_filters=tuple(_trait_filter(value) for value in filters.trait),
    )
    # A merged customer lives on in its survivor; its row stays only so the merge can be undone.
    customers = _with_details(find_customers(query).filter(merged_into=None))
    items, next_cursor = page_by_id(customers, filters.cursor, filters.limit, newest_first=False)
    fields = _custom_fields()
    return CustomerPage(
        items=[_customer_out(customer, fields) for customer in items], next_cursor=next_cursor
    )


def _trait_filter(value: str) -> tuple[str, str, str]:
    name, _sep, rest = value.partition(":")
    operator, sep, compared = rest.partition(":")
    if not sep:
        raise InvalidValue("trait", value, _("NAME:OPERATOR:VALUE, e.g. order_count:gte:3"))
    return name, operator, compared


@router.post("", response={200: ResolvedOut, 201: ResolvedOut, **ERRORS}, summary="Add a customer")
def create_customer(request: HttpRequest, payload: CustomerIn) -> Status[ResolvedOut]:
    """Add a customer's values: to the customer they belong to if identity matching finds one
    (200, ``matched``), else to a new customer (201, ``created`` or ``review``)."""
    # A match updates an existing customer, so adding takes the right to change too.
    user = acting_user(request, ADD, CHANGE)
    resolved = identity.resolve(_received(request), payload.origin(user))
    out = ResolvedOut(
        decision=resolved.decision,
        match_score=resolved.match_score,
        explanation=resolved.explanation,
        customer=_customer_out(_customer(resolved.customer.pk), _custom_fields()),
    )
    return Status(200 if resolved.decision == "matched" else 201, out)


@router.get(
    "/{customer_id}",
    response={200: CustomerOut, 307: MergedOut, **ERRORS},
    url_name="customer",
    summary="Get a customer",
)
def get_customer(
    request: HttpRequest, customer_id: int, response: HttpResponse
) -> CustomerOut | Status[MergedOut]:
    """A merged customer answers 307 with the survivor's address in ``Location``
    (temporary: the merge can be undone)."""
    acting_user(request, VIEW)
    customer = _customer(customer_id)
    if customer.merged_into_id is not None:
        return _redirect_to_survivor(customer, response, "customer")
    return _customer_out(customer, _custom_fields())


@router.patch(
    "/{customer_id}",
    response={200: CustomerOut, 409: MergedOut, **ERRORS},
    summary="Change a customer",
)
def patch_customer(
    request: HttpRequest, customer_id: int, payload: CustomerIn
) -> CustomerOut | Status[MergedOut]:
    """Change the fields sent. A merged customer is refused (409) rather than redirected, so
    the caller decides whether the change belongs to the survivor."""
    user = acting_user(request, CHANGE)
    customer = _customer(customer_id)
    if customer.merged_into_id is not None:
        return Status(409, _merged(customer))
    raw = _received(request)
    if raw:  # an empty change writes nothing, not even a source record
        update_customer(customer, raw, payload.origin(user))
    return _customer_out(_customer(customer_id), _custom_fields())


@router.get(
    "/{customer_id}/source-records",
    response={200: SourceRecordPage, 307: MergedOut, **ERRORS},
    url_name="customer_source_records",
    summary="List a customer's source records",
)
def list_source_records(
    request: HttpRequest,
    customer_id: int,
    params: Query[PageParams],
    response: HttpResponse,
) -> SourceRecordPage | Status[MergedOut]:
    """The values received for the customer exactly as sent, newest first."""
    acting_user(request, VIEW_RECORDS)
    customer = _customer(customer_id)
    if customer.merged_into_id is not None:
        return _redirect_to_survivor(customer, response, "customer_source_records")
    records = SourceRecord.objects.filter(customer=customer).select_related("received_by")
    items, next_cursor = page_by_id(records, params.cursor, params.limit, newest_first=True)
    return SourceRecordPage(
        items=[_source_record_out(record) for record in items], next_cursor=next_cursor
    )


# --- helpers --------------------------------------------------------------------------------


def acting_user(request: HttpRequest, *permissions: str) -> User:
    """The staff member the request acts as, once they hold ``permissions``."""
    user = getattr(request, "auth", None)
    assert isinstance(user, User)  # every operation is authenticated (see kenal.api)
    check_permissions(user, permissions)
    return user


def _received(request: HttpRequest) -> dict[str, Any]:
    """The customer values of the request body exactly as sent, which its model has checked.

    Not the model's reading of them (it turns "yes" into true, an email as text into an object):
    the source record keeps what was received.
    """
    body: dict[str, Any] = json.loads(request.body)
    for name in ORIGIN_FIELDS:
        body.pop(name, None)
    return body


def _with_details(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    return customers.select_related("owner").prefetch_related(
        "emails", "phones", "addresses", "tags", "custom_values"
    )


def _customer(customer_id: int) -> Customer:
    return customer_or_404(_with_details(Customer.objects.all()), customer_id)


def customer_or_404(customers: QuerySet[Customer], customer_id: int) -> Customer:
    """The customer of ``customers`` a path names; 404 if there is none."""
    customer = customers.filter(pk=customer_id).first()
    if customer is None:
        raise HttpError(404, _("customer %(id)s: no customer has this id") % {"id": customer_id})
    return customer


def _merged(customer: Customer) -> MergedOut:
    assert customer.merged_into_id is not None
    return MergedOut(
        detail=_("Customer %(id)s was merged into customer %(survivor)s.")
        % {"id": customer.pk, "survivor": customer.merged_into_id},
        merged_into=customer.merged_into_id,
    )


def _redirect_to_survivor(
    customer: Customer, response: HttpResponse, url_name: str
) -> Status[MergedOut]:
    merged = _merged(customer)
    response["Location"] = reverse(f"api:{url_name}", args=[merged.merged_into])
    return Status(307, merged)


def _custom_fields() -> dict[int, CustomField]:
    return {field.pk: field for field in CustomField.objects.all()}


def _customer_out(customer: Customer, fields: Mapping[int, CustomField]) -> CustomerOut:
    custom = custom_fields.typed_values(customer.custom_values.all(), fields)
    return CustomerOut.of(
        customer,
        tags=[tag.name for tag in customer.tags.all()],
        # As the edit form shows them: text that cleans back to the same values.
        custom={
            field.key: custom_fields.form_value(field, values)
            for field, values in custom.items()
            if not field.is_archived
        },
        merged_into=customer.merged_into_id,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
    )


def _source_record_out(record: SourceRecord) -> SourceRecordOut:
    return SourceRecordOut(
        id=record.pk,
        source=record.source,
        batch_id=record.batch_id,
        external_id=record.external_id,
        row_number=record.row_number,
        action=record.action,
        status=record.status,
        received_at=record.received_at,
        received_by=record.received_by.username if record.received_by else None,
        data=record.data,
        errors=record.errors,
    )


M = TypeVar("M", bound=Model)


def page_by_id(
    rows: QuerySet[M], cursor: str, limit: int, *, newest_first: bool, key: str = "after"
) -> tuple[list[M], str | None]:
    """One page of ``rows`` by id, after ``cursor``, and the cursor of the next page (which
    holds the last id shown as ``key``).

    Keyset paging: each page is one indexed range read however deep it is, and rows added
    meanwhile neither repeat nor shift a page, unlike with an offset.
    """
    if cursor:
        after = decode_cursor(cursor, **{key: (int,)})[key]
        rows = rows.filter(pk__lt=after) if newest_first else rows.filter(pk__gt=after)
    page = list(rows.order_by("-pk" if newest_first else "pk")[: limit + 1])
    next_cursor = encode_cursor({key: page[limit - 1].pk}) if len(page) > limit else None
    return page[:limit], next_cursor


def encode_cursor(position: dict[str, float]) -> str:
    # Opaque to callers, so what a cursor holds can change without breaking them.
    return urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, **kinds: tuple[type, ...]) -> dict[str, Any]:
    """The position ``cursor`` holds: each of ``kinds`` a value of one of its types."""
    try:
        position = json.loads(urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:  # bad base64 and bad JSON alike
        position = None
    # ``type() in``, not isinstance: True is an int, but no position.
    if not isinstance(position, dict) or any(
        type(position.get(name)) not in types for name, types in kinds.items()
    ):
        raise InvalidValue("cursor", cursor, _("the next_cursor of a previous page"))
    return position
