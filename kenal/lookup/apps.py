from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LookupConfig(AppConfig):
    name = "kenal.lookup"
    verbose_name = _("Lookup")
