from django.urls import URLPattern

app_name = "golden"

urlpatterns: list[URLPattern] = []
