from django.urls import URLPattern, path

from kenal.customers import views

app_name = "customers"

urlpatterns: list[URLPattern] = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("form-row/<str:kind>/", views.form_row, name="form_row"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/notes/", views.add_note, name="add_note"),
]
