"""The golden record pages, mounted at /golden/."""

from __future__ import annotations

from django.urls import URLPattern, path

from kenal.identity import golden_views

app_name = "golden"

urlpatterns: list[URLPattern] = [
    path("rules/", golden_views.rule_list, name="rules"),
    path("customers/<int:pk>/lineage/", golden_views.lineage, name="lineage"),
    path("customers/<int:pk>/recompute/", golden_views.recompute, name="recompute"),
]
