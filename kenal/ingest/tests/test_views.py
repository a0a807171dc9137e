"""The import wizard's pages: upload, mapping, dry run, background run, report, revert."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from kenal.accounts.models import Role, User
from kenal.customers import custom_fields
from kenal.customers import services as customer_services
from kenal.customers.models import Customer, CustomField, SourceRecord
from kenal.customers.services import Origin
from kenal.ingest.models import Import, MappingPreset
from kenal.ingest.tests.files import write_xlsx
from kenal.privacy.models import ConsentRecord

pytestmark = pytest.mark.django_db
# The worker drops connections between tasks, which would end a test's surrounding transaction.
WORKER_DB = pytest.mark.django_db(transaction=True)

HEADER = ["Nama Lengkap", "No HP", "Surel", "Kota", "Pekerjaan Utama"]
ROWS = [
    ["Budi Santoso", "0812-3456-7890", "budi@contoh.id", "Bandung", "Pedagang"],
    ["Siti Rahayu", "0813-1111-2222", "siti@", "Depok", "Guru"],
    ["Dewi Lestari", "12ab", "dewi@contoh.id", "Medan", "Perawat"],
    ["Budi Santoso", "+62 812 3456 7890", "", "", ""],
]


def csv_upload(rows: list[list[str]], name: str = "pelanggan.csv") -> SimpleUploadedFile:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode("utf-8"), "text/csv")


def upload(client: Client, file: SimpleUploadedFile, **fields: str) -> Any:
    data: dict[str, object] = {"file": file, "kind": "customers", "source": "toko", **fields}
    return client.post(reverse("ingest:upload"), data)


def draft(client: Client, rows: list[list[str]] | None = None, **fields: str) -> Import:
    response = upload(client, csv_upload([HEADER, *(rows or ROWS)]), **fields)
    assert response.status_code == 302, getattr(response, "context", None)
    return Import.objects.filter(dry_run=False).latest("pk")


def mapping_post(run: Import, **changes: str) -> dict[str, str]:
    """The mapping form as the page submits it, with ``changes`` by column header."""
    data = {"id_column": run.id_column}
    for index, column in enumerate(run.columns):
        data[f"target-{index}"] = changes.get(column, run.mapping.get(column, ""))
    return data


def queue(client: Client, run: Import, **changes: str) -> None:
    data = {**mapping_post(run, **changes), "action": "import"}
    response = client.post(reverse("ingest:mapping", args=[run.pk]), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("ingest:detail", args=[run.pk])


def run_in_background(client: Client, run: Import, **changes: str) -> Import:
    """Queue the import and run the worker as `kenal worker --batch` does (see WORKER_DB)."""
    queue(client, run, **changes)
    call_command("worker", "--batch")
    run.refresh_from_db()
    return run


@pytest.fixture
def manager(login: Callable[..., Client]) -> Client:
    return login(Role.MANAGER)


# --- upload ---------------------------------------------------------------------------------


def test_upload_leads_to_the_mapping_with_columns_samples_and_automatic_targets(
    manager: Client,
) -> None:
    page = manager.get(reverse("ingest:upload"))
    assert page.status_code == 200
    assert b'name="consent_marketing_email"' in page.content

    run = draft(manager)
    assert run.status == Import.Status.DRAFT
    assert run.mapping == {
        "Nama Lengkap": "full_name",
        "No HP": "phone",
        "Surel": "email",
        "Kota": "city",
        "Pekerjaan Utama": "",
    }
    response = manager.get(reverse("ingest:mapping", args=[run.pk]))
    assert response.status_code == 200
    rows = {row.name: row for row in response.context["rows"]}
    assert list(rows) == HEADER
    assert rows["Nama Lengkap"].target == "full_name"
    assert rows["Nama Lengkap"].samples == ["Budi Santoso", "Siti Rahayu", "Dewi Lestari"]
    assert rows["Pekerjaan Utama"].target == ""
    html = response.content.decode()
    assert '<option value="full_name" selected>' in html
    assert "Create custom field" in html
    assert "4 rows" in html


def test_upload_suggests_the_sources_used_before(manager: Client) -> None:
    MappingPreset.objects.create(source="Tokopedia", kind="customers", mapping={})
    draft(manager, source="POS Jakarta")
    html = manager.get(reverse("ingest:upload")).content.decode()
    assert '<option value="Tokopedia">' in html
    assert '<option value="POS Jakarta">' in html


@pytest.mark.parametrize(
    ("fields", "field", "text"),
    [
        ({"source": " "}, "source", "a name for the channel"),
        ({"consent_marketing_email": "granted"}, "consent_method", "how the consent was obtained"),
        ({"kind": "invoices"}, "kind", "Select a valid choice"),
    ],
)
def test_bad_options_are_shown_beside_their_field(
    manager: Client, fields: dict[str, str], field: str, text: str
) -> None:
    response = upload(manager, csv_upload([HEADER, *ROWS]), **fields)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert text in " ".join(errors[field])
    assert not Import.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "text"),
    [
        ("lama.xls", b"\xd0\xcf\x11\xe0old excel", "save .xls as .xlsx"),
        ("rusak.xlsx", b"not a workbook", "an XLSX workbook that Excel can open"),
        ("kosong.csv", b"\r\n", "a header row naming the columns"),
        ("nol.csv", b"", "The submitted file is empty."),
    ],
)
def test_bad_files_are_refused_beside_the_file_field(
    manager: Client, name: str, content: bytes, text: str
) -> None:
    response = upload(manager, SimpleUploadedFile(name, content))
    assert response.status_code == 200
    assert text in " ".join(response.context["form"].errors["file"])
    assert not Import.objects.exists()


def test_consent_declared_on_upload_is_kept_with_the_import(manager: Client) -> None:
    run = draft(
        manager,
        consent_marketing_whatsapp="granted",
        consent_profiling="denied",
        consent_method="formulir kertas",
        consent_wording="Saya setuju dihubungi lewat WhatsApp.",
    )
    assert run.consent == {
        "statuses": {"marketing_whatsapp": "granted", "profiling": "denied"},
        "method": "formulir kertas",
        "wording": "Saya setuju dihubungi lewat WhatsApp.",
    }
    html = manager.get(reverse("ingest:mapping", args=[run.pk])).content.decode()
    assert "Marketing by WhatsApp: Granted" in html


def test_every_sheet_of_a_workbook_can_be_chosen(manager: Client, tmp_path: Path) -> None:
    book = write_xlsx(
        tmp_path / "data.xlsx",
        {"Ringkasan": [["Total", "3"]], "Pelanggan": [HEADER, *ROWS]},
    )
    response = upload(manager, SimpleUploadedFile("data.xlsx", book.read_bytes()))
    run = Import.objects.get()
    assert response["Location"] == reverse("ingest:mapping", args=[run.pk])
    assert run.sheet == "Ringkasan"
    page = manager.get(reverse("ingest:mapping", args=[run.pk]))
    assert page.context["sheets"] == ["Ringkasan", "Pelanggan"]

    response = manager.post(reverse("ingest:sheet", args=[run.pk]), {"sheet": "Pelanggan"})
    fresh = Import.objects.get()
    assert response["Location"] == reverse("ingest:mapping", args=[fresh.pk])
    assert (fresh.sheet, fresh.columns, fresh.total_rows) == ("Pelanggan", HEADER, 4)
    assert fresh.mapping["No HP"] == "phone"


# --- mapping --------------------------------------------------------------------------------


def test_a_changed_mapping_is_saved_and_remembered_for_the_source(manager: Client) -> None:
    run = draft(manager)
    data = {**mapping_post(run, **{"Pekerjaan Utama": "job_title"}), "remember": "1"}
    response = manager.post(reverse("ingest:mapping", args=[run.pk]), data)
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.mapping["Pekerjaan Utama"] == "job_title"
    preset = MappingPreset.objects.get(source="toko", kind="customers")
    assert preset.mapping["Pekerjaan Utama"] == "job_title"

    # The next file from the same source starts from the remembered mapping.
    again = draft(manager)
    assert again.mapping["Pekerjaan Utama"] == "job_title"


def test_the_id_column_is_saved(manager: Client) -> None:
    run = draft(manager)
    data = {**mapping_post(run), "id_column": "No HP"}
    manager.post(reverse("ingest:mapping", args=[run.pk]), data)
    run.refresh_from_db()
    assert run.id_column == "No HP"


def test_a_field_fed_by_two_columns_is_refused_beside_the_column(manager: Client) -> None:
    run = draft(manager)
    data = mapping_post(run, **{"Pekerjaan Utama": "full_name"})
    response = manager.post(reverse("ingest:mapping", args=[run.pk]), {**data, "action": "import"})
    assert response.status_code == 200
    rows = {row.name: row for row in response.context["rows"]}
    assert "Nama Lengkap already does" in rows["Pekerjaan Utama"].error
    assert rows["Pekerjaan Utama"].target == "full_name"  # what was chosen stays on screen
    run.refresh_from_db()
    assert run.status == Import.Status.DRAFT
    assert run.mapping["Pekerjaan Utama"] == ""


def test_an_unmapped_column_becomes_a_custom_field_in_one_step(manager: Client) -> None:
    run = draft(manager)
    # The unsaved change to another column is kept too.
    data = {
        **mapping_post(run, Kota=""),
        "create_field": str(HEADER.index("Pekerjaan Utama")),
        f"field_type-{HEADER.index('Pekerjaan Utama')}": "text",
    }
    response = manager.post(reverse("ingest:mapping", args=[run.pk]), data, follow=True)
    field = CustomField.objects.get()
    assert (field.key, field.label, field.field_type) == (
        "pekerjaan_utama",
        "Pekerjaan Utama",
        "text",
    )
    run.refresh_from_db()
    assert run.mapping["Pekerjaan Utama"] == "custom.pekerjaan_utama"
    assert run.mapping["Kota"] == ""
    assert "Custom field “Pekerjaan Utama” created" in response.content.decode()
    rows = {row.name: row for row in response.context["rows"]}
    assert rows["Pekerjaan Utama"].target == "custom.pekerjaan_utama"


def test_a_custom_field_key_already_taken_gets_a_number(manager: Client) -> None:
    custom_fields.define_field(key="pekerjaan_utama", label="Pekerjaan", field_type="text")
    run = draft(manager)
    index = HEADER.index("Pekerjaan Utama")
    data = {**mapping_post(run), "create_field": str(index), f"field_type-{index}": "integer"}
    manager.post(reverse("ingest:mapping", args=[run.pk]), data)
    field = CustomField.objects.get(key="pekerjaan_utama_2")
    assert field.field_type == "integer"


def test_creating_a_field_from_the_wizard_needs_the_right_to_define_fields(
    manager: Client, make_user: Callable[..., User]
) -> None:
    run = draft(manager)
    # An agent given the right to import, but not to define custom fields.
    importer = make_user("importer", Role.AGENT)
    importer.user_permissions.add(Permission.objects.get(codename="add_import"))
    client = Client()
    client.force_login(importer)
    page = client.get(reverse("ingest:mapping", args=[run.pk]))
    assert page.status_code == 200
    assert "Create custom field" not in page.content.decode()
    data = {**mapping_post(run), "create_field": "4", "field_type-4": "text"}
    response = client.post(reverse("ingest:mapping", args=[run.pk]), data)
    assert response.status_code == 403
    assert not CustomField.objects.exists()


# --- dry run --------------------------------------------------------------------------------


def test_a_dry_run_shows_counts_and_problems_and_changes_nothing(manager: Client) -> None:
    run = draft(manager)
    data = {**mapping_post(run, **{"Pekerjaan Utama": "job_title"}), "action": "check"}
    response = manager.post(reverse("ingest:mapping", args=[run.pk]), data)
    assert response.status_code == 200
    check = Import.objects.get(dry_run=True)
    assert (check.created_count, check.merged_count, check.rejected_count) == (1, 1, 2)
    html = response.content.decode()
    assert "Dry run: what the import would do" in html
    assert "<dt>Rejected</dt><dd>2</dd>" in html
    assert [(problem.row, problem.field) for problem in response.context["check"].problems] == [
        (2, "emails[0].email"),
        (3, "phones[0].number"),
    ]
    assert "siti@" in html
    assert "12ab" in html
    # Nothing was written, and the draft is still waiting with the chosen mapping.
    assert not Customer.objects.exists()
    assert not SourceRecord.objects.exists()
    run.refresh_from_db()
    assert run.status == Import.Status.DRAFT
    assert run.mapping["Pekerjaan Utama"] == "job_title"
    # Checks are not listed as imports.
    listed = manager.get(reverse("ingest:list")).context["page"].object_list
    assert [item.pk for item in listed] == [run.pk]


# --- running in the background, the report ------------------------------------------------


@WORKER_DB
def test_an_import_runs_in_the_worker_and_its_page_shows_the_report(manager: Client) -> None:
    run = draft(manager)
    queued = manager.get(reverse("ingest:detail", args=[run.pk]))
    assert queued.status_code == 302  # a draft's page is its mapping step

    run = run_in_background(manager, run, **{"Pekerjaan Utama": "job_title"})
    assert run.status == Import.Status.DONE
    assert (run.created_count, run.merged_count, run.rejected_count, run.rows_done) == (1, 1, 2, 4)
    budi = Customer.objects.get()
    assert (budi.full_name, budi.job_title) == ("Budi Santoso", "Pedagang")

    page = manager.get(reverse("ingest:detail", args=[run.pk]))
    html = page.content.decode()
    assert "Report" in html
    counts = dict(
        zip(
            ["Created", "Updated", "Merged within the file", "Unchanged", "Rejected"],
            [1, 0, 1, 0, 2],
            strict=True,
        )
    )
    for label, count in counts.items():
        assert f"<dt>{label}</dt><dd>{count}</dd>" in html
    assert [(problem.row, problem.value) for problem in page.context["problems"]] == [
        (2, "siti@"),
        (3, "12ab"),
    ]
    assert "Download rejected rows" in html
    assert "Revert this import" in html


@WORKER_DB
def test_the_rejected_rows_download_as_csv_with_an_error_column(manager: Client) -> None:
    run = run_in_background(manager, draft(manager))
    response = manager.get(reverse("ingest:rejected", args=[run.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="pelanggan-{run.pk}-rejected.csv"'
    )
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [*HEADER, "error"]
    assert [row[:5] for row in rows[1:]] == [ROWS[1], ROWS[2]]
    assert "siti@" in rows[1][5]
    assert "12ab" in rows[2][5]


@WORKER_DB
def test_problems_are_paged(manager: Client) -> None:
    bad = [[f"Orang {number}", "12ab", "", "", ""] for number in range(105)]
    run = run_in_background(manager, draft(manager, bad))
    first = manager.get(reverse("ingest:detail", args=[run.pk]))
    assert len(first.context["problems"]) == 100
    assert first.context["has_next_problems"]
    # Each row has two problems (the phone, and no email or phone left): 210 in all.
    last = manager.get(reverse("ingest:detail", args=[run.pk]), {"page": 3})
    assert [problem.row for problem in last.context["problems"]][::2] == [101, 102, 103, 104, 105]
    assert not last.context["has_next_problems"]
    assert "From problem 201" in last.content.decode()


@WORKER_DB
def test_the_progress_box_polls_until_the_import_finishes(manager: Client) -> None:
    run = draft(manager)
    queue(manager, run)
    page = manager.get(reverse("ingest:detail", args=[run.pk]))
    html = page.content.decode()
    assert "Waiting for the background worker" in html
    assert 'hx-trigger="every 1s"' in html
    assert "0 of 4 rows" in html
    assert "Cancel the import" in html

    progress = reverse("ingest:progress", args=[run.pk])
    assert "0 of 4 rows" in manager.get(progress, headers={"HX-Request": "true"}).content.decode()
    call_command("worker", "--batch")
    finished = manager.get(progress, headers={"HX-Request": "true"})
    assert finished["HX-Refresh"] == "true"  # the page reloads into the report


@WORKER_DB
def test_a_queued_import_can_be_cancelled_and_is_not_run(manager: Client) -> None:
    run = draft(manager)
    queue(manager, run)
    response = manager.post(reverse("ingest:cancel", args=[run.pk]), follow=True)
    assert "Cancelling" in response.content.decode()
    call_command("worker", "--batch")
    run.refresh_from_db()
    assert run.status == Import.Status.CANCELLED
    assert run.rows_done == 0
    assert not Customer.objects.exists()


def test_a_draft_can_be_discarded(manager: Client) -> None:
    run = draft(manager)
    response = manager.post(reverse("ingest:cancel", args=[run.pk]))
    assert response["Location"] == reverse("ingest:list")
    run.refresh_from_db()
    assert run.status == Import.Status.CANCELLED


# --- revert ---------------------------------------------------------------------------------


@WORKER_DB
def test_revert_asks_first_then_removes_and_restores_and_lists_what_it_kept(
    manager: Client,
) -> None:
    pos = Origin(source="pos")
    siti = customer_services.create_customer(
        {"full_name": "Siti Rahayu", "emails": ["siti@contoh.id"], "job_title": "Guru"}, pos
    )
    dewi = customer_services.create_customer(
        {"full_name": "Dewi Lestari", "emails": ["dewi@contoh.id"], "job_title": "Bidan"}, pos
    )
    rows = [
        ["Budi Santoso", "0812-3456-7890", "budi@contoh.id", "Bandung", "Pedagang"],
        ["Siti Rahayu", "", "siti@contoh.id", "", "Kepala Sekolah"],
        ["Dewi Lestari", "", "dewi@contoh.id", "", "Perawat"],
    ]
    run = run_in_background(
        manager,
        draft(manager, rows),
        **{"Pekerjaan Utama": "job_title"},
    )
    assert (run.created_count, run.updated_count) == (1, 2)
    # Someone corrects Dewi's job after the import: the revert must not undo that.
    dewi.refresh_from_db()
    customer_services.update_customer(dewi, {"job_title": "Dokter"}, pos)

    confirm = manager.get(reverse("ingest:revert", args=[run.pk]))
    assert "Revert the import of pelanggan.csv?" in confirm.content.decode()
    assert Customer.objects.count() == 3  # asking changes nothing

    response = manager.post(reverse("ingest:revert", args=[run.pk]), follow=True)
    html = response.content.decode()
    assert "Customers removed: 1" in html
    # Siti's job and both names it split; Dewi's names, not her job.
    assert "values restored: 5" in html
    assert "values kept because they changed since: 1" in html
    assert "Kept by the revert" in html
    assert "Dokter" in html
    siti.refresh_from_db()
    dewi.refresh_from_db()
    assert (siti.job_title, dewi.job_title) == ("Guru", "Dokter")
    assert not Customer.objects.filter(full_name="Budi Santoso").exists()
    run.refresh_from_db()
    assert run.status == Import.Status.REVERTED
    assert "Revert this import" not in html

    again = manager.post(reverse("ingest:revert", args=[run.pk]), follow=True)
    assert "Not reverted" in again.content.decode()


@WORKER_DB
def test_consent_declared_is_recorded_for_imported_customers(manager: Client) -> None:
    run = draft(manager, consent_marketing_email="granted", consent_method="formulir pendaftaran")
    run_in_background(manager, run)
    record = ConsentRecord.objects.get()
    assert (record.purpose, record.status, record.method, record.source) == (
        "marketing_email",
        "granted",
        "formulir pendaftaran",
        "toko",
    )


# --- who may ------------------------------------------------------------------------------


def urls_of(run: Import) -> list[tuple[str, str]]:
    return [
        ("get", reverse("ingest:list")),
        ("get", reverse("ingest:upload")),
        ("post", reverse("ingest:upload")),
        ("get", reverse("ingest:detail", args=[run.pk])),
        ("get", reverse("ingest:mapping", args=[run.pk])),
        ("post", reverse("ingest:mapping", args=[run.pk])),
        ("post", reverse("ingest:sheet", args=[run.pk])),
        ("get", reverse("ingest:progress", args=[run.pk])),
        ("post", reverse("ingest:cancel", args=[run.pk])),
        ("get", reverse("ingest:revert", args=[run.pk])),
        ("post", reverse("ingest:revert", args=[run.pk])),
        ("get", reverse("ingest:rejected", args=[run.pk])),
    ]


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_agents_and_viewers_may_not_import(
    manager: Client, login: Callable[..., Client], role: str
) -> None:
    run = draft(manager)
    client = login(role)
    for method, url in urls_of(run):
        assert getattr(client, method)(url).status_code == 403, (method, url)
    assert 'href="/imports/"' not in client.get(reverse("customers:list")).content.decode()
    run.refresh_from_db()
    assert run.status == Import.Status.DRAFT


def test_anonymous_visitors_are_sent_to_log_in(manager: Client) -> None:
    run = draft(manager)
    anonymous = Client()
    for method, url in urls_of(run):
        response = getattr(anonymous, method)(url)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(reverse("login"))


def test_managers_and_admins_see_imports_in_the_navigation(
    manager: Client, login: Callable[..., Client]
) -> None:
    for client in (manager, login(Role.ADMIN)):
        html = client.get(reverse("customers:list")).content.decode()
        assert 'href="/imports/"' in html
        assert client.get(reverse("ingest:list")).status_code == 200


def test_posts_need_the_csrf_token(manager: Client, make_user: Callable[..., User]) -> None:
    run = draft(manager)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user("strict-manager", Role.MANAGER))
    assert strict.post(reverse("ingest:cancel", args=[run.pk])).status_code == 403
    run.refresh_from_db()
    assert run.status == Import.Status.DRAFT
