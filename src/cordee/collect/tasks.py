from __future__ import annotations

from django.tasks import task

from cordee.collect.imports import import_batch_run


@task()
def import_run(batch_id: int) -> None:
    """Run a registered import in the background; the import page follows its progress."""
    import_batch_run(batch_id=batch_id)
