"""Custom field management pages (administrators and managers only).

The views only shape requests and responses: every rule is in
:mod:`kenal.customers.custom_fields`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from kenal.accounts.services import manages
from kenal.customers import custom_fields
from kenal.customers.custom_fields import FieldConversionError, FieldDefinitionError
from kenal.customers.field_forms import ChangeTypeForm, FieldCreateForm, FieldEditForm
from kenal.customers.models import Customer, CustomField
from kenal.web.requests import View, only_for

VIEW_PERMISSION = "customers.view_customfield"
CHANGE_PERMISSION = "customers.change_customfield"
# The conversion failures a refused type change lists (the total is always shown).
FAILURES_SHOWN = 100
SECTION = "settings"  # the navigation group the pages belong to


def may_manage(user: AbstractBaseUser | AnonymousUser, permission: str) -> bool:
    """Whether ``user`` holds ``permission`` and a role that manages custom fields.

    Agents and viewers may see fields on customer records (they hold the view
    permission for that), but field definitions shape every customer record: only
    administrators and managers manage them.
    """
    return manages(user, permission)


def managers_only(permission: str) -> Callable[[View], View]:
    return only_for(lambda user: may_manage(user, permission))


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    context.setdefault("section", SECTION)
    context.setdefault("can_change", may_manage(request.user, CHANGE_PERMISSION))
    return render(request, f"customers/fields/{template}", context)


@managers_only(VIEW_PERMISSION)
def field_list(request: HttpRequest) -> HttpResponse:
    fields = list(
        CustomField.objects.annotate(customer_count=Count("values__customer", distinct=True))
    )
    return _page(
        request,
        "list.html",
        {
            "active": [field for field in fields if not field.is_archived],
            "archived": [field for field in fields if field.is_archived],
        },
    )


@managers_only(CHANGE_PERMISSION)
def field_create(request: HttpRequest) -> HttpResponse:
    form = FieldCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            field = custom_fields.define_field(**form.definition())
        except FieldDefinitionError as exc:
            form.add_problems(exc.problems)
        else:
            messages.success(request, _("Field “%(label)s” created.") % {"label": field.label})
            return redirect("fields:list")
    return _page(request, "form.html", {"form": form, "field": None})


@managers_only(CHANGE_PERMISSION)
def field_edit(request: HttpRequest, pk: int) -> HttpResponse:
    field = get_object_or_404(CustomField, pk=pk)
    form = FieldEditForm(request.POST or None, field=field)
    if request.method == "POST" and form.is_valid():
        try:
            custom_fields.update_field(field, **form.changes())
        except FieldDefinitionError as exc:
            form.add_problems(exc.problems)
            field.refresh_from_db()  # the refused changes were only made in memory
        else:
            messages.success(request, _("Field “%(label)s” saved.") % {"label": field.label})
            return redirect("fields:list")
    return _page(request, "form.html", {"form": form, "field": field})


@require_POST
@managers_only(CHANGE_PERMISSION)
def field_archive(request: HttpRequest, pk: int) -> HttpResponse:
    field = get_object_or_404(CustomField, pk=pk)
    custom_fields.archive_field(field)
    messages.success(
        request,
        _("Field “%(label)s” archived; its values are kept until you restore it.")
        % {"label": field.label},
    )
    return redirect("fields:list")


@require_POST
@managers_only(CHANGE_PERMISSION)
def field_restore(request: HttpRequest, pk: int) -> HttpResponse:
    field = get_object_or_404(CustomField, pk=pk)
    custom_fields.restore_field(field)
    messages.success(request, _("Field “%(label)s” restored.") % {"label": field.label})
    return redirect("fields:list")


@dataclass(frozen=True)
class Failure:
    """One value a type change could not convert, as the page lists it."""

    customer_id: int
    customer_name: str
    customer_url: str
    value: str
    reason: str


@managers_only(CHANGE_PERMISSION)
def field_change_type(request: HttpRequest, pk: int) -> HttpResponse:
    field = get_object_or_404(CustomField, pk=pk)
    form = ChangeTypeForm(request.POST or None, field=field)
    failures: list[Failure] = []
    failure_count = 0
    if request.method == "POST" and form.is_valid():
        try:
            count = custom_fields.change_field_type(
                field, form.cleaned_data["field_type"], choices=form.choices_for_service()
            )
        except FieldDefinitionError as exc:
            form.add_problems(exc.problems)
        except FieldConversionError as exc:
            failure_count = len(exc.failures)
            failures = _failures(exc.failures[:FAILURES_SHOWN])
        else:
            messages.success(
                request,
                ngettext("%(count)d value converted.", "%(count)d values converted.", count)
                % {"count": count},
            )
            return redirect("fields:list")
    return _page(
        request,
        "change_type.html",
        {
            "form": form,
            "field": field,
            "failures": failures,
            "failure_count": failure_count,
            "failures_hidden": failure_count - len(failures),
        },
    )


def _failures(rows: list[tuple[int, str, str]]) -> list[Failure]:
    customers = Customer.objects.in_bulk([customer_id for customer_id, _v, _r in rows])
    return [
        Failure(
            customer_id=customer_id,
            customer_name=str(customers.get(customer_id, f"#{customer_id}")),
            customer_url=_customer_url(customer_id),
            value=value,
            reason=reason,
        )
        for customer_id, value, reason in rows
    ]


def _customer_url(customer_id: int) -> str:
    try:
        return reverse("customers:detail", args=[customer_id])
    except NoReverseMatch:  # the customer pages are not mounted (e.g. a trimmed-down install)
        return ""
