"""The consent ledger: what each customer agreed to, per purpose, how and when.

Records are only ever added: the customer's current answer for a purpose is the latest
record for it, and the history stays as evidence for an audit (UU PDP No. 27/2022, GDPR).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kenal.customers.models import Customer, SourceRecord


class Purpose(models.TextChoices):
    MARKETING_EMAIL = "marketing_email", _("Marketing by email")
    MARKETING_WHATSAPP = "marketing_whatsapp", _("Marketing by WhatsApp")
    MARKETING_SMS = "marketing_sms", _("Marketing by SMS")
    MARKETING_PHONE = "marketing_phone", _("Marketing by phone call")
    PROFILING = "profiling", _("Profiling and personalisation")
    THIRD_PARTY = "third_party", _("Sharing with partners")


class ConsentStatus(models.TextChoices):
    GRANTED = "granted", _("Granted")
    DENIED = "denied", _("Refused")
    # Asked for and ticked, waiting for the customer to confirm (double opt-in).
    PENDING = "pending", _("Awaiting confirmation")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ConsentRecord(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=32, choices=Purpose.choices)
    status = models.CharField(_("status"), max_length=16, choices=ConsentStatus.choices)
    method = models.CharField(_("how it was obtained"), max_length=200)
    wording = models.TextField(_("wording shown"), blank=True)
    source = models.CharField(_("source"), max_length=100)
    batch_id = models.CharField(_("batch"), max_length=100, blank=True, db_index=True)
    source_record = models.ForeignKey(
        SourceRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="consents"
    )
    recorded_at = models.DateTimeField(_("recorded"), db_index=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        indexes = [
            models.Index(fields=["customer", "purpose", "-recorded_at"], name="consent_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose}: {self.status}"
