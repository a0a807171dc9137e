"""The tracking API's wire format: Segment's HTTP tracking API, which RudderStack speaks too.

Reading a request — write key, gzip, size limits, JSON, each message's shape — happens here;
what a call means for customers, orders and carts is :mod:`kenal.activity.events`. Errors
name the field, the value and what is expected, in a body Segment's and RudderStack's SDKs
read (``code`` and ``message``), with ``errors`` listing each problem.

Limits are Segment's: 32 KB per message, 500 KB per request (after gzip is undone).
"""

from __future__ import annotations

import binascii
import datetime
import hashlib
import json
import logging
import uuid
import zlib
from base64 import b64decode
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from kenal.activity import events
from kenal.activity.events import Call, Problem
from kenal.activity.models import Event
from kenal.customers.models import SourceRecord
from kenal.customers.normalise import InvalidValue
from kenal.ingest.models import TrackingSource

__all__ = [
    "CALLS",
    "MAX_BATCH_BYTES",
    "MAX_MESSAGE_BYTES",
    "Received",
    "Refused",
    "decoded_body",
    "receive",
    "write_key",
]

logger = logging.getLogger("kenal.tracking")

MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
# The calls by path; analytics.js sends each call to its first letter (/v1/t, /v1/p, …).
CALLS: dict[str, str] = {
    "identify": Event.Kind.IDENTIFY,
    "track": Event.Kind.TRACK,
    "page": Event.Kind.PAGE,
    "screen": Event.Kind.SCREEN,
    "group": Event.Kind.GROUP,
    "alias": Event.Kind.ALIAS,
}
SHORT_CALLS = {name[0]: name for name in CALLS}
BATCH_CALLS = ("batch", "import")  # /v1/import is Segment's other name for /v1/batch
ID_LENGTH = Event._meta.get_field("anonymous_id").max_length or 100
USER_ID_LENGTH = SourceRecord._meta.get_field("external_id").max_length or 200
MESSAGE_ID_LENGTH = Event._meta.get_field("message_id").max_length or 100
NAME_LENGTH = Event._meta.get_field("name").max_length or 200
# A clock that is a little ahead is forgiven; an event further in the future is kept as now.
FUTURE_SLACK = datetime.timedelta(minutes=5)


class Refused(Exception):
    """The whole request is refused: ``status``, a ``code`` and a message, and the problems."""

    def __init__(
        self, status: int, code: str, message: str, errors: Sequence[InvalidValue] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = list(errors)

    def as_body(self) -> dict[str, Any]:
        return {
            "success": False,
            "code": self.code,
            "message": self.message,
            "errors": [error.as_dict() for error in self.errors],
        }


@dataclass
class Received:
    """What became of a request's messages."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    problems: list[Problem] = field(default_factory=list)

    def as_body(self) -> dict[str, Any]:
        return {
            "success": True,
            "received": self.received,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "problems": [problem.as_dict() for problem in self.problems],
        }


# --- the request: key, body, size -----------------------------------------------------------


def write_key(authorization: str) -> str:
    """The write key of an ``Authorization: Basic base64(key:)`` header ("" when none)."""
    scheme, _space, credentials = authorization.strip().partition(" ")
    if not authorization or scheme.lower() != "basic":
        return ""
    try:
        decoded = b64decode(credentials.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[0]


def limit_of(call: str) -> int:
    return MAX_BATCH_BYTES if call in BATCH_CALLS else MAX_MESSAGE_BYTES


def too_large(size: int, limit: int) -> Refused:
    expected = _("at most %(limit)s bytes (%(kb)d KB) per request") % {
        "limit": _grouped(limit),
        "kb": limit // 1024,
    }
    return Refused(
        400,
        "too_large",
        _("The request is larger than %(kb)d KB, the limit for this call.") % {"kb": limit // 1024},
        [InvalidValue("body", _bytes(size), expected)],
    )


def _grouped(number: int) -> str:
    """A number with the thousands separator of the active language (32,768 or 32.768)."""
    return number_format(number, force_grouping=True)


def _bytes(size: int) -> str:
    return _("%(size)s bytes") % {"size": _grouped(size)}


def decoded_body(raw: bytes, content_encoding: str, limit: int) -> Any:
    """The JSON the body holds, gzip undone; never reads more than ``limit`` bytes of JSON."""
    encoding = content_encoding.strip().lower()
    if encoding == "gzip":
        raw = _gunzip(raw, limit)
    elif encoding not in ("", "identity"):
        raise Refused(
            400,
            "unsupported_encoding",
            _("The body's encoding is not supported."),
            [InvalidValue("Content-Encoding", content_encoding, _("gzip, or no encoding"))],
        )
    if len(raw) > limit:
        raise too_large(len(raw), limit)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        shown = raw[:80].decode("utf-8", "replace")
        raise Refused(
            400,
            "invalid_json",
            _("The body is not valid JSON: %(problem)s") % {"problem": exc},
            [InvalidValue("body", shown, _("a JSON object"))],
        ) from exc


def _gunzip(raw: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=31)
    try:
        data = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise Refused(
            400,
            "invalid_gzip",
            _("The body says it is gzip-compressed but cannot be decompressed."),
            [InvalidValue("body", _bytes(len(raw)), _("gzip-compressed JSON"))],
        ) from exc
    if len(data) > limit:
        # At least this much; the rest is not inflated (a small body can inflate to gigabytes).
        raise too_large(len(data) + len(inflater.unconsumed_tail), limit)
    return data


# --- messages -------------------------------------------------------------------------------


def messages_of(call: str, body: Any) -> tuple[list[Any], str, Any]:
    """The messages of a request, the field path they are reported under, and its sentAt."""
    if not isinstance(body, dict):
        raise Refused(
            400,
            "invalid_message",
            _("The body must be a JSON object."),
            [InvalidValue("body", type(body).__name__, _("a JSON object"))],
        )
    if call not in BATCH_CALLS:
        return [body], "", body.get("sentAt")
    batch = body.get("batch")
    if not isinstance(batch, list):
        raise Refused(
            400,
            "invalid_message",
            _("A batch must hold its messages in a list named batch."),
            [InvalidValue("batch", json.dumps(batch)[:80], _("a list of messages"))],
        )
    return batch, "batch", body.get("sentAt")


def parse_message(
    message: Any,
    *,
    call: str,
    path: str,
    index: int,
    sent_at: Any,
    received_at: datetime.datetime,
    check_size: bool,
) -> Call:
    """One message as a :class:`Call`; raises :class:`MessageInvalid` naming every problem."""
    here = f"{path}[{index}]" if path else ""
    if not isinstance(message, dict):
        raise MessageInvalid([InvalidValue(here or "body", message, _("a message object"))])
    errors: list[InvalidValue] = []
    reader = _Reader(message, here, errors)
    if check_size:
        size = len(json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode())
        if size > MAX_MESSAGE_BYTES:
            expected = _("a message of at most %(limit)s bytes (%(kb)d KB)") % {
                "limit": _grouped(MAX_MESSAGE_BYTES),
                "kb": MAX_MESSAGE_BYTES // 1024,
            }
            raise MessageInvalid([InvalidValue(here or "body", _bytes(size), expected)])
    kind = _kind(call, message, reader)
    if kind is None:  # what else to check depends on the call
        raise MessageInvalid(errors, _message_id(message))
    user_id = reader.identifier("userId", USER_ID_LENGTH)
    anonymous_id = reader.identifier("anonymousId", ID_LENGTH)
    previous_id = reader.identifier("previousId", ID_LENGTH) if kind == Event.Kind.ALIAS else ""
    _required_ids(kind, user_id, anonymous_id, previous_id, reader)
    name = _name(kind, reader)
    properties = _properties(kind, reader, previous_id)
    traits = _traits(reader) if kind == Event.Kind.IDENTIFY else {}
    occurred_at = _occurred_at(reader, sent_at, received_at, properties)
    message_id = _message_id(message)
    if errors:
        raise MessageInvalid(errors, message_id)
    return Call(
        kind=kind,
        message_id=message_id,
        occurred_at=occurred_at,
        user_id=user_id,
        anonymous_id=anonymous_id,
        name=name,
        properties=properties,
        traits=traits,
        previous_id=previous_id,
        index=index,
    )


class MessageInvalid(ValueError):
    """A message that cannot be stored as an event; ``errors`` names each problem."""

    def __init__(self, errors: Sequence[InvalidValue], message_id: str = "") -> None:
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = list(errors)
        self.message_id = message_id


class _Reader:
    """Reads a message's fields, collecting what is wrong under the field's full path."""

    def __init__(self, message: Mapping[str, Any], path: str, errors: list[InvalidValue]):
        self.message = message
        self.path = path
        self.errors = errors

    def where(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, value: Any, expected: str) -> None:
        self.errors.append(InvalidValue(self.where(name), _shown(value), expected))

    def identifier(self, name: str, limit: int) -> str:
        value = self.message.get(name)
        if value is None or value == "":
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.fail(name, value, _("an id as text or a number"))
            return ""
        text = str(value).strip()
        if len(text) > limit:
            self.fail(name, text, _("an id of at most %(limit)d characters") % {"limit": limit})
            return ""
        return text

    def text(self, name: str, limit: int) -> str:
        value = self.message.get(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.fail(name, value, _("text"))
            return ""
        text = value.strip()
        if len(text) > limit:
            self.fail(name, text, _("at most %(limit)d characters") % {"limit": limit})
            return ""
        return text

    def mapping(self, name: str) -> dict[str, Any]:
        value = self.message.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(name, value, _("an object"))
            return {}
        return value

    def moment(self, name: str) -> datetime.datetime | None:
        value = self.message.get(name)
        if value is None or value == "":
            return None
        moment = _iso_moment(value)
        if moment is None:
            self.fail(name, value, _("an ISO 8601 date and time such as 2026-11-23T10:15:00.000Z"))
        return moment


def _shown(value: Any) -> str:
    """A value as an error shows it: JSON, cut short."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 200 else text[:200] + "…"


def _iso_moment(value: Any) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return timezone.make_aware(moment, datetime.UTC) if timezone.is_naive(moment) else moment


def _kind(call: str, message: Mapping[str, Any], reader: _Reader) -> str | None:
    if call not in BATCH_CALLS:
        return CALLS[call]
    kind = message.get("type")
    if isinstance(kind, str) and kind.strip().lower() in CALLS:
        return CALLS[kind.strip().lower()]
    reader.fail("type", kind, _("one of: %(calls)s") % {"calls": ", ".join(CALLS)})
    return None


def _required_ids(
    kind: str, user_id: str, anonymous_id: str, previous_id: str, reader: _Reader
) -> None:
    if kind == Event.Kind.ALIAS:
        if not previous_id:
            reader.fail("previousId", "", _("the id the person had before (required by alias)"))
        if not user_id:
            reader.fail("userId", "", _("the id the person has now (required by alias)"))
    elif not user_id and not anonymous_id and "userId" not in _failed(reader):
        reader.fail("userId", "", _("a userId or an anonymousId"))


def _failed(reader: _Reader) -> set[str]:
    return {error.field.rpartition(".")[2] for error in reader.errors}


def _name(kind: str, reader: _Reader) -> str:
    if kind == Event.Kind.TRACK:
        name = reader.text("event", NAME_LENGTH)
        if not name and "event" not in _failed(reader):
            reader.fail("event", "", _("the event's name, e.g. Order Completed"))
        return name
    if kind in (Event.Kind.PAGE, Event.Kind.SCREEN):
        return reader.text("name", NAME_LENGTH)
    return ""


def _traits(reader: _Reader) -> dict[str, Any]:
    """An identify's traits: at the top (Segment), or in ``context.traits`` (RudderStack)."""
    context = reader.message.get("context")
    inner = context.get("traits") if isinstance(context, dict) else None
    traits = reader.mapping("traits")
    return {**inner, **traits} if isinstance(inner, dict) else traits


def _properties(kind: str, reader: _Reader, previous_id: str) -> dict[str, Any]:
    """What the event keeps: the call's properties, or its traits; the rest under ``$`` keys."""
    if kind == Event.Kind.IDENTIFY:
        properties = dict(_traits(reader))
    elif kind == Event.Kind.GROUP:
        properties = dict(reader.mapping("traits"))
    else:
        properties = dict(reader.mapping("properties"))
    if kind == Event.Kind.PAGE and (category := reader.text("category", NAME_LENGTH)):
        properties.setdefault("category", category)
    if kind == Event.Kind.GROUP:
        properties["$groupId"] = reader.identifier("groupId", ID_LENGTH)
    if kind == Event.Kind.ALIAS:
        properties["$previousId"] = previous_id
    context = reader.mapping("context")
    if context:
        properties["$context"] = context
    return properties


def _occurred_at(
    reader: _Reader,
    batch_sent_at: Any,
    received_at: datetime.datetime,
    properties: dict[str, Any],
) -> datetime.datetime:
    """When it happened: ``timestamp`` as sent; else ``originalTimestamp`` corrected by the
    sender's clock skew (``sentAt`` against the time received), as Segment does; else now."""
    moment = reader.moment("timestamp")
    if moment is None and (original := reader.moment("originalTimestamp")):
        sent_at = reader.moment("sentAt") or _iso_moment(batch_sent_at)
        moment = original + (received_at - sent_at) if sent_at else original
    if moment is None:
        return received_at
    if moment > received_at + FUTURE_SLACK:
        properties["$timestamp"] = moment.isoformat()  # kept, though no timeline has the future
        return received_at
    return moment


def _message_id(message: Mapping[str, Any]) -> str:
    value = message.get("messageId")
    if value is None or value == "" or isinstance(value, bool | dict | list):
        return f"kenal-{uuid.uuid4()}"  # Segment's SDKs always send one; an id for the rest
    text = str(value).strip()
    if len(text) > MESSAGE_ID_LENGTH:
        # Still the same id for the same message, so a redelivery is recognised.
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return text


# --- receiving ------------------------------------------------------------------------------


def _store(
    source: TrackingSource, refused: Sequence[tuple[int, Any, MessageInvalid]], calls: list[Call]
) -> tuple[list[events.Problem], events.Recorded]:
    """Keep the refused messages and record the others, in one transaction.

    A message sent twice at the same moment reaches two requests that both find it new; the
    second to write it meets the first's row in the unique index. It is then written again,
    from the start: this time the message is seen, and acknowledged as a duplicate.
    """
    try:
        return _store_once(source, refused, calls)
    except IntegrityError:
        return _store_once(source, refused, calls)


@transaction.atomic
def _store_once(
    source: TrackingSource, refused: Sequence[tuple[int, Any, MessageInvalid]], calls: list[Call]
) -> tuple[list[events.Problem], events.Recorded]:
    problems = _keep_refused(source, refused)
    return problems, events.record(source.name, calls) if calls else events.Recorded()


def receive(source: TrackingSource, call: str, body: Any) -> Received:
    """Store a request's messages for ``source``; a message that cannot be read is kept as a
    rejected source record and reported, the others are stored."""
    received_at = timezone.now()
    messages, path, sent_at = messages_of(call, body)
    # No message can pass 32 KB in a request that does not.
    check_size = call in BATCH_CALLS and len(messages) > 1
    calls: list[Call] = []
    refused: list[tuple[int, Any, MessageInvalid]] = []
    for index, message in enumerate(messages):
        try:
            calls.append(
                parse_message(
                    message,
                    call=call,
                    path=path,
                    index=index,
                    sent_at=sent_at,
                    received_at=received_at,
                    check_size=check_size,
                )
            )
        except MessageInvalid as exc:
            refused.append((index, message, exc))
    problems, recorded = _store(source, refused, calls)
    if call not in BATCH_CALLS and refused:
        raise Refused(
            400,
            "invalid_message",
            _("The message was refused: %(problems)s")
            % {"problems": "; ".join(str(error) for error in refused[0][2].errors)},
            refused[0][2].errors,
        )
    received = Received(
        received=len(messages),
        stored=recorded.stored,
        duplicates=recorded.duplicates,
        problems=sorted(problems + recorded.problems, key=lambda problem: problem.index),
    )
    if received.problems:
        logger.warning(
            "Tracking source %s: %d problem(s) in %d message(s): %s",
            source.name,
            len(received.problems),
            len(messages),
            "; ".join(str(e) for problem in received.problems for e in problem.errors)[:1000],
        )
    return received


def _keep_refused(
    source: TrackingSource, refused: Sequence[tuple[int, Any, MessageInvalid]]
) -> list[Problem]:
    """Refused messages are kept as they came (nothing received is lost), with their errors."""
    if not refused:
        return []
    records = SourceRecord.objects.bulk_create(
        SourceRecord(
            source=source.name,
            batch_id=f"message:{exc.message_id}"[:100] if exc.message_id else "tracking",
            data=message if isinstance(message, dict) else {"message": message},
            status=SourceRecord.Status.REJECTED,
            errors=[error.as_dict() for error in exc.errors],
        )
        for _index, message, exc in refused
    )
    return [
        Problem(index, exc.message_id, exc.errors, record.pk)
        for (index, _message, exc), record in zip(refused, records, strict=True)
    ]
