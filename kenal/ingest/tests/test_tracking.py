"""The tracking API over HTTP: every endpoint, the write key, limits, de-duplication, errors."""

from __future__ import annotations

import base64
import gzip
import json
import threading
import time
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test import Client

from kenal.activity.models import Event
from kenal.customers.models import Customer, SourceRecord
from kenal.ingest import tracking
from kenal.ingest.models import TrackingSource
from kenal.ingest.sources import create_source, revoke_source

pytestmark = pytest.mark.django_db

NOW = "2026-11-23T10:15:00.000Z"


@pytest.fixture
def key() -> str:
    return create_source("Online shop")[1]


def auth(key: str) -> dict[str, str]:
    token = base64.b64encode(f"{key}:".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def post(path: str, body: Any, key: str | None = None, *, zipped: bool = False) -> Any:
    data = json.dumps(body).encode()
    headers: dict[str, str] = {}
    if zipped:
        data = gzip.compress(data)
        headers["Content-Encoding"] = "gzip"
    if key is not None:
        headers.update(auth(key))
    return Client().generic("POST", path, data, content_type="application/json", headers=headers)


@pytest.mark.parametrize(
    ("call", "body", "kind", "name"),
    [
        ("track", {"event": "Signed Up", "properties": {"plan": "pro"}}, "track", "Signed Up"),
        ("page", {"name": "Home", "properties": {"url": "https://toko.id/"}}, "page", "Home"),
        ("screen", {"name": "Cart"}, "screen", "Cart"),
        ("group", {"groupId": "g1", "traits": {"name": "PT Maju"}}, "group", ""),
        ("identify", {"traits": {"plan": "pro"}}, "identify", ""),
    ],
)
def test_each_call_is_stored_as_an_event(
    key: str, call: str, body: dict[str, Any], kind: str, name: str
) -> None:
    response = post(
        f"/v1/{call}",
        {**body, "anonymousId": "anon-1", "messageId": f"m-{call}", "timestamp": NOW},
        key,
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "success": True,
        "received": 1,
        "stored": 1,
        "duplicates": 0,
        "problems": [],
    }
    event = Event.objects.get()
    assert (event.kind, event.name, event.source) == (kind, name, "Online shop")
    assert event.anonymous_id == "anon-1"
    assert event.message_id == f"m-{call}"
    assert event.occurred_at.isoformat() == "2026-11-23T10:15:00+00:00"
    assert response["Access-Control-Allow-Origin"] == "*"


def test_group_and_page_keep_their_ids_and_category(key: str) -> None:
    post("/v1/group", {"userId": "u1", "groupId": "g7", "traits": {"name": "PT"}}, key)
    post("/v1/page", {"anonymousId": "a", "category": "Docs", "name": "Intro"}, key)
    group = Event.objects.get(kind="group")
    assert group.properties == {"name": "PT", "$groupId": "g7"}
    assert Event.objects.get(kind="page").properties == {"category": "Docs"}


def test_batch_stores_every_message_and_keeps_context(key: str) -> None:
    batch = [
        {"type": "track", "event": "Clicked", "anonymousId": "a", "messageId": "1"},
        {"type": "page", "name": "Home", "anonymousId": "a", "messageId": "2"},
        {
            "type": "screen",
            "name": "Home",
            "anonymousId": "a",
            "messageId": "3",
            "context": {"ip": "10.0.0.1"},
        },
    ]
    response = post("/v1/batch", {"batch": batch}, key, zipped=True)
    assert response.json()["stored"] == 3
    assert Event.objects.get(message_id="3").properties == {"$context": {"ip": "10.0.0.1"}}


def test_import_and_one_letter_paths_are_batch_and_calls(key: str) -> None:
    post("/v1/import", {"batch": [{"type": "track", "event": "A", "userId": "u"}]}, key)
    post("/v1/t", {"event": "B", "anonymousId": "x"}, key)
    post("/v1/p", {"name": "C", "anonymousId": "x"}, key)
    assert sorted(Event.objects.values_list("kind", "name")) == [
        ("page", "C"),
        ("track", "A"),
        ("track", "B"),
    ]


def test_a_redelivered_message_is_acknowledged_and_stored_once(key: str) -> None:
    message = {"event": "Clicked", "anonymousId": "a", "messageId": "same"}
    assert post("/v1/track", message, key).json()["stored"] == 1
    again = post("/v1/batch", {"batch": [{**message, "type": "track"}] * 2}, key).json()
    assert again == {**again, "success": True, "stored": 0, "duplicates": 2}
    assert Event.objects.count() == 1


def test_message_ids_are_per_source(key: str) -> None:
    other = create_source("Android app")[1]
    message = {"event": "Opened", "anonymousId": "a", "messageId": "m1"}
    post("/v1/track", message, key)
    post("/v1/track", message, other)
    assert sorted(Event.objects.values_list("source", flat=True)) == ["Android app", "Online shop"]


def test_a_long_message_id_still_deduplicates(key: str) -> None:
    message = {"event": "Clicked", "anonymousId": "a", "messageId": "x" * 300}
    post("/v1/track", message, key)
    assert post("/v1/track", message, key).json()["duplicates"] == 1
    assert Event.objects.get().message_id.startswith("sha256:")


# --- authentication ---------------------------------------------------------------------------


def test_no_write_key_is_refused_with_401(key: str) -> None:
    response = post("/v1/track", {"event": "A", "anonymousId": "a"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
    body = response.json()
    assert body["code"] == "unauthorized"
    assert "No write key" in body["message"]
    assert not Event.objects.exists()


def test_an_unknown_write_key_is_refused(key: str) -> None:
    response = post("/v1/track", {"event": "A", "anonymousId": "a"}, "kenal_wk_wrong")
    assert response.status_code == 401
    assert "is not the key of any tracking source" in response.json()["message"]


def test_a_revoked_source_is_refused(key: str) -> None:
    revoke_source(TrackingSource.objects.get())
    response = post("/v1/track", {"event": "A", "anonymousId": "a"}, key)
    assert response.status_code == 401
    assert "'Online shop' was revoked on" in response.json()["message"]


def test_the_write_key_may_come_in_the_body_as_analytics_js_sends_it(key: str) -> None:
    body = {"event": "A", "anonymousId": "a", "writeKey": key}
    response = Client().post("/v1/t", json.dumps(body), content_type="text/plain")
    assert response.status_code == 200
    assert Event.objects.get().source == "Online shop"


def test_the_key_is_used_and_last_use_recorded(key: str) -> None:
    post("/v1/track", {"event": "A", "anonymousId": "a"}, key)
    assert TrackingSource.objects.get().last_used_at is not None


def test_browsers_may_ask_before_posting() -> None:
    response = Client().options("/v1/track")
    assert response.status_code == 204
    assert "Authorization" in response["Access-Control-Allow-Headers"]


def test_only_post_is_taken(key: str) -> None:
    response = Client().get("/v1/track")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


# --- limits and bad input ---------------------------------------------------------------------


def test_a_message_over_32_kb_is_refused_naming_the_limit(key: str) -> None:
    big = {"event": "A", "anonymousId": "a", "properties": {"text": "x" * 40_000}}
    response = post("/v1/track", big, key)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "too_large"
    assert "32 KB" in body["message"]
    assert body["errors"][0]["field"] == "body"
    assert body["errors"][0]["expected"] == "at most 32,768 bytes (32 KB) per request"


def test_a_batch_over_500_kb_is_refused_even_gzipped(key: str) -> None:
    batch = [
        {"type": "track", "event": "A", "anonymousId": "a", "properties": {"t": "x" * 30_000}}
    ] * 20
    response = post("/v1/batch", {"batch": batch}, key, zipped=True)
    assert response.status_code == 400
    assert "500 KB" in response.json()["message"]
    assert not Event.objects.exists()


def test_one_message_over_32_kb_in_a_batch_is_refused_alone_and_kept(key: str) -> None:
    batch = [
        {"type": "track", "event": "Small", "anonymousId": "a", "messageId": "ok"},
        {
            "type": "track",
            "event": "Big",
            "anonymousId": "a",
            "messageId": "big",
            "properties": {"t": "x" * 40_000},
        },
    ]
    body = post("/v1/batch", {"batch": batch}, key).json()
    assert body["stored"] == 1
    [problem] = body["problems"]
    assert problem["index"] == 1
    assert problem["errors"][0]["field"] == "batch[1]"
    assert "32 KB" in problem["errors"][0]["expected"]
    kept = SourceRecord.objects.get(pk=problem["sourceRecord"])
    assert kept.status == SourceRecord.Status.REJECTED
    assert kept.data["event"] == "Big"


def test_a_batch_reports_each_bad_message_by_field_and_stores_the_rest(key: str) -> None:
    batch = [
        {"type": "track", "anonymousId": "a", "messageId": "no-name"},
        {"type": "shout", "anonymousId": "a", "messageId": "bad-type"},
        {"type": "track", "event": "Fine", "messageId": "no-ids"},
        {"type": "track", "event": "Fine", "anonymousId": "a", "timestamp": "yesterday"},
        {"type": "alias", "userId": "u1"},
        {"type": "track", "event": "Fine", "anonymousId": "a", "properties": [1]},
        "not a message",
        {"type": "track", "event": "Stored", "anonymousId": "a"},
    ]
    body = post("/v1/batch", {"batch": batch}, key).json()
    assert body["stored"] == 1
    fields = [
        [(error["field"], error["value"]) for error in problem["errors"]]
        for problem in body["problems"]
    ]
    assert fields == [
        [("batch[0].event", "")],
        [("batch[1].type", "shout")],
        [("batch[2].userId", "")],
        [("batch[3].timestamp", "yesterday")],
        [("batch[4].previousId", "")],
        [("batch[5].properties", "[1]")],
        [("batch[6]", "not a message")],
    ]
    assert body["problems"][1]["errors"][0]["expected"] == (
        "one of: identify, track, page, screen, group, alias"
    )
    assert SourceRecord.objects.filter(status="rejected").count() == 7
    assert Event.objects.get().name == "Stored"


def test_a_bad_single_message_is_refused_with_400_naming_the_field(key: str) -> None:
    response = post("/v1/track", {"anonymousId": "a"}, key)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_message"
    assert body["errors"][0]["field"] == "event"
    assert "event's name" in body["errors"][0]["expected"]
    assert SourceRecord.objects.filter(status="rejected").count() == 1


@pytest.mark.parametrize(
    ("data", "headers", "code", "field"),
    [
        (b"{not json", {}, "invalid_json", "body"),
        (b"[1, 2]", {}, "invalid_message", "body"),
        (b"\x1f\x8b broken", {"Content-Encoding": "gzip"}, "invalid_gzip", "body"),
        (b"{}", {"Content-Encoding": "br"}, "unsupported_encoding", "Content-Encoding"),
    ],
)
def test_unreadable_bodies_are_refused_with_400(
    key: str, data: bytes, headers: dict[str, str], code: str, field: str
) -> None:
    response = Client().generic(
        "POST", "/v1/track", data, content_type="application/json", headers=auth(key) | headers
    )
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["errors"][0]["field"]) == (code, field)


def test_a_batch_without_a_list_is_refused(key: str) -> None:
    response = post("/v1/batch", {"batch": {"type": "track"}}, key)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "batch"


def test_clock_skew_is_corrected_from_sent_at(key: str) -> None:
    # The sender's clock is one hour fast: its event happened an hour "earlier" than it says.
    message = {
        "event": "A",
        "anonymousId": "a",
        "originalTimestamp": "2099-01-01T11:00:00Z",
        "sentAt": "2099-01-01T11:00:05Z",
    }
    post("/v1/track", message, key)
    event = Event.objects.get()
    assert abs((event.received_at - event.occurred_at).total_seconds() - 5) < 60


def test_a_future_timestamp_is_kept_as_now_and_remembered(key: str) -> None:
    post("/v1/track", {"event": "A", "anonymousId": "a", "timestamp": "2099-01-01T00:00:00Z"}, key)
    event = Event.objects.get()
    assert event.occurred_at.year < 2099
    assert event.properties["$timestamp"].startswith("2099-01-01")


def test_identify_over_http_creates_the_customer(key: str) -> None:
    body = {
        "userId": "42",
        "anonymousId": "anon-9",
        "traits": {"name": "Budi Santoso", "email": "budi@contoh.co.id", "phone": "0812-3456-7890"},
    }
    assert post("/v1/identify", body, key).json()["problems"] == []
    customer = Customer.objects.get()
    assert customer.full_name == "Budi Santoso"
    assert Event.objects.get().customer == customer


def test_identify_with_bad_traits_keeps_the_event_and_says_what_was_refused(key: str) -> None:
    body = {
        "userId": "42",
        "anonymousId": "anon-9",
        "traits": {"name": "Budi", "email": "not-an-email", "plan": "gold"},
    }
    response = post("/v1/identify", body, key)
    assert response.status_code == 200
    [problem] = response.json()["problems"]
    assert problem["errors"][0]["field"] == "emails[0].email"
    assert problem["errors"][0]["value"] == "not-an-email"
    record = SourceRecord.objects.get(pk=problem["sourceRecord"])
    assert record.status == SourceRecord.Status.REJECTED
    assert record.external_id == "42"
    event = Event.objects.get()
    assert event.properties["email"] == "not-an-email"
    assert event.properties["plan"] == "gold"
    assert not Customer.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_message_sent_twice_at_the_same_moment_is_stored_once() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one writer at a time: two requests never write at once")
    source, _key = create_source("Shop", created_by=None)
    body = {"type": "track", "messageId": "m-1", "userId": "u-1", "event": "Product Viewed"}
    outcome: dict[str, Any] = {}

    def second_request() -> None:
        try:
            outcome["received"] = tracking.receive(source, "track", body)
        except Exception as exc:
            outcome["error"] = exc
        finally:
            connections.close_all()

    with transaction.atomic():
        # The first request has written the message and not committed yet.
        tracking.receive(source, "track", body)
        other = threading.Thread(target=second_request)
        other.start()
        # The second finds the message new and waits on the first's row in the unique index.
        while other.is_alive() and not _waiting_on_a_lock():
            time.sleep(0.05)
    other.join()

    assert "error" not in outcome, outcome.get("error")
    assert outcome["received"].duplicates == 1
    assert Event.objects.filter(source="Shop", message_id="m-1").count() == 1


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        # Inside a transaction PostgreSQL keeps showing the activity it first read: read anew.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        (count,) = cursor.fetchone()
    return bool(count)
