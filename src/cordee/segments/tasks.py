from __future__ import annotations

from django.tasks import task

from cordee.segments.services import stats_refresh


@task()
def segments_refresh(train: bool = True) -> dict[str, float]:
    """The periodic recomputation of aggregates, RFM, 3F and churn risk (idempotent)."""
    return stats_refresh(train=train).seconds
