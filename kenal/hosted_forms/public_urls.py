"""The public form pages, mounted at /f/ (the slug "confirm" is reserved for them)."""

from __future__ import annotations

from django.urls import URLPattern, path

from kenal.hosted_forms import public_views

app_name = "public_forms"

urlpatterns: list[URLPattern] = [
    path("confirm/<str:token>/", public_views.confirm_page, name="confirm"),
    path("<slug:slug>/", public_views.form_page, name="form"),
    path("<slug:slug>/thanks/", public_views.thanks_page, name="thanks"),
    path("<slug:slug>/u/<str:token>/", public_views.update_page, name="update"),
]
