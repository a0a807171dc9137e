from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from kenal.api import api

urlpatterns = [
    # The language switch is offered on the login page too, before anyone has logged in.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("v1/", include("kenal.ingest.tracking_urls")),
    path("customers/", include("kenal.customers.urls")),
    path("search/", include("kenal.lookup.urls")),
    path("customers/<int:pk>/", include("kenal.activity.urls")),
    path("settings/fields/", include("kenal.customers.field_urls")),
    path("imports/", include("kenal.ingest.urls")),
    path("settings/forms/", include("kenal.hosted_forms.urls")),
    path("settings/api-keys/", include("kenal.accounts.urls")),
    path("settings/sources/", include("kenal.ingest.source_urls")),
    path("duplicates/", include("kenal.identity.urls")),
    path("golden/", include("kenal.identity.golden_urls")),
    path("f/", include("kenal.hosted_forms.public_urls")),
    path("", include("kenal.web.urls")),
]
