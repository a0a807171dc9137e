"""Orders and products: the rules every way in (imports, the tracking API, POS) shares."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.text import slugify
from django.utils.translation import gettext as _

from kenal.activity.models import Order, Product
from kenal.customers.normalise import InvalidValue

__all__ = [
    "DERIVED_SKU_PREFIX",
    "ProductInfo",
    "name_sku",
    "order_status",
    "products_by_sku",
]

Status = Order.Status

# Whole phrases first: the words marketplaces (Shopee, Tokopedia, Lazada, TikTok Shop) and
# POS systems print, in English and Indonesian, compared as lower-case words.
STATUS_PHRASES: dict[str, str] = {
    "belum bayar": Status.PENDING,
    "perlu dikirim": Status.PENDING,
    "to ship": Status.PENDING,
    "ready to ship": Status.PENDING,
    "in transit": Status.PENDING,
    "on hold": Status.PENDING,
    "sampai di tujuan": Status.COMPLETED,
}

# Then single words. A status phrase often mixes words ("Selesai - Dikembalikan",
# "Dibatalkan setelah dikirim"), so the later state in an order's life wins: see STATUS_RANK.
STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "selesai",
            "completed",
            "complete",
            "delivered",
            "terkirim",
            "diterima",
            "done",
            "paid",
            "lunas",
            "sukses",
            "success",
            "berhasil",
            "fulfilled",
        ),
        Status.COMPLETED,
    ),
    **dict.fromkeys(
        (
            "dibatalkan",
            "batal",
            "pembatalan",
            "cancelled",
            "canceled",
            "cancel",
            "cancellation",
            "void",
            "voided",
            "gagal",
            "failed",
        ),
        Status.CANCELLED,
    ),
    **dict.fromkeys(
        (
            "dikembalikan",
            "pengembalian",
            "retur",
            "return",
            "returned",
            "refund",
            "refunded",
        ),
        Status.RETURNED,
    ),
    **dict.fromkeys(
        (
            "menunggu",
            "diproses",
            "dikirim",
            "dikemas",
            "belum",
            "baru",
            "pending",
            "processing",
            "shipped",
            "shipping",
            "unpaid",
            "awaiting",
            "new",
        ),
        Status.PENDING,
    ),
}

# Returned beats cancelled beats completed beats pending: each is a later step.
STATUS_RANK: dict[str, int] = {
    Status.RETURNED: 0,
    Status.CANCELLED: 1,
    Status.COMPLETED: 2,
    Status.PENDING: 3,
}

# A product without a SKU in the file gets one from its name, marked so it is told apart.
DERIVED_SKU_PREFIX = "name:"
SKU_MAX_LENGTH = 64


def order_status(value: str, *, field: str = "status") -> str:
    """An :class:`Order.Status` from a status word or phrase (English or Indonesian)."""
    words = re.sub(r"[^0-9a-z]+", " ", value.casefold()).split()
    phrase = " ".join(words)
    if phrase in Status.values:
        return phrase
    if phrase in STATUS_PHRASES:
        return STATUS_PHRASES[phrase]
    found = {STATUS_WORDS[word] for word in words if word in STATUS_WORDS}
    if found:
        return min(found, key=STATUS_RANK.__getitem__)
    raise InvalidValue(field, value, _status_expected())


def _status_expected() -> str:
    return _(
        "an order status: completed (selesai, delivered, terkirim), cancelled (dibatalkan, "
        "batal, canceled), returned (dikembalikan, pengembalian, refunded) or pending "
        "(menunggu, diproses, dikirim, shipped)"
    )


def name_sku(name: str) -> str:
    """A stable SKU for a product known only by name: the same name, any case, gives the same.

    Long names or names with no Latin letters get a short hash, so two different names never
    share a SKU after being cut to the column's length.
    """
    slug = slugify(name)
    sku = DERIVED_SKU_PREFIX + slug
    if slug and len(sku) <= SKU_MAX_LENGTH:
        return sku
    digest = hashlib.sha256(" ".join(name.casefold().split()).encode()).hexdigest()[:12]
    room = SKU_MAX_LENGTH - len(DERIVED_SKU_PREFIX) - len(digest) - 1
    readable = f"{slug[:room]}-" if slug else ""
    return f"{DERIVED_SKU_PREFIX}{readable}{digest}"


@dataclass(frozen=True)
class ProductInfo:
    """A product as a file or event names it."""

    sku: str
    name: str
    category: str = ""


def products_by_sku(wanted: Iterable[ProductInfo]) -> dict[str, Product]:
    """The product for each SKU, created when missing; three queries for any number.

    A product that exists keeps its name and category: an export's shortened or
    differently-worded name never overwrites the catalogue's.
    """
    first: dict[str, ProductInfo] = {}
    for info in wanted:
        first.setdefault(info.sku, info)
    if not first:
        return {}
    found = {product.sku: product for product in Product.objects.filter(sku__in=first)}
    missing = [
        Product(sku=sku, name=info.name or sku, category=info.category)
        for sku, info in first.items()
        if sku not in found
    ]
    if missing:
        # Another import may create the same SKU meanwhile: its row wins, and is read back.
        Product.objects.bulk_create(missing, batch_size=1000, ignore_conflicts=True)
        created = Product.objects.filter(sku__in=[product.sku for product in missing])
        found.update((product.sku, product) for product in created)
    return found
