"""Events: bulk writing, de-duplication, stitching, and e-commerce events as orders and carts."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from kenal.activity import services
from kenal.activity.events import Call, Recorded, customer_values, record, user_key
from kenal.activity.models import Cart, CustomerTraits, Event, Order, Product
from kenal.customers.models import Customer, CustomField, SourceRecord
from kenal.customers.services import Origin, create_customer
from kenal.identity.merging import merge_customers, unmerge

pytestmark = pytest.mark.django_db

SOURCE = "Online shop"
_ids = itertools.count(1)


def call(kind: str = "track", name: str = "", **values: Any) -> Call:
    values.setdefault("message_id", f"m{next(_ids)}")
    values.setdefault("occurred_at", timezone.now() - datetime.timedelta(minutes=1))
    return Call(kind=kind, name=name, **values)


def send(*calls: Call) -> Recorded:
    return record(SOURCE, list(calls))


def identify(user_id: str = "", anonymous_id: str = "", **traits: Any) -> Recorded:
    # As the wire format hands it over: the event keeps the traits as its properties.
    return send(
        call(
            "identify",
            user_id=user_id,
            anonymous_id=anonymous_id,
            traits=traits,
            properties=traits,
        )
    )


def test_events_are_written_in_bulk_with_few_queries(django_assert_max_num_queries: Any) -> None:
    calls = [call(name="Clicked", anonymous_id=f"a{n % 10}") for n in range(200)]
    with django_assert_max_num_queries(8):
        result = send(*calls)
    assert result.stored == 200
    assert Event.objects.count() == 200


def test_a_message_sent_twice_is_stored_once() -> None:
    first = call(name="Clicked", anonymous_id="a", message_id="same")
    assert send(first, first).duplicates == 1
    assert send(first).duplicates == 1
    assert Event.objects.count() == 1


# --- identify and stitching -------------------------------------------------------------------


def test_identify_creates_the_customer_from_segment_traits() -> None:
    identify(
        "u42",
        "anon-1",
        firstName="budi",
        lastName="santoso",
        email="Budi@Contoh.co.id",
        phone="0812-3456-7890",
        birthday="1990-05-17",
        gender="male",
        title="Owner",
        company={"name": "Toko Maju"},
        address={"street": "Jl. Merdeka 1", "city": "Bandung", "state": "Jawa Barat"},
        plan="gold",
    )
    customer = Customer.objects.get()
    assert customer.full_name == "Budi Santoso"
    assert customer.birth_date == datetime.date(1990, 5, 17)
    assert (customer.gender, customer.job_title, customer.company) == ("male", "Owner", "Toko Maju")
    assert customer.emails.get().email == "Budi@contoh.co.id"
    assert customer.phones.get().number == "+6281234567890"
    assert customer.addresses.get().province == "Jawa Barat"
    record_ = SourceRecord.objects.get()
    assert (record_.source, record_.external_id) == (SOURCE, "u42")
    assert Event.objects.get().properties["plan"] == "gold"


def test_a_second_identify_with_the_same_user_id_finds_the_same_customer() -> None:
    identify("u42", name="Budi Santoso", email="budi@contoh.co.id")
    identify("u42", phone="0812-3456-7890", email="budi.kerja@contoh.co.id")
    customer = Customer.objects.get()
    assert sorted(customer.emails.values_list("email", flat=True)) == [
        "budi.kerja@contoh.co.id",
        "budi@contoh.co.id",
    ]
    assert customer.phones.get().number == "+6281234567890"
    assert Event.objects.filter(customer=customer).count() == 2


def test_identify_finds_a_customer_known_by_email_from_another_channel() -> None:
    known = create_customer(
        {"full_name": "Siti Rahayu", "emails": ["siti@contoh.co.id"]}, Origin(source="web")
    )
    identify("u7", name="Siti Rahayu", email="siti@contoh.co.id")
    assert Customer.objects.get() == known
    assert Event.objects.get().customer == known


def test_identify_stitches_the_visitors_earlier_events_and_carts() -> None:
    send(
        call("page", name="Home", anonymous_id="anon-1"),
        call(name="Product Added", anonymous_id="anon-1", properties={"sku": "KOPI-1"}),
    )
    assert not Event.objects.exclude(customer=None).exists()
    identify("u42", "anon-1", name="Budi Santoso")
    customer = Customer.objects.get()
    assert Event.objects.filter(customer=customer).count() == 3
    assert Cart.objects.get().customer == customer
    # From now on the anonymous id alone is enough.
    send(call("page", name="Later", anonymous_id="anon-1"))
    assert Event.objects.get(name="Later").customer == customer
    assert CustomerTraits.objects.get(customer=customer).visits_30d == 1


def test_a_user_id_not_known_yet_is_kept_and_stitched_when_identified() -> None:
    send(call(name="Logged In", user_id="u42", anonymous_id="anon-1"))
    send(call("page", name="Home", anonymous_id="anon-1"))
    event = Event.objects.get(name="Logged In")
    assert event.customer is None
    assert event.anonymous_id == user_key("u42")
    assert event.properties["$anonymousId"] == "anon-1"
    # The server identifies the user later, without the browser's anonymous id.
    identify("u42", email="budi@contoh.co.id")
    customer = Customer.objects.get()
    assert set(Event.objects.values_list("customer", flat=True)) == {customer.pk}


def test_track_with_a_known_user_id_links_at_once() -> None:
    identify("u42", name="Budi Santoso")
    send(call(name="Clicked", user_id="u42"))
    assert Event.objects.get(name="Clicked").customer == Customer.objects.get()


def test_identify_with_invalid_traits_keeps_the_event_and_reports() -> None:
    result = identify("u42", "anon-1", name="Budi", birthday="31/31/1990")
    [problem] = result.problems
    assert problem.errors[0].field == "birth_date"
    assert problem.source_record is not None
    assert SourceRecord.objects.get().status == SourceRecord.Status.REJECTED
    assert Event.objects.get().properties["birthday"] == "31/31/1990"
    assert not Customer.objects.exists()


def test_invalid_traits_of_a_known_user_still_link_the_event() -> None:
    identify("u42", name="Budi Santoso")
    result = identify("u42", "anon-2", gender="robot")
    assert result.problems[0].errors[0].field == "gender"
    customer = Customer.objects.get()
    assert customer.gender == ""
    assert Event.objects.filter(customer=customer).count() == 2


def test_identify_without_identifying_traits_is_stored_unlinked() -> None:
    result = identify("u42", "anon-1", plan="gold")
    assert result.problems == []
    assert Event.objects.get().customer is None


def test_traits_naming_a_custom_field_fill_it() -> None:
    CustomField.objects.create(key="member_no", label="Member number", field_type="text")
    values = customer_values(
        {"name": "Budi", "member_no": "M-1", "other": 1}, frozenset({"member_no"})
    )
    assert values == {"full_name": "Budi", "custom": {"member_no": "M-1"}}


# --- alias ------------------------------------------------------------------------------------


def test_alias_ties_an_anonymous_id_to_the_user() -> None:
    send(call("page", name="Home", anonymous_id="anon-1"))
    identify("u42", name="Budi Santoso")
    send(call("alias", user_id="u42", previous_id="anon-1"))
    customer = Customer.objects.get()
    assert Event.objects.filter(customer=customer).count() == 3


def test_alias_gives_a_known_customer_a_new_user_id() -> None:
    identify("old-7", name="Budi Santoso")
    send(call("alias", user_id="new-7", previous_id="old-7"))
    send(call(name="Clicked", user_id="new-7"))
    assert Event.objects.get(name="Clicked").customer == Customer.objects.get()


def test_alias_merges_the_previous_customer_into_the_users() -> None:
    identify("old-7", name="Budi Santoso", email="budi@contoh.co.id")
    identify("new-7", name="Budi S", phone="0812-3456-7890")
    old = Customer.objects.get(source_records__external_id="old-7")
    new = Customer.objects.get(source_records__external_id="new-7")
    send(call("alias", user_id="new-7", previous_id="old-7"))
    old.refresh_from_db()
    assert old.merged_into == new
    send(call(name="Clicked", user_id="old-7"))
    assert Event.objects.get(name="Clicked").customer == new


def test_alias_of_two_unknown_ids_is_stored() -> None:
    result = send(call("alias", user_id="u1", previous_id="anon-1"))
    assert (result.stored, result.problems) == (1, [])


# --- e-commerce -------------------------------------------------------------------------------

PRODUCTS = [
    {
        "product_id": "KOPI-1",
        "name": "Kopi Gayo",
        "price": 85000,
        "quantity": 2,
        "category": "Kopi",
    },
    {"sku": "TEH-1", "name": "Teh Melati", "price": "25000.50"},
]


def test_product_viewed_names_its_product() -> None:
    send(
        call(
            name="Product Viewed",
            anonymous_id="a",
            properties={"product_id": "KOPI-1", "name": "Kopi Gayo", "category": "Kopi"},
        )
    )
    event = Event.objects.get()
    assert event.product == Product.objects.get(sku="KOPI-1")
    assert event.product.category == "Kopi"


def test_a_product_known_only_by_name_gets_a_derived_sku() -> None:
    send(call(name="Product Clicked", anonymous_id="a", properties={"name": "Kopi Gayo"}))
    product = Event.objects.get().product
    assert product is not None
    assert product.sku == "name:kopi-gayo"


def test_products_added_and_removed_change_the_cart() -> None:
    added = {"cart_id": "c1", "sku": "KOPI-1", "name": "Kopi", "price": 85000}
    send(
        call(name="Product Added", anonymous_id="a", properties={**added, "quantity": 3}),
        call(name="Product Added", anonymous_id="a", properties={**added, "sku": "TEH-1"}),
        call(name="Product Removed", anonymous_id="a", properties={**added, "quantity": 1}),
        call(name="Product Removed", anonymous_id="a", properties={**added, "sku": "TEH-1"}),
    )
    cart = Cart.objects.get()
    assert (cart.cart_id, cart.status, cart.anonymous_id) == ("c1", "open", "a")
    [item] = cart.items.all()
    assert (item.product.sku, item.quantity, item.unit_price) == ("KOPI-1", 2, Decimal("85000.00"))


def test_without_a_cart_id_the_persons_open_cart_is_used() -> None:
    send(
        call(name="Product Added", anonymous_id="a", properties={"sku": "KOPI-1"}),
        call(name="Product Added", anonymous_id="a", properties={"sku": "TEH-1"}),
    )
    cart = Cart.objects.get()
    assert cart.cart_id.startswith("auto:")
    assert cart.items.count() == 2


@pytest.mark.parametrize("name", ["Cart Viewed", "Checkout Started"])
def test_cart_viewed_and_checkout_started_list_the_whole_cart(name: str) -> None:
    send(call(name="Product Added", anonymous_id="a", properties={"cart_id": "c1", "sku": "X"}))
    send(call(name=name, anonymous_id="a", properties={"cart_id": "c1", "products": PRODUCTS}))
    items = Cart.objects.get().items.order_by("product__sku")
    assert [(item.product.sku, item.quantity) for item in items] == [("KOPI-1", 2), ("TEH-1", 1)]


def test_order_completed_becomes_an_order_once_and_completes_the_cart() -> None:
    identify("u42", name="Budi Santoso")
    send(call(name="Product Added", user_id="u42", properties={"cart_id": "c1", "sku": "KOPI-1"}))
    completed = {
        "order_id": "INV-1",
        "cart_id": "c1",
        "total": 195000.5,
        "currency": "idr",
        "products": PRODUCTS,
    }
    send(call(name="Order Completed", user_id="u42", properties=completed))
    send(call(name="Order Completed", user_id="u42", properties=completed))
    order = Order.objects.get()
    assert (order.order_number, order.source, order.status) == ("INV-1", SOURCE, "completed")
    assert (order.total, order.currency) == (Decimal("195000.50"), "IDR")
    assert order.customer == Customer.objects.get()
    items = order.items.order_by("product__sku")
    assert [(i.product.sku, i.quantity, i.unit_price) for i in items] == [
        ("KOPI-1", 2, Decimal("85000.00")),
        ("TEH-1", 1, Decimal("25000.50")),
    ]
    cart = Cart.objects.get()
    assert (cart.status, cart.order) == ("ordered", order)
    traits = CustomerTraits.objects.get(customer=order.customer)
    assert (traits.order_count, traits.total_spend) == (1, Decimal("195000.50"))


def test_an_order_without_a_total_adds_up_its_items() -> None:
    identify("u42", name="Budi Santoso")
    send(
        call(
            name="Order Completed",
            user_id="u42",
            properties={"order_id": "1", "products": PRODUCTS},
        )
    )
    assert Order.objects.get().total == Decimal("195000.50")


def test_a_visitors_order_waits_for_them_to_be_identified() -> None:
    properties = {"order_id": "INV-9", "revenue": 50000, "products": PRODUCTS[:1]}
    send(call(name="Order Completed", anonymous_id="anon-1", properties=properties))
    assert not Order.objects.exists()
    identify("u42", "anon-1", name="Budi Santoso")
    order = Order.objects.get()
    assert (order.order_number, order.customer) == ("INV-9", Customer.objects.get())
    assert order.total == Decimal("50000.00")


def test_order_cancelled_and_refunded_change_the_status() -> None:
    identify("u42", name="Budi Santoso")
    send(call(name="Order Completed", user_id="u42", properties={"order_id": "A", "total": 10}))
    send(call(name="Order Refunded", user_id="u42", properties={"order_id": "A"}))
    assert Order.objects.get().status == "returned"
    send(call(name="Order Cancelled", user_id="u42", properties={"order_id": "A"}))
    assert Order.objects.get().status == "cancelled"


def test_bad_order_values_keep_the_event_and_report_each_field() -> None:
    identify("u42", name="Budi Santoso")
    properties = {
        "total": "a lot",
        "currency": "rupiah",
        "products": [{"sku": "A", "price": "cheap", "quantity": 0}, "pen"],
    }
    result = send(call(name="Order Completed", user_id="u42", properties=properties))
    assert result.stored == 1
    [problem] = result.problems
    assert [(e.field, str(e.value)) for e in problem.errors] == [
        ("properties.order_id", ""),
        ("properties.products[0].quantity", "0"),
        ("properties.products[0].price", "cheap"),
        ("properties.products[1]", "pen"),
        ("properties.total", "a lot"),
        ("properties.currency", "rupiah"),
    ]
    assert not Order.objects.exists()
    assert Event.objects.filter(name="Order Completed").exists()


def test_a_product_event_without_a_product_is_reported() -> None:
    result = send(call(name="Product Viewed", anonymous_id="a", properties={"price": 1}))
    assert result.problems[0].errors[0].field == "properties.sku"
    assert Event.objects.get().product is None


def test_a_merge_undone_sends_each_customer_its_activity_and_the_events_tracked_since() -> None:
    identify("u-1", email="budi@contoh.id", name="Budi Santoso")
    identify("u-2", email="b.santoso@surel.id", name="Budi Santoso")
    budi = Customer.objects.get(emails__email="budi@contoh.id")
    santoso = Customer.objects.get(emails__email="b.santoso@surel.id")
    send(call("page", name="Home", user_id="u-2"))
    ticket = services.open_ticket(santoso, subject="Retur sepatu")
    merge = merge_customers(budi, santoso, actor=None)
    assert set(Event.objects.values_list("customer", flat=True)) == {budi.pk}

    # Since the merge: each userId's events reach the survivor, and a call is logged there.
    send(
        call("track", name="Product Viewed", user_id="u-2", message_id="after-2"),
        call("track", name="Product Viewed", user_id="u-1", message_id="after-1"),
    )
    services.log_interaction(budi, kind="call", direction="inbound", staff=None)
    unmerge(merge, actor=None)

    events = dict(Event.objects.filter(kind="track").values_list("message_id", "customer"))
    assert events == {"after-1": budi.pk, "after-2": santoso.pk}
    assert Event.objects.filter(kind="page").get().customer == santoso
    ticket.refresh_from_db()
    assert ticket.customer == santoso
    assert CustomerTraits.objects.get(customer=santoso).open_tickets == 1
    assert CustomerTraits.objects.get(customer=budi).last_contact_at is not None
