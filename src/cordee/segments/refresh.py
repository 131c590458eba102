"""Keeping the per-customer aggregates current after activities change, in batches.

Recomputing a customer's aggregates (season stats, typology of every typology season, churn
risk, customer stats) is some twenty statements. Done inside every API call that records an
activity it cost 60 % of the call, and two calls refreshing the same customer at once
collided on the aggregates' unique keys. So, with a background worker (Huey):

1. the customers are marked stale: one ``INSERT`` into ``segments_stalestats``, inside
   the transaction that writes the activities (``activities_written``) — or, for the
   senders of ``activities_changed`` alone (merges), just after their commit;
2. the first mark of a process in a window of :data:`FLUSH_DELAY` seconds schedules a
   flush for the window's end, in the worker; later marks in the window ride along;
3. the flush reads the committed marks, recomputes those customers and deletes the marks
   it read, in one transaction — a failure leaves them marked for the next run.

Every refresh holds one advisory lock (PostgreSQL): refreshes never run side by side, so
they cannot collide. A mark made while a flush runs stays for the next flush, which its
own schedule (or the worker's every-minute sweep) brings; writers never wait for a flush. The aggregates
therefore lag the activities by about :data:`FLUSH_DELAY` seconds. Without a worker (tests,
one-off commands: the immediate task backend) the receiver refreshes at once, as before.
"""

# SQL here is assembled from table names and fixed fragments; values travel as parameters.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction

from cordee.core.prepared import prepared_cursor
from cordee.segments.aggregates import CHUNK, chunks
from cordee.segments.models import StaleStats

FLUSH_DELAY = 1.0  # seconds
# pg_advisory_xact_lock's key for "refreshing aggregates" ('cord' in ASCII).
LOCK_KEY = 0x636F7264

_schedule_lock = threading.Lock()
_window_ends = 0.0


def deferred() -> bool:
    """Whether a background worker runs the flushes (else refreshes happen at once)."""
    return "HueyBackend" in settings.TASKS["default"]["BACKEND"]


def refresh_lock() -> None:
    """Serialise refreshes of aggregates (call inside their transaction)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def _table() -> str:
    return str(connection.ops.quote_name(StaleStats._meta.db_table))


def stats_mark_stale(customer_ids: Iterable[int]) -> None:
    """Mark these customers' aggregates for the next flush (one statement, never waits)."""
    ids = sorted({int(i) for i in customer_ids})
    if not ids:
        return
    with prepared_cursor() as cur:
        if connection.vendor == "postgresql":  # one array literal, however many ids
            cur.execute(
                f"INSERT INTO {_table()} (customer_id) SELECT unnest(%s::bigint[])",
                ["{" + ",".join(map(str, ids)) + "}"],
            )
            return
        for part in chunks(ids):
            rows = ", ".join(["(%s)"] * len(part))
            cur.execute(f"INSERT INTO {_table()} (customer_id) VALUES {rows}", part)


def stats_refresh_stale(limit: int = 4 * CHUNK) -> int:
    """Recompute every customer marked stale; returns how many refreshes were made.

    Each round reads up to ``limit`` committed marks, recomputes their customers and deletes
    exactly those marks, in one transaction: the activities behind a mark committed with it,
    before this round read it, so the recomputation sees them; a mark committed meanwhile is
    not deleted and waits for the next round.
    """
    from cordee.segments.services import stats_refresh_part

    done = 0
    while True:
        with transaction.atomic():
            refresh_lock()
            with connection.cursor() as cur:
                cur.execute(f"SELECT id, customer_id FROM {_table()} ORDER BY id LIMIT %s", [limit])
                marks = cur.fetchall()
            if not marks:
                return done
            customers = sorted({int(customer_id) for _id, customer_id in marks})
            for part in chunks(customers):
                stats_refresh_part(part)
            ids = [int(mark_id) for mark_id, _customer in marks]
            with connection.cursor() as cur:
                for part in chunks(ids):
                    cur.execute(
                        f"DELETE FROM {_table()} WHERE id IN ({', '.join(['%s'] * len(part))})",
                        part,
                    )
        done += len(customers)


def stats_changed(customer_ids: list[int], *, marked: bool = False) -> None:
    """What ``activities_changed`` does: refresh now, or mark (unless the write's
    transaction did) and schedule a flush."""
    if not deferred():
        from cordee.segments.services import stats_refresh_customers

        stats_refresh_customers(customer_ids)
        return
    if not marked:
        stats_mark_stale(customer_ids)
    _schedule_flush()


def _schedule_flush() -> None:
    global _window_ends
    now = time.time()
    with _schedule_lock:
        if now < _window_ends:
            return  # the flush already scheduled for this window's end will see the mark
        _window_ends = now + FLUSH_DELAY
        at = dt.datetime.fromtimestamp(_window_ends, dt.UTC)
    from cordee.segments.tasks import segments_refresh_stale

    segments_refresh_stale.using(run_after=at).enqueue()


def register_sweep() -> None:
    """Every minute the worker flushes what is left (a process stopped before scheduling)."""
    if not deferred():
        return
    from huey import crontab

    from cordee.core.tasks_backend import get_huey

    def sweep() -> None:
        stats_refresh_stale()

    get_huey().periodic_task(crontab(minute="*"), name="cordee.segments_stale_sweep")(sweep)
