from django.urls import URLPattern, path

from kenal.lookup import views

app_name = "lookup"

urlpatterns: list[URLPattern] = [
    path("", views.search_page, name="search"),
    path("suggest/", views.suggestions, name="suggest"),
]
