from __future__ import annotations

from django.tasks import task

from cordee.customers.resolution import resolution_run


@task()
def resolve_run(full: bool = False) -> int:
    """Batch identity resolution in the background (e.g. after an import); the run's id."""
    return resolution_run(full=full).pk
