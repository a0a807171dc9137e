"""Tracking API ingest speed, end to end through HTTP against a real `kenal serve`.

Usage: python bench/track.py [--events 100000] [--batch 100] [--clients 4] [--users 500]
                             [--database-url URL] [--work-dir DIR]

Starts `kenal serve` (waitress, migrations applied, no worker) on a fresh data folder, creates
a tracking source with `kenal source create`, identifies ``--users`` people (not timed), then
posts N events — track, page and screen calls, half from identified users, half from
anonymous visitors, a few e-commerce product views — to /v1/batch in batches of ``--batch``
(the SDKs' default upload size) from ``--clients`` threads, and prints the sustained events/s.
Anchor, in the same run: a raw SQLite ``executemany`` of the same events into one table.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import http.client
import json
import os
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

PAGES = ["Home", "Catalogue", "Promo", "Cart", "Checkout", "Account", "Help"]
ACTIONS = ["Button Clicked", "Search Performed", "Video Played", "Coupon Applied", "Signed In"]
SKUS = [f"SKU-{n:04d}" for n in range(200)]
NOW = datetime.datetime.now(datetime.UTC)


def message(index: int, rng: random.Random, users: int, visitors: int) -> dict[str, Any]:
    """One tracking message, as an SDK would send it."""
    roll = rng.random()
    body: dict[str, Any] = {
        "messageId": str(uuid.UUID(int=rng.getrandbits(128))),
        "timestamp": NOW.isoformat(timespec="milliseconds"),
        "context": {"library": {"name": "bench", "version": "1"}, "ip": "10.0.0.1"},
    }
    if rng.random() < 0.5:
        body["userId"] = f"user-{rng.randrange(users)}"
    else:
        body["anonymousId"] = f"anon-{rng.randrange(visitors)}"
    if roll < 0.3:
        body.update(type="page", name=rng.choice(PAGES), properties={"path": f"/p/{index}"})
    elif roll < 0.4:
        body.update(type="screen", name=rng.choice(PAGES))
    elif roll < 0.5:
        sku = rng.choice(SKUS)
        body.update(
            type="track",
            event="Product Viewed",
            properties={"sku": sku, "name": f"Product {sku}", "price": rng.randint(1, 500) * 1000},
        )
    elif roll < 0.51:
        # An email opened always changes the customer's computed traits (opens in 30 days).
        body.update(type="track", event="Email Opened", properties={"campaign": "promo"})
    else:
        body.update(type="track", event=rng.choice(ACTIONS), properties={"n": index})
    return body


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def kenal(args: list[str], env: dict[str, str]) -> str:
    command = [sys.executable, "-m", "kenal", *args]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


def wait_for(port: int, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("kenal serve stopped before it answered")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("kenal serve did not answer within a minute")


class Sender:
    """Posts batches over one kept-alive connection per thread."""

    def __init__(self, port: int, key: str) -> None:
        self.port = port
        token = base64.b64encode(f"{key}:".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}
        self.errors: list[str] = []
        self.stored = 0
        self.lock = threading.Lock()

    def run(self, bodies: list[bytes]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        for body in bodies:
            connection.request("POST", "/v1/batch", body, self.headers)
            response = connection.getresponse()
            answer = json.loads(response.read())
            with self.lock:
                if response.status != 200 or answer["problems"]:
                    self.errors.append(f"{response.status}: {answer}"[:500])
                self.stored += answer.get("stored", 0)
        connection.close()


def send_all(port: int, key: str, batches: list[bytes], clients: int) -> tuple[float, Sender]:
    sender = Sender(port, key)
    threads = [
        threading.Thread(target=sender.run, args=(batches[start::clients],))
        for start in range(clients)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, sender


def anchor(messages: list[dict[str, Any]], folder: Path) -> float:
    """Seconds for a raw SQLite executemany of the same events (one table, WAL, one commit)."""
    connection = sqlite3.connect(folder / "anchor.sqlite3")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(
        "CREATE TABLE events (source TEXT, message_id TEXT UNIQUE, kind TEXT, name TEXT,"
        " user_id TEXT, anonymous_id TEXT, properties TEXT, occurred_at TEXT)"
    )
    started = time.perf_counter()
    connection.executemany(
        "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                "bench",
                item["messageId"],
                item["type"],
                item.get("event") or item.get("name", ""),
                item.get("userId", ""),
                item.get("anonymousId", ""),
                json.dumps(item.get("properties", {})),
                item["timestamp"],
            )
            for item in messages
        ),
    )
    connection.commit()
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def letters(number: int) -> str:
    """A name word for a number (names are made of letters): 0 → "Aa", 27 → "Ab"."""
    word = ""
    for _ in range(3):
        number, digit = divmod(number, 26)
        word += chr(ord("a") + digit)
    return word.capitalize()


def identify_users(port: int, key: str, users: int, rng: random.Random) -> None:
    people = [
        {
            "type": "identify",
            "userId": f"user-{n}",
            "messageId": f"identify-{n}",
            "traits": {"name": f"Pelanggan {letters(n)}", "email": f"pelanggan{n}@contoh.co.id"},
            "anonymousId": f"anon-{rng.randrange(10_000)}",
        }
        for n in range(users)
    ]
    batches = [json.dumps({"batch": people[i : i + 50]}).encode() for i in range(0, users, 50)]
    elapsed, sender = send_all(port, key, batches, 2)
    if sender.errors:
        raise SystemExit(f"identify failed: {sender.errors[0]}")
    print(f"identified {users:,} users in {elapsed:.1f} s (not counted below)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100, help="messages per request (100)")
    parser.add_argument("--clients", type=int, default=4, help="client threads (4)")
    parser.add_argument("--users", type=int, default=500, help="identified users (500)")
    parser.add_argument("--visitors", type=int, default=5_000, help="anonymous visitors")
    parser.add_argument("--threads", type=int, default=4, help="server threads (4)")
    parser.add_argument("--database-url", default="", help="postgres://… (default: SQLite)")
    parser.add_argument("--work-dir", default="", help="where the data folder goes")
    options = parser.parse_args()
    folder = Path(options.work_dir or tempfile.mkdtemp(prefix="kenal-bench-track-"))
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "KENAL_DATA_DIR": str(folder / "data")}
    env["KENAL_DATABASE_URL"] = options.database_url
    kenal(["migrate", "-v0"], env)
    key = kenal(["source", "create", "bench"], env).strip()
    port = free_port()
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "kenal", "serve", "--port", str(port)),
            *("--no-worker", "--no-migrate", "--threads", str(options.threads)),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port, server)
        rng = random.Random(7)
        identify_users(port, key, options.users, rng)
        messages = [
            message(index, rng, options.users, options.visitors) for index in range(options.events)
        ]
        step = options.batch
        batches = [
            json.dumps({"batch": messages[i : i + step]}).encode()
            for i in range(0, len(messages), step)
        ]
        elapsed, sender = send_all(port, key, batches, options.clients)
    finally:
        server.terminate()
        server.wait(timeout=30)
    if sender.errors:
        print(f"{len(sender.errors)} request(s) failed; first: {sender.errors[0]}")
    database = "PostgreSQL" if options.database_url else "SQLite"
    rate = sender.stored / elapsed
    print(
        f"tracking API ({database}): {sender.stored:,} of {options.events:,} events stored in "
        f"{elapsed:.1f} s: {rate:,.0f} events/s ({options.clients} clients, batches of "
        f"{options.batch}, {options.threads} server threads)"
    )
    raw = anchor(messages, folder)
    print(
        f"anchor, raw SQLite executemany of the same events: {raw:.2f} s, "
        f"{options.events / raw:,.0f} events/s"
    )
    print(f"ratio: the tracking API takes {elapsed / raw:.1f}x the raw insert")


if __name__ == "__main__":
    main()
