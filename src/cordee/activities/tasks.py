from __future__ import annotations

from django.tasks import task

from cordee.activities.imports import activity_import_run


@task()
def activity_import_task(batch_id: int) -> None:
    """Run a registered activity import in the background; the import page follows it."""
    activity_import_run(batch_id=batch_id)
