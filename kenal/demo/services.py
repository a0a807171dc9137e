"""A realistic demo dataset: Indonesian-first customers, their orders, notes and duplicates.

Every customer is written through :func:`kenal.customers.services.create_customer` with
values as a shop would receive them (mixed phone formats, "L"/"P" genders, Indonesian
month names, shouted names), so the demo shows — and exercises — the real cleaning.
The data is planned from a seed first (:func:`plan_people`), so a seed always gives the
same people, whatever the database.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import secrets
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import phonenumbers
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from faker import Faker

from kenal.accounts.models import Role, User
from kenal.accounts.services import apply_role, create_user
from kenal.activity.models import Order, OrderItem, Product
from kenal.customers import custom_fields
from kenal.customers.models import (
    Customer,
    CustomField,
    FieldType,
    Note,
    SourceRecord,
    Tag,
)
from kenal.customers.services import CustomerInvalid, Origin, add_note, create_customer
from kenal.demo.activity import ActivityCounts, write_activity
from kenal.identity import keys

ADMIN_USERNAME = "admin"
AGENT_USERNAMES = ("agent1", "agent2", "agent3")
BATCH_PREFIX = "demo-"
BATCH_SIZE = 500
HISTORY_DAYS = 3 * 365
SOURCES = ("pos", "marketplace", "web-form", "whatsapp")

Progress = Callable[[str], None]


class DemoError(RuntimeError):
    """The demo cannot be built in this database; the message says what to do."""


# --- reference data -------------------------------------------------------------------------
# Kept as text tables, one row a line, so they read (and are edited) like a spreadsheet.

# A city line ("city | province | first two postcode digits | weight"), then its
# kecamatan, indented, each followed by some of its kelurahan.
_PLACES = """
Jakarta Selatan | DKI Jakarta | 12 | 14
    Kebayoran Baru: Senayan, Gunung, Kramat Pela, Melawai
    Tebet: Tebet Barat, Manggarai, Bukit Duri
    Setiabudi: Karet, Kuningan Timur, Menteng Atas
    Cilandak: Cipete Selatan, Lebak Bulus, Pondok Labu
Jakarta Barat | DKI Jakarta | 11 | 9
    Grogol Petamburan: Tomang, Jelambar
    Kebon Jeruk: Sukabumi Utara, Kedoya Selatan
    Cengkareng: Kapuk, Duri Kosambi
Jakarta Timur | DKI Jakarta | 13 | 8
    Jatinegara: Cipinang Besar, Bali Mester
    Duren Sawit: Pondok Bambu, Klender
    Cakung: Pulo Gebang, Cakung Barat
Jakarta Utara | DKI Jakarta | 14 | 5
    Kelapa Gading: Kelapa Gading Barat, Pegangsaan Dua
    Penjaringan: Pluit, Kamal Muara
Bandung | Jawa Barat | 40 | 9
    Coblong: Dago, Lebak Siliwangi
    Sukajadi: Pasteur, Sukagalih
    Buahbatu: Margasari, Cijawura
Bekasi | Jawa Barat | 17 | 6
    Bekasi Selatan: Kayuringin Jaya, Pekayon Jaya
    Bekasi Barat: Kranji, Bintara
Depok | Jawa Barat | 16 | 5
    Beji: Kukusan, Kemiri Muka
    Pancoran Mas: Depok Jaya, Rangkapan Jaya
Tangerang Selatan | Banten | 15 | 6
    Serpong: Lengkong Gudang, Rawa Mekar Jaya
    Pondok Aren: Jurang Mangu Barat, Pondok Karya
    Ciputat: Cipayung, Serua
Semarang | Jawa Tengah | 50 | 5
    Semarang Tengah: Pekunden, Sekayu
    Tembalang: Bulusan, Tembalang
    Banyumanik: Srondol Wetan, Pedalangan
Yogyakarta | DI Yogyakarta | 55 | 5
    Gondokusuman: Baciro, Terban
    Umbulharjo: Warungboto, Muja Muju
    Kotagede: Prenggan, Purbayan
Surabaya | Jawa Timur | 60 | 9
    Gubeng: Airlangga, Gubeng, Mojo
    Tegalsari: Kedungdoro, Dr. Soetomo
    Wonokromo: Darmo, Ngagel
    Rungkut: Kalirungkut, Penjaringan Sari
Malang | Jawa Timur | 65 | 4
    Klojen: Oro-oro Dowo, Kauman
    Lowokwaru: Ketawanggede, Dinoyo
Medan | Sumatera Utara | 20 | 6
    Medan Baru: Darat, Petisah Hulu
    Medan Petisah: Sei Sikambing D, Petisah Tengah
    Medan Johor: Gedung Johor, Kwala Bekala
Palembang | Sumatera Selatan | 30 | 3
    Ilir Timur I: Sungai Pangeran, 20 Ilir D I
    Ilir Barat I: Bukit Lama, Demang Lebar Daun
Makassar | Sulawesi Selatan | 90 | 4
    Panakkukang: Pandang, Masale
    Tamalanrea: Tamalanrea Indah, Kapasa
Denpasar | Bali | 80 | 4
    Denpasar Selatan: Sanur, Renon, Sidakarya
    Denpasar Barat: Dauh Puri, Padangsambian
Balikpapan | Kalimantan Timur | 76 | 2
    Balikpapan Selatan: Sepinggan, Damai
    Balikpapan Kota: Klandasan Ilir, Prapatan
"""

# category | product | price in rupiah
_CATALOGUE = """
Fashion | Kemeja Batik Pria Lengan Panjang | 275000
Fashion | Blus Batik Wanita | 199000
Fashion | Kaos Polos Katun Combed 30s | 59000
Fashion | Celana Chino Slim Fit | 229000
Fashion | Gamis Syari Ceruti | 315000
Fashion | Hijab Segi Empat Voal | 79000
Fashion | Sepatu Sneakers Kanvas | 349000
Fashion | Sandal Jepit Karet | 25000
Fashion | Jaket Hoodie Fleece | 185000
Fashion | Tas Selempang Kulit Sintetis | 159000
Fashion | Sarung Tenun Tradisional | 120000
Fashion | Kebaya Modern Brokat | 450000
Elektronik | Earbuds Bluetooth TWS | 299000
Elektronik | Power Bank 10.000 mAh | 189000
Elektronik | Kabel Data USB-C 1 m | 39000
Elektronik | Charger Fast Charging 33W | 149000
Elektronik | Smartwatch Layar AMOLED | 899000
Elektronik | Speaker Bluetooth Portabel | 259000
Elektronik | Rice Cooker Digital 1,8 L | 549000
Elektronik | Blender Kaca 1,5 L | 385000
Elektronik | Kipas Angin Berdiri 16 inci | 279000
Elektronik | Setrika Uap | 219000
Elektronik | Lampu LED 12W (isi 3) | 65000
Elektronik | Ponsel Android 128 GB | 2499000
Kecantikan | Serum Wajah Niacinamide 20 ml | 89000
Kecantikan | Sunscreen SPF 50 PA++++ | 75000
Kecantikan | Lipstik Matte Tahan Lama | 69000
Kecantikan | Bedak Padat | 55000
Kecantikan | Sabun Cuci Muka Gentle | 45000
Kecantikan | Minyak Rambut Kemiri | 35000
Kecantikan | Parfum Eau de Toilette 50 ml | 235000
Kecantikan | Masker Wajah Sheet (isi 5) | 49000
Kecantikan | Body Lotion 250 ml | 42000
Kecantikan | Shampo Anti Ketombe 340 ml | 38000
Rumah Tangga | Set Panci Stainless 5 pcs | 425000
Rumah Tangga | Wajan Anti Lengket 28 cm | 189000
Rumah Tangga | Sprei Katun Queen 160x200 | 245000
Rumah Tangga | Handuk Mandi Microfiber | 69000
Rumah Tangga | Rak Piring 2 Susun | 135000
Rumah Tangga | Termos Air Panas 2 L | 99000
Rumah Tangga | Keset Kaki Anti Slip | 35000
Rumah Tangga | Kotak Penyimpanan Plastik 20 L | 75000
Rumah Tangga | Gorden Jendela Blackout | 159000
Rumah Tangga | Sapu dan Pengki Set | 45000
Makanan & Minuman | Kopi Arabika Gayo 250 g | 95000
Makanan & Minuman | Kopi Robusta Lampung 500 g | 85000
Makanan & Minuman | Teh Melati Tubruk 100 g | 18000
Makanan & Minuman | Madu Hutan Asli 500 ml | 120000
Makanan & Minuman | Keripik Singkong Balado 250 g | 25000
Makanan & Minuman | Sambal Bawang Botol 200 g | 32000
Makanan & Minuman | Rendang Daging Kemasan | 89000
Makanan & Minuman | Beras Premium 5 kg | 78000
Makanan & Minuman | Minyak Goreng 2 L | 36000
Makanan & Minuman | Bumbu Nasi Goreng (isi 10) | 28000
Kesehatan | Vitamin C 1000 mg (isi 30) | 65000
Kesehatan | Minyak Kayu Putih 120 ml | 42000
Kesehatan | Masker Medis 3 Ply (isi 50) | 35000
Kesehatan | Madu Herbal Anak | 55000
Bayi & Anak | Popok Bayi Celana M (isi 34) | 99000
Bayi & Anak | Botol Susu Anti Kolik | 85000
Bayi & Anak | Mainan Balok Kayu Edukasi | 119000
Olahraga | Matras Yoga 6 mm | 149000
Olahraga | Botol Minum Olahraga 1 L | 55000
"""


def _rows(table: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("|")] for line in table.strip().splitlines()]


@dataclass(frozen=True)
class Place:
    city: str
    province: str
    postcode_start: str
    weight: int
    districts: dict[str, list[str]]  # kecamatan → kelurahan


def _places() -> tuple[Place, ...]:
    places: list[Place] = []
    for line in _PLACES.strip().splitlines():
        if not line.startswith(" "):
            city, province, postcode_start, weight = (cell.strip() for cell in line.split("|"))
            places.append(Place(city, province, postcode_start, int(weight), {}))
        else:
            district, villages = line.split(":")
            places[-1].districts[district.strip()] = [v.strip() for v in villages.split(",")]
    return tuple(places)


PLACES = _places()


@dataclass(frozen=True)
class CatalogueItem:
    sku: str
    category: str
    name: str
    price: int  # rupiah


def _catalogue() -> tuple[CatalogueItem, ...]:
    counters: dict[str, int] = {}
    items = []
    for category, name, price in _rows(_CATALOGUE):
        prefix = "".join(word[0] for word in category.replace("&", "").split()).upper()
        prefix = (prefix + category[1:3].upper())[:3]
        counters[prefix] = counters.get(prefix, 0) + 1
        items.append(CatalogueItem(f"{prefix}-{counters[prefix]:03d}", category, name, int(price)))
    return tuple(items)


CATALOGUE = _catalogue()

# Javanese mononyms: many Indonesians have one name only, with no family name at all.
# fmt: off
MONONYMS_MALE = (
    "Sukarno", "Wagiman", "Paijo", "Suparman", "Slamet", "Sugiyono", "Karyadi", "Mulyono",
    "Parmin", "Tarmuji", "Sutrisno", "Marjuki", "Poniman", "Suyatno", "Tukijo", "Sumadi",
)
MONONYMS_FEMALE = (
    "Suharti", "Sutinah", "Sumarni", "Tukiyem", "Ponirah", "Ngatini", "Sarmini", "Juminten",
    "Rusmini", "Kasiyem", "Painem", "Sulastri", "Wartini", "Suwarni", "Tumini", "Sukinah",
)
INDONESIAN_MOBILE_PREFIXES = (
    "811", "812", "813", "814", "815", "816", "817", "818", "819", "821", "822", "823",
    "831", "832", "833", "838", "851", "852", "853", "855", "856", "857", "858", "859",
    "877", "878", "881", "882", "887", "888", "895", "896", "897", "898", "899",
)
MONTHS_ID = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
    "Oktober", "November", "Desember",
)
MONTHS_EN = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
# fmt: on
# Malaysian and Singaporean customers (Faker has no latin-script Malay or Singapore names).
MY_SG_NAMES_MALE = (
    "Ahmad bin Ismail",
    "Muhammad Hafiz bin Rahman",
    "Tan Wei Ming",
    "Lim Jun Jie",
    "Rajesh Kumar",
    "Wong Kah Seng",
    "Mohd Faizal bin Omar",
    "Lee Chee Keong",
)
MY_SG_NAMES_FEMALE = (
    "Nur Aisyah binti Hassan",
    "Siti Nurhaliza binti Ahmad",
    "Lim Mei Ling",
    "Tan Hui Min",
    "Priya Devi",
    "Ng Siew Lan",
    "Farah binti Abdullah",
    "Chong Pei Shan",
)
MY_SG_STREETS = (
    "Jalan Ampang",
    "Orchard Road",
    "Jalan Bukit Bintang",
    "Tampines Street 21",
    "Jalan SS 2/24",
    "Clementi Avenue 3",
)
MY_CITIES = ("Kuala Lumpur", "Petaling Jaya", "Johor Bahru", "George Town", "Shah Alam")


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 alpha-2, also the phone region
    locale: str  # Faker locale for names and addresses
    weight: int
    email_domains: tuple[str, ...]
    mobile_prefixes: tuple[str, ...]  # how a mobile's national number starts
    mobile_lengths: tuple[int, ...]  # digits in a mobile's national number


COUNTRIES: tuple[Country, ...] = (
    Country(
        "ID",
        "id_ID",
        75,
        ("gmail.com",) * 3 + ("yahoo.co.id", "yahoo.com", "ymail.com", "hotmail.com"),
        INDONESIAN_MOBILE_PREFIXES,
        (10, 11),
    ),
    Country("MY", "en_US", 5, ("gmail.com", "yahoo.com.my"), ("12", "13", "16", "17", "19"), (9,)),
    Country("SG", "en_US", 5, ("gmail.com", "singnet.com.sg"), ("8", "9"), (8,)),
    Country("AU", "en_AU", 4, ("gmail.com", "bigpond.com", "outlook.com"), ("4",), (9,)),
    Country("US", "en_US", 4, ("gmail.com", "icloud.com"), ("201", "312", "415", "617"), (10,)),
    Country("GB", "en_GB", 3, ("gmail.com", "btinternet.com", "hotmail.co.uk"), ("7",), (10,)),
    Country("NL", "nl_NL", 2, ("gmail.com", "ziggo.nl", "kpnmail.nl"), ("6",), (9,)),
    Country("DE", "de_DE", 2, ("gmail.com", "web.de", "gmx.de"), ("151", "160", "176"), (11,)),
)

# (order source, channel shown to users, weight)
ORDER_CHANNELS: tuple[tuple[str, str, int], ...] = (
    ("tokopedia", "Tokopedia", 30),
    ("shopee", "Shopee", 35),
    ("pos", "Toko offline", 20),
    ("website", "Website", 15),
)
# Customers found on a channel mostly keep buying there.
PREFERRED_ORDER_SOURCE = {
    "marketplace": ("tokopedia", "shopee"),
    "pos": ("pos",),
    "web-form": ("website",),
    "whatsapp": ("website", "pos"),
}
STORES = (
    "Jakarta - Kemang",
    "Jakarta - Kelapa Gading",
    "Bandung - Dago",
    "Surabaya - Tunjungan",
    "Medan - Sun Plaza",
    "Online",
)
# (tag, percent of customers)
TAGS = (("member", 40), ("newsletter", 30), ("reseller", 5), ("pameran-2024", 6), ("undian", 5))
JOBS = (
    "Wiraswasta",
    "Karyawan Swasta",
    "PNS",
    "Guru",
    "Ibu Rumah Tangga",
    "Mahasiswa",
    "Dokter",
    "Pedagang",
    "Pegawai BUMN",
    "Perawat",
    "Desainer Grafis",
    "Pemilik Toko Online",
)
NOTES_ID = (
    "Minta dihubungi lewat WhatsApp setelah jam 5 sore.",
    "Komplain ukuran tidak sesuai, sudah ditukar dengan ukuran L.",
    "Tertarik ikut program reseller, kirim katalog terbaru.",
    "Pelanggan lama, sering belanja saat promo tanggal kembar.",
    "Alamat pengiriman kantor hanya Senin sampai Jumat.",
    "Menanyakan stok warna lain, janji dikabari minggu depan.",
    "Paket sempat tertahan di ekspedisi; sudah diselesaikan dan diberi voucher.",
    "Pesanan keluarga biasanya lewat ibunya; nomor kedua milik ibunya.",
    "Minta faktur pajak untuk pembelian perusahaan.",
    "Ulang tahun bulan depan, tawarkan voucher ulang tahun.",
)
NOTES_EN = (
    "Prefers email; do not call during office hours.",
    "Asked about international shipping costs to their home country.",
    "Returned an item in good condition; refund processed.",
    "Interested in corporate gifts for year-end.",
)
# Honorifics a cashier or a marketplace form puts in front of a name.
TITLES = ("Bpk.", "Bapak", "H.", "Pak", "Ibu", "Bu", "Hj.", "Ny.")


# --- the plan -------------------------------------------------------------------------------


@dataclass
class PlannedOrder:
    source: str
    channel: str
    ordered_at: dt.datetime
    status: str
    items: list[tuple[int, int, int]]  # (catalogue index, quantity, unit price)


@dataclass
class PlannedCustomer:
    """One record as a channel delivered it, with what happens around it."""

    raw: dict[str, Any]
    country: Country
    source: str
    external_id: str
    since: dt.datetime
    orders: list[PlannedOrder] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    duplicate: bool = False  # the same person again, as another channel knew them
    invalid: bool = False  # deliberately broken: refused and kept for correction


@dataclass(frozen=True)
class DemoResult:
    people: int
    customers: int
    duplicates: int
    rejected: int
    orders: int
    order_items: int
    products: int
    notes: int
    activity: ActivityCounts
    seconds: float


class _Planner:
    """Draws people and their history from one seeded random stream."""

    def __init__(self, seed: int, today: dt.date) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.now = timezone.make_aware(
            dt.datetime.combine(today, dt.time(20, 0)), timezone.get_default_timezone()
        )
        self.fakers: dict[str, Faker] = {}
        for index, locale in enumerate(sorted({country.locale for country in COUNTRIES})):
            faker = Faker(locale)
            faker.seed_instance(seed * 1009 + index)
            self.fakers[locale] = faker
        self.country_weights = [country.weight for country in COUNTRIES]
        self.place_weights = [place.weight for place in PLACES]
        self.channel_weights = [channel[2] for channel in ORDER_CHANNELS]
        self.used_emails: set[str] = set()

    # people

    def person(self, index: int) -> PlannedCustomer:
        rng = self.rng
        country = rng.choices(COUNTRIES, self.country_weights)[0]
        female = rng.random() < 0.55
        given, family = self.name(country, female)
        full_name = " ".join(part for part in (given, family) if part)
        source = rng.choices(SOURCES, (30, 40, 20, 10))[0]
        raw: dict[str, Any] = {}
        if source == "web-form" and family and rng.random() < 0.6:
            raw["given_name"], raw["family_name"] = given, family
        else:
            raw["full_name"] = self.shout(full_name)
        if rng.random() < 0.85:
            raw["gender"] = self.gender_text(female, country)
        if rng.random() < 0.7:
            raw["birth_date"] = self.date_text(self.birth_date(), country)
        phone = self.mobile(country)
        raw["phones"] = [{"number": self.phone_text(phone, country), "is_primary": True}]
        if rng.random() < 0.08:
            raw["phones"].append({"number": self.phone_text(self.mobile(country), country)})
        if rng.random() < 0.8 or source == "web-form":
            raw["emails"] = [{"email": self.email(given, family, country)}]
            if rng.random() < 0.1:
                raw["emails"].append({"email": self.email(given, family, country)})
        if rng.random() < 0.75:
            raw["addresses"] = [self.address(country)]
        self.attributes(raw, country)
        since, orders = self.history(source)
        raw["lifecycle_stage"] = self.lifecycle(orders)
        raw["tags"] = self.tags(orders)
        raw["custom"] = self.custom(since, orders, country)
        notes = (
            [self.note(country) for _ in range(rng.choice((1, 1, 1, 2)))]
            if (rng.random() < 0.3)
            else []
        )
        return PlannedCustomer(
            raw=raw,
            country=country,
            source=source,
            external_id=f"{source}-{index + 1:06d}",
            since=since,
            orders=orders,
            notes=notes,
        )

    def name(self, country: Country, female: bool) -> tuple[str, str]:
        rng = self.rng
        if country.code in ("MY", "SG"):
            return rng.choice(MY_SG_NAMES_FEMALE if female else MY_SG_NAMES_MALE), ""
        faker = self.fakers[country.locale]
        if country.code == "ID":
            if rng.random() < 0.1:
                return rng.choice(MONONYMS_FEMALE if female else MONONYMS_MALE), ""
            given = faker.first_name_female() if female else faker.first_name_male()
            if rng.random() < 0.25:  # two given names are common ("Dewi Sartika Putri")
                given += " " + (faker.first_name_female() if female else faker.first_name_male())
            return given, faker.last_name()
        given = faker.first_name_female() if female else faker.first_name_male()
        return given, faker.last_name()

    def shout(self, name: str) -> str:
        """Names as typed at a counter: sometimes all capitals, sometimes all lower-case."""
        draw = self.rng.random()
        if draw < 0.12:
            return name.upper()
        if draw < 0.17:
            return name.lower()
        if draw < 0.2:
            return f"  {name} "
        return name

    def gender_text(self, female: bool, country: Country) -> str:
        options: tuple[str, ...]
        if country.code == "ID":
            options = (
                ("P", "Perempuan", "Wanita", "F") if female else ("L", "Laki-laki", "Pria", "M")
            )
        else:
            options = ("F", "Female", "female") if female else ("M", "Male", "male")
        return self.rng.choice(options)

    def birth_date(self) -> dt.date:
        age_days = int(self.rng.triangular(17, 70, 30) * 365.25)
        return self.today - dt.timedelta(days=age_days)

    def date_text(self, day: dt.date, country: Country) -> str:
        style = self.rng.random()
        if style < 0.4:
            return day.isoformat()
        if style < 0.75:
            return f"{day:%d/%m/%Y}"
        months = MONTHS_ID if country.code == "ID" else MONTHS_EN
        return f"{day.day} {months[day.month - 1]} {day.year}"

    def mobile(self, country: Country) -> phonenumbers.PhoneNumber:
        """A random mobile number that phonenumbers accepts as valid for the country."""
        rng = self.rng
        while True:
            prefix = rng.choice(country.mobile_prefixes)
            length = rng.choice(country.mobile_lengths)
            digits = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix)))
            if country.code == "US" and digits[3] in "01":
                continue  # exchange codes never start with 0 or 1
            number = phonenumbers.parse(
                "+" + str(phonenumbers.country_code_for_region(country.code)) + digits
            )
            if phonenumbers.is_valid_number(number):
                return number

    def phone_text(self, number: phonenumbers.PhoneNumber, country: Country) -> str:
        """The number written as people write it (always with +code outside Indonesia)."""
        rng = self.rng
        national = str(number.national_number)
        if country.code != "ID":
            international = phonenumbers.format_number(
                number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
            )
            return rng.choice(
                (
                    international,
                    phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
                    international.replace(" ", "-"),
                )
            )
        head, middle, tail = national[:3], national[3:7], national[7:]
        return rng.choice(
            (
                f"0{head}-{middle}-{tail}",
                f"0{head}-{middle}-{tail}",
                f"+62 {head} {middle} {tail}",
                f"62{national}",
                f"(0{head}) {middle}{tail}",
                f"0{national}",
                f"0{national}",
                f"+62{national}",
                f"0{head} {middle} {tail}",
                f"0{head}.{middle}.{tail}",
            )
        )

    def email(self, given: str, family: str, country: Country) -> str:
        rng = self.rng
        words = [_ascii(word) for word in f"{given} {family}".split()]
        words = [word for word in words if word and word not in ("bin", "binti")] or ["pelanggan"]
        first, last = words[0], words[-1]
        domain = rng.choice(country.email_domains)
        while True:
            local = rng.choice(
                (
                    f"{first}.{last}" if last != first else f"{first}{rng.randrange(60, 99)}",
                    f"{first}{last}{rng.randrange(1, 99)}"
                    if last != first
                    else f"{first}.{rng.randrange(1, 999)}",
                    f"{first}_{rng.randrange(1960, 2008)}",
                    f"{first[0]}{last}{rng.randrange(1, 999)}",
                    f"{first}.{last[0]}{rng.randrange(1, 9999)}",
                )
            )
            if f"{local}@{domain}" not in self.used_emails:
                break
            domain = rng.choice(country.email_domains)
        self.used_emails.add(f"{local}@{domain}")
        draw = rng.random()
        if draw < 0.05:  # phones auto-capitalise; some forms keep what was typed
            return f"{local.capitalize()}@{domain.upper()}"
        if draw < 0.1:
            return f"{local}@{domain.capitalize()}"
        return f"{local}@{domain}"

    def address(self, country: Country) -> dict[str, Any]:
        rng = self.rng
        faker = self.fakers[country.locale]
        if country.code == "ID":
            place = rng.choices(PLACES, self.place_weights)[0]
            district = rng.choice(sorted(place.districts))
            # Faker's street names, with the prefix spelled the ways people write it.
            street = faker.street_name().split(" ", 1)[-1]
            prefix = rng.choice(("Jl.", "Jalan", "Jl", "Gg."))
            rt_rw = ""
            if rng.random() < 0.4:
                rt_rw = f" RT {rng.randrange(1, 15):03d}/RW {rng.randrange(1, 12):03d}"
            return {
                "street": f"{prefix} {street} No. {rng.randrange(1, 200)}{rt_rw}",
                "village": rng.choice(place.districts[district]),
                "district": district,
                "city": f"Kota {place.city}" if rng.random() < 0.15 else place.city,
                "province": place.province,
                "postcode": f"{place.postcode_start}{rng.randrange(100, 999)}",
                "country": rng.choice(("ID", "ID", "Indonesia", "indonesia")),
                "is_primary": True,
            }
        if country.code == "SG":
            return {
                "street": f"{rng.randrange(1, 300)} {rng.choice(MY_SG_STREETS)}",
                "city": "Singapore",
                "postcode": f"{rng.randrange(10, 83)}{rng.randrange(1000, 9999)}",
                "country": "SG",
            }
        if country.code == "MY":
            return {
                "street": f"{rng.randrange(1, 300)} {rng.choice(MY_SG_STREETS)}",
                "city": rng.choice(MY_CITIES),
                "postcode": str(rng.randrange(10000, 89999)),
                "country": "MY",
            }
        return {
            "street": faker.street_address(),
            "city": faker.city(),
            "province": faker.state() if country.code in ("US", "AU", "DE") else "",
            "postcode": faker.postcode(),
            "country": country.code,
        }

    def attributes(self, raw: dict[str, Any], country: Country) -> None:
        rng = self.rng
        if rng.random() < 0.2:
            raw["job_title"] = (
                rng.choice(JOBS)
                if country.code == "ID"
                else self.fakers[country.locale].job()[:200]
            )
            if rng.random() < 0.5:
                raw["company"] = self.fakers[country.locale].company()[:200]
        if rng.random() < 0.3:
            raw["income_band"] = rng.choice(
                ("low", "lower_middle", "middle", "middle", "upper_middle", "high")
            )
        if rng.random() < 0.3:
            raw["marital_status"] = rng.choice(
                ("Single", "Married", "married", "single", "divorced", "widowed")
            )
        if rng.random() < 0.2:
            raw["education"] = rng.choice(
                ("secondary", "diploma", "bachelor", "Bachelor's degree", "master")
            )
        raw["preferred_language"] = "id" if country.code == "ID" else "en"
        if rng.random() < 0.6:
            raw["preferred_channel"] = rng.choices(
                ("whatsapp", "email", "sms", "phone"), (60, 25, 8, 7)
            )[0]
        if rng.random() < 0.4:
            raw["owner"] = rng.choice(AGENT_USERNAMES)

    def history(self, source: str) -> tuple[dt.datetime, list[PlannedOrder]]:
        """When the customer was first seen, and their orders since (more recent = more)."""
        rng = self.rng
        # Skewed to recent dates: the shop is growing.
        since = self.now - dt.timedelta(
            days=HISTORY_DAYS * rng.random() ** 1.6, seconds=rng.randrange(86_400)
        )
        if rng.random() >= 0.7:
            return since, []
        count = rng.choices(range(1, 9), (30, 22, 15, 10, 8, 6, 5, 4))[0]
        span = (self.now - since).total_seconds()
        moments = sorted(
            since + dt.timedelta(seconds=span * rng.random() ** 0.8) for _ in range(count)
        )
        preferred = PREFERRED_ORDER_SOURCE[source]
        return since, [self.order(moment, preferred) for moment in moments]

    def order(self, moment: dt.datetime, preferred: Sequence[str]) -> PlannedOrder:
        rng = self.rng
        if rng.random() < 0.75:
            source = rng.choice(preferred)
            channel = next(name for code, name, _w in ORDER_CHANNELS if code == source)
        else:
            source, channel, _weight = rng.choices(ORDER_CHANNELS, self.channel_weights)[0]
        status_draw = rng.random()
        if (self.now - moment).days < 4 and status_draw < 0.5:
            status = Order.Status.PENDING
        elif status_draw < 0.06:
            status = Order.Status.CANCELLED
        elif status_draw < 0.1:
            status = Order.Status.RETURNED
        else:
            status = Order.Status.COMPLETED
        picks = rng.sample(range(len(CATALOGUE)), rng.choices((1, 2, 3, 4), (50, 28, 15, 7))[0])
        items = []
        for pick in picks:
            price = CATALOGUE[pick].price
            if rng.random() < 0.2:  # a promo: 10-30 % off, rounded to Rp 500
                price = int(price * rng.choice((0.7, 0.8, 0.85, 0.9)) // 500 * 500)
            items.append((pick, rng.choices((1, 2, 3), (80, 15, 5))[0], price))
        return PlannedOrder(source, channel, moment, status, items)

    def lifecycle(self, orders: list[PlannedOrder]) -> str:
        rng = self.rng
        if not orders:
            return rng.choice(("suspect", "prospect", "prospect", "Prospect"))
        last = orders[-1].ordered_at
        if (self.now - last).days > 365:
            return "lapsed"
        gaps = [(b.ordered_at - a.ordered_at).days for a, b in itertools.pairwise(orders)]
        if gaps and gaps[-1] > 365:
            return "won_back"
        if len(orders) >= 5:
            return "loyal"
        return "customer"

    def tags(self, orders: list[PlannedOrder]) -> list[str] | str:
        rng = self.rng
        tags = [name for name, percent in TAGS if rng.random() * 100 < percent]
        spent = sum(qty * price for order in orders for _i, qty, price in order.items)
        if spent > 3_000_000:
            tags.append("vip")
        if tags and rng.random() < 0.3:
            return ", ".join(tags)  # spreadsheets hold tags as one comma-separated cell
        return tags

    def custom(
        self, since: dt.datetime, orders: list[PlannedOrder], country: Country
    ) -> dict[str, Any]:
        rng = self.rng
        values: dict[str, Any] = {}
        if rng.random() < 0.45:
            values["member_since"] = self.date_text(since.date(), country)
        if orders and rng.random() < 0.6:
            points = (
                sum(qty * price for order in orders for _i, qty, price in order.items) // 10_000
            )
            # Indonesian spreadsheets group thousands with a dot.
            values["loyalty_points"] = (
                f"{points:,}".replace(",", ".")
                if points >= 1000 and (rng.random() < 0.5)
                else points
            )
        if rng.random() < 0.35:
            store = rng.choice(STORES)
            values["favourite_store"] = store.upper() if rng.random() < 0.1 else store
        return values

    def note(self, country: Country) -> str:
        return self.rng.choice(NOTES_ID if country.code == "ID" else NOTES_EN)

    # duplicates and mistakes

    def duplicate_of(self, original: PlannedCustomer, index: int) -> PlannedCustomer:
        """The same person as another channel recorded them: a name variant, another
        phone format, perhaps a second email."""
        rng = self.rng
        raw = original.raw
        name = raw.get("full_name") or f"{raw.get('given_name', '')} {raw.get('family_name', '')}"
        name = " ".join(name.split())
        copy: dict[str, Any] = {"full_name": self.name_variant(name)}
        country = original.country
        number = self._reparse(raw["phones"][0]["number"])
        keep = rng.random()
        if keep < 0.75 and number is not None:  # the same number, written another way
            copy["phones"] = [{"number": self.phone_text(number, country)}]
        else:  # a new number, found through the same email
            copy["phones"] = [{"number": self.phone_text(self.mobile(country), country)}]
        old_emails = [entry["email"] for entry in raw.get("emails", [])]
        if old_emails and (keep >= 0.75 or rng.random() < 0.5):
            copy["emails"] = [{"email": old_emails[0].lower()}]
        elif rng.random() < 0.6:
            words = name.split()
            copy["emails"] = [{"email": self.email(words[0], words[-1], country)}]
        if "birth_date" in raw and rng.random() < 0.5:
            copy["birth_date"] = raw["birth_date"]
        if raw.get("addresses") and rng.random() < 0.4:
            address = dict(raw["addresses"][0])
            address.pop("is_primary", None)
            copy["addresses"] = [address]
        source = rng.choice([s for s in SOURCES if s != original.source])
        span = (self.now - original.since).total_seconds()
        since = original.since + dt.timedelta(seconds=span * rng.random())
        _ignored, orders = self.history(source)
        orders = [order for order in orders if order.ordered_at >= since][:2]
        copy["lifecycle_stage"] = self.lifecycle(orders)
        return PlannedCustomer(
            raw=copy,
            country=country,
            source=source,
            external_id=f"{source}-{index + 1:06d}-b",
            since=since,
            orders=orders,
            duplicate=True,
        )

    def _reparse(self, text: str) -> phonenumbers.PhoneNumber | None:
        try:
            digits = "".join(char for char in text if char.isdigit() or char == "+")
            if digits.startswith("0"):
                return phonenumbers.parse(digits, "ID")
            return phonenumbers.parse(digits if digits.startswith("+") else "+" + digits)
        except phonenumbers.NumberParseException:
            return None

    def name_variant(self, name: str) -> str:
        """How the same name comes back from another channel."""
        rng = self.rng
        words = name.split()
        draw = rng.random()
        if draw < 0.3 and len(words) > 2:  # a middle or last name left out
            return " ".join(words[:-1]) if rng.random() < 0.5 else f"{words[0]} {words[-1]}"
        if draw < 0.5:
            return _old_spelling(name, rng)
        if draw < 0.65:
            return f"{rng.choice(TITLES)} {name}"
        if draw < 0.8 and len(words[0]) > 3:
            word = words[0]
            at = rng.randrange(1, len(word) - 2)
            words[0] = word[:at] + word[at + 1] + word[at] + word[at + 2 :]  # a swapped pair
            return " ".join(words)
        if draw < 0.9:
            return name.upper()
        if words[0].lower() in ("muhammad", "mohammad", "muhamad") and len(words) > 1:
            return "M. " + " ".join(words[1:])
        return name.lower()

    def invalid(self, record: PlannedCustomer) -> PlannedCustomer:
        """A typo a real channel delivers; the whole record is refused and kept."""
        rng = self.rng
        raw = dict(record.raw)
        problem = rng.randrange(4)
        emails = raw.get("emails") or [{"email": "pelanggan@gmail.com"}]
        if problem == 0:  # the domain's ending lost, or the @ typed as a dot
            email = str(emails[0]["email"])
            broken = email.rsplit(".", 1)[0] if rng.random() < 0.5 else email.replace("@", ".")
            raw["emails"] = [{"email": broken}]
        elif problem == 1:  # digits missing
            raw["phones"] = [{"number": str(raw["phones"][0]["number"])[:6]}]
        elif problem == 2:  # a day the month does not have
            raw["birth_date"] = f"31/02/{rng.randrange(1960, 2005)}"
        else:  # both boxes ticked on a paper form
            raw["gender"] = "L/P"
        record.raw = raw
        record.orders = []
        record.notes = []
        record.invalid = True
        return record


def _old_spelling(name: str, rng: random.Random) -> str:
    """Pre-1972 Indonesian spelling (Yuni → Juni, Joko → Djoko, Cahyono → Tjahjono)."""
    rules = (("y", "j"), ("j", "dj"), ("c", "tj"), ("u", "oe"), ("ny", "nj"), ("sy", "sj"))
    text = name
    for new, old in rng.sample(rules, len(rules)):
        if new in text.lower():
            index = text.lower().index(new)
            original = text[index : index + len(new)]
            replacement = old.capitalize() if original[0].isupper() else old
            if original.isupper():
                replacement = old.upper()
            return text[:index] + replacement + text[index + len(new) :]
    return text


def _ascii(word: str) -> str:
    plain = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    return "".join(char for char in plain.lower() if char.isalnum())


def plan_people(count: int, seed: int, today: dt.date | None = None) -> Iterator[PlannedCustomer]:
    """The demo's records in write order: ``count`` people, ~5 % of them recorded twice
    by another channel and ~1 % delivered with a mistake. Same seed, same records."""
    planner = _Planner(seed, today or timezone.localdate())
    for index in range(count):
        person = planner.person(index)
        draw = planner.rng.random()
        if draw < 0.01:
            yield planner.invalid(person)
            continue
        yield person
        if draw < 0.06:
            yield planner.duplicate_of(person, index)


# --- writing --------------------------------------------------------------------------------


def existing_customers() -> tuple[int, int]:
    """(demo customers, other customers) already in the database."""
    total = Customer.objects.count()
    if not total:
        return 0, 0
    other = _not_demo().count()
    return total - other, other


def _not_demo() -> QuerySet[Customer]:
    """Customers that are not demo data: a demo customer merged into another has lost its
    records to the survivor, and counts as demo data through it."""
    return Customer.objects.exclude(source_records__batch_id__startswith=BATCH_PREFIX).exclude(
        merged_into__source_records__batch_id__startswith=BATCH_PREFIX
    )


def reset_demo() -> None:
    """Delete the demo's customers, orders, products and records (never anything else)."""
    _demo, other = existing_customers()
    if other:
        raise DemoError(
            f"the database holds {other} customer(s) that are not demo data; "
            "--reset only replaces a demo. Use a separate KENAL_DATA_DIR for the demo."
        )
    with transaction.atomic():
        # Orders, notes, contacts and values go with their customers (on delete cascade).
        Customer.objects.exclude(pk__in=_not_demo()).delete()
        SourceRecord.objects.filter(batch_id__startswith=BATCH_PREFIX).delete()
        Product.objects.filter(sku__in=[item.sku for item in CATALOGUE]).delete()
        Tag.objects.annotate(used=Count("customers")).filter(used=0).delete()


def ensure_demo_users() -> str:
    """The admin (with a new random password, returned) and three agents who own customers."""
    password = secrets.token_urlsafe(12)
    admin = User.objects.filter(username=ADMIN_USERNAME).first()
    if admin is None:
        create_user(ADMIN_USERNAME, "", Role.ADMIN, password)
    else:
        # A reset demo gets a fresh login: the old password cannot be shown (it is hashed).
        admin.set_password(password)
        admin.is_active = True
        apply_role(admin, Role.ADMIN)
    for username in AGENT_USERNAMES:
        if not User.objects.filter(username=username).exists():
            create_user(username, "", Role.AGENT, secrets.token_urlsafe(16))
    return password


def ensure_custom_fields() -> None:
    wanted = (
        ("member_since", "Member since", FieldType.DATE, ()),
        ("loyalty_points", "Loyalty points", FieldType.INTEGER, ()),
        ("favourite_store", "Favourite store", FieldType.CHOICE, STORES),
    )
    for key, label, field_type, choices in wanted:
        if not CustomField.objects.filter(key=key).exists():
            custom_fields.define_field(key=key, label=label, field_type=field_type, choices=choices)


def ensure_products() -> list[Product]:
    products = []
    for item in CATALOGUE:
        product, _created = Product.objects.update_or_create(
            sku=item.sku, defaults={"name": item.name, "category": item.category}
        )
        products.append(product)
    return products


def generate(
    count: int,
    seed: int,
    *,
    progress: Progress | None = None,
    today: dt.date | None = None,
) -> DemoResult:
    """Write ``count`` people (plus their duplicates) with orders and notes.

    Refuses (:class:`DemoError`) when the database already holds customers.
    """
    if count < 1:
        raise DemoError(f"customers: {count} must be at least 1")
    if Customer.objects.exists():
        raise DemoError("the database already holds customers; run `kenal demo --reset` first")
    started = time.monotonic()
    ensure_custom_fields()
    products = ensure_products()
    agents = list(User.objects.filter(username__in=AGENT_USERNAMES))
    writer = _Writer(products, agents, seed)
    batch: list[PlannedCustomer] = []
    people = 0
    for record in plan_people(count, seed, today):
        people += 0 if record.duplicate else 1
        batch.append(record)
        if len(batch) >= BATCH_SIZE:
            writer.write(batch)
            batch = []
            if progress:
                progress(f"{people:>7,} / {count:,} people  ({time.monotonic() - started:.1f} s)")
    if batch:
        writer.write(batch)
    if progress:
        progress(f"{people:>7,} / {count:,} people  ({time.monotonic() - started:.1f} s)")
    return DemoResult(
        people=people,
        customers=writer.customers,
        duplicates=writer.duplicates,
        rejected=writer.rejected,
        orders=writer.orders,
        order_items=writer.order_items,
        products=len(products),
        notes=writer.notes,
        activity=writer.activity,
        seconds=time.monotonic() - started,
    )


class _Writer:
    """Writes planned records: customers one by one through the customer service,
    orders in bulk, one transaction per batch (a commit per record is what makes
    SQLite slow)."""

    def __init__(self, products: list[Product], agents: list[User], seed: int) -> None:
        self.products = products
        self.agents = agents
        self.batch_id = f"{BATCH_PREFIX}{seed}"
        self.rng = random.Random(seed)
        self.customers = self.duplicates = self.rejected = 0
        self.orders = self.order_items = self.notes = 0
        self.order_numbers: dict[str, int] = {}
        self.activity = ActivityCounts()

    def write(self, batch: list[PlannedCustomer]) -> None:
        with transaction.atomic(), keys.deferred():
            written: list[tuple[Customer, PlannedCustomer]] = []
            for record in batch:
                origin = Origin(
                    source=record.source, batch_id=self.batch_id, external_id=record.external_id
                )
                try:
                    customer = create_customer(record.raw, origin)
                except CustomerInvalid:
                    self.rejected += 1  # kept as a rejected source record, for correction
                    continue
                self.customers += 1
                self.duplicates += record.duplicate
                written.append((customer, record))
            self._backdate(written)
            orders = self._write_orders(written)
            self._write_notes(written)
            by_customer: dict[int, list[Order]] = {}
            for order in orders:
                by_customer.setdefault(order.customer_id, []).append(order)
            lives = [
                (customer, record.since, by_customer.get(customer.pk, []))
                for customer, record in written
            ]
            self.activity.add(write_activity(lives, self.products, self.agents, self.rng))

    def _backdate(self, written: list[tuple[Customer, PlannedCustomer]]) -> None:
        """Spread sign-ups over the past years, so growth and cohort views have a history."""
        since = {customer.pk: record.since for customer, record in written}
        for customer, record in written:
            customer.created_at = record.since
        Customer.objects.bulk_update([customer for customer, _r in written], ["created_at"])
        records = list(SourceRecord.objects.filter(customer_id__in=since, batch_id=self.batch_id))
        for source_record in records:
            source_record.received_at = since[source_record.customer_id or 0]
        SourceRecord.objects.bulk_update(records, ["received_at"])

    def _order_number(self, source: str, moment: dt.datetime) -> str:
        sequence = self.order_numbers[source] = self.order_numbers.get(source, 0) + 1
        local = timezone.localtime(moment)
        if source == "tokopedia":
            return f"INV/{local:%Y%m%d}/MPL/{4_100_000_000 + sequence * 7919}"
        if source == "shopee":
            return f"{local:%y%m%d}{sequence:06d}{'ABCDEFGHJK'[sequence % 10]}Q"
        if source == "pos":
            return f"POS/JKT01/{local:%Y%m}/{sequence:06d}"
        return f"WEB-{100_000 + sequence}"

    def _write_orders(self, written: list[tuple[Customer, PlannedCustomer]]) -> list[Order]:
        orders: list[Order] = []
        lines: list[list[tuple[int, int, int]]] = []
        for customer, record in written:
            for planned in record.orders:
                orders.append(
                    Order(
                        customer=customer,
                        source=planned.source,
                        order_number=self._order_number(planned.source, planned.ordered_at),
                        ordered_at=planned.ordered_at,
                        status=planned.status,
                        channel=planned.channel,
                        currency="IDR",
                        total=Decimal(sum(qty * price for _p, qty, price in planned.items)),
                    )
                )
                lines.append(planned.items)
        Order.objects.bulk_create(orders)
        items = [
            OrderItem(
                order=order,
                product=self.products[pick],
                quantity=quantity,
                unit_price=Decimal(price),
            )
            for order, order_lines in zip(orders, lines, strict=True)
            for pick, quantity, price in order_lines
        ]
        OrderItem.objects.bulk_create(items)
        self.orders += len(orders)
        self.order_items += len(items)
        return orders

    def _write_notes(self, written: list[tuple[Customer, PlannedCustomer]]) -> None:
        now = timezone.now()
        notes: list[Note] = []
        for customer, record in written:
            for body in record.notes:
                author = self.rng.choice(self.agents) if self.agents else None
                note = add_note(customer, body, author)
                span = max((now - record.since).total_seconds(), 1.0)
                note.created_at = record.since + dt.timedelta(seconds=span * self.rng.random())
                notes.append(note)
        Note.objects.bulk_update(notes, ["created_at"])
        self.notes += len(notes)
