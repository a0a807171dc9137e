"""The tracking API's endpoints (/v1/identify, /v1/track, …, /v1/batch).

Authenticated by the source's write key, not by a session: no login and no CSRF token, and
answers any origin (browsers send from the shop's own pages). Everything else is in
:mod:`kenal.ingest.tracking` and :mod:`kenal.ingest.sources`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from kenal.ingest import sources, tracking

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Content-Encoding, AnonymousId",
    "Access-Control-Max-Age": "86400",
}


@csrf_exempt
@login_not_required
def receive(request: HttpRequest, call: str) -> HttpResponse:
    call = tracking.SHORT_CALLS.get(call, call)
    if request.method == "OPTIONS":  # a browser asking whether it may post
        return _with_cors(HttpResponse(status=204))
    if request.method != "POST":
        refused = tracking.Refused(
            405,
            "method_not_allowed",
            _("The tracking API takes POST requests only."),
        )
        response = _answer(refused.status, refused.as_body())
        response["Allow"] = "POST, OPTIONS"
        return response
    try:
        key = tracking.write_key(request.headers.get("Authorization", ""))
        source = sources.authenticate(key) if key else None
        body = _body(request, call)
        if source is None:
            source = sources.authenticate(_body_key(body))
        received = tracking.receive(source, call, body)
    except sources.SourceRefused as exc:
        return _unauthorised(str(exc))
    except tracking.Refused as exc:
        return _answer(exc.status, exc.as_body())
    return _answer(200, received.as_body())


def _body(request: HttpRequest, call: str) -> Any:
    limit = tracking.limit_of(call)
    declared = request.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise tracking.too_large(int(declared), limit)
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise tracking.too_large(len(raw), limit)
    return tracking.decoded_body(raw, request.headers.get("Content-Encoding", ""), limit)


def _body_key(body: Any) -> str:
    """analytics.js sends the write key in the body instead of a header."""
    key = body.get("writeKey") if isinstance(body, dict) else None
    return key if isinstance(key, str) else ""


def _unauthorised(message: str) -> HttpResponse:
    body = {"success": False, "code": "unauthorized", "message": message, "errors": []}
    response = _answer(401, body)
    response["WWW-Authenticate"] = 'Basic realm="Kenal tracking", charset="UTF-8"'
    return response


def _answer(status: int, body: dict[str, Any]) -> HttpResponse:
    return _with_cors(JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False}))


def _with_cors(response: HttpResponse) -> HttpResponse:
    for name, value in CORS_HEADERS.items():
        response[name] = value
    return response
