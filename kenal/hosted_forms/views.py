"""Staff pages for hosted forms (managers and administrators): list, build, inspect.

Views only translate between HTTP and :mod:`kenal.hosted_forms.services`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kenal.customers.normalise import InvalidValue
from kenal.hosted_forms import services
from kenal.hosted_forms.forms import Builder, initial_builder, posted_builder
from kenal.hosted_forms.models import SignupForm
from kenal.hosted_forms.services import FormDefinitionError
from kenal.web.requests import staff_user

SECTION = "forms"  # the navigation entry the pages belong to
RECENT_SUBMISSIONS = 25
EMBED_HEIGHT = 720


@require_GET
@permission_required("hosted_forms.view_signupform", raise_exception=True)
def form_list(request: HttpRequest) -> HttpResponse:
    forms = SignupForm.objects.annotate(submission_count=Count("submissions"))
    context = {
        "section": SECTION,
        "forms": forms,
        "can_add": request.user.has_perm("hosted_forms.add_signupform"),
    }
    return render(request, "hosted_forms/list.html", context)


@require_http_methods(["GET", "POST"])
@permission_required("hosted_forms.add_signupform", raise_exception=True)
def form_create(request: HttpRequest) -> HttpResponse:
    return _build(request, None)


@require_http_methods(["GET", "POST"])
@permission_required("hosted_forms.change_signupform", raise_exception=True)
def form_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _build(request, get_object_or_404(SignupForm, pk=pk))


def _build(request: HttpRequest, form: SignupForm | None) -> HttpResponse:
    if request.method != "POST":
        builder = initial_builder(services.definition_of(form) if form else None)
        return _builder_page(request, form, builder)
    builder = posted_builder(request.POST)
    if not builder.settings.is_valid():
        return _builder_page(request, form, builder)
    try:
        saved = services.save_form(form, builder.definition(), staff_user(request))
    except FormDefinitionError as exc:
        builder.add_problems(exc.problems)
        return _builder_page(request, form, builder)
    messages.success(request, _("Form “%(title)s” saved.") % {"title": saved.title})
    return redirect("hosted_forms:detail", pk=saved.pk)


def _builder_page(request: HttpRequest, form: SignupForm | None, builder: Builder) -> HttpResponse:
    context = {"section": SECTION, "form": form, "builder": builder}
    return render(request, "hosted_forms/edit.html", context)


@require_GET
@permission_required("hosted_forms.view_signupform", raise_exception=True)
def form_detail(request: HttpRequest, pk: int) -> HttpResponse:
    form = get_object_or_404(SignupForm, pk=pk)
    public_url = request.build_absolute_uri(reverse("public_forms:form", args=[form.slug]))
    context: dict[str, Any] = {
        "section": SECTION,
        "form": form,
        "public_url": public_url,
        "embed_height": EMBED_HEIGHT,
        "inputs": services.public_inputs(form),
        "boxes": services.consent_boxes(form),
        "counts": services.submission_counts(form),
        "submissions": form.submissions.select_related("customer")[:RECENT_SUBMISSIONS],
        "can_change": request.user.has_perm("hosted_forms.change_signupform"),
        **_update_link(request, form),
    }
    return render(request, "hosted_forms/detail.html", context)


def _update_link(request: HttpRequest, form: SignupForm) -> dict[str, Any]:
    """The update link asked for on the detail page (?customer=<id, email or phone>)."""
    wanted = request.GET.get("customer", "").strip()
    if not wanted:
        return {"customer_query": ""}
    # The link lets whoever holds it change the customer's record.
    if not request.user.has_perm("customers.change_customer"):
        raise PermissionDenied
    try:
        customer = services.find_customer(wanted)
    except InvalidValue as exc:
        return {"customer_query": wanted, "link_error": exc.expected}
    link = request.build_absolute_uri(services.update_link(customer, form))
    return {"customer_query": wanted, "link_customer": customer, "update_link": link}
