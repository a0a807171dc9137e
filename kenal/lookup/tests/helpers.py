"""Customers and their activity for the lookup tests, written through the real services."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from kenal.activity.models import Order, Subscription, Ticket
from kenal.customers import services
from kenal.customers.models import Customer
from kenal.customers.services import Origin


def make(full_name: str, **values: Any) -> Customer:
    return services.create_customer({"full_name": full_name, **values}, Origin(source="test"))


def order(customer: Customer, number: str, days_ago: int, source: str = "shopee") -> Order:
    return Order.objects.create(
        customer=customer,
        source=source,
        order_number=number,
        ordered_at=timezone.now() - datetime.timedelta(days=days_ago),
        total=Decimal("150000"),
    )


def ticket(customer: Customer, subject: str, status: str = Ticket.Status.OPEN) -> Ticket:
    return Ticket.objects.create(
        customer=customer, subject=subject, status=status, opened_at=timezone.now()
    )


def service(
    customer: Customer, name: str, due_in_days: int, status: str = Subscription.Status.ACTIVE
) -> Subscription:
    today = timezone.localdate()
    return Subscription.objects.create(
        customer=customer,
        name=name,
        status=status,
        started_on=today - datetime.timedelta(days=365),
        interval_days=90,
        next_due=today + datetime.timedelta(days=due_in_days),
    )
