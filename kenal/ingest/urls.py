"""The import wizard and reports, mounted at /imports/."""

from __future__ import annotations

from django.urls import URLPattern, path

from kenal.ingest import views

app_name = "ingest"

urlpatterns: list[URLPattern] = [
    path("", views.import_list, name="list"),
    path("new/", views.import_upload, name="upload"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/mapping/", views.import_mapping, name="mapping"),
    path("<int:pk>/sheet/", views.import_sheet, name="sheet"),
    path("<int:pk>/progress/", views.import_progress, name="progress"),
    path("<int:pk>/cancel/", views.import_cancel, name="cancel"),
    path("<int:pk>/revert/", views.import_revert, name="revert"),
    path("<int:pk>/rejected.csv", views.rejected_csv, name="rejected"),
]
