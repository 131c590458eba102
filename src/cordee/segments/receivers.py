"""Keep the per-customer aggregates current when activities or customers change.

The senders fire after their transaction has committed (cordee.core.signals), with the ids
concerned; the work is set-based over those ids.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from cordee.core.signals import (
    activities_changed,
    activities_written,
    customers_changed,
    customers_merged,
)


@receiver(activities_written)
def _activities_written(sender: Any, customer_ids: list[int], **kwargs: Any) -> None:
    # With a worker, the customers are marked stale in the write's own transaction.
    from cordee.segments.refresh import deferred, stats_mark_stale

    if deferred():
        stats_mark_stale(customer_ids)


@receiver(activities_changed)
def _activities_changed(
    sender: Any, customer_ids: list[int], stale_marked: bool = False, **kwargs: Any
) -> None:
    # At once without a worker; with one, marked stale and flushed in batches.
    from cordee.segments.refresh import stats_changed

    stats_changed(list(customer_ids), marked=stale_marked)


@receiver(customers_changed)
def _customers_changed(sender: Any, customer_ids: list[int], **kwargs: Any) -> None:
    # A new customer gets its (empty) row, so that "prospect" and zero counts are findable.
    from cordee.segments.aggregates import chunks, stats_rows_ensure

    for part in chunks(sorted({int(i) for i in customer_ids})):
        stats_rows_ensure(part)


@receiver(customers_merged)
def _customers_merged(sender: Any, survivor_id: int, **kwargs: Any) -> None:
    from cordee.segments.services import stats_refresh_customers

    stats_refresh_customers([survivor_id])
