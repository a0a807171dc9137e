"""The official SDKs — Segment's analytics-python and RudderStack's rudder-sdk-python — sending
to a live Kenal server, flushed, then what landed in the database."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import rudderstack.analytics.request  # type: ignore[import-untyped]
import segment.analytics.request  # type: ignore[import-untyped]
from django.db import connection
from rudderstack.analytics.client import Client as RudderClient  # type: ignore[import-untyped]
from segment.analytics.client import Client as SegmentClient  # type: ignore[import-untyped]

from kenal.activity.models import Cart, Event, Order
from kenal.conftest import _close_live_server_connections
from kenal.customers.models import Customer
from kenal.ingest.sources import create_source

ORDER = {
    "order_id": "INV-100",
    "total": 195000,
    "currency": "IDR",
    "products": [
        {"product_id": "KOPI-1", "name": "Kopi Gayo", "price": 85000, "quantity": 2},
        {"sku": "TEH-1", "name": "Teh Melati", "price": 25000},
    ],
}


@pytest.fixture
def server(live_server: Any) -> Iterator[str]:
    yield str(live_server)
    # The SDKs keep their HTTP connections open in a module-wide session; closed, the live
    # server's request threads end now rather than at interpreter exit.
    segment.analytics.request._session.close()
    rudderstack.analytics.request._session.close()
    connection.close()
    _close_live_server_connections()


def journey(client: Any) -> None:
    """A visitor browses, fills a cart, signs in, buys; the calls every SDK has."""
    client.page(anonymous_id="anon-1", name="Home", properties={"url": "https://toko.id/"})
    client.screen(anonymous_id="anon-1", name="Catalogue")
    client.track(
        anonymous_id="anon-1",
        event="Product Viewed",
        properties={"product_id": "KOPI-1", "name": "Kopi Gayo", "category": "Kopi"},
    )
    client.track(
        anonymous_id="anon-1",
        event="Product Added",
        properties={"cart_id": "c-1", "product_id": "KOPI-1", "name": "Kopi Gayo", "quantity": 2},
    )
    client.identify(
        user_id="u-42",
        anonymous_id="anon-1",
        traits={"firstName": "Budi", "lastName": "Santoso", "email": "budi@contoh.co.id"},
    )
    client.track(user_id="u-42", event="Order Completed", properties={**ORDER, "cart_id": "c-1"})
    client.group(user_id="u-42", group_id="pt-maju", traits={"name": "PT Maju"})
    client.alias(previous_id="u-42", user_id="budi-santoso")
    client.track(user_id="budi-santoso", event="Email Opened")


def check_journey(source: str) -> None:
    customer = Customer.objects.get()
    assert customer.full_name == "Budi Santoso"
    assert customer.emails.get().email == "budi@contoh.co.id"
    events = Event.objects.filter(source=source)
    assert events.count() == 9
    # Every event, the anonymous ones before identify included, belongs to Budi.
    assert set(events.values_list("customer", flat=True)) == {customer.pk}
    kinds = sorted(set(events.values_list("kind", flat=True)))
    assert kinds == ["alias", "group", "identify", "page", "screen", "track"]
    assert events.get(name="Product Viewed").product is not None
    order = Order.objects.get(source=source)
    assert (order.order_number, order.total, order.customer) == (
        "INV-100",
        Decimal("195000.00"),
        customer,
    )
    assert order.items.count() == 2
    cart = Cart.objects.get(source=source)
    assert (cart.status, cart.order, cart.customer) == ("ordered", order, customer)


@pytest.mark.parametrize("gzip", [False, True])
def test_segment_analytics_python(server: str, gzip: bool) -> None:
    key = create_source("Segment shop")[1]
    errors: list[Any] = []
    client = SegmentClient(
        key,
        host=server,
        gzip=gzip,
        on_error=lambda error, batch: errors.append(error),
        max_retries=0,
    )
    journey(client)
    client.flush()
    client.shutdown()
    assert errors == []
    check_journey("Segment shop")


def test_rudder_sdk_python(server: str) -> None:
    key = create_source("Rudder app")[1]
    errors: list[Any] = []
    client = RudderClient(
        key,
        host=server,  # the dataPlaneUrl
        on_error=lambda error, batch: errors.append(error),
        max_retries=0,
    )
    journey(client)
    client.flush()
    client.shutdown()
    assert errors == []
    check_journey("Rudder app")


def test_a_redelivered_batch_is_stored_once(server: str) -> None:
    key = create_source("Segment shop")[1]
    client = SegmentClient(key, host=server, sync_mode=True)
    for _ in range(2):
        client.track(anonymous_id="a", event="Clicked", message_id="same-message")
    assert Event.objects.count() == 1


def test_a_wrong_write_key_is_reported_to_the_sdk(server: str) -> None:
    create_source("Segment shop")
    errors: list[Any] = []
    client = SegmentClient(
        "kenal_wk_wrong",
        host=server,
        on_error=lambda error, batch: errors.append(error),
        max_retries=0,
    )
    client.track(anonymous_id="a", event="Clicked")
    client.flush()
    client.shutdown()
    [error] = errors
    assert (error.status, error.code) == (401, "unauthorized")
    assert "not the key of any tracking source" in error.message
    assert not Event.objects.exists()
