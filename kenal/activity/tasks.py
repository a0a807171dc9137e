"""Background work of the activity app: the nightly move of the traits' time windows.

The worker (`kenal serve` or `kenal worker`) queues the first run when it starts; each run
queues the next, so one is always waiting, for the early hours when little else runs.
"""

from __future__ import annotations

import datetime

from django.utils import timezone
from django_tasks import task
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from kenal.activity import traits

__all__ = ["NIGHTLY_AT", "next_night", "refresh_traits_task", "schedule_nightly_refresh"]

NIGHTLY_AT = datetime.time(2, 0)


@task()
def refresh_traits_task() -> int:
    """Recompute the traits a new day changes, then queue tomorrow's run."""
    count = traits.refresh_moved_windows()
    schedule_nightly_refresh()
    return count


def next_night(now: datetime.datetime | None = None) -> datetime.datetime:
    """The next 02:00 in the server's time zone."""
    local = timezone.localtime(now)
    run = local.replace(hour=NIGHTLY_AT.hour, minute=NIGHTLY_AT.minute, second=0, microsecond=0)
    return run if run > local else run + datetime.timedelta(days=1)


def schedule_nightly_refresh() -> bool:
    """Queue the next nightly refresh unless one is already waiting; whether it queued one.

    (Run from the task itself, its own result is "running", not waiting.)
    """
    waiting = DBTaskResult.objects.filter(
        task_path=refresh_traits_task.module_path, status=TaskResultStatus.READY
    )
    if waiting.exists():
        return False
    refresh_traits_task.using(run_after=next_night()).enqueue()
    return True
