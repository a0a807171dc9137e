"""API key management, mounted at /settings/api-keys/."""

from __future__ import annotations

from django.urls import URLPattern, path

from kenal.accounts import views

app_name = "api_keys"

urlpatterns: list[URLPattern] = [
    path("", views.api_key_list, name="list"),
    path("new/", views.api_key_create, name="create"),
    path("<int:pk>/revoke/", views.api_key_revoke, name="revoke"),
]
