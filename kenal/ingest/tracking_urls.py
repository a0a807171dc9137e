"""The tracking API, mounted at /v1/: Segment's and RudderStack's paths."""

from __future__ import annotations

from django.urls import URLPattern, re_path

from kenal.ingest import tracking, tracking_views

app_name = "tracking"

_CALLS = "|".join([*tracking.CALLS, *tracking.SHORT_CALLS, *tracking.BATCH_CALLS])

urlpatterns: list[URLPattern] = [
    re_path(rf"^(?P<call>{_CALLS})/?$", tracking_views.receive, name="receive"),
]
