"""Customer list speed on a large table: page views, sorts and searches.

Usage: python bench/customer_list.py [--customers 1000000] [--data-dir DIR] [--database-url URL]

Fills a fresh database with N customers (each with an email, a phone and name tokens), then
times the queries the customer list runs — through the same service the page calls — and, as
the anchor, the same first page through Django's Paginator (COUNT(*) + LIMIT), printing
median and p95 milliseconds and the ratio.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

GIVEN = [
    "Budi",
    "Siti",
    "Agus",
    "Dewi",
    "Rina",
    "Andi",
    "Eko",
    "Sri",
    "Ahmad",
    "Muhammad",
    "Nur",
    "Putri",
    "Joko",
    "Wahyu",
    "Hendra",
    "Yuni",
    "Rudi",
    "Lestari",
    "Dian",
    "Fitri",
    "Bambang",
    "Indah",
    "Ratna",
    "Slamet",
    "Tuti",
    "Adi",
    "Bayu",
    "Citra",
    "Gilang",
    "Hana",
]
FAMILY = [
    "Santoso",
    "Wijaya",
    "Saputra",
    "Hartono",
    "Kusuma",
    "Setiawan",
    "Nugroho",
    "Pratama",
    "Hidayat",
    "Lestari",
    "Wibowo",
    "Siregar",
    "Nasution",
    "Simanjuntak",
    "Sinaga",
    "Hutapea",
    "Tanoto",
    "Halim",
    "Gunawan",
    "Suryadi",
    "Rahman",
    "Hasibuan",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    os.environ["KENAL_DATA_DIR"] = str(args.data_dir or tempfile.mkdtemp(prefix="kenal-bench-"))
    os.environ["KENAL_DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kenal.settings")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}, customers: {args.customers:,}")
    started = time.perf_counter()
    fill(args.customers)
    print(f"filled in {time.perf_counter() - started:.0f} s")
    report(args.repeat)


def fill(total: int, batch: int = 20_000) -> None:
    from django.db import transaction

    from kenal.customers import normalise
    from kenal.customers.models import Customer, CustomerEmail, CustomerPhone, NameToken

    if Customer.objects.exists():
        return
    rng = random.Random(7)
    for start in range(0, total, batch):
        size = min(batch, total - start)
        names = [
            f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}" if rng.random() > 0.1 else rng.choice(GIVEN)
            for _ in range(size)
        ]
        with transaction.atomic():
            customers = Customer.objects.bulk_create(
                Customer(full_name=name, sort_name=normalise.sort_key(name)) for name in names
            )
            CustomerEmail.objects.bulk_create(
                CustomerEmail(customer=c, email=f"user{c.pk}@contoh.co.id", is_primary=True)
                for c in customers
            )
            CustomerPhone.objects.bulk_create(
                CustomerPhone(customer=c, number=f"+62812{c.pk:08d}", is_primary=True)
                for c in customers
            )
            NameToken.objects.bulk_create(
                NameToken(customer=c, token=token)
                for c in customers
                for token in normalise.name_tokens(c.full_name)
            )
        print(f"  {start + size:,} customers", end="\r", file=sys.stderr)
    print(file=sys.stderr)


def timed(label: str, run: Callable[[], object], repeat: int) -> float:
    run()  # warm the caches once, as a page already visited would be
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    median = statistics.median(samples)
    print(f"{label:<44} median {median:8.1f} ms   p95 {p95:8.1f} ms")
    return median


def report(repeat: int) -> None:
    from django.core.paginator import Paginator

    from kenal.customers.models import Customer
    from kenal.customers.services import CustomerQuery, find_customers, page_of

    some = Customer.objects.order_by("pk")[Customer.objects.count() // 2]

    def page(query: CustomerQuery, number: int = 1) -> Callable[[], object]:
        return lambda: page_of(find_customers(query), number).items

    ours = timed("first page, sorted by name", page(CustomerQuery()), repeat)
    timed("first page, newest updated first", page(CustomerQuery(sort="-updated")), repeat)
    timed("page 40, sorted by name", page(CustomerQuery(), 40), repeat)
    timed("search name prefix 'bud'", page(CustomerQuery(text="bud")), repeat)
    timed("search two words 'sit hartono'", page(CustomerQuery(text="sit hartono")), repeat)
    timed("search phone '0812-' format", page(CustomerQuery(text=f"0812-{some.pk:08d}")), repeat)
    timed("search email", page(CustomerQuery(text=f"user{some.pk}@contoh.co.id")), repeat)

    def paginator_page() -> object:
        paginator = Paginator(find_customers(CustomerQuery()), 25)
        return list(paginator.page(1).object_list), paginator.num_pages

    anchor = timed("anchor: Django Paginator, first page (COUNT)", paginator_page, repeat)
    print(f"ratio anchor / ours (first page): {anchor / ours:.1f}x")


if __name__ == "__main__":
    main()
