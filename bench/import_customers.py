"""Customer import speed and memory, end to end through `kenal import`.

Usage: python bench/import_customers.py [--rows 1000000] [--database-url URL] [--work-dir DIR]

Generates a CSV of N realistic rows (10 columns with Indonesian headers; 15 % of the rows repeat
an earlier person with their phone, email or name written another way), then times
`kenal import FILE --source bench --id-column ID` in a fresh database, as a user runs it (a
separate process, migrations applied beforehand), and reads that process's peak memory. Anchor,
in the same run: a raw SQLite ``executemany`` insert of the same rows into one table.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

GIVEN = ["Budi", "Siti", "Agus", "Dewi", "Rina", "Andi", "Eko", "Sri", "Ahmad", "Nur", "Putri"]
GIVEN += ["Joko", "Wahyu", "Hendra", "Yuni", "Rudi", "Dian", "Fitri", "Bambang", "Indah", "Ratna"]
FAMILY = ["Santoso", "Wijaya", "Saputra", "Hartono", "Kusuma", "Setiawan", "Nugroho", "Pratama"]
FAMILY += ["Hidayat", "Lestari", "Wibowo", "Siregar", "Nasution", "Sinaga", "Halim", "Gunawan"]
CITIES = [
    ("Jakarta Selatan", "DKI Jakarta", "121"),
    ("Bandung", "Jawa Barat", "401"),
    ("Surabaya", "Jawa Timur", "602"),
    ("Medan", "Sumatera Utara", "201"),
    ("Semarang", "Jawa Tengah", "501"),
    ("Makassar", "Sulawesi Selatan", "902"),
    ("Denpasar", "Bali", "801"),
    ("Yogyakarta", "DI Yogyakarta", "552"),
]
STREETS = ["Jl. Merdeka", "Jl. Sudirman", "Jl. Diponegoro", "Jl. Gatot Subroto", "Jl. Ahmad Yani"]
DOMAINS = ["gmail.com", "yahoo.co.id", "outlook.com", "contoh.co.id"]
HEADER = [
    "ID",
    "Nama Lengkap",
    "No HP",
    "Surel",
    "Alamat",
    "Kota",
    "Provinsi",
    "Kode Pos",
    "Tanggal Lahir",
    "Jenis Kelamin",
]
REPEAT_SHARE = 0.15


def person(index: int, rng: random.Random) -> list[str]:
    given, family = rng.choice(GIVEN), rng.choice(FAMILY)
    city, province, postcode = rng.choice(CITIES)
    digits = f"{index:08d}"
    return [
        f"C{index}",
        f"{given} {family}",
        f"0812-{digits[:4]}-{digits[4:]}",
        f"{given}.{family}{index}@{rng.choice(DOMAINS)}".lower(),
        f"{rng.choice(STREETS)} No. {rng.randint(1, 200)}",
        city,
        province,
        f"{postcode}{rng.randint(10, 99)}",
        f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1950, 2005)}",
        rng.choice(["L", "P", "Laki-laki", "Perempuan"]),
    ]


def variation(row: list[str], rng: random.Random) -> list[str]:
    """The same person written differently, under another id (another till, another year)."""
    copy = list(row)
    copy[0] = f"{row[0]}-R{rng.randint(1, 999)}"
    choice = rng.random()
    if choice < 0.4:
        digits = row[2].replace("-", "")
        copy[2] = f"+62 {digits[1:4]} {digits[4:8]} {digits[8:]}"
    elif choice < 0.7:
        copy[3] = row[3].upper()
        copy[2] = ""
    else:
        copy[1] = row[1].upper()
        copy[2] = row[2].replace("-", "")
    return copy


def rows(count: int, seed: int = 7) -> Iterator[list[str]]:
    rng = random.Random(seed)
    people: list[list[str]] = []
    for index in range(count):
        if people and rng.random() < REPEAT_SHARE:
            yield variation(rng.choice(people), rng)
            continue
        row = person(index, rng)
        if len(people) < 200_000:
            people.append(row)
        else:
            people[rng.randrange(len(people))] = row
        yield row


def write_file(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows(count))


def anchor(path: Path, folder: Path) -> float:
    """Seconds for a raw SQLite executemany of the same rows (one table, WAL, one commit)."""
    database = folder / "anchor.sqlite3"
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(f"CREATE TABLE rows ({', '.join(f'c{i} TEXT' for i in range(10))})")
    started = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        connection.executemany(f"INSERT INTO rows VALUES ({', '.join('?' * 10)})", reader)
    connection.commit()
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def kenal(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "kenal", *args]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="", help="postgres://… (default: SQLite)")
    parser.add_argument("--work-dir", default="", help="where the file and database go")
    options = parser.parse_args()
    folder = Path(options.work_dir or tempfile.mkdtemp(prefix="kenal-bench-import-"))
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "KENAL_DATA_DIR": str(folder / "data")}
    env["KENAL_DATABASE_URL"] = options.database_url
    path = folder / "customers.csv"
    started = time.perf_counter()
    write_file(path, options.rows)
    size = path.stat().st_size / 1e6
    took = time.perf_counter() - started
    print(f"generated {options.rows:,} rows ({size:.0f} MB) in {took:.1f} s")
    kenal(["migrate", "-v0"], env)
    started = time.perf_counter()
    result = kenal(
        ["import", str(path), "--source", "bench", "--id-column", "ID", "--no-progress"], env
    )
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(result.stdout.strip().splitlines()[-1])
    database = "PostgreSQL" if options.database_url else "SQLite"
    print(
        f"kenal import ({database}): {elapsed:.1f} s, {options.rows / elapsed:,.0f} rows/s, "
        f"peak memory {peak_mb:,.0f} MB"
    )
    raw = anchor(path, folder)
    print(f"anchor, raw SQLite executemany of the same rows: {raw:.2f} s")
    print(f"ratio: kenal import takes {elapsed / raw:.1f}x the raw insert")


if __name__ == "__main__":
    main()
