from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "kenal.identity"
    verbose_name = _("Identity")

    def ready(self) -> None:
        from kenal.customers.signals import customer_written

        customer_written.connect(_refresh_keys, dispatch_uid="identity-refresh-keys")


def _refresh_keys(sender: Any, customer_id: int, **kwargs: Any) -> None:
    """A customer written through the services is matched under its new values."""
    from kenal.identity import keys

    keys.written(customer_id)
