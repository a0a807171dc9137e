from django.contrib import admin

from kenal.customers.admin import ReadOnlyMixin
from kenal.identity.models import CandidatePair, MatchModel, Merge, Relationship, SurvivorshipRule


@admin.register(CandidatePair)
class CandidatePairAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["left", "right", "score", "status", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["left", "right", "decided_by"]


@admin.register(Merge)
class MergeAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["merged", "survivor", "score", "merged_at", "merged_by", "undone_at"]
    raw_id_fields = ["survivor", "merged", "merged_by", "undone_by"]


@admin.register(Relationship)
class RelationshipAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["left", "right", "kind", "value", "created_at"]
    list_filter = ["kind"]
    raw_id_fields = ["left", "right"]


@admin.register(MatchModel)
class MatchModelAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["created_at", "merge_threshold", "review_threshold", "trained_on", "note"]


@admin.register(SurvivorshipRule)
class SurvivorshipRuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["field", "rule", "source_priority"]
