"""The demo's life around each customer: calls and chats with staff, support tickets,
services coming due, feedback, website visits and carts, written in bulk per batch.

Everything is drawn from the writer's seeded random stream, so a demo is repeatable.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields

from django.utils import timezone

from kenal.accounts.models import User
from kenal.activity import traits
from kenal.activity.models import (
    Cart,
    CartItem,
    Event,
    Feedback,
    Interaction,
    Order,
    Product,
    Subscription,
    Ticket,
)
from kenal.customers.models import Customer

__all__ = ["ActivityCounts", "write_activity"]

WEB_SOURCE = "website"

# (kind, direction, channel, outcome, summary), Indonesian as a shop's staff write them.
CONTACTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("call", "inbound", "phone", "resolved", "Menanyakan status pengiriman, resi sudah dikirim."),
    ("call", "outbound", "phone", "no_answer", "Konfirmasi alamat pengiriman, tidak diangkat."),
    ("call", "outbound", "phone", "reached", "Menawarkan promo member bulan ini."),
    ("chat", "inbound", "WhatsApp", "resolved", "Tanya stok ukuran L, sudah dijawab."),
    ("chat", "inbound", "WhatsApp", "sale", "Pesan ulang produk yang sama lewat WA."),
    ("chat", "outbound", "WhatsApp", "follow_up", "Kirim katalog terbaru, tunggu balasan."),
    ("email", "outbound", "email", "reached", "Mengirim faktur pajak yang diminta."),
    ("visit", "inbound", "store", "sale", "Datang ke toko, coba beberapa ukuran lalu membeli."),
    ("meeting", "outbound", "store", "follow_up", "Bertemu untuk pesanan grosir seragam kantor."),
)
TICKETS: tuple[tuple[str, str], ...] = (
    ("Paket belum sampai", "Sudah lewat 5 hari dari estimasi kurir."),
    ("Ukuran tidak sesuai", "Minta tukar ke ukuran yang lebih besar."),
    ("Barang rusak saat diterima", "Kemasan penyok, layar tergores."),
    ("Refund belum masuk", "Pengembalian dana sudah disetujui minggu lalu."),
    ("Salah kirim warna", "Pesan hitam, datang biru."),
)
SERVICES: tuple[tuple[str, int], ...] = (
    ("Langganan kopi bulanan", 30),
    ("Servis jam tangan berkala", 180),
    ("Perawatan sepatu", 90),
)
COMMENTS = (
    "Pengiriman cepat, barang sesuai foto.",
    "Pelayanan ramah, akan belanja lagi.",
    "Harga oke tapi pengiriman agak lama.",
    "Kemasan kurang rapi.",
    "Admin WA responsif, mantap!",
)
PAGES = ("Beranda", "Promo", "Kategori", "Tentang Kami", "Keranjang")
ABANDON_AFTER = dt.timedelta(days=1)


@dataclass
class ActivityCounts:
    interactions: int = 0
    tickets: int = 0
    services: int = 0
    feedback: int = 0
    events: int = 0
    carts: int = 0

    def add(self, other: ActivityCounts) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))


@dataclass
class _Rows:
    interactions: list[Interaction]
    tickets: list[Ticket]
    services: list[Subscription]
    feedback: list[Feedback]
    events: list[Event]
    carts: list[tuple[Cart, list[CartItem]]]


def write_activity(
    customers: Sequence[tuple[Customer, dt.datetime, list[Order]]],
    products: Sequence[Product],
    agents: Sequence[User],
    rng: random.Random,
) -> ActivityCounts:
    """Draw and write the activity of these customers (with when each joined and their
    orders), then compute their traits."""
    now = timezone.now()
    rows = _Rows([], [], [], [], [], [])
    for customer, since, orders in customers:
        drawer = _Drawer(customer, since, orders, products, agents, rng, now)
        drawer.draw(rows)
    Interaction.objects.bulk_create(rows.interactions)
    Ticket.objects.bulk_create(rows.tickets)
    Subscription.objects.bulk_create(rows.services)
    Feedback.objects.bulk_create(rows.feedback)
    Event.objects.bulk_create(rows.events, batch_size=1000)
    Cart.objects.bulk_create([cart for cart, _items in rows.carts])
    for cart, items in rows.carts:
        for item in items:
            item.cart = cart
    CartItem.objects.bulk_create([item for _cart, items in rows.carts for item in items])
    traits.refresh(customer.pk for customer, _since, _orders in customers)
    return ActivityCounts(
        interactions=len(rows.interactions),
        tickets=len(rows.tickets),
        services=len(rows.services),
        feedback=len(rows.feedback),
        events=len(rows.events),
        carts=len(rows.carts),
    )


@dataclass
class _Drawer:
    customer: Customer
    since: dt.datetime
    orders: list[Order]
    products: Sequence[Product]
    agents: Sequence[User]
    rng: random.Random
    now: dt.datetime

    def draw(self, rows: _Rows) -> None:
        rows.interactions += self.interactions()
        if self.orders and self.rng.random() < 0.15:
            rows.tickets.append(self.ticket())
        if self.rng.random() < 0.08:
            rows.services.append(self.service())
        if self.orders and self.rng.random() < 0.35:
            rows.feedback += self.feedback()
        if self.rng.random() < 0.3:
            rows.events += self.web_visits()
        if self.rng.random() < 0.06:
            rows.carts.append(self.abandoned_cart())

    def moment(self, within_days: int | None = None) -> dt.datetime:
        """A moment since the customer joined, more often recent than long ago."""
        start = self.since
        if within_days is not None:
            start = max(start, self.now - dt.timedelta(days=within_days))
        span = max((self.now - start).total_seconds(), 60.0)
        return self.now - dt.timedelta(seconds=span * self.rng.random() ** 2)

    def agent(self) -> User | None:
        return self.rng.choice(self.agents) if self.agents else None

    def interactions(self) -> list[Interaction]:
        count = self.rng.choices((0, 1, 2, 3, 5), weights=(40, 25, 15, 12, 8))[0]
        made = []
        for _ in range(count):
            kind, direction, channel, outcome, summary = self.rng.choice(CONTACTS)
            made.append(
                Interaction(
                    customer=self.customer,
                    kind=kind,
                    direction=direction,
                    channel=channel,
                    staff=self.agent(),
                    outcome=outcome,
                    summary=summary,
                    occurred_at=self.moment(),
                )
            )
        return made

    def ticket(self) -> Ticket:
        subject, description = self.rng.choice(TICKETS)
        opened = self.moment(within_days=365)
        still_open = self.rng.random() < 0.3
        return Ticket(
            customer=self.customer,
            subject=subject,
            description=description,
            status=self.rng.choice(Ticket.OPEN_STATUSES if still_open else ("resolved", "closed")),
            priority=self.rng.choices(Ticket.Priority.values, weights=(2, 6, 2, 1))[0],
            assignee=self.agent(),
            opened_at=opened,
            closed_at=None if still_open else opened + dt.timedelta(hours=self.rng.randint(2, 96)),
        )

    def service(self) -> Subscription:
        name, every = self.rng.choice(SERVICES)
        started = timezone.localdate(self.moment()) - dt.timedelta(days=every)
        # Some were last done long ago: overdue now, the reminder a shop wants to send.
        due = timezone.localdate(self.now) + dt.timedelta(days=self.rng.randint(-every, every))
        return Subscription(
            customer=self.customer,
            name=name,
            status=Subscription.Status.ACTIVE,
            started_on=min(started, due),
            interval_days=every,
            next_due=due,
        )

    def feedback(self) -> list[Feedback]:
        order = self.rng.choice(self.orders)
        given = min(order.ordered_at + dt.timedelta(days=self.rng.randint(2, 10)), self.now)
        happy = self.rng.random() < 0.7
        answers = [
            Feedback(
                customer=self.customer,
                kind=Feedback.Kind.NPS,
                score=self.rng.randint(8, 10) if happy else self.rng.randint(2, 7),
                channel="email",
                given_at=given,
            ),
            Feedback(
                customer=self.customer,
                kind=Feedback.Kind.RATING,
                score=self.rng.randint(4, 5) if happy else self.rng.randint(1, 3),
                comment=self.rng.choice(COMMENTS),
                channel=order.source,
                order=order,
                given_at=given,
            ),
        ]
        return answers[: self.rng.randint(1, 2)]

    def event(self, kind: str, name: str, at: dt.datetime, **properties: object) -> Event:
        product = properties.pop("product", None)
        return Event(
            customer=self.customer,
            anonymous_id=f"anon-{self.customer.pk}",
            source=WEB_SOURCE,
            message_id=str(uuid.UUID(int=self.rng.getrandbits(128))),
            kind=kind,
            name=name,
            product=product if isinstance(product, Product) else None,
            properties={key: value for key, value in properties.items() if value is not None},
            occurred_at=at,
        )

    def web_visits(self) -> list[Event]:
        made = []
        for _visit in range(self.rng.randint(1, 4)):
            at = self.moment(within_days=45)
            for _page in range(self.rng.randint(1, 4)):
                page = self.rng.choice(PAGES)
                made.append(self.event("page", page, at, path=f"/{page.lower()}"))
                at += dt.timedelta(seconds=self.rng.randint(10, 120))
            product = self.rng.choice(self.products)
            made.append(self.event("track", "Product Viewed", at, product=product, sku=product.sku))
        if self.rng.random() < 0.4:
            made.append(self.event("track", "Email Opened", self.moment(within_days=30)))
        return made

    def abandoned_cart(self) -> tuple[Cart, list[CartItem]]:
        updated = self.now - ABANDON_AFTER - dt.timedelta(hours=self.rng.randint(1, 240))
        cart = Cart(
            customer=self.customer,
            anonymous_id=f"anon-{self.customer.pk}",
            source=WEB_SOURCE,
            cart_id=f"cart-{self.customer.pk}",
            status=Cart.Status.OPEN,
            created_at=updated - dt.timedelta(minutes=self.rng.randint(1, 30)),
            updated_at=updated,
        )
        picked = self.rng.sample(list(self.products), k=min(len(self.products), 2))
        items = [
            CartItem(product=product, quantity=self.rng.randint(1, 2), unit_price=None)
            for product in picked
        ]
        return cart, items
