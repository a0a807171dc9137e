"""Custom field management, mounted at /settings/fields/."""

from __future__ import annotations

from django.urls import URLPattern, path

from kenal.customers import field_views

app_name = "fields"

urlpatterns: list[URLPattern] = [
    path("", field_views.field_list, name="list"),
    path("new/", field_views.field_create, name="create"),
    path("<int:pk>/", field_views.field_edit, name="edit"),
    path("<int:pk>/type/", field_views.field_change_type, name="change_type"),
    path("<int:pk>/archive/", field_views.field_archive, name="archive"),
    path("<int:pk>/restore/", field_views.field_restore, name="restore"),
]
