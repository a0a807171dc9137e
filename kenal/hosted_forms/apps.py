from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HostedFormsConfig(AppConfig):
    name = "kenal.hosted_forms"
    verbose_name = _("Hosted forms")
