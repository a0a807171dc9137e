"""Identity resolution: the candidate index, the review queue, relationships, merges, the model.

A merge keeps the merged customer's own row (``Customer.merged_into`` points at the survivor)
and records every row it moved, so any merge can be undone later.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kenal.accounts.models import User
from kenal.customers.models import Customer


class MatchKey(models.Model):
    """One blocking key of a customer: customers sharing a key are compared, no others.

    Keys combine a name code with a birth date, a postcode or another name code, so a
    lookup reads a handful of rows however large the database grows.
    """

    # Not indexed alone: the unique (customer, key) constraint serves lookups by customer.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="match_keys", db_index=False
    )
    key = models.CharField(max_length=120)

    class Meta:
        indexes = [models.Index(fields=["key", "customer"], name="match_key_lookup")]
        constraints = [
            models.UniqueConstraint(fields=["customer", "key"], name="match_key_once"),
        ]

    def __str__(self) -> str:
        return self.key


class CandidatePair(models.Model):
    """Two customers that may be one person: the duplicate review queue.

    ``left`` is always the customer with the smaller id, so a pair is stored once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        MERGED = "merged", _("Merged")
        DISTINCT = "distinct", _("Not the same person")

    left = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(_("match probability"))
    explanation = models.JSONField(_("explanation"), default=list)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("proposed"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-score", "id"]
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        constraints = [
            models.UniqueConstraint(fields=["left", "right"], name="candidate_pair_once"),
        ]
        indexes = [models.Index(fields=["status", "-score"], name="candidate_pair_queue")]

    def __str__(self) -> str:
        return f"{self.left_id} ~ {self.right_id} ({self.score:.3f})"

    def decide(self, status: CandidatePair.Status, actor: User | None) -> None:
        """Record the pair's decision (merged, or not the same person), taken now by ``actor``."""
        self.status = status
        self.decided_at = timezone.now()
        self.decided_by = actor
        self.save(update_fields=["status", "decided_at", "decided_by"])


class Relationship(models.Model):
    """Two different people who share a contact detail: a household, not a duplicate."""

    class Kind(models.TextChoices):
        SHARED_PHONE = "shared_phone", _("Share a phone number")
        SHARED_EMAIL = "shared_email", _("Share an email address")
        SHARED_ADDRESS = "shared_address", _("Live at the same address")

    left = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    value = models.CharField(_("shared value"), max_length=254)
    created_at = models.DateTimeField(_("found"), auto_now_add=True)

    class Meta:
        verbose_name = _("relationship")
        verbose_name_plural = _("relationships")
        constraints = [
            models.UniqueConstraint(
                fields=["left", "right", "kind", "value"], name="relationship_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.left_id} {self.kind} {self.right_id}"


class Merge(models.Model):
    """One merge of ``merged`` into ``survivor``, with all that is needed to undo it."""

    survivor = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    merged = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(_("match probability"), null=True, blank=True)
    explanation = models.JSONField(_("explanation"), default=list, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    merged_at = models.DateTimeField(_("merged"), auto_now_add=True)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The survivor's field values before the merge and those the merge chose.
    before = models.JSONField(default=dict)
    chosen = models.JSONField(default=dict)
    # Ids of the rows moved to the survivor, per kind ("emails", "orders", …).
    moved = models.JSONField(default=dict)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Fields changed again since the merge, kept as they are by the undo.
    undo_conflicts = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]
        verbose_name = _("merge")
        verbose_name_plural = _("merges")

    def __str__(self) -> str:
        return f"{self.merged_id} → {self.survivor_id}"


class MatchModel(models.Model):
    """Field weights and thresholds; the latest row is the one in use.

    ``parameters`` holds, per comparison, the m and u probability of each level
    (Fellegi-Sunter), learnt by EM from the data or the shipped defaults.
    """

    parameters = models.JSONField()
    merge_threshold = models.FloatField(_("merge automatically above"))
    review_threshold = models.FloatField(_("send for review above"))
    trained_on = models.PositiveIntegerField(_("pairs trained on"), default=0)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("matching model")
        verbose_name_plural = _("matching models")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M}"


class SurvivorshipRule(models.Model):
    """How the golden record chooses one field's value when sources disagree."""

    class Rule(models.TextChoices):
        MOST_RECENT = "most_recent", _("Most recent")
        TRUSTED_SOURCE = "trusted_source", _("Most trusted source")
        MOST_COMPLETE = "most_complete", _("Most complete")
        MOST_FREQUENT = "most_frequent", _("Most frequent")

    field = models.CharField(_("field"), max_length=64, unique=True)
    rule = models.CharField(_("rule"), max_length=16, choices=Rule.choices)
    # Sources in order of trust, most trusted first; used by "most trusted source" and to
    # break ties under the other rules.
    source_priority = models.JSONField(_("source priority"), default=list, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["field"]
        verbose_name = _("survivorship rule")
        verbose_name_plural = _("survivorship rules")

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}"
