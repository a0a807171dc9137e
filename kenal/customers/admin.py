"""Back-office views of the customer record.

Customers, their contact points, custom fields and values are shown read-only here:
every write goes through :mod:`kenal.customers.services` (validation, the name index and
the source record of what was received), which the Kenal pages use. Tags can be renamed;
source records and the name index are never edited by hand.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from kenal.customers import services
from kenal.customers.models import (
    Address,
    Customer,
    CustomerEmail,
    CustomerPhone,
    CustomField,
    CustomFieldValue,
    NameToken,
    Note,
    SourceRecord,
    Tag,
)


class ReadOnlyMixin:
    """Viewable by whoever may view the model; changed only through Kenal's services."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False
    show_change_link = False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EmailInline(ReadOnlyInline):
    model = CustomerEmail
    fields = ("email", "is_primary", "is_verified")


class PhoneInline(ReadOnlyInline):
    model = CustomerPhone
    fields = ("number", "is_primary", "is_verified")


class AddressInline(ReadOnlyInline):
    model = Address
    fields = (
        "label",
        "street",
        "village",
        "district",
        "city",
        "province",
        "postcode",
        "country",
        "is_primary",
    )


class NoteInline(ReadOnlyInline):
    model = Note
    fields = ("body", "author", "created_at")
    readonly_fields = ("created_at",)


class CustomValueInline(ReadOnlyInline):
    model = CustomFieldValue
    fields = ("field", "ordinal", "value_shown")
    readonly_fields = ("value_shown",)

    @admin.display(description=_("value"))
    def value_shown(self, obj: CustomFieldValue) -> str:
        return _stored_value(obj)


def _stored_value(row: CustomFieldValue) -> str:
    for column in ("text", "long_text", "integer", "decimal", "date", "datetime", "boolean"):
        value = getattr(row, column)
        if value is not None:
            return f"{row.currency} {value}".strip() if column == "decimal" else str(value)
    return ""


@admin.register(Customer)
class CustomerAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "__str__",
        "primary_phone_shown",
        "primary_email_shown",
        "lifecycle_stage",
        "owner",
        "updated_at",
    )
    list_filter = ("lifecycle_stage", "gender", "tags")
    list_select_related = ("owner",)
    search_fields = ("full_name", "emails__email", "phones__number")
    search_help_text = _("A name, an email address or a phone number in any format.")
    show_full_result_count = False
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("full_name", "given_name", "family_name", "lifecycle_stage", "owner")}),
        (
            _("About"),
            {
                "fields": (
                    "gender",
                    "birth_date",
                    "company",
                    "job_title",
                    "income_band",
                    "marital_status",
                    "education",
                    "preferred_language",
                    "preferred_channel",
                    "tags",
                )
            },
        ),
        (_("Record"), {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = ("created_at", "updated_at")
    inlines = (PhoneInline, EmailInline, AddressInline, CustomValueInline, NoteInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        return super().get_queryset(request).prefetch_related("emails", "phones")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Customer], search_term: str
    ) -> tuple[QuerySet[Customer], bool]:
        """Kenal's own lookup too, so "0812-3456-7890" finds "+6281234567890"."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            found = services.find_customers(services.CustomerQuery(text=search_term))
            results = results | queryset.filter(pk__in=found.values("pk"))
            may_have_duplicates = True
        return results, may_have_duplicates

    def view_on_site(self, obj: Customer) -> str:
        return reverse("customers:detail", args=[obj.pk])

    @admin.display(description=_("phone"))
    def primary_phone_shown(self, obj: Customer) -> str:
        return obj.primary_phone

    @admin.display(description=_("email"))
    def primary_email_shown(self, obj: Customer) -> str:
        return obj.primary_email


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name",)
    search_fields = ("name",)


@admin.register(CustomField)
class CustomFieldAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("label", "key", "field_type", "required", "unique", "position", "archived_at")
    list_filter = ("field_type", "required", "unique")
    search_fields = ("key", "label")


@admin.register(CustomFieldValue)
class CustomFieldValueAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("customer", "field", "ordinal", "value_shown")
    list_filter = ("field",)
    list_select_related = ("customer", "field")
    raw_id_fields = ("customer",)
    show_full_result_count = False

    @admin.display(description=_("value"))
    def value_shown(self, obj: CustomFieldValue) -> str:
        return _stored_value(obj)


@admin.register(NameToken)
class NameTokenAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("token", "customer")
    list_select_related = ("customer",)
    search_fields = ("=token",)
    show_full_result_count = False


@admin.register(Note)
class NoteAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("__str__", "customer", "author", "created_at")
    list_select_related = ("customer", "author")
    search_fields = ("body",)
    raw_id_fields = ("customer",)
    show_full_result_count = False


@admin.register(SourceRecord)
class SourceRecordAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("received_at", "source", "batch_id", "status", "customer", "received_by")
    list_filter = ("status", "source")
    list_select_related = ("customer", "received_by")
    search_fields = ("=batch_id", "=external_id")
    date_hierarchy = "received_at"
    show_full_result_count = False
    fields = (
        "customer",
        "source",
        "batch_id",
        "external_id",
        "received_at",
        "received_by",
        "status",
        "errors_shown",
        "data_shown",
    )
    readonly_fields = fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("values as received"))
    def data_shown(self, obj: SourceRecord) -> SafeString:
        return format_html("<pre>{}</pre>", json.dumps(obj.data, indent=2, ensure_ascii=False))

    @admin.display(description=_("errors"))
    def errors_shown(self, obj: SourceRecord) -> SafeString:
        return format_html("<pre>{}</pre>", json.dumps(obj.errors, indent=2, ensure_ascii=False))
