"""Background work of imports, run by the database-backed worker (`kenal worker`)."""

from __future__ import annotations

from django_tasks import task

from kenal.ingest.models import Import


@task()
def run_import_task(import_id: int) -> None:
    from kenal.ingest.services import run_import

    run = Import.objects.get(pk=import_id)
    if run.status == Import.Status.QUEUED and not run.cancel_requested:
        run_import(run)
