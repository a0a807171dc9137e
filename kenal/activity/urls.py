"""The activity parts of a customer's page, under ``/customers/<pk>/``."""

from django.urls import URLPattern, path

from kenal.activity import views

app_name = "activity"

urlpatterns: list[URLPattern] = [
    path("timeline/", views.timeline_entries, name="timeline"),
    path("interactions/new/", views.log_interaction, name="log_interaction"),
    path("timeline/notes/", views.add_note, name="add_note"),
]
