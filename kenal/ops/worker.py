"""The background worker: runs the tasks waiting in the database queue (imports, later sends).

`kenal serve` runs one in a thread beside the web server; `kenal worker` runs one on its own.
Several may run at once, on one machine or several: each task is claimed by exactly one.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass

from django.db import DatabaseError, connections
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from kenal.activity.tasks import schedule_nightly_refresh

__all__ = [
    "BackgroundWorker",
    "make_worker",
    "recover_abandoned_work",
    "run_worker",
    "start_background_worker",
]

QUEUE = "default"
BACKEND = "default"
INTERVAL = 1.0  # seconds between looks at an empty queue
RETRY_PAUSE = 10.0  # seconds to wait after the database was unreachable
STOP_CHECK = 0.2  # seconds between looks at the stop flag while pausing
STOP_TIMEOUT = 10.0
IMPORT_TASK = "kenal.ingest.tasks.run_import_task"

logger = logging.getLogger(__name__)


class WorkerStopped(RuntimeError):
    """Recorded on a task whose worker process ended while it was running it."""


def new_worker_id() -> str:
    """Host and process id first, so a later worker can tell that this one has died."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{get_random_string(12)}"


def make_worker(*, batch: bool = False, interval: float = INTERVAL) -> Worker:
    """A worker for Kenal's queue; ``batch`` runs the waiting tasks, then returns."""
    return Worker(
        queue_names=[QUEUE],
        interval=interval,
        batch=batch,
        backend_name=BACKEND,
        startup_delay=False,
        max_tasks=None,
        worker_id=new_worker_id(),
        excluded_queue_names=[],
    )


def run_worker(worker: Worker) -> None:
    """Run ``worker`` in this thread until it is stopped (or, in batch mode, has no work)."""
    while True:
        try:
            _recover_and_run(worker)
            return
        except DatabaseError:
            # The database went away (restarted, network): the web server keeps serving, so
            # the worker waits and carries on rather than leaving the queue unattended.
            if worker.batch or not worker.running:
                raise
            logger.exception("The worker lost the database; retrying in %s s.", RETRY_PAUSE)
            connections.close_all()
            _pause(worker, RETRY_PAUSE)


def _recover_and_run(worker: Worker) -> None:
    recovered = recover_abandoned_work()
    if recovered:
        logger.warning("%d import(s) left running by a stopped worker marked failed.", recovered)
    if not worker.batch:
        schedule_nightly_refresh()
    worker.run()


def _pause(worker: Worker, seconds: float) -> None:
    """Sleep, but wake up within a moment when the worker is stopped."""
    deadline = time.monotonic() + seconds
    while worker.running and time.monotonic() < deadline:
        time.sleep(min(STOP_CHECK, seconds))


@dataclass
class BackgroundWorker:
    """A worker running in a daemon thread of this process."""

    worker: Worker
    thread: threading.Thread

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Let the current task finish, then stop (waiting at most ``timeout`` seconds)."""
        self.worker.running = False
        self.thread.join(timeout)


def _run_in_thread(worker: Worker) -> None:
    try:
        run_worker(worker)
    finally:
        # The thread's own connections: a test database, for one, cannot be dropped while open.
        connections.close_all()


def start_background_worker(interval: float = INTERVAL) -> BackgroundWorker:
    """Start a worker in a daemon thread, e.g. beside the web server."""
    worker = make_worker(interval=interval)
    thread = threading.Thread(
        target=_run_in_thread, args=(worker,), name="kenal-worker", daemon=True
    )
    thread.start()
    return BackgroundWorker(worker, thread)


# --- recovering after a crash ---------------------------------------------------------------


def recover_abandoned_work() -> int:
    """Fail what a worker that died (e.g. the server was restarted) left "running".

    A running task whose worker was a process on this machine that no longer exists is
    marked failed; then every import still "running" whose task is no longer running is
    marked failed with a message, so its page stops waiting. Returns the imports failed.
    """
    for result in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING):
        if result.worker_ids and _worker_gone(result.worker_ids[-1]):
            result.set_failed(WorkerStopped(f"worker {result.worker_ids[-1]} is gone"))
    return _fail_orphaned_imports()


def _worker_gone(worker_id: str) -> bool:
    """Whether the worker was a process on this machine that has ended.

    Workers of other machines, or with ids of another shape, are taken to be alive.
    """
    host, _sep, rest = worker_id.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname()[:32] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False  # another thread of this process is running it
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, under another user
        return False
    return False


def _fail_orphaned_imports() -> int:
    from kenal.ingest.models import Import

    failed = 0
    for run in Import.objects.filter(status=Import.Status.RUNNING):
        tasks = DBTaskResult.objects.filter(task_path=IMPORT_TASK, args_kwargs__args__0=run.pk)
        # Imports without a task were run by `kenal import` in its own process: not ours to judge.
        if tasks.exists() and not tasks.filter(status=TaskResultStatus.RUNNING).exists():
            failed += Import.objects.filter(pk=run.pk, status=Import.Status.RUNNING).update(
                status=Import.Status.FAILED,
                finished_at=timezone.now(),
                error=_(
                    "The worker running this import stopped (was the server restarted?). "
                    "The rows written until then are kept: revert the import, or import the "
                    "file again — rows already imported are matched, not duplicated."
                ),
            )
    return failed
