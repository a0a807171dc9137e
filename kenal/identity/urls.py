"""The duplicate pages, mounted at /duplicates/."""

from __future__ import annotations

from django.urls import URLPattern, path

from kenal.identity import views

app_name = "identity"

urlpatterns: list[URLPattern] = [
    path("", views.queue, name="queue"),
    path("<int:pk>/", views.compare, name="compare"),
    path("<int:pk>/merge/", views.merge_pair, name="merge_pair"),
    path("<int:pk>/distinct/", views.distinct, name="distinct"),
    path("merge/", views.merge_any, name="merge"),
    path("merges/", views.merge_list, name="merges"),
    path("merges/<int:pk>/undo/", views.undo, name="undo"),
]
