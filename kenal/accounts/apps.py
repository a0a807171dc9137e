from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "kenal.accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from kenal.accounts.services import sync_role_groups

        # Runs after every app's migrations; it creates missing permissions itself,
        # so the order of post_migrate receivers does not matter.
        post_migrate.connect(
            lambda **_: sync_role_groups(), weak=False, dispatch_uid="kenal-role-groups"
        )
