"""Hosted sign-up / update forms and what each submission did.

A form's fields and consent checkboxes are kept as JSON lists on the form: they are read
whole on every render and never queried one by one. :mod:`kenal.hosted_forms.services`
checks them before they are saved.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kenal.customers.models import Customer, SourceRecord

DEFAULT_MAX_PER_IP = 5


class SignupForm(models.Model):
    title = models.CharField(_("title"), max_length=200)
    # The public address is /f/<slug>/.
    slug = models.SlugField(_("address"), max_length=64, unique=True)
    intro = models.TextField(_("introduction"), blank=True)
    # [{"key": "email" | "custom.<key>", "required": bool, "label": "override or empty"}]
    fields = models.JSONField(_("fields"), default=list, blank=True)
    # [{"purpose": Purpose code, "wording": exact text shown, "double_opt_in": bool}]
    consents = models.JSONField(_("consent checkboxes"), default=list, blank=True)
    thank_you = models.TextField(_("thank-you text"), blank=True)
    # The source name on every submission's source record; empty means "form:<slug>".
    source = models.CharField(_("source name"), max_length=100, blank=True)
    is_active = models.BooleanField(_("accepting submissions"), default=True)
    # Sites allowed to show the form in an iframe, e.g. ["https://shop.example.com"].
    allowed_origins = models.JSONField(_("allowed embedding sites"), default=list, blank=True)
    max_per_ip = models.PositiveSmallIntegerField(
        _("submissions per network per 10 minutes"), default=DEFAULT_MAX_PER_IP
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("hosted form")
        verbose_name_plural = _("hosted forms")

    def __str__(self) -> str:
        return self.title

    @property
    def source_name(self) -> str:
        return self.source or f"form:{self.slug}"

    @property
    def field_specs(self) -> list[dict[str, Any]]:
        return list(self.fields or [])

    @property
    def consent_specs(self) -> list[dict[str, Any]]:
        return list(self.consents or [])


class FormSubmission(models.Model):
    """One attempt to submit a form, whatever came of it (spam refusals included)."""

    class Outcome(models.TextChoices):
        CREATED = "created", _("Created a customer")
        UPDATED = "updated", _("Updated a customer")
        REJECTED = "rejected", _("Rejected: invalid values")
        REFUSED = "refused", _("Refused as spam")

    class Confirmation(models.TextChoices):
        NONE = "", _("Not needed")
        PENDING = "pending", _("Confirmation email sent")
        FAILED = "failed", _("Confirmation email not sent")
        CONFIRMED = "confirmed", _("Confirmed")

    form = models.ForeignKey(SignupForm, on_delete=models.CASCADE, related_name="submissions")
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_record = models.ForeignKey(
        SourceRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A keyed hash of the sender's IP address: enough to count attempts per network,
    # never the address itself (personal data with no other use here).
    ip_hash = models.CharField(_("network (hashed)"), max_length=64)
    submitted_at = models.DateTimeField(_("submitted"), db_index=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    refusal = models.CharField(_("refusal reason"), max_length=32, blank=True)
    via_update_link = models.BooleanField(_("through an update link"), default=False)
    language = models.CharField(_("language"), max_length=8, blank=True)
    confirmation = models.CharField(
        _("double opt-in"), max_length=16, choices=Confirmation.choices, blank=True
    )

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")
        indexes = [
            # The rate limit counts one network's recent attempts on one form.
            models.Index(fields=["form", "ip_hash", "submitted_at"], name="submission_rate"),
        ]

    def __str__(self) -> str:
        return f"{self.form} {self.submitted_at:%Y-%m-%d %H:%M} {self.outcome}"
