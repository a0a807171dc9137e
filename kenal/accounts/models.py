from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a staff member may do; each role is backed by a permission group."""

    ADMIN = "admin", _("Administrator")
    MANAGER = "manager", _("Manager")
    AGENT = "agent", _("Agent")
    VIEWER = "viewer", _("Viewer")


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.AGENT)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username


# Every key starts with this mark, so a leaked key is recognisable (e.g. by secret scanners).
API_KEY_MARK = "kenal_"


class ApiKey(models.Model):
    """A secret that lets a program use the REST API as one staff member, with their role.

    Only a SHA-256 digest of the key is kept: the key itself is shown once, when it is
    created, and cannot be read back from the database. ``prefix`` (the first characters of
    the secret part) lets people tell their keys apart without revealing them.
    """

    name = models.CharField(_("name"), max_length=100)
    user = models.ForeignKey(
        User, verbose_name=_("acts as"), on_delete=models.CASCADE, related_name="api_keys"
    )
    prefix = models.CharField(_("prefix"), max_length=8)
    # Unique, so the index finds the key from its digest on every request.
    key_hash = models.CharField(_("key digest (SHA-256)"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        User,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.display_prefix})"

    @property
    def display_prefix(self) -> str:
        """How the key starts, as people see it in a list: ``kenal_AbCd1234…``."""
        return f"{API_KEY_MARK}{self.prefix}…"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
