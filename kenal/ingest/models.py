"""File imports: what was imported, how its columns were read, what it did, and how to undo it.

Every row of an import is kept as a :class:`~kenal.customers.models.SourceRecord` (batch
``import-<id>``, with its row number), so the import itself only holds the settings, the
progress and the counts.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kenal.customers.models import Customer


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", _("Customers")
    ORDERS = "orders", _("Orders")


class FileFormat(models.TextChoices):
    CSV = "csv", _("CSV")
    XLSX = "xlsx", _("Excel workbook (XLSX)")
    VCARD = "vcf", _("Phone contacts (vCard)")


class Import(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Being set up")
        QUEUED = "queued", _("Waiting to run")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        REVERTED = "reverted", _("Reverted")

    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind.choices)
    source = models.CharField(_("source"), max_length=100, db_index=True)
    file_name = models.CharField(_("file name"), max_length=255)
    # The uploaded file's copy in the data folder, so a queued import can run later.
    file_path = models.CharField(max_length=500)
    file_format = models.CharField(_("format"), max_length=8, choices=FileFormat.choices)
    sheet = models.CharField(_("sheet"), max_length=100, blank=True)
    encoding = models.CharField(_("encoding"), max_length=32, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=4, blank=True)
    columns = models.JSONField(_("columns"), default=list)  # headers in file order
    mapping = models.JSONField(_("column mapping"), default=dict)  # header -> target
    id_column = models.CharField(_("id column"), max_length=200, blank=True)
    consent = models.JSONField(_("consent declared"), default=dict, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    total_rows = models.PositiveIntegerField(_("rows in the file"), null=True, blank=True)
    rows_done = models.PositiveIntegerField(_("rows processed"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    merged_count = models.PositiveIntegerField(_("merged within the file"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejected"), default=0)
    empty_count = models.PositiveIntegerField(_("empty rows skipped"), default=0)
    cancel_requested = models.BooleanField(default=False)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    reverted_at = models.DateTimeField(_("reverted"), null=True, blank=True)
    # Fields a revert left alone because they were changed again after the import.
    revert_conflicts = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name}"

    @property
    def batch_id(self) -> str:
        return f"import-{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in (
            self.Status.DONE,
            self.Status.FAILED,
            self.Status.CANCELLED,
            self.Status.REVERTED,
        )


class ImportChange(models.Model):
    """A value an import changed on a customer that existed before it: what a revert restores.

    ``field`` is a customer field name, ``emails`` / ``phones`` / ``addresses`` / ``tags``
    for an entry the import added, or ``custom.<key>``.
    """

    run = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="changes")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    field = models.CharField(max_length=100)
    old = models.JSONField(null=True)
    new = models.JSONField(null=True)

    class Meta:
        indexes = [models.Index(fields=["run", "customer"], name="import_change_run")]

    def __str__(self) -> str:
        return f"{self.customer_id}.{self.field}"


class MappingPreset(models.Model):
    """The column mapping last used for a source, offered again for its next file."""

    source = models.CharField(_("source"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind.choices)
    mapping = models.JSONField(_("column mapping"))
    id_column = models.CharField(_("id column"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["source"]
        verbose_name = _("mapping preset")
        verbose_name_plural = _("mapping presets")
        constraints = [
            models.UniqueConstraint(fields=["source", "kind"], name="mapping_preset_once"),
        ]

    def __str__(self) -> str:
        return f"{self.source} ({self.kind})"


# Every write key starts with this mark, so a leaked key is recognisable (e.g. by secret scanners).
WRITE_KEY_MARK = "kenal_wk_"


class TrackingSource(models.Model):
    """A website or app that sends tracking calls (Segment / RudderStack wire format).

    Its write key authenticates the calls. As for API keys, only a SHA-256 digest of the key
    is kept: the key is shown once, when the source is created. ``name`` is what events,
    carts, orders and source records name as their source.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    prefix = models.CharField(_("prefix"), max_length=8)
    key_hash = models.CharField(_("write key digest (SHA-256)"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tracking source")
        verbose_name_plural = _("tracking sources")

    def __str__(self) -> str:
        return self.name

    @property
    def display_prefix(self) -> str:
        """How the write key starts, as people see it in a list: ``kenal_wk_AbCd1234…``."""
        return f"{WRITE_KEY_MARK}{self.prefix}…"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
