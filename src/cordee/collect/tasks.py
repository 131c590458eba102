from __future__ import annotations

from django.conf import settings
from django.tasks import task

from cordee.collect.imports import import_batch_run
from cordee.collect.models import ImportStatus


@task()
def import_run(batch_id: int) -> None:
    """Run a registered import in the background; the import page follows its progress.

    Then, unless ``CORDEE_RESOLVE_AFTER_IMPORT`` is off, the identity resolution looks at
    what the file brought (merges, review queue, households) as another background task.
    """
    batch = import_batch_run(batch_id=batch_id)
    if (
        settings.CORDEE_RESOLVE_AFTER_IMPORT
        and not batch.dry_run
        and batch.status == ImportStatus.DONE
        and (batch.customers_created or batch.customers_matched)
    ):
        from cordee.customers.tasks import resolve_run

        resolve_run.enqueue()
