"""Hosted form management, mounted at /settings/forms/."""

from __future__ import annotations

from django.urls import URLPattern, path

from kenal.hosted_forms import views

app_name = "hosted_forms"

urlpatterns: list[URLPattern] = [
    path("", views.form_list, name="list"),
    path("new/", views.form_create, name="create"),
    path("<int:pk>/", views.form_detail, name="detail"),
    path("<int:pk>/edit/", views.form_edit, name="edit"),
]
