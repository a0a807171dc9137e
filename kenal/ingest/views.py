"""The import wizard: upload, map the columns, check, run in the background, report, undo.

Views only translate between HTTP and :mod:`kenal.ingest.services`; the rows are written by
the background worker (:mod:`kenal.ops.worker`), so every page reads its state from the
database and survives a reload.
"""

from __future__ import annotations

import io
import logging
import math
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from kenal.accounts.models import User
from kenal.customers import custom_fields
from kenal.customers.custom_fields import CHOICE_TYPES, RESERVED_KEYS, FieldDefinitionError
from kenal.customers.models import CustomField, FieldType
from kenal.customers.normalise import InvalidValue
from kenal.ingest import mapping as mappings
from kenal.ingest import services
from kenal.ingest.forms import UploadForm, invalid_message
from kenal.ingest.models import Import, ImportKind, MappingPreset
from kenal.ingest.revert import revert_import
from kenal.ingest.services import ImportSetup, Problem
from kenal.privacy.models import ConsentStatus, Purpose
from kenal.privacy.services import parse_declaration
from kenal.web.requests import HtmxHttpRequest, staff_user

VIEW = "ingest.view_import"
ADD = "ingest.add_import"
CHANGE = "ingest.change_import"
ADD_FIELD = "customers.add_customfield"
SECTION = "imports"  # the navigation item the pages belong to
IMPORTS_PER_PAGE = 50
PROBLEMS_PER_PAGE = 100
CHECK_PROBLEMS_SHOWN = 100
SAMPLE_ROWS = 3
SOURCES_SUGGESTED = 200
# A file that is not what its name says (a broken workbook) is refused like any bad value.

logger = logging.getLogger(__name__)


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    context.setdefault("section", SECTION)
    return render(request, f"ingest/{template}", context)


# --- list -----------------------------------------------------------------------------------


@require_GET
@permission_required(VIEW, raise_exception=True)
def import_list(request: HttpRequest) -> HttpResponse:
    # Dry runs are checks made while setting an import up: they are shown there.
    runs = Import.objects.filter(dry_run=False).select_related("created_by")
    page = Paginator(runs, IMPORTS_PER_PAGE).get_page(request.GET.get("page"))
    return _page(request, "list.html", {"page": page})


# --- step 1: upload -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@permission_required(ADD, raise_exception=True)
def import_upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        run = _prepare(form, staff_user(request))
        if run is not None:
            return redirect("ingest:mapping", pk=run.pk)
    return _page(request, "upload.html", {"form": form, "sources": _known_sources()})


def _prepare(form: UploadForm, actor: User) -> Import | None:
    """The uploaded file as a draft import; None with the problem shown on the form."""
    data = form.cleaned_data
    try:
        consent = parse_declaration(
            form.consent_statuses(), data["consent_method"], data["consent_wording"]
        )
    except InvalidValue as exc:
        form.add_invalid(exc)
        return None
    upload = data["file"]
    path = services.store_upload(upload.chunks(), upload.name)
    setup = ImportSetup(kind=data["kind"], source=data["source"], consent=consent, actor=actor)
    try:
        return services.prepare_import(path, setup, upload.name)
    except InvalidValue as exc:
        path.unlink(missing_ok=True)  # nothing refers to the copy: it would only take space
        form.add_invalid(exc)
        return None


def _known_sources() -> list[str]:
    """Sources used before, offered as suggestions so one channel keeps one name."""
    presets = MappingPreset.objects.values_list("source", flat=True)
    imported = Import.objects.order_by().values_list("source", flat=True).distinct()
    return sorted({*presets[:SOURCES_SUGGESTED], *imported[:SOURCES_SUGGESTED]}, key=str.casefold)


# --- step 2: mapping ------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnRow:
    """One column of the file as the mapping table shows it."""

    index: int
    name: str
    samples: list[str]
    target: str
    error: str


@require_http_methods(["GET", "POST"])
@permission_required(ADD, raise_exception=True)
def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(Import, pk=pk, dry_run=False)
    if run.status != Import.Status.DRAFT:
        return redirect("ingest:detail", pk=run.pk)
    if request.method != "POST":
        return _mapping_page(request, run, dict(run.mapping), run.id_column)
    chosen = {
        column: request.POST.get(f"target-{index}", "") for index, column in enumerate(run.columns)
    }
    id_column = request.POST.get("id_column", "")
    try:
        services.configure(run, chosen, id_column)
    except InvalidValue as exc:
        return _mapping_page(request, run, chosen, id_column, error=exc)
    if request.POST.get("remember"):
        services.save_preset(run)
        messages.success(request, _("Mapping remembered for %(source)s.") % {"source": run.source})
    return _mapping_action(request, run)


def _mapping_action(request: HttpRequest, run: Import) -> HttpResponse:
    """What the pressed button asks for, the mapping being saved."""
    mapping_url = reverse("ingest:mapping", args=[run.pk])
    if "create_field" in request.POST:
        _create_field_for_column(request, run)
        return HttpResponseRedirect(f"{mapping_url}#columns")
    action = request.POST.get("action", "")
    if action == "check":
        # Shown at once: a dry run keeps nothing, so its problems cannot be read later.
        check = _dry_run(run, staff_user(request))
        return _mapping_page(request, run, dict(run.mapping), run.id_column, check=check)
    if action == "import":
        services.queue_import(run)
        return redirect("ingest:detail", pk=run.pk)
    messages.success(request, _("Mapping saved."))
    return HttpResponseRedirect(mapping_url)


def _mapping_page(
    request: HttpRequest,
    run: Import,
    chosen: dict[str, str],
    id_column: str,
    error: InvalidValue | None = None,
    check: Check | None = None,
) -> HttpResponse:
    samples = services.first_rows(run, SAMPLE_ROWS)
    fields = list(custom_fields.active_fields())
    rows = [
        ColumnRow(
            index=index,
            name=column,
            samples=[sample.get(column, "") for sample in samples],
            target=chosen.get(column, ""),
            error=_column_error(error, column),
        )
        for index, column in enumerate(run.columns)
    ]
    context = {
        "run": run,
        "rows": rows,
        "sheets": services.sheets(run),
        "targets": mappings.targets(run.kind, fields),
        "id_column": id_column,
        "id_error": invalid_message(error) if error and error.field == "id_column" else "",
        "error": error,
        "consent": _consent_summary(run),
        "can_add_fields": run.kind == ImportKind.CUSTOMERS and request.user.has_perm(ADD_FIELD),
        "field_types": [
            (value, label) for value, label in FieldType.choices if value not in CHOICE_TYPES
        ],
        "check": check,
    }
    return _page(request, "mapping.html", context)


def _column_error(error: InvalidValue | None, column: str) -> str:
    return invalid_message(error) if error and error.field == f"mapping.{column}" else ""


def _consent_summary(run: Import) -> list[tuple[str, str]]:
    statuses: dict[str, str] = run.consent.get("statuses", {})
    return [
        (str(Purpose(purpose).label), str(ConsentStatus(status).label))
        for purpose, status in statuses.items()
    ]


@require_POST
@permission_required(ADD, raise_exception=True)
def import_sheet(request: HttpRequest, pk: int) -> HttpResponse:
    """Read another sheet of the workbook: the draft is set up again from that sheet."""
    run = get_object_or_404(Import, pk=pk, dry_run=False, status=Import.Status.DRAFT)
    setup = replace(_setup_of(run), sheet=request.POST.get("sheet", ""), mapping=None)
    try:
        fresh = services.prepare_import(Path(run.file_path), setup, run.file_name)
    except InvalidValue as exc:
        messages.error(request, invalid_message(exc))
        return redirect("ingest:mapping", pk=run.pk)
    run.delete()  # a draft has written nothing: the new one replaces it
    return redirect("ingest:mapping", pk=fresh.pk)


def _setup_of(run: Import) -> ImportSetup:
    """The settings ``run`` was prepared with, to prepare another import like it."""
    consent = run.consent or {}
    return ImportSetup(
        kind=run.kind,
        source=run.source,
        sheet=run.sheet,
        mapping=dict(run.mapping),
        id_column=run.id_column,
        consent=parse_declaration(
            consent.get("statuses", {}), consent.get("method", ""), consent.get("wording", "")
        ),
        actor=run.created_by,
    )


def _create_field_for_column(request: HttpRequest, run: Import) -> None:
    """A custom field named after an unmapped column, and the column mapped to it."""
    if run.kind != ImportKind.CUSTOMERS or not request.user.has_perm(ADD_FIELD):
        raise PermissionDenied
    index = _int(request.POST.get("create_field"))
    if index is None or not 0 <= index < len(run.columns):
        raise Http404
    column = run.columns[index]
    label = column[: CustomField._meta.get_field("label").max_length]
    try:
        field = custom_fields.define_field(
            key=_field_key(column),
            label=label,
            field_type=request.POST.get(f"field_type-{index}") or FieldType.TEXT,
        )
    except FieldDefinitionError as exc:
        messages.error(request, "; ".join(exc.problems))
        return
    services.configure(run, {**run.mapping, column: f"custom.{field.key}"}, run.id_column)
    messages.success(
        request,
        _("Custom field “%(label)s” created; the column %(column)s now fills it.")
        % {"label": field.label, "column": column},
    )


def _field_key(header: str) -> str:
    """A free custom field key from a column header: "Pekerjaan Utama" → pekerjaan_utama."""
    base = slugify(header).replace("-", "_")[:56] or "field"
    if not base[0].isalpha():
        base = f"field_{base}"
    taken = set(CustomField.objects.values_list("key", flat=True)) | RESERVED_KEYS
    key, number = base, 2
    while key in taken:
        key, number = f"{base}_{number}", number + 1
    return key


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


# --- dry run --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """What a dry run of the draft found."""

    run: Import
    problems: list[Problem]
    more_problems: bool


def _dry_run(run: Import, actor: User) -> Check:
    """Run a copy of the draft that writes nothing, to show what the import would do."""
    setup = replace(_setup_of(run), dry_run=True, actor=actor)
    check = services.prepare_import(Path(run.file_path), setup, run.file_name)
    found: list[Problem] = []

    def collect(current: Import) -> None:
        # The rejected rows are rolled back with everything else: read them while they exist.
        if len(found) <= CHECK_PROBLEMS_SHOWN:
            found[:] = islice(services.problems(current), CHECK_PROBLEMS_SHOWN + 1)

    try:
        services.run_import(check, collect)
    except Exception:
        # run_import has marked the check failed with the error, which the page shows.
        logger.exception("Dry run of import #%s failed", run.pk)
    return Check(check, found[:CHECK_PROBLEMS_SHOWN], len(found) > CHECK_PROBLEMS_SHOWN)


# --- the import's page ----------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    percent: int
    rate: int | None  # rows per second
    remaining: str  # the estimated time left, in words; "" when unknown


def _progress(run: Import) -> Progress:
    total = run.total_rows or 0
    done = min(run.rows_done, total) if total else run.rows_done
    percent = math.floor(100 * done / total) if total else 0
    rate = None
    remaining = ""
    if run.started_at is not None and done:
        seconds = (timezone.now() - run.started_at).total_seconds()
        if seconds > 0:
            rate = round(done / seconds)
            remaining = _duration(math.ceil((total - done) / (done / seconds))) if total else ""
    return Progress(done, total, percent, rate, remaining)


def _duration(seconds: int) -> str:
    if seconds < 60:
        return ngettext("about %(count)d second", "about %(count)d seconds", seconds) % {
            "count": seconds
        }
    minutes = math.ceil(seconds / 60)
    return ngettext("about %(count)d minute", "about %(count)d minutes", minutes) % {
        "count": minutes
    }


@require_GET
@permission_required(VIEW, raise_exception=True)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(Import.objects.select_related("created_by"), pk=pk)
    if run.status == Import.Status.DRAFT and request.user.has_perm(ADD) and not run.dry_run:
        return redirect("ingest:mapping", pk=run.pk)
    page_number = max(1, _int(request.GET.get("page")) or 1)
    problems = _problem_page(run, page_number) if run.is_finished else []
    context = {
        "run": run,
        "progress": _progress(run),
        "problems": problems[:PROBLEMS_PER_PAGE],
        "problem_page": page_number,
        "problem_first": (page_number - 1) * PROBLEMS_PER_PAGE + 1,
        "has_next_problems": len(problems) > PROBLEMS_PER_PAGE,
        "mapped": _mapped_columns(run),
        "consent": _consent_summary(run),
        "can_revert": run.is_finished and not run.dry_run and run.status != Import.Status.REVERTED,
    }
    return _page(request, "detail.html", context)


def _problem_page(run: Import, page_number: int) -> list[Problem]:
    """One page of problems, and one more to know whether another page follows."""
    start = (page_number - 1) * PROBLEMS_PER_PAGE
    return list(islice(services.problems(run), start, start + PROBLEMS_PER_PAGE + 1))


def _mapped_columns(run: Import) -> list[tuple[str, str]]:
    labels = mappings.targets(run.kind, custom_fields.active_fields())
    return [
        (column, labels.get(target, target) if target else "")
        for column, target in run.mapping.items()
    ]


@require_GET
@permission_required(VIEW, raise_exception=True)
def import_progress(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The progress box, polled every second while the import waits or runs."""
    run = get_object_or_404(Import, pk=pk)
    if run.is_finished and request.htmx:
        return HttpResponseClientRefresh()  # the whole page changes: it becomes the report
    return render(request, "ingest/_progress.html", {"run": run, "progress": _progress(run)})


@require_POST
@permission_required(CHANGE, raise_exception=True)
def import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(Import, pk=pk)
    was_draft = run.status == Import.Status.DRAFT
    try:
        services.cancel_import(run)
    except InvalidValue:
        messages.info(request, _("The import had already finished."))
        return redirect("ingest:detail", pk=run.pk)
    if was_draft:
        messages.success(request, _("Import discarded; nothing was imported."))
        return redirect("ingest:list")
    messages.success(request, _("Cancelling: the import stops after the rows it is writing now."))
    return redirect("ingest:detail", pk=run.pk)


@require_http_methods(["GET", "POST"])
@permission_required(CHANGE, raise_exception=True)
def import_revert(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask for confirmation (GET), then undo the import (POST)."""
    run = get_object_or_404(Import, pk=pk, dry_run=False)
    if request.method != "POST":
        return _page(request, "revert.html", {"run": run})
    try:
        result = revert_import(run)
    except InvalidValue as exc:
        messages.error(
            request, _("Not reverted: expected %(expected)s.") % {"expected": exc.expected}
        )
        return redirect("ingest:detail", pk=run.pk)
    messages.success(
        request,
        _(
            "Import reverted. Customers removed: %(customers)d · orders removed: %(orders)d · "
            "values restored: %(restored)d · values kept because they changed since: %(kept)d."
        )
        % {
            "customers": result.removed_customers,
            "orders": result.removed_orders,
            "restored": result.restored,
            "kept": len(result.conflicts),
        },
    )
    return redirect("ingest:detail", pk=run.pk)


@require_GET
@permission_required(VIEW, raise_exception=True)
def rejected_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The rejected rows in the file's columns plus ``error``, to correct and import again."""
    run = get_object_or_404(Import, pk=pk)
    out = io.StringIO()
    out.write("\ufeff")  # the byte order mark tells Excel the file is UTF-8
    services.write_rejected_csv(run, out)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    stem = Path(run.file_name).stem or "import"
    response["Content-Disposition"] = (
        f'attachment; filename="{slugify(stem) or "import"}-{run.pk}-rejected.csv"'
    )
    return response
