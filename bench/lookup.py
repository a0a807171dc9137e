"""Instant lookup speed: server time of each kind of lookup on a large database.

Usage: python bench/lookup.py [--customers 1000000] [--events 10000000] [--lookups 300]
                              [--data-dir DIR]

Applies the migrations to a fresh SQLite data folder, then fills the tables Django made with
raw ``executemany`` inserts (their secondary indexes dropped during the fill and created again
after, from the statements Django wrote): customers with Indonesian names (given names and
family names from Faker's ``id_ID`` lists, common ones more common), their name words, emails,
phones (10 % with a second one), a unique custom field (member number), orders, support
tickets, services and web events; 0.5 % of the customers are merged into another.

It then times, through the service layer (``kenal.lookup.services``, what the API and the
search box call; server time, no HTTP), N lookups of each kind for randomly chosen customers,
and prints p50 / p95 / max in milliseconds and how often the wanted customer was among the
results: a phone number typed in another format than stored, an email in capitals, a name with
one typo (words sometimes swapped), a name typed exactly, the start of a name as typed so far,
an order number, a member number, and the caller lookup of a phone system.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BATCH = 50_000
NOW = datetime.datetime(2026, 11, 23, 12, 0, 0)
TODAY = NOW.date()
MOBILE_PREFIXES = ("811", "812", "813", "821", "822", "852", "853", "857", "858", "877", "878")
DOMAINS = ("gmail.com", "yahoo.co.id", "contoh.co.id", "mail.id", "outlook.com")
ORDER_SOURCES = ("tokopedia", "shopee", "pos", "web")
MEMBER_FIELD_ID = 1


@dataclass(frozen=True)
class Person:
    id: int
    full_name: str
    phone: str  # E.164
    email: str
    member: str
    order: str


# --- names -----------------------------------------------------------------------------------


def _weighted(names: Sequence[str], exponent: float) -> tuple[list[str], list[float]]:
    """Names with Zipf-like weights, so some are far more common than others, as in life."""
    unique = list(dict.fromkeys(names))
    return unique, [1 / (rank + 1) ** exponent for rank in range(len(unique))]


class NameMaker:
    def __init__(self, rng: random.Random) -> None:
        from faker.providers.person.id_ID import Provider

        self.rng = rng
        given = [*Provider.first_names_male, *Provider.first_names_female]
        family = [*Provider.last_names_male, *Provider.last_names_female]
        rng.shuffle(given)
        rng.shuffle(family)
        self.given, given_weights = _weighted(given, 0.7)
        self.family, family_weights = _weighted(family, 0.7)
        self.given_cum = list(_cumulative(given_weights))
        self.family_cum = list(_cumulative(family_weights))

    def name(self) -> tuple[str, str, str]:
        """(full name, given name, family name)."""
        given = self.rng.choices(self.given, cum_weights=self.given_cum)[0]
        roll = self.rng.random()
        if roll < 0.05:  # one name only, as many Indonesians have
            return given, given, ""
        family = self.rng.choices(self.family, cum_weights=self.family_cum)[0]
        if roll < 0.35:
            middle = self.rng.choices(self.given, cum_weights=self.given_cum)[0]
            return f"{given} {middle} {family}", f"{given} {middle}", family
        return f"{given} {family}", given, family


def _cumulative(weights: Iterable[float]) -> Iterator[float]:
    total = 0.0
    for weight in weights:
        total += weight
        yield total


# --- the fill ----------------------------------------------------------------------------------


class Filler:
    """Raw inserts into the tables Django made; NOT NULL columns left out get a plain default."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("PRAGMA cache_size=-2000000")
        self.db.execute("PRAGMA temp_store=MEMORY")
        self.dropped: list[str] = []

    def drop_indexes(self, tables: Sequence[str]) -> None:
        marks = ",".join("?" * len(tables))
        rows = self.db.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            f" AND tbl_name IN ({marks})",
            tables,
        ).fetchall()
        for name, sql in rows:
            self.db.execute(f'DROP INDEX "{name}"')
            self.dropped.append(sql)

    def create_indexes(self) -> None:
        for sql in self.dropped:
            self.db.execute(sql)
        self.dropped.clear()

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        info = self.db.execute(f'PRAGMA table_info("{table}")').fetchall()
        # (cid, name, type, notnull, default, pk): NOT NULL columns not given get a default.
        extra = [
            (name, _default(kind))
            for _, name, kind, notnull, _, pk in info
            if notnull and not pk and name not in columns
        ]
        names = [*columns, *(name for name, _ in extra)]
        fixed = tuple(value for _, value in extra)
        quoted = ", ".join(f'"{name}"' for name in names)
        sql = f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join("?" * len(names))})'
        count = 0
        self.db.execute("BEGIN")
        for chunk in _chunks(rows, BATCH):
            self.db.executemany(sql, [(*row, *fixed) for row in chunk])
            count += len(chunk)
        self.db.execute("COMMIT")
        return count


def _default(kind: str) -> Any:
    kind = kind.lower()
    if "char" in kind or "text" in kind:
        return ""
    if "datetime" in kind:
        return NOW.isoformat(sep=" ")
    if "date" in kind:
        return TODAY.isoformat()
    return 0


def _chunks(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    chunk: list[Sequence[Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _stamp(rng: random.Random, days: int = 730) -> str:
    moment = NOW - datetime.timedelta(seconds=rng.randrange(days * 86_400))
    return moment.isoformat(sep=" ")


def phone_of(customer_id: int, second: bool = False) -> str:
    prefix = MOBILE_PREFIXES[(customer_id + (5 if second else 0)) % len(MOBILE_PREFIXES)]
    return f"+62{prefix}{(customer_id * 7 + (3 if second else 0)) % 10**8:08d}"


def order_number(source: str, order_id: int) -> str:
    if source == "tokopedia":
        return f"INV/2026/{order_id:09d}"
    if source == "shopee":
        return f"26{order_id:012d}"
    return f"{source.upper()}-{order_id:08d}"


class Fill:
    def __init__(self, filler: Filler, customers: int, events: int, seed: int) -> None:
        self.f = filler
        self.customers = customers
        self.events = events
        self.rng = random.Random(seed)
        self.names = NameMaker(random.Random(seed + 1))
        self.merged: set[int] = set()

    def run(self) -> None:
        tables = [
            "customers_customer",
            "customers_customeremail",
            "customers_customerphone",
            "customers_nametoken",
            "customers_customfieldvalue",
            "activity_order",
            "activity_ticket",
            "activity_subscription",
            "activity_event",
        ]
        self.f.drop_indexes(tables)
        for step in (
            self.fill_customers,
            self.fill_contacts,
            self.fill_members,
            self.fill_orders,
            self.fill_tickets,
            self.fill_services,
            self.fill_events,
        ):
            started = time.perf_counter()
            count = step()
            took = time.perf_counter() - started
            print(f"  {step.__name__[5:]:<10} {count:>12,} rows in {took:6.1f} s")
        started = time.perf_counter()
        self.f.create_indexes()
        print(f"  indexes created in {time.perf_counter() - started:.1f} s")

    def fill_customers(self) -> int:
        from kenal.customers.normalise import name_tokens, sort_key

        self.merged = {
            customer_id for customer_id in range(2, self.customers + 1) if self.rng.random() < 0.005
        }
        tokens: list[tuple[int, str]] = []

        def rows() -> Iterator[tuple[Any, ...]]:
            for customer_id in range(1, self.customers + 1):
                full, given, family = self.names.name()
                tokens.extend((customer_id, token) for token in name_tokens(full))
                merged_into = customer_id - 1 if customer_id in self.merged else None
                stamp = _stamp(self.rng)
                yield (
                    customer_id,
                    full,
                    given,
                    family,
                    sort_key(full),
                    "customer",
                    merged_into,
                    stamp,
                    stamp,
                )

        columns = (
            "id",
            "full_name",
            "given_name",
            "family_name",
            "sort_name",
            "lifecycle_stage",
            "merged_into_id",
            "created_at",
            "updated_at",
        )
        count = self.f.insert("customers_customer", columns, rows())
        count += self.f.insert("customers_nametoken", ("customer_id", "token"), tokens)
        return count

    def fill_contacts(self) -> int:
        """Emails and phones; merged customers' contacts moved to their survivor, as merges do."""
        from kenal.customers.normalise import name_tokens

        def owner(customer_id: int) -> int:
            return customer_id - 1 if customer_id in self.merged else customer_id

        def phones() -> Iterator[tuple[Any, ...]]:
            for customer_id in range(1, self.customers + 1):
                yield owner(customer_id), phone_of(customer_id), customer_id not in self.merged
                if customer_id % 10 == 3:
                    yield owner(customer_id), phone_of(customer_id, second=True), False

        def emails() -> Iterator[tuple[Any, ...]]:
            names = self.f.db.execute("SELECT id, full_name FROM customers_customer ORDER BY id")
            for customer_id, full in names:
                if customer_id % 7 == 0:
                    continue  # some customers gave no email
                local = ".".join(name_tokens(full)[:2]) or "pelanggan"
                domain = DOMAINS[customer_id % len(DOMAINS)]
                yield owner(customer_id), f"{local}{customer_id}@{domain}", True

        columns = ("customer_id", "number", "is_primary")
        count = self.f.insert("customers_customerphone", columns, phones())
        emails_rows = list(emails())
        return count + self.f.insert(
            "customers_customeremail", ("customer_id", "email", "is_primary"), emails_rows
        )

    def fill_members(self) -> int:
        definition = (MEMBER_FIELD_ID, "member_number", "Member number", "text", 1, "[]")
        columns = ("id", "key", "label", "field_type", "unique", "choices")
        count = self.f.insert("customers_customfield", columns, [definition])

        def rows() -> Iterator[tuple[Any, ...]]:
            for customer_id in range(1, self.customers + 1):
                if customer_id % 3 == 0 and customer_id not in self.merged:
                    member = member_number(customer_id)
                    yield (
                        customer_id,
                        MEMBER_FIELD_ID,
                        0,
                        member,
                        "",
                        f"{MEMBER_FIELD_ID}:{member.casefold()}",
                    )

        columns = ("customer_id", "field_id", "ordinal", "text", "currency", "unique_key")
        return count + self.f.insert("customers_customfieldvalue", columns, rows())

    def fill_orders(self) -> int:
        def rows() -> Iterator[tuple[Any, ...]]:
            order_id = 0
            for customer_id in range(1, self.customers + 1):
                for _ in range(self.rng.choice((0, 1, 1, 2, 2, 3))):
                    order_id += 1
                    source = ORDER_SOURCES[order_id % len(ORDER_SOURCES)]
                    yield (
                        order_id,
                        customer_id,
                        source,
                        order_number(source, order_id),
                        _stamp(self.rng),
                        "completed",
                        "IDR",
                        str(self.rng.randrange(20, 2_000) * 1000),
                    )

        columns = (
            "id",
            "customer_id",
            "source",
            "order_number",
            "ordered_at",
            "status",
            "currency",
            "total",
        )
        return self.f.insert("activity_order", columns, rows())

    def fill_tickets(self) -> int:
        statuses = ("open", "pending", "resolved", "closed")

        def rows() -> Iterator[tuple[Any, ...]]:
            for customer_id in range(1, self.customers + 1, 7):
                for _ in range(self.rng.choice((1, 1, 2))):
                    yield (
                        customer_id,
                        "Pesanan belum sampai",
                        self.rng.choice(statuses),
                        "normal",
                        _stamp(self.rng, 120),
                    )

        columns = ("customer_id", "subject", "status", "priority", "opened_at")
        return self.f.insert("activity_ticket", columns, rows())

    def fill_services(self) -> int:
        def rows() -> Iterator[tuple[Any, ...]]:
            for customer_id in range(1, self.customers + 1, 9):
                due = TODAY + datetime.timedelta(days=self.rng.randrange(-60, 120))
                yield (
                    customer_id,
                    "Servis AC berkala",
                    "active",
                    "2025-01-01",
                    90,
                    due.isoformat(),
                )

        columns = ("customer_id", "name", "status", "started_on", "interval_days", "next_due")
        return self.f.insert("activity_subscription", columns, rows())

    def fill_events(self) -> int:
        kinds = (("page", "Viewed page"), ("track", "Product Viewed"), ("track", "Added to cart"))
        per_customer = self.events / max(self.customers, 1)

        def rows() -> Iterator[tuple[Any, ...]]:
            made = 0
            customer_id = 1
            while made < self.events:
                count = min(
                    self.events - made, max(1, round(self.rng.expovariate(1 / per_customer)))
                )
                anonymous = self.rng.random() < 0.2
                for _ in range(count):
                    made += 1
                    kind, name = kinds[made % 3]
                    yield (
                        None if anonymous else customer_id,
                        f"anon-{customer_id}",
                        "web",
                        f"m{made:010d}",
                        kind,
                        name,
                        '{"path": "/produk"}',
                        _stamp(self.rng),
                        NOW.isoformat(sep=" "),
                    )
                customer_id = customer_id % self.customers + 1

        columns = (
            "customer_id",
            "anonymous_id",
            "source",
            "message_id",
            "kind",
            "name",
            "properties",
            "occurred_at",
            "received_at",
        )
        return self.f.insert("activity_event", columns, rows())


def member_number(customer_id: int) -> str:
    return f"MBR-{customer_id * 31 % 10**9:09d}"


# --- the lookups -----------------------------------------------------------------------------


def sample(count: int, seed: int) -> list[Person]:
    from django.db import connection

    rng = random.Random(seed)
    with connection.cursor() as cursor:
        cursor.execute("SELECT MAX(id) FROM customers_customer")
        (top,) = cursor.fetchone()
        people: list[Person] = []
        while len(people) < count:
            customer_id = rng.randrange(1, top + 1)
            if customer_id % 3 or customer_id % 7 == 0:
                continue  # the sample needs a member number (every third) and an email
            cursor.execute(
                "SELECT c.full_name, e.email, o.order_number FROM customers_customer c"
                " JOIN customers_customeremail e ON e.customer_id = c.id"
                " JOIN activity_order o ON o.customer_id = c.id"
                " WHERE c.id = %s AND c.merged_into_id IS NULL LIMIT 1",
                [customer_id],
            )
            row = cursor.fetchone()
            if row is None:
                continue
            full, email, order = row
            people.append(
                Person(
                    customer_id,
                    full,
                    phone_of(customer_id),
                    email,
                    member_number(customer_id),
                    order,
                )
            )
    return people


def other_format(number: str, turn: int) -> str:
    """+6281234567890 typed as a person would: 0812-3456-7890, 62812…, 812 …, +62 812 …"""
    national = number.removeprefix("+62")
    spaced = f"{national[:3]} {national[3:7]} {national[7:]}"
    forms = (
        f"0{national[:3]}-{national[3:7]}-{national[7:]}",
        f"62{national}",
        spaced,
        f"+62 {spaced}",
        f"(0{national[:3]}) {national[3:7]} {national[7:]}",
    )
    return forms[turn % len(forms)]


def typo(name: str, rng: random.Random) -> str:
    """One typo in the longest word (a letter dropped, changed, added or two swapped), and the
    words swapped one time in three."""
    words = name.lower().split()
    index = max(range(len(words)), key=lambda position: len(words[position]))
    word = words[index]
    at = rng.randrange(1, len(word) - 1) if len(word) > 2 else 0
    kind = rng.randrange(4)
    letter = rng.choice("aeiouklmnrst")
    if kind == 0:
        word = word[:at] + word[at + 1 :]
    elif kind == 1:
        word = word[:at] + letter + word[at + 1 :]
    elif kind == 2:
        word = word[:at] + letter + word[at:]
    elif at + 1 < len(word):
        word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    words[index] = word
    if len(words) > 1 and rng.random() < 1 / 3:
        words.reverse()
    return " ".join(words)


@dataclass
class Timing:
    label: str
    wall: list[float]  # ms: what a caller waits
    cpu: list[float]  # ms of this thread's CPU time: the same without other processes' load
    found: int  # the wanted customer among the results
    named: int  # the wanted customer or a namesake (same full name) among the results
    total: int

    def line(self) -> str:
        return (
            f"{self.label:<30} wall p50 {_p(self.wall, 0.5):6.1f} p95 {_p(self.wall, 0.95):6.1f}"
            f" max {max(self.wall):6.1f} | cpu p50 {_p(self.cpu, 0.5):6.1f}"
            f" p95 {_p(self.cpu, 0.95):6.1f} ms | found {self.found}/{self.total}"
            f" (or a namesake {self.named})"
        )


def _p(samples: Sequence[float], share: float) -> float:
    ordered = sorted(samples)
    if share == 0.5:
        return statistics.median(ordered)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


Found = list[tuple[int, str]]  # (customer id, full name) of each result


def timed(label: str, queries: Sequence[tuple[str, Person]], run: Callable[[str], Found]) -> Timing:
    """Time ``run`` on each query; count the queries whose wanted customer came back."""
    for text, _ in queries[:5]:
        run(text)  # the first few warm the caches and connections, as a running server has
    wall, cpu, found, named = [], [], 0, 0
    for text, wanted in queries:
        started, started_cpu = time.perf_counter(), time.thread_time()
        results = run(text)
        cpu.append((time.thread_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
        found += any(pk == wanted.id for pk, _ in results)
        named += any(pk == wanted.id or name == wanted.full_name for pk, name in results)
    timing = Timing(label, wall, cpu, found, named, len(queries))
    print(timing.line())
    return timing


def report(people: Sequence[Person], seed: int) -> list[Timing]:
    from kenal.lookup import services

    rng = random.Random(seed)

    def search(text: str) -> Found:
        return [(result.customer.pk, result.customer.full_name) for result in services.search(text)]

    def caller(text: str) -> Found:
        found = services.caller_lookup(text)
        return [(card.customer.pk, card.customer.full_name) for card in found.cards]

    def typed_so_far(name: str) -> str:
        words = name.lower().split()
        return " ".join([*words[:-1], words[-1][: max(2, len(words[-1]) // 2)]])

    kinds: list[tuple[str, list[tuple[str, Person]], Callable[[str], Found]]] = [
        (
            "phone, another format",
            [(other_format(p.phone, i), p) for i, p in enumerate(people)],
            search,
        ),
        ("email, in capitals", [(p.email.upper(), p) for p in people], search),
        ("name with one typo", [(typo(p.full_name, rng), p) for p in people], search),
        ("name, exact", [(p.full_name, p) for p in people], search),
        ("name being typed (prefix)", [(typed_so_far(p.full_name), p) for p in people], search),
        ("order number", [(p.order, p) for p in people], search),
        ("member number (unique field)", [(p.member.lower(), p) for p in people], search),
        (
            "caller lookup (phone system)",
            [(other_format(p.phone, i + 1), p) for i, p in enumerate(people)],
            caller,
        ),
    ]
    return [timed(label, queries, run) for label, queries, run in kinds]


def warm(path: str) -> None:
    """Read the database file once, as a server that has been answering for a while has it in
    the operating system's cache; otherwise the first lookups time the disk, not Kenal."""
    started = time.perf_counter()
    with open(path, "rb") as handle:
        while handle.read(1 << 24):
            pass
    print(f"database file read into the OS cache in {time.perf_counter() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--lookups", type=int, default=300, help="lookups of each kind")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    os.environ["KENAL_DATA_DIR"] = str(args.data_dir or tempfile.mkdtemp(prefix="kenal-lookup-"))
    os.environ["KENAL_DATABASE_URL"] = ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kenal.settings")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from kenal.customers.models import Customer

    call_command("migrate", verbosity=0)
    path = str(settings.DATABASES["default"]["NAME"])
    print(f"SQLite {sqlite3.sqlite_version}, {path}")
    if not Customer.objects.exists():
        print(f"filling: {args.customers:,} customers, {args.events:,} events", file=sys.stderr)
        started = time.perf_counter()
        connection.close()
        filler = Filler(path)
        Fill(filler, args.customers, args.events, args.seed).run()
        filler.db.close()
        print(f"filled in {time.perf_counter() - started:.0f} s")
    size = Path(path).stat().st_size / 2**30
    print(f"customers: {Customer.objects.count():,}, database {size:.1f} GiB")
    warm(path)
    people = sample(args.lookups, args.seed)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{args.lookups} lookups of each kind, server time (service layer):")
    report(people, args.seed)
    print(json.dumps({"customers": args.customers, "events": args.events, "lookups": args.lookups}))


if __name__ == "__main__":
    main()
