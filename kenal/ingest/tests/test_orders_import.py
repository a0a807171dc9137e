"""Importing orders: lines folded into orders, products, customers found or created,
rejected rows kept, idempotence, status changes, revert and consent."""

from __future__ import annotations

import datetime
import io
import zoneinfo
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kenal.activity import services as activity
from kenal.activity.models import Order, OrderItem, Product
from kenal.customers.models import Customer, SourceRecord
from kenal.customers.normalise import InvalidValue
from kenal.customers.services import Origin, create_customer
from kenal.ingest import services
from kenal.ingest.models import Import
from kenal.ingest.revert import revert_import
from kenal.ingest.tests.files import write_csv
from kenal.privacy.models import ConsentRecord
from kenal.privacy.services import parse_declaration

pytestmark = pytest.mark.django_db

JAKARTA = zoneinfo.ZoneInfo("Asia/Jakarta")
HEADER = [
    "No. Pesanan",
    "Tanggal Pesanan",
    "Nama Pembeli",
    "No. Telepon",
    "SKU",
    "Nama Produk",
    "Kategori",
    "Jumlah",
    "Harga Satuan",
    "Total Pembayaran",
    "Status Pesanan",
]
ROWS = [
    line.split("|")
    for line in (
        "INV-001|05/03/2024 14:30|Budi Santoso|0812 3456 7890|KOPI-250|Kopi Gayo 250g|Minuman"
        "|2|Rp 75.000|Rp 200.000|Selesai",
        "INV-001|05/03/2024 14:30|Budi Santoso|0812 3456 7890|TEH-01|Teh Melati|Minuman"
        "|1|Rp 50.000|Rp 200.000|Selesai",
        "INV-002|2024-03-06 09:00|Siti Rahayu|0813-1111-2222|KOPI-250|Kopi Gayo|Kopi"
        "|1|75.000|75.000|Dibatalkan",
        "INV-003|7 Maret 2024|Dewi|+62 857 1234 5678||Gula Aren Cair||3|20000||Dikembalikan",
        "INV-004|08/03/2024|Siti Rahayu|0813-1111-2222|TEH-01|Teh Melati|Minuman"
        "|2|50000|100000|Menunggu",
    )
]


def run_file(path: Path, **setup: Any) -> Import:
    options = {"kind": "orders", "source": "tokopedia", **setup}
    return services.run_import(services.prepare_import(path, services.ImportSetup(**options)))


def counts(run: Import) -> dict[str, int]:
    names = ("created", "updated", "merged", "unchanged", "rejected", "empty")
    return {name: getattr(run, f"{name}_count") for name in names}


def sizes() -> tuple[int, int, int, int]:
    return (
        Order.objects.count(),
        OrderItem.objects.count(),
        Product.objects.count(),
        Customer.objects.count(),
    )


@pytest.fixture
def budi() -> Customer:
    """A customer stored before the import, with the phone written another way."""
    return create_customer(
        {"full_name": "Budi Santoso", "phones": ["+62 812-3456-7890"]}, Origin(source="web")
    )


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "pesanan.csv", [HEADER, *ROWS], delimiter=";", bom=True)


def test_marketplace_lines_become_orders_with_items_products_and_customers(
    export: Path, budi: Customer
) -> None:
    run = run_file(export)
    assert run.status == Import.Status.DONE
    assert counts(run) == {
        "created": 4,
        "updated": 0,
        "merged": 1,
        "unchanged": 0,
        "rejected": 0,
        "empty": 0,
    }
    first = Order.objects.get(order_number="INV-001")
    assert first.customer_id == budi.pk  # "0812 3456 7890" is "+62 812-3456-7890"
    assert (first.source, first.channel, first.currency) == ("tokopedia", "tokopedia", "IDR")
    assert (first.status, first.total, first.import_batch) == (
        Order.Status.COMPLETED,
        Decimal("200000.00"),
        run.batch_id,
    )
    assert first.ordered_at == datetime.datetime(2024, 3, 5, 14, 30, tzinfo=JAKARTA)
    items = sorted((i.product.sku, i.quantity, i.unit_price) for i in first.items.all())
    assert items == [("KOPI-250", 2, Decimal("75000.00")), ("TEH-01", 1, Decimal("50000.00"))]
    # The first name a SKU arrived with stays; a product without a SKU gets one from its name.
    kopi = Product.objects.get(sku="KOPI-250")
    assert (kopi.name, kopi.category) == ("Kopi Gayo 250g", "Minuman")
    gula = Product.objects.get(name="Gula Aren Cair")
    assert gula.sku == activity.name_sku("GULA AREN CAIR") == "name:gula-aren-cair"
    returned = Order.objects.get(order_number="INV-003")
    assert (returned.status, returned.total) == (Order.Status.RETURNED, Decimal("60000.00"))
    assert returned.ordered_at.astimezone(JAKARTA).date() == datetime.date(2024, 3, 7)
    cancelled = Order.objects.get(order_number="INV-002")
    assert (cancelled.status, cancelled.total) == (Order.Status.CANCELLED, Decimal("75000.00"))
    assert Order.objects.get(order_number="INV-004").status == Order.Status.PENDING
    # Siti is created once, from her first row, and her second order reuses her.
    siti = Customer.objects.get(full_name="Siti Rahayu")
    assert [phone.number for phone in siti.phones.all()] == ["+6281311112222"]
    assert set(siti.orders.values_list("order_number", flat=True)) == {"INV-002", "INV-004"}
    assert Customer.objects.count() == 3


def test_every_row_is_kept_with_its_order_id_and_customer(export: Path, budi: Customer) -> None:
    run = run_file(export)
    records = SourceRecord.objects.filter(batch_id=run.batch_id, row_number__isnull=False)
    by_row = {record.row_number or 0: record for record in records}
    assert sorted(by_row) == [1, 2, 3, 4, 5]
    assert by_row[1].data == dict(zip(HEADER, ROWS[0], strict=True))
    assert (by_row[1].external_id, by_row[1].customer_id, by_row[1].action) == (
        "INV-001",
        budi.pk,
        "unchanged",
    )
    assert (by_row[3].action, by_row[5].action) == ("created", "merged")
    assert by_row[5].customer_id == by_row[3].customer_id
    assert {record.status for record in records} == {SourceRecord.Status.APPLIED}


def test_bad_rows_are_rejected_with_row_field_and_value(tmp_path: Path) -> None:
    rows = [
        ["A-1", "31/02/2024", "Ani", "0812-1111-3333", "S-1", "Sabun", "", "1", "10000", "", ""],
        ["A-2", "01/03/2024", "Ani", "0812-1111-3333", "S-1", "Sabun", "", "dua", "10000", "", ""],
        ["A-3", "01/03/2024", "Ani", "0812-1111-3333", "S-1", "Sabun", "", "0", "10000", "", ""],
        ["", "01/03/2024", "Ani", "0812-1111-3333", "S-1", "Sabun", "", "1", "10000", "", ""],
        ["A-5", "01/03/2024", "Ani", "0812-1111-3333", "S-1", "Sabun", "", "1", "10rb", "", ""],
        ["A-6", "01/03/2024", "Ani", "0812-1111-3333", "S-1", "Sabun", "", "1", "10", "", "Raib"],
        ["A-7", "01/03/2024", "", "", "S-1", "Sabun", "", "1", "10000", "", ""],
        ["A-8", "01/03/2024", "Ani", "0812-1111-3333", "S-1", "Sabun", "", "1", "10000", "", ""],
    ]
    run = run_file(write_csv(tmp_path / "buruk.csv", [HEADER, *rows]))
    assert (run.created_count, run.rejected_count) == (1, 7)
    found = {(p.row, p.field, p.value) for p in services.problems(run)}
    assert found == {
        (1, "ordered_at", "31/02/2024"),
        (2, "quantity", "dua"),
        (3, "quantity", "0"),
        (4, "order_id", ""),
        (5, "unit_price", "10rb"),
        (6, "status", "Raib"),
        (7, "customer", ""),
    }
    reasons = {p.field: p.reason for p in services.problems(run)}
    assert "at least 1" in reasons["quantity"] or "whole number" in reasons["quantity"]
    assert "dibatalkan" in reasons["status"]
    assert "email, phone or id" in reasons["customer"]
    out = io.StringIO()
    assert services.write_rejected_csv(run, out) == 7
    lines = out.getvalue().splitlines()
    assert lines[0].endswith(",error")
    assert lines[2].startswith("A-2,01/03/2024,Ani")
    assert "quantity: 'dua'" in lines[2]
    assert list(Order.objects.values_list("order_number", flat=True)) == ["A-8"]


def test_importing_the_same_file_again_changes_nothing(export: Path, budi: Customer) -> None:
    run_file(export)
    before = sizes()
    totals = {order.order_number: order.total for order in Order.objects.all()}
    again = run_file(export)
    assert counts(again) == {
        "created": 0,
        "updated": 0,
        "merged": 0,
        "unchanged": 5,
        "rejected": 0,
        "empty": 0,
    }
    assert sizes() == before == (4, 5, 3, 3)
    assert {order.order_number: order.total for order in Order.objects.all()} == totals
    # The orders still belong to the import that created them.
    assert not Order.objects.filter(import_batch=again.batch_id).exists()


def test_a_newer_export_updates_the_status(tmp_path: Path, export: Path, budi: Customer) -> None:
    run_file(export)
    newer = [list(row) for row in ROWS]
    newer[0][-1] = newer[1][-1] = "Pengembalian Dana/Barang"
    newer[4][-1] = "Batal"
    run = run_file(write_csv(tmp_path / "pesanan-baru.csv", [HEADER, *newer]))
    assert counts(run) == {
        "created": 0,
        "updated": 2,
        "merged": 1,
        "unchanged": 2,
        "rejected": 0,
        "empty": 0,
    }
    assert Order.objects.get(order_number="INV-001").status == Order.Status.RETURNED
    assert Order.objects.get(order_number="INV-004").status == Order.Status.CANCELLED
    assert Order.objects.get(order_number="INV-002").status == Order.Status.CANCELLED
    assert OrderItem.objects.count() == 5


def test_a_changed_line_replaces_the_orders_lines(tmp_path: Path, export: Path) -> None:
    run_file(export)
    newer = [list(row) for row in ROWS]
    newer[2][7] = "3"  # INV-002: three bags now
    newer[2][9] = "225.000"
    run = run_file(write_csv(tmp_path / "pesanan-baru.csv", [HEADER, *newer]))
    assert run.updated_count == 1
    order = Order.objects.get(order_number="INV-002")
    assert [(item.quantity, item.unit_price) for item in order.items.all()] == [
        (3, Decimal("75000.00"))
    ]
    assert order.total == Decimal("225000.00")


def test_an_orders_lines_across_batches_make_one_order(
    monkeypatch: pytest.MonkeyPatch, export: Path, budi: Customer
) -> None:
    monkeypatch.setattr(services, "BATCH_SIZE", 1)
    run = run_file(export)
    assert (run.created_count, run.merged_count) == (4, 1)
    order = Order.objects.get(order_number="INV-001")
    assert order.items.count() == 2
    assert order.total == Decimal("200000.00")
    assert Customer.objects.count() == 3
    again = run_file(export)
    assert again.unchanged_count == 5
    assert sizes() == (4, 5, 3, 3)


def test_orders_without_product_columns_take_the_total(tmp_path: Path) -> None:
    header = ["Order ID", "Order Date", "Customer Email", "Total", "Currency", "Status"]
    rows = [
        ["SO-9", "2024-04-01T10:00:00+07:00", "Rina@Contoh.ID", "1,250,000.00", "IDR", "paid"],
        ["SO-10", "2024-04-02", "rina@contoh.id", "", "USD", "completed"],
    ]
    run = run_file(write_csv(tmp_path / "pos.csv", [header, *rows]), source="pos")
    assert (run.created_count, run.rejected_count) == (1, 1)
    order = Order.objects.get()
    assert (order.total, order.items.count(), order.status) == (
        Decimal("1250000.00"),
        0,
        Order.Status.COMPLETED,
    )
    assert order.customer.emails.get().email == "Rina@contoh.id"
    assert [p.field for p in services.problems(run)] == ["total"]


def test_customers_are_matched_by_their_id_in_the_source(tmp_path: Path) -> None:
    members = write_csv(
        tmp_path / "pelanggan.csv",
        [["ID Pelanggan", "Nama"], ["C-1", "Joko Widodo"], ["C-2", "Ani Yudhoyono"]],
    )
    services.run_import(
        services.prepare_import(
            members, services.ImportSetup(source="shopee", id_column="ID Pelanggan")
        )
    )
    header = ["Order ID", "Order Date", "Customer ID", "Product Name", "Qty", "Price"]
    rows = [
        ["X-1", "2024-05-01", "C-2", "Payung", "1", "45000"],
        ["X-2", "2024-05-01", "C-404", "Payung", "1", "45000"],
    ]
    run = run_file(write_csv(tmp_path / "orders.csv", [header, *rows]), source="shopee")
    assert (run.created_count, run.rejected_count) == (1, 1)
    assert Order.objects.get().customer.full_name == "Ani Yudhoyono"
    problem = next(services.problems(run))
    assert (problem.row, problem.field, problem.value) == (2, "customer_id", "C-404")
    assert Customer.objects.count() == 2


def test_a_dry_run_reports_and_keeps_nothing(export: Path, budi: Customer) -> None:
    run = run_file(export, dry_run=True)
    assert (run.status, run.created_count, run.merged_count) == (Import.Status.DONE, 4, 1)
    assert sizes() == (0, 0, 0, 1)


def test_revert_removes_the_orders_and_the_customers_the_import_created(
    export: Path, budi: Customer
) -> None:
    run = run_file(export)
    result = revert_import(run)
    assert result.removed_customers == 2
    assert not Order.objects.exists()
    assert not OrderItem.objects.exists()
    assert list(Customer.objects.all()) == [budi]
    # Products are the catalogue: they stay for the next import.
    assert Product.objects.count() == 3


def test_declared_consent_is_recorded_once_per_customer(export: Path, budi: Customer) -> None:
    declaration = parse_declaration({"marketing_whatsapp": "granted"}, "marketplace checkout")
    run = run_file(export, consent=declaration)
    records = ConsentRecord.objects.filter(batch_id=run.batch_id)
    assert records.count() == 3
    assert {record.customer_id for record in records} == set(
        Customer.objects.values_list("pk", flat=True)
    )
    assert {(r.purpose, r.status, r.method) for r in records} == {
        ("marketing_whatsapp", "granted", "marketplace checkout")
    }


def test_the_import_command_reads_an_english_export(tmp_path: Path) -> None:
    header = ["Order ID", "Created Time", "Buyer Email", "Seller SKU", "Product Name"]
    header += ["Quantity", "Unit Price", "Order Amount", "Order Status"]
    rows = [
        line.split("|")
        for line in (
            "5781|2024-06-01 08:15|maya@contoh.id|BTK-1|Batik Tulis|1|350000|400000|Completed",
            "5781|2024-06-01 08:15|maya@contoh.id|SYL-2|Selendang|1|50000|400000|Completed",
            "5782|2024-06-02 19:00|maya@contoh.id|BTK-1|Batik Tulis|1|350000|350000|Canceled",
        )
    ]
    path = write_csv(tmp_path / "shopee.csv", [header, *rows])
    out = io.StringIO()
    call_command(
        "import", str(path), "--kind", "orders", "--source", "shopee", "--no-progress", stdout=out
    )
    run = Import.objects.get()
    assert (run.status, run.created_count, run.merged_count) == (Import.Status.DONE, 2, 1)
    assert Order.objects.get(order_number="5781").total == Decimal("400000.00")
    assert Order.objects.get(order_number="5782").status == Order.Status.CANCELLED
    assert Customer.objects.get().orders.count() == 2
    assert "created 2, updated 0, merged within the file 1" in out.getvalue()


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("Selesai", "completed"),
        ("Pesanan Selesai", "completed"),
        ("delivered", "completed"),
        ("Terkirim", "completed"),
        ("Dibatalkan Pembeli", "cancelled"),
        ("BATAL", "cancelled"),
        ("canceled", "cancelled"),
        ("Pengembalian Dana/Barang", "returned"),
        ("refunded", "returned"),
        ("Selesai - Dikembalikan", "returned"),
        ("Menunggu Pembayaran", "pending"),
        ("Sedang Dikirim", "pending"),
        ("Belum Bayar", "pending"),
        ("shipped", "pending"),
        ("ready_to_ship", "pending"),
    ],
)
def test_status_words_in_both_languages(word: str, status: str) -> None:
    assert activity.order_status(word) == status


def test_an_unknown_status_lists_what_is_accepted() -> None:
    with pytest.raises(InvalidValue) as caught:
        activity.order_status("Hilang")
    assert caught.value.field == "status"
    assert "completed" in caught.value.expected
    assert "dikembalikan" in caught.value.expected


def test_skus_from_names_are_stable_and_fit() -> None:
    assert activity.name_sku("Kopi  Susu") == activity.name_sku("KOPI SUSU") == "name:kopi-susu"
    long = activity.name_sku("Kemeja " * 30)
    assert len(long) <= 64
    assert long.startswith("name:kemeja-")
    assert activity.name_sku("咖啡").startswith("name:")
    assert activity.name_sku("咖啡") != activity.name_sku("茶")


def test_a_batch_costs_the_same_queries_whatever_its_size(tmp_path: Path) -> None:
    create_customer({"full_name": "Rudi", "emails": ["rudi@contoh.id"]}, Origin(source="web"))
    header = ["Order ID", "Order Date", "Email", "SKU", "Product Name", "Qty", "Price", "Status"]

    def queries(name: str, orders: int) -> int:
        rows = [
            [f"{name}-{n}", "2024-07-01", "rudi@contoh.id", sku, sku, "1", "1000", status]
            for n in range(orders)
            for sku, status in (("P-1", "Selesai"), ("P-2", "Selesai"))
        ]
        run = services.prepare_import(
            write_csv(tmp_path / f"{name}.csv", [header, *rows]),
            services.ImportSetup(kind="orders", source=name),
        )
        with CaptureQueriesContext(connection) as captured:
            services.run_import(run)
        assert run.created_count == orders
        return len(captured)

    queries("warm-up", 1)  # the products exist from here on
    # (Past a few hundred rows SQLite's limit on query parameters splits bulk inserts.)
    assert queries("small", 3) == queries("large", 40)
