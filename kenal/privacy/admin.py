"""Back-office view of the consent ledger (read-only: records are evidence)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from kenal.privacy.models import ConsentRecord


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("recorded_at", "customer", "purpose", "status", "method", "source")
    list_filter = ("purpose", "status", "source")
    search_fields = ("=batch_id",)
    raw_id_fields = ("customer", "source_record", "recorded_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
