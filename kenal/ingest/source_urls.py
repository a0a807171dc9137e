"""Tracking sources, mounted at /settings/sources/."""

from __future__ import annotations

from django.urls import URLPattern, path

from kenal.ingest import source_views

app_name = "sources"

urlpatterns: list[URLPattern] = [
    path("", source_views.source_list, name="list"),
    path("new/", source_views.source_create, name="create"),
    path("<int:pk>/revoke/", source_views.source_revoke, name="revoke"),
]
