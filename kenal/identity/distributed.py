"""Batch deduplication on Spark, for a database one machine cannot score in time.

``kenal dedupe --engine spark`` hands Spark the two steps whose cost grows with the database:
finding the pairs of customers that share a blocking key, and scoring every one of them. The
workers score with Kenal's own model, in Python — :func:`kenal.identity.dedupe.propose`, the
same comparisons, weights and household rules as the in-process engine — so both engines make
the same proposals. Only the pairs that lead somewhere (a merge, a review, a household) come
back; clustering, the report and the merges are then done here by the same code as in-process.

Splink's Spark backend was the other way: it runs offline (its similarity functions ship as a
jar in its wheel) and can take m and u fixed per level. But its levels are SQL conditions, and
Kenal's levels are not SQL: names are aligned word by word whatever their order, with
phonetic codes and Jaro-Winkler; streets use a token-set ratio; and a merge is decided by rules
over the levels, not by the probability alone. A Splink model given Kenal's m and u would put
pairs on other levels, and so propose other merges than the in-process engine.
"""

from __future__ import annotations

import os
import pickle
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager

import pyarrow as pa  # type: ignore[import-untyped]
from django.conf import settings
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from kenal.identity import keys as blocking
from kenal.identity.dedupe import Proposal, propose
from kenal.identity.people import Person
from kenal.identity.weights import Weights

__all__ = ["SparkEngine", "java_available", "spark_engine"]

# Spark's default of 200 shuffle partitions makes 200 tiny tasks per join on a few local
# cores; on a cluster the cluster's own setting applies.
LOCAL_SHUFFLE_PARTITIONS = 8

Batches = Iterable[pa.RecordBatch]


def java_available() -> bool:
    """Whether Spark can start here: it runs in a Java 17 (or later) virtual machine."""
    return bool(os.environ.get("JAVA_HOME") or shutil.which("java"))


@contextmanager
def spark_engine(master: str = "local[2]") -> Iterator[SparkEngine]:
    """An engine on Spark for one run.

    ``master`` is a Spark master URL: ``local[N]`` runs N worker threads on this machine;
    ``spark://host:7077``, ``yarn`` or ``k8s://…`` a cluster whose executors have Kenal
    installed (see docs/identity.md). Nothing is downloaded: no packages, no jars. When this
    process already runs a Spark session (Kenal inside a Spark application), that session is
    used as it is, and left running.
    """
    with ExitStack() as stack:
        spark = SparkSession.getActiveSession() or stack.enter_context(_session(master))
        engine = SparkEngine(spark)
        try:
            yield engine
        finally:
            engine.release()


@contextmanager
def _session(master: str) -> Iterator[SparkSession]:
    local = master.startswith("local")
    if local:
        # pyspark starts its Python workers with $PYSPARK_PYTHON, else whatever "python3" is
        # on PATH; here they must run in this environment, where Kenal is installed.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    with tempfile.TemporaryDirectory(prefix="kenal-spark-") as scratch:
        builder = (
            SparkSession.builder.master(master)
            .appName("kenal-dedupe")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.log.level", "ERROR")
            # Shuffle and spill files go where they are removed with the run.
            .config("spark.local.dir", scratch)
        )
        if local:
            # No executor runs elsewhere, so the driver need not listen beyond this machine.
            builder = (
                builder.config("spark.sql.shuffle.partitions", str(LOCAL_SHUFFLE_PARTITIONS))
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.driver.host", "127.0.0.1")
            )
        spark = builder.getOrCreate()
        try:
            yield spark
        finally:
            spark.stop()


class SparkEngine:
    """Blocking and scoring on Spark: an :class:`kenal.identity.dedupe.Engine`."""

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self._people: Mapping[int, Person] = {}
        self._persons: DataFrame | None = None
        self._pairs: DataFrame | None = None

    def block(self, people: Mapping[int, Person]) -> int:
        """Pairs of customers sharing a key, by a self-join on the exploded keys: the same
        pairs as :func:`kenal.identity.dedupe.blocked_pairs`, found by the cluster."""
        self.release()
        self._people = people
        # Kept by Spark: both are read again to score the pairs (and to train).
        persons = self.spark.createDataFrame(_table(people)).persist()
        keyed = persons.select("id", F.explode("keys").alias("key"))
        usable = (
            keyed.groupBy("key")
            .count()
            .where(F.col("count").between(2, blocking.MAX_BLOCK))
            .select("key")
        )
        members = keyed.join(usable, "key")
        left, right = members.alias("l"), members.alias("r")
        pairs = (
            left.join(right, (F.col("l.key") == F.col("r.key")) & (F.col("l.id") < F.col("r.id")))
            .select(F.col("l.id").alias("left"), F.col("r.id").alias("right"))
            .distinct()
            .persist()
        )
        self._persons, self._pairs = persons, pairs
        return pairs.count()

    def release(self) -> None:
        """Let Spark drop what it keeps for this run (a shared session outlives the run)."""
        for frame in (self._persons, self._pairs):
            if frame is not None:
                frame.unpersist()
        self._persons = self._pairs = None

    def pairs(self) -> list[tuple[int, int]]:
        """Every pair, brought here: training learns from them in this process."""
        _, pairs = self._frames()
        return sorted((row["left"], row["right"]) for row in pairs.collect())

    def proposals(self, model: Weights) -> Iterator[Proposal]:
        persons, pairs = self._frames()
        persons = persons.select("id", "person")
        left = persons.withColumnsRenamed({"id": "left", "person": "a"})
        right = persons.withColumnsRenamed({"id": "right", "person": "b"})
        sides = pairs.join(left, "left").join(right, "right")
        kept = sides.mapInArrow(
            _scorer(_settings_module(), pickle.dumps(model)), "left long, right long"
        )
        # Scored again here for the explanation the report and the merges keep (a few pairs,
        # not millions), and in the in-process order, which breaks ties between clusters.
        for left, right in sorted((row["left"], row["right"]) for row in kept.collect()):
            if found := propose(left, right, self._people[left], self._people[right], model):
                yield found

    def _frames(self) -> tuple[DataFrame, DataFrame]:
        """The persons and the pairs of the last block()."""
        if self._persons is None or self._pairs is None:
            raise RuntimeError("SparkEngine.block() must run first")
        return self._persons, self._pairs


def _table(people: Mapping[int, Person]) -> pa.Table:
    """One row per customer: its id, the person as the model reads it, its blocking keys."""
    ids = list(people)
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            # Pickled whole, so the workers compare exactly the persons loaded here, whatever
            # fields Person gains.
            "person": pa.array([pickle.dumps(people[pk]) for pk in ids], pa.binary()),
            "keys": pa.array(
                [sorted(blocking.blocking_keys(people[pk])) for pk in ids], pa.list_(pa.string())
            ),
        }
    )


def _settings_module() -> str:
    module: str | None = settings.SETTINGS_MODULE
    if not module:
        raise RuntimeError("Spark workers need Django settings from a module")
    return module


def _scorer(settings_module: str, model: bytes) -> Callable[[Batches], Iterator[pa.RecordBatch]]:
    """The function Spark runs over each partition of pairs (ids and both pickled persons).

    A Spark worker is a plain Python process, and Kenal's matching code imports its Django
    models, which cannot be imported before Django is set up. So the function is built here
    rather than at module level: Spark then ships it by value instead of importing this module
    in the worker first, and it sets Django up before importing anything of Kenal's.
    """

    def score(batches: Batches) -> Iterator[pa.RecordBatch]:
        import django
        from django.apps import apps

        if not apps.ready:
            # The driver's settings, whatever the worker's environment says.
            os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
            django.setup()
        from kenal.identity.dedupe import propose

        # The pickles come from this run's own driver, not from outside.
        weights = pickle.loads(model)  # noqa: S301
        for batch in batches:
            kept = [
                (row["left"], row["right"])
                for row in batch.to_pylist()
                if propose(
                    row["left"],
                    row["right"],
                    pickle.loads(row["a"]),  # noqa: S301
                    pickle.loads(row["b"]),  # noqa: S301
                    weights,
                )
            ]
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array([pair[0] for pair in kept], pa.int64()),
                    pa.array([pair[1] for pair in kept], pa.int64()),
                ],
                names=["left", "right"],
            )

    return score
