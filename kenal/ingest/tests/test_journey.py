"""A manager imports a spreadsheet in a real browser (Debian's Chromium): maps the columns,
runs it in the background, corrects the rejected rows, imports them again, reverts the first."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command
from openpyxl import Workbook
from playwright.sync_api import Page, expect

from kenal.accounts.models import Role, User
from kenal.conftest import PASSWORD
from kenal.customers.models import Customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = [
    "Nama Lengkap",
    "No HP",
    "Surel",
    "Kota",
    "Tanggal Lahir",
    "Jenis Kelamin",
    "Pekerjaan Utama",  # not a header the automatic mapping knows
]
ROWS = [
    ["Budi Santoso", "0812-3456-7890", "budi@contoh.id", "Bandung", "12/05/1990", "L", "Pedagang"],
    ["Siti Rahayu", "0813-1111-2222", "siti@contoh.id", "Depok", "01/02/1991", "P", "Guru"],
    ["Dewi Lestari", "12ab", "dewi@contoh.id", "Medan", "", "Perempuan", "Perawat"],
    ["Joko Susilo", "0857-1234-5678", "joko@", "Solo", "31/02/1985", "L", "Petani"],
]
# What the manager types over the bad values in the downloaded file.
CORRECTIONS = {"12ab": "0812-9999-8888", "joko@": "joko@contoh.id", "31/02/1985": "28/02/1985"}


def workbook(path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Pelanggan"
    for row in [HEADER, *ROWS]:
        sheet.append(row)
    book.save(path)
    return path


def corrected(downloaded: Path, path: Path) -> Path:
    with downloaded.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    fixed = [[CORRECTIONS.get(cell, cell) for cell in row] for row in rows]
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(fixed)
    return path


def run_the_worker(page: Page) -> None:
    """What `kenal serve` does in the background, here while the import's page polls."""
    expect(page.get_by_role("heading", name="Waiting for the background worker")).to_be_visible()
    call_command("worker", "--batch")
    expect(page.get_by_role("heading", name="Report")).to_be_visible()


def upload(page: Page, base: str, file: Path) -> None:
    page.goto(f"{base}/customers/")
    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_role("link", name="New import").click()
    page.locator("#id_file").set_input_files(file)
    page.get_by_label("Source").fill("Tokopedia")
    page.get_by_role("button", name="Upload and continue").click()
    expect(page.get_by_role("heading", name="Map the columns")).to_be_visible()


def test_import_a_spreadsheet_fix_its_rejected_rows_and_revert_it(
    page: Page, live_server: object, make_user: Callable[..., User], tmp_path: Path
) -> None:
    make_user("maya", Role.MANAGER)
    base = str(live_server)
    page.goto(f"{base}/login/")
    page.fill("#id_username", "maya")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # Step 1: the workbook, where it comes from, and what the people agreed to.
    page.goto(f"{base}/customers/")
    page.get_by_role("link", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Imports")).to_be_visible()
    page.get_by_role("link", name="New import").click()
    page.locator("#id_file").set_input_files(workbook(tmp_path / "pelanggan.xlsx"))
    page.get_by_label("Source").fill("Tokopedia")
    page.get_by_label("Marketing by WhatsApp").select_option("granted")
    page.get_by_label("How the consent was obtained").fill("Kotak centang saat checkout")
    page.get_by_role("button", name="Upload and continue").click()

    # Step 2: the Indonesian headers are recognised; the job column is not, and is set by hand.
    expect(page.get_by_role("heading", name="Map the columns")).to_be_visible()
    expect(page.get_by_text("Marketing by WhatsApp: Granted")).to_be_visible()
    expect(page.get_by_label("Nama Lengkap", exact=True)).to_have_value("full_name")
    expect(page.get_by_label("No HP", exact=True)).to_have_value("phone")
    expect(page.get_by_label("Surel", exact=True)).to_have_value("email")
    expect(page.get_by_label("Tanggal Lahir", exact=True)).to_have_value("birth_date")
    job = page.get_by_label("Pekerjaan Utama", exact=True)
    expect(job).to_have_value("")
    expect(page.locator(".import-samples").nth(6)).to_contain_text("Pedagang")
    job.select_option(label="Job title")

    page.get_by_role("button", name="Check (dry run)").click()
    check = page.locator("#check")
    expect(check).to_contain_text("Nothing was saved")
    expect(check.locator(".import-counts")).to_contain_text("Created2")
    expect(check.locator(".import-counts")).to_contain_text("Rejected2")
    expect(check.locator(".import-problems")).to_contain_text("12ab")
    assert not Customer.objects.exists()

    expect(page.get_by_label("Pekerjaan Utama", exact=True)).to_have_value("job_title")
    page.get_by_label("Remember this mapping for Tokopedia").check()
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Import of pelanggan.xlsx")).to_be_visible()
    run_the_worker(page)

    counts = page.locator(".import-counts")
    expect(counts).to_contain_text("Created2")
    expect(counts).to_contain_text("Rejected2")
    problems = page.locator(".import-problems")
    expect(problems).to_contain_text("12ab")
    expect(problems).to_contain_text("joko@")
    expect(problems).to_contain_text("31/02/1985")
    first_import = page.url

    with page.expect_download() as download:
        page.get_by_role("link", name="Download rejected rows").click()
    rejected = tmp_path / download.value.suggested_filename
    download.value.save_as(rejected)
    assert rejected.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    fixed = corrected(rejected, tmp_path / "pelanggan-perbaikan.csv")

    # The corrected rows, from the same source: its remembered mapping applies.
    upload(page, base, fixed)
    expect(page.get_by_label("Pekerjaan Utama", exact=True)).to_have_value("job_title")
    expect(page.get_by_label("error", exact=True)).to_have_value("")
    page.get_by_role("button", name="Import", exact=True).click()
    run_the_worker(page)
    expect(page.locator(".import-counts")).to_contain_text("Created2")
    expect(page.locator(".import-counts")).to_contain_text("Rejected0")
    joko = Customer.objects.get(full_name="Joko Susilo")
    assert (joko.job_title, str(joko.birth_date)) == ("Petani", "1985-02-28")

    # The first import is undone; the corrected rows stay.
    page.goto(first_import)
    page.get_by_role("link", name="Revert this import").click()
    expect(page.get_by_role("heading", name="Revert the import of pelanggan.xlsx?")).to_be_visible()
    page.get_by_role("button", name="Revert the import").click()
    expect(page.get_by_role("status").filter(has_text="Import reverted")).to_contain_text(
        "Customers removed: 2"
    )
    expect(page.locator(".import-status")).to_have_text("Reverted")
    expect(page.get_by_role("link", name="Revert this import")).to_have_count(0)
    assert set(Customer.objects.values_list("full_name", flat=True)) == {
        "Dewi Lestari",
        "Joko Susilo",
    }
