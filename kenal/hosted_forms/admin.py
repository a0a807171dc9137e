"""Back-office views of hosted forms and their submissions.

Forms are built on the Kenal page (/settings/forms/), where their fields and consent
wording are checked; here they are shown read-only, like submissions (evidence).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from kenal.hosted_forms.models import FormSubmission, SignupForm


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SignupForm)
class SignupFormAdmin(ReadOnlyMixin, admin.ModelAdmin[SignupForm]):
    list_display = ("title", "slug", "is_active", "source_name", "created_at", "kenal_page")
    list_filter = ("is_active",)
    search_fields = ("title", "slug")

    @admin.display(description=_("Kenal page"))
    def kenal_page(self, obj: SignupForm) -> SafeString:
        url = reverse("hosted_forms:detail", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Open"))


@admin.register(FormSubmission)
class FormSubmissionAdmin(ReadOnlyMixin, admin.ModelAdmin[FormSubmission]):
    list_display = ("submitted_at", "form", "outcome", "refusal", "confirmation", "customer")
    list_filter = ("outcome", "confirmation", "form")
    raw_id_fields = ("customer", "source_record")
    date_hierarchy = "submitted_at"
