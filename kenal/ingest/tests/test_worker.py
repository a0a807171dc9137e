"""The background worker runs queued imports: in a thread, as `kenal worker`, in `kenal serve`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tasks.signals import task_finished
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from kenal.activity.tasks import next_night, refresh_traits_task
from kenal.customers.models import Customer
from kenal.ingest import services
from kenal.ingest.models import Import
from kenal.ingest.tasks import run_import_task
from kenal.ingest.tests.files import write_csv
from kenal.ops import worker as workers

KENAL = str(Path(sys.executable).with_name("kenal"))
ROWS = [
    ["Nama", "No HP", "Email"],
    ["Budi Santoso", "0812-3456-7890", "budi@contoh.id"],
    ["Siti Rahayu", "0813-1111-2222", "siti@contoh.id"],
    ["Ani", "12ab", ""],
]


def prepared(tmp_path: Path, name: str = "pelanggan.csv") -> Import:
    path = write_csv(tmp_path / name, ROWS)
    return services.prepare_import(path, services.ImportSetup(source="toko"), name)


@pytest.fixture
def finished_tasks() -> Iterator[threading.Event]:
    """Set when the worker finishes a task (from the worker's thread)."""
    done = threading.Event()

    def finished(sender: object, **kwargs: Any) -> None:
        done.set()

    task_finished.connect(finished, weak=False)
    yield done
    task_finished.disconnect(finished)


@pytest.mark.django_db(transaction=True)
def test_a_queued_import_is_run_by_the_worker_thread(
    tmp_path: Path, finished_tasks: threading.Event
) -> None:
    run = services.queue_import(prepared(tmp_path))
    background = workers.start_background_worker(interval=0.1)
    try:
        # The test waits without touching the database while the worker writes.
        assert finished_tasks.wait(timeout=120), "the worker did not run the import"
    finally:
        background.stop()
    assert not background.thread.is_alive()
    run.refresh_from_db()
    assert run.status == Import.Status.DONE
    assert (run.created_count, run.rejected_count, run.rows_done) == (2, 1, 3)
    assert set(Customer.objects.values_list("full_name", flat=True)) == {
        "Budi Santoso",
        "Siti Rahayu",
    }
    # A running worker keeps the nightly traits refresh waiting for the early hours.
    nightly = DBTaskResult.objects.get(task_path=refresh_traits_task.module_path)
    assert nightly.run_after == next_night()


# The worker drops connections between tasks, which would end a test's surrounding transaction.
@pytest.mark.django_db(transaction=True)
def test_the_worker_command_in_batch_mode_runs_what_waits_and_returns(tmp_path: Path) -> None:
    first = services.queue_import(prepared(tmp_path, "a.csv"))
    second = services.queue_import(prepared(tmp_path, "b.csv"))
    call_command("worker", "--batch")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.created_count) == (Import.Status.DONE, 2)
    # The same people again: matched, not duplicated.
    assert (second.status, second.created_count, second.unchanged_count) == (
        Import.Status.DONE,
        0,
        2,
    )
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.READY).exists()


@pytest.mark.django_db(transaction=True)
def test_an_import_cancelled_before_it_starts_is_not_run(tmp_path: Path) -> None:
    run = services.queue_import(prepared(tmp_path))
    services.cancel_import(run)
    call_command("worker", "--batch")
    run.refresh_from_db()
    assert run.status == Import.Status.CANCELLED
    assert (run.rows_done, run.started_at) == (0, None)
    assert not Customer.objects.exists()


def dead_pid() -> int:
    """The id of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def running_import(tmp_path: Path, worker_id: str) -> tuple[Import, DBTaskResult[Any, Any]]:
    """An import its task's worker had started (as if the server stopped half-way)."""
    run = prepared(tmp_path)
    result = DBTaskResult.objects.get(id=run_import_task.enqueue(run.pk).id)
    result.claim(worker_id)
    Import.objects.filter(pk=run.pk).update(status=Import.Status.RUNNING, rows_done=2000)
    return run, result


@pytest.mark.django_db(transaction=True)
def test_an_import_left_running_by_a_worker_that_died_is_marked_failed(tmp_path: Path) -> None:
    run, task = running_import(tmp_path, f"{socket.gethostname()[:32]}:{dead_pid()}:gone")
    call_command("worker", "--batch")
    run.refresh_from_db()
    task.refresh_from_db()
    assert run.status == Import.Status.FAILED
    assert "The worker running this import stopped" in run.error
    assert run.finished_at is not None
    assert task.status == TaskResultStatus.FAILED


@pytest.mark.django_db
def test_imports_whose_worker_may_be_alive_are_left_running(tmp_path: Path) -> None:
    here, _task = running_import(tmp_path, workers.new_worker_id())  # this very process
    elsewhere, _other = running_import(tmp_path, "other-machine:1234:abc")
    # `kenal import FILE` runs in its own process, without a task.
    by_cli = prepared(tmp_path)
    Import.objects.filter(pk=by_cli.pk).update(status=Import.Status.RUNNING)
    assert workers.recover_abandoned_work() == 0
    for run in (here, elsewhere, by_cli):
        run.refresh_from_db()
        assert run.status == Import.Status.RUNNING


def test_the_worker_command_refuses_a_bad_interval() -> None:
    with pytest.raises(CommandError, match=r"--interval: 0\.0 must be more than 0 seconds"):
        call_command("worker", "--interval", "0")


# --- beside the web server --------------------------------------------------------------------


def kenal(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KENAL, *args], env=kenal_env(data_dir), capture_output=True, text=True, timeout=120
    )


def kenal_env(data_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("KENAL_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env.update(KENAL_DATA_DIR=str(data_dir), KENAL_DATABASE_URL="")
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


QUEUE_AN_IMPORT = """
from pathlib import Path
from kenal.ingest import services
run = services.prepare_import(Path({path!r}), services.ImportSetup(source="toko"))
services.queue_import(run)
"""


def test_kenal_serve_runs_queued_imports_in_its_worker(tmp_path: Path) -> None:
    """The console script, on a SQLite file in a fresh data folder (whatever the suite uses)."""
    data = tmp_path / "data"
    csv_file = write_csv(tmp_path / "pelanggan.csv", ROWS)
    assert kenal(data, "migrate", "-v", "0").returncode == 0
    queued = kenal(data, "shell", "-c", QUEUE_AN_IMPORT.format(path=str(csv_file)))
    assert queued.returncode == 0, queued.stderr
    assert "Waiting to run" in kenal(data, "import", "list").stdout

    server = subprocess.Popen(
        [KENAL, "serve", "--port", str(free_port()), "--no-migrate"],
        env=kenal_env(data),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        listing = ""
        deadline = time.monotonic() + 90
        while "Done" not in listing and time.monotonic() < deadline:
            time.sleep(0.5)
            listing = kenal(data, "import", "list").stdout
    finally:
        server.send_signal(signal.SIGINT)
        _out, errors = server.communicate(timeout=60)
    assert "Done" in listing, errors
    assert "created 2, updated 0, rejected 1" in listing
