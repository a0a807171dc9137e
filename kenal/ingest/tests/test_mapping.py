"""Columns are recognised by their headers in Indonesian and English, and can be changed."""

from __future__ import annotations

import pytest

from kenal.customers import custom_fields
from kenal.customers.models import FieldType
from kenal.customers.normalise import InvalidValue
from kenal.ingest import mapping


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("Nama", "full_name"),
        ("Nama Lengkap", "full_name"),
        ("Customer Name", "full_name"),
        ("No HP", "phone"),
        ("No. Telp", "phone"),
        ("Telepon", "phone"),
        ("WhatsApp", "phone"),
        ("WA", "phone"),
        ("Mobile Phone", "phone"),
        ("Surel", "email"),
        ("E-mail", "email"),
        ("Alamat", "street"),
        ("Kota", "city"),
        ("Kabupaten", "city"),
        ("Provinsi", "province"),
        ("Kode Pos", "postcode"),
        ("Postal code", "postcode"),
        ("Tanggal Lahir", "birth_date"),
        ("Tgl Lahir", "birth_date"),
        ("Date of birth", "birth_date"),
        ("Jenis Kelamin", "gender"),
        ("Pekerjaan", "job_title"),
        ("Kecamatan", "district"),
        ("Kelurahan", "village"),
        ("Perusahaan", "company"),
        ("First name", "given_name"),
        ("Nama Belakang", "family_name"),
        ("Catatan rahasia", ""),
    ],
)
def test_headers_map_automatically(header: str, target: str) -> None:
    assert mapping.auto_mapping([header], "customers") == {header: target}


def test_numbered_copies_feed_the_same_list_field_but_single_fields_map_once() -> None:
    found = mapping.auto_mapping(["Nama", "Name", "No HP", "No HP (2)", "TEL 2"], "customers")
    assert found == {
        "Nama": "full_name",
        "Name": "",
        "No HP": "phone",
        "No HP (2)": "phone",
        "TEL 2": "phone",
    }


@pytest.mark.django_db
def test_custom_fields_are_recognised_by_key_or_label() -> None:
    points = custom_fields.define_field(
        key="poin", label="Poin Member", field_type=FieldType.INTEGER
    )
    found = mapping.auto_mapping(["Poin Member", "Nama"], "customers", [points])
    assert found["Poin Member"] == f"custom.{points.key}"


def test_a_mapping_naming_an_unknown_column_or_target_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        mapping.check_mapping({"Telp": "phone"}, ["Nama"], "customers", [])
    assert (caught.value.field, caught.value.value) == ("mapping", "Telp")
    with pytest.raises(InvalidValue) as caught:
        mapping.check_mapping({"Nama": "nickname"}, ["Nama"], "customers", [])
    assert caught.value.field == "mapping.Nama"
    with pytest.raises(InvalidValue) as caught:
        mapping.check_mapping(
            {"Nama": "full_name", "Name": "full_name"}, ["Nama", "Name"], "customers", []
        )
    assert "Nama" in caught.value.expected


def test_a_full_name_splits_into_given_and_family_names_mononyms_into_a_given_name() -> None:
    assert mapping.split_name("Budi Santoso Wijaya") == ("Budi", "Santoso Wijaya")
    assert mapping.split_name("Sukarno") == ("Sukarno", "")
    assert mapping.split_name("") == ("", "")


def test_a_cell_with_several_numbers_or_emails_gives_each() -> None:
    raw = mapping.customer_raw(
        {"HP": "0812-111-222 / 0813-333-444", "Email": "a@x.id; b@x.id"},
        {"HP": "phone", "Email": "email"},
    )
    assert raw["phones"] == ["0812-111-222", "0813-333-444"]
    assert raw["emails"] == ["a@x.id", "b@x.id"]


def test_blank_cells_are_left_out_so_they_never_clear_a_value() -> None:
    raw = mapping.customer_raw(
        {"Nama": "Budi", "Kota": "  "}, {"Nama": "full_name", "Kota": "city"}
    )
    assert "addresses" not in raw
