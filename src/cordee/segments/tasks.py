from __future__ import annotations

from django.tasks import task

from cordee.segments.services import stats_refresh


@task()
def segments_refresh(train: bool = True) -> dict[str, float]:
    """The periodic recomputation of aggregates, RFM, 3F and churn risk (idempotent)."""
    return stats_refresh(train=train).seconds


@task()
def segments_refresh_stale() -> int:
    """Recompute the aggregates of the customers marked stale (cordee.segments.refresh)."""
    from cordee.segments.refresh import stats_refresh_stale

    return stats_refresh_stale()
