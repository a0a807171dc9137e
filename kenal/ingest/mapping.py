"""Which column holds what: automatic by header (English and Indonesian), editable, checked.

A mapping is ``{header: target}``. Targets are customer fields (``full_name``, ``email``,
``phone``, ``city``, …), ``custom.<key>`` for a custom field, or ``""`` to leave a column out
(its values are still kept in the source record). Several columns may feed ``email`` or
``phone``: a customer can have several of each.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kenal.customers.models import CustomField
from kenal.customers.normalise import InvalidValue
from kenal.ingest.models import ImportKind

__all__ = [
    "CUSTOMER_TARGETS",
    "ORDER_TARGETS",
    "auto_mapping",
    "check_mapping",
    "customer_raw",
    "header_key",
    "split_name",
    "targets",
]

# Customer targets with their labels, in the order the wizard offers them.
CUSTOMER_TARGETS: dict[str, Any] = {
    "full_name": gettext_lazy("Full name"),
    "given_name": gettext_lazy("Given name"),
    "family_name": gettext_lazy("Family name"),
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone / WhatsApp"),
    "gender": gettext_lazy("Gender"),
    "birth_date": gettext_lazy("Birth date"),
    "company": gettext_lazy("Company"),
    "job_title": gettext_lazy("Job title"),
    "street": gettext_lazy("Street address"),
    "village": gettext_lazy("Village / kelurahan"),
    "district": gettext_lazy("District / kecamatan"),
    "city": gettext_lazy("City / kabupaten"),
    "province": gettext_lazy("Province"),
    "postcode": gettext_lazy("Postcode"),
    "country": gettext_lazy("Country"),
    "marital_status": gettext_lazy("Marital status"),
    "education": gettext_lazy("Education"),
    "income_band": gettext_lazy("Income band"),
    "preferred_language": gettext_lazy("Preferred language"),
    "preferred_channel": gettext_lazy("Preferred channel"),
    "lifecycle_stage": gettext_lazy("Lifecycle stage"),
    "tags": gettext_lazy("Tags"),
}

ORDER_TARGETS: dict[str, Any] = {
    "order_id": gettext_lazy("Order id"),
    "customer_email": gettext_lazy("Customer email"),
    "customer_phone": gettext_lazy("Customer phone"),
    "customer_id": gettext_lazy("Customer id in the source"),
    "customer_name": gettext_lazy("Customer name"),
    "ordered_at": gettext_lazy("Order date"),
    "sku": gettext_lazy("SKU"),
    "product_name": gettext_lazy("Product name"),
    "category": gettext_lazy("Category"),
    "quantity": gettext_lazy("Quantity"),
    "unit_price": gettext_lazy("Unit price"),
    "total": gettext_lazy("Total"),
    "currency": gettext_lazy("Currency"),
    "channel": gettext_lazy("Channel / marketplace"),
    "status": gettext_lazy("Status"),
}

ADDRESS_TARGETS = ("street", "village", "district", "city", "province", "postcode", "country")
SINGLE_TARGETS = frozenset(
    {*CUSTOMER_TARGETS, *ORDER_TARGETS}
    - {"email", "phone", "tags", "customer_email"}
    - {"customer_phone"}
)

# Header words people use, compared after lower-casing and dropping accents, spaces and
# punctuation ("No. Telp" → "notelp").
SYNONYMS: dict[str, tuple[str, ...]] = {
    "full_name": (
        "nama",
        "namalengkap",
        "name",
        "fullname",
        "namapelanggan",
        "namapembeli",
        "namacustomer",
        "customername",
        "buyername",
        "contactname",
        "namakontak",
        "fn",
        "namapenerima",
        "recipientname",
        "namaanggota",
        "membername",
        "nama peserta",
        "namapeserta",
    ),
    "given_name": ("namadepan", "firstname", "givenname", "ngiven", "forename"),
    "family_name": (
        "namabelakang",
        "lastname",
        "surname",
        "familyname",
        "namakeluarga",
        "nfamily",
    ),
    "email": (
        "email",
        "surel",
        "alamatemail",
        "alamatsurel",
        "emailaddress",
        "mail",
        "posel",
        "surat elektronik",
    ),
    "phone": (
        "nohp",
        "nomorhp",
        "hp",
        "notelp",
        "notelepon",
        "nomortelepon",
        "telepon",
        "telp",
        "phone",
        "phonenumber",
        "mobile",
        "mobilephone",
        "handphone",
        "nomorhandphone",
        "whatsapp",
        "wa",
        "nowa",
        "nomorwa",
        "nowhatsapp",
        "nomorwhatsapp",
        "tel",
        "cell",
        "telephone",
        "kontak",
        "nohandphone",
        "nomorponsel",
        "ponsel",
        "notlp",
        "tlp",
    ),
    "gender": ("jeniskelamin", "gender", "sex", "jk", "kelamin", "lp"),
    "birth_date": (
        "tanggallahir",
        "tgllahir",
        "tgllhr",
        "birthdate",
        "dateofbirth",
        "dob",
        "birthday",
        "bday",
        "ttl",
    ),
    "company": (
        "perusahaan",
        "company",
        "organisation",
        "organization",
        "org",
        "instansi",
        "kantor",
        "namaperusahaan",
        "companyname",
    ),
    "job_title": (
        "pekerjaan",
        "jabatan",
        "occupation",
        "jobtitle",
        "job",
        "profesi",
        "title",
        "position",
        "posisi",
    ),
    "street": (
        "alamat",
        "address",
        "alamatlengkap",
        "jalan",
        "street",
        "streetaddress",
        "alamatrumah",
        "adrstreet",
        "alamatpengiriman",
        "shippingaddress",
    ),
    "village": ("kelurahan", "desa", "kelurahandesa", "desakelurahan", "village"),
    "district": ("kecamatan", "district"),
    "city": (
        "kota",
        "kabupaten",
        "kotakabupaten",
        "kabupatenkota",
        "city",
        "town",
        "regency",
        "adrcity",
        "kab",
        "kabkota",
    ),
    "province": ("provinsi", "propinsi", "province", "state", "region", "adrregion"),
    "postcode": ("kodepos", "postcode", "postalcode", "zip", "zipcode", "adrcode"),
    "country": ("negara", "country", "adrcountry"),
    "marital_status": ("statusperkawinan", "statuspernikahan", "maritalstatus", "statuskawin"),
    "education": ("pendidikan", "pendidikanterakhir", "education"),
    "income_band": ("penghasilan", "pendapatan", "income", "incomeband"),
    "preferred_language": ("bahasa", "language", "preferredlanguage"),
    "preferred_channel": ("salurankontak", "preferredchannel", "contactchannel"),
    "lifecycle_stage": ("tahap", "lifecyclestage", "stage"),
    "tags": ("tag", "tags", "label", "labels", "kategoripelanggan"),
    "order_id": (
        "noorder",
        "nopesanan",
        "nomorpesanan",
        "idpesanan",
        "orderid",
        "ordernumber",
        "orderno",
        "noinvoice",
        "invoice",
        "nomorinvoice",
        "notransaksi",
        "idtransaksi",
        "transactionid",
        "nofaktur",
        "nota",
        "nonota",
    ),
    "customer_email": (
        "emailpembeli",
        "emailpelanggan",
        "customeremail",
        "buyeremail",
        "email",
        "surel",
    ),
    "customer_phone": (
        "nohppembeli",
        "teleponpembeli",
        "nomortelepon",
        "notelepon",
        "nomorhp",
        "nohandphone",
        "billingphone",
        "shippingphone",
        "nohp",
        "telepon",
        "customerphone",
        "buyerphone",
        "phone",
        "notelp",
        "hp",
        "whatsapp",
        "wa",
    ),
    "customer_id": (
        "idpelanggan",
        "kodepelanggan",
        "customerid",
        "buyerid",
        "idpembeli",
        "memberid",
        "idmember",
        "usernamepembeli",
        "username",
        "buyerusername",
    ),
    "customer_name": (
        "namapembeli",
        "namapelanggan",
        "customername",
        "buyername",
        "nama",
        "namapenerima",
        "name",
        "recipient",
        "penerima",
    ),
    "ordered_at": (
        "tanggal",
        "tanggalpesanan",
        "tglpesanan",
        "waktupesanan",
        "orderdate",
        "date",
        "tanggaltransaksi",
        "tgltransaksi",
        "createdat",
        "orderedat",
        "waktupesanandibuat",
        "tanggalorder",
        "orderdatetime",
        "createtime",
        "createdtime",
    ),
    "sku": (
        "sku",
        "kodeproduk",
        "kodebarang",
        "skuinduk",
        "productcode",
        "itemcode",
        "nomorreferensisku",
        "productsku",
        "sellersku",
        "nomorsku",
        "skupenjual",
    ),
    "product_name": (
        "namaproduk",
        "produk",
        "product",
        "productname",
        "item",
        "itemname",
        "namabarang",
        "barang",
    ),
    "category": ("kategori", "category", "kategoriproduk", "productcategory"),
    "quantity": (
        "jumlah",
        "qty",
        "quantity",
        "kuantitas",
        "jumlahproduk",
        "jumlahbarang",
        "jml",
        "jumlahprodukdibeli",
    ),
    "unit_price": (
        "harga",
        "hargasatuan",
        "unitprice",
        "price",
        "hargaawal",
        "hargaproduk",
        "hargabarang",
        "hargajual",
        "hargajualidr",
        "hargasatuanidr",
    ),
    "total": (
        "total",
        "totalharga",
        "totalpembayaran",
        "grandtotal",
        "amount",
        "ordertotal",
        "totalpesanan",
        "jumlahbayar",
        "subtotal",
        "nilai",
        "totalpembayaranidr",
        "orderamount",
    ),
    "currency": ("matauang", "currency", "kurs"),
    "channel": (
        "channel",
        "marketplace",
        "toko",
        "saluran",
        "platform",
        "store",
        "sumber",
        "salespchannel",
        "saleschannel",
    ),
    "status": ("status", "statuspesanan", "orderstatus", "statustransaksi", "statusterakhir"),
}


# "0812-111 / 0813-222", "0812…; 0813…": several numbers in one cell.
PHONE_SEPARATORS = re.compile(r"\s*[;,]\s*|\s+/\s+")


def header_key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[^0-9a-z]", "", plain.casefold())


def targets(kind: str, fields: Iterable[CustomField] = ()) -> dict[str, str]:
    """Every target a column can map to, with its label (custom fields only for customers)."""
    if kind == ImportKind.ORDERS:
        return {key: str(label) for key, label in ORDER_TARGETS.items()}
    found = {key: str(label) for key, label in CUSTOMER_TARGETS.items()}
    for custom in fields:
        found[f"custom.{custom.key}"] = f"{custom.label} ({_('custom field')})"
    return found


def auto_mapping(
    columns: Iterable[str], kind: str, fields: Iterable[CustomField] = ()
) -> dict[str, str]:
    """A target for each column whose header is recognised; "" for the others."""
    lookup: dict[str, str] = {}
    allowed = targets(kind)
    for target, words in SYNONYMS.items():
        if target in allowed:
            for word in words:
                lookup.setdefault(header_key(word), target)
    if kind == ImportKind.CUSTOMERS:
        for custom in fields:
            lookup.setdefault(header_key(custom.key), f"custom.{custom.key}")
            lookup.setdefault(header_key(custom.label), f"custom.{custom.key}")
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for column in columns:
        key = header_key(column)
        # "Phone (2)", "TEL 3", "Email 2": the numbered copies of a header map like it.
        base = re.sub(r"\d+$", "", key)
        target = lookup.get(key) or lookup.get(base, "")
        if target in SINGLE_TARGETS and target in used:
            target = ""
        mapping[column] = target
        if target:
            used.add(target)
    return mapping


def check_mapping(
    mapping: Mapping[str, str],
    columns: Iterable[str],
    kind: str,
    fields: Iterable[CustomField],
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """``mapping`` laid over ``base`` (columns it does not name keep their target there).

    Unknown columns and targets, and two columns feeding one single-valued field, are
    refused with the column named.
    """
    known = targets(kind, fields)
    column_list = list(columns)
    checked = {column: (base or {}).get(column, "") for column in column_list}
    for column, target in mapping.items():
        if column not in checked:
            expected = _("a column of the file: %(columns)s") % {"columns": ", ".join(column_list)}
            raise InvalidValue("mapping", column, expected)
        target = (target or "").strip()
        if target and target not in known:
            raise InvalidValue(
                f"mapping.{column}",
                target,
                _("a target field (%(targets)s) or nothing") % {"targets": ", ".join(known)},
            )
        checked[column] = target
    used: dict[str, str] = {}
    for column, target in checked.items():
        if target in SINGLE_TARGETS and target in used:
            raise InvalidValue(
                f"mapping.{column}",
                target,
                _("a field no other column feeds (%(column)s already does)")
                % {"column": used[target]},
            )
        used.setdefault(target, column)
    return checked


def split_name(full_name: str) -> tuple[str, str]:
    """Given and family name from a full name: the first word, then the rest.

    A single word (common in Indonesia) is a given name with no family name.
    """
    words = full_name.split()
    if not words:
        return "", ""
    return words[0], " ".join(words[1:])


def customer_raw(row: Mapping[str, str], mapping: Mapping[str, str]) -> dict[str, Any]:
    """The raw values the customer services take, from one row; blank cells are left out.

    A blank cell never clears a value the customer already has.
    """
    raw: dict[str, Any] = {}
    address: dict[str, str] = {}
    emails: list[str] = []
    phones: list[str] = []
    custom: dict[str, str] = {}
    for column, target in mapping.items():
        if not target:
            continue
        value = (row.get(column) or "").strip()
        if not value:
            continue
        if target == "email":
            emails.extend(part.strip() for part in re.split(r"[;,]", value) if part.strip())
        elif target == "phone":
            phones.extend(part for part in PHONE_SEPARATORS.split(value) if part)
        elif target in ADDRESS_TARGETS:
            address[target] = value
        elif target.startswith("custom."):
            custom[target.removeprefix("custom.")] = value
        else:
            raw[target] = value
    if emails:
        raw["emails"] = emails
    if phones:
        raw["phones"] = phones
    if address:
        raw["addresses"] = [address]
    if custom:
        raw["custom"] = custom
    return raw
