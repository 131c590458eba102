"""Turning rows of a file into prepared source records: pure work, run in parallel on big files.

Everything here is CPU work that needs no database (normalising, fingerprints, keyed hashes,
JSON text), so a large import spreads it over worker processes while the main process
writes the previous batch.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context

from cordee.collect.intake import normalise_fields
from cordee.collect.reader import Row
from cordee.customers.incoming import IncomingRecord

_MAX_ISSUE_CELL = 1_000
# The values of collect.models.IssueLevel; that module cannot be imported before the app
# registry is ready, which a freshly spawned worker is not when it unpickles its task.
ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class RowContext:
    """How to read this file's rows: picklable, sent once per batch to a worker."""

    headers: list[str]
    fields: list[tuple[str, int]]
    consents: list[tuple[str, int]]
    defaults: dict[str, str]


@dataclass
class Prepared:
    rows: int = 0
    records: list[IncomingRecord] = field(default_factory=list)
    # (line, level, field, message, cells or None)
    issues: list[tuple[int, str, str, str, list[str] | None]] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return sum(1 for issue in self.issues if issue[1] == ERROR)


def _issue(
    line: int, level: str, field_name: str, message: str, cells: list[str] | None
) -> tuple[int, str, str, str, list[str] | None]:
    kept = [c[:_MAX_ISSUE_CELL] for c in cells[:200]] if cells is not None else None
    return (line, level, field_name[:60], str(message)[:500], kept)


def prepare_rows(context: RowContext, rows: list[Row]) -> Prepared:
    out = Prepared(rows=len(rows))
    headers, field_items, consent_items, defaults = (
        context.headers,
        context.fields,
        context.consents,
        context.defaults,
    )
    for row in rows:
        cells = row.cells
        if row.error:
            out.issues.append(_issue(row.line, ERROR, "", row.error, cells))
            continue
        fields = {name: cells[index] for name, index in field_items}
        for name, value in defaults.items():
            if not fields.get(name):
                fields[name] = value
        consents = {slug: cells[index] for slug, index in consent_items} if consent_items else None
        result = normalise_fields(fields, consents)
        if result.error:
            out.issues.append(_issue(row.line, ERROR, "", result.error, cells))
            continue
        for field_name, message in result.warnings:
            out.issues.append(_issue(row.line, WARNING, field_name, message, None))
        raw = {h: c for h, c in zip(headers, cells, strict=False) if c}
        record = IncomingRecord(
            raw=raw, data=result.data, external_id=result.external_id, line=row.line
        )
        out.records.append(record.prepare())
    return out


def _worker_init() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordee.settings")
    import django

    django.setup()


def worker_count(size: int) -> int:
    """Worker processes for a file of ``size`` bytes: none for small files (start-up costs ~1 s)."""
    configured = os.environ.get("CORDEE_IMPORT_WORKERS")
    if configured is not None:
        return max(0, int(configured))
    if size < 8 * 1024 * 1024:
        return 0
    return min(4, os.cpu_count() or 1)


def prepare_all(
    context: RowContext, batches: Iterable[list[Row]], workers: int
) -> Iterator[Prepared]:
    """Prepared batches in file order; with workers, a few batches are prepared ahead."""
    if workers <= 0:
        for rows in batches:
            yield prepare_rows(context, rows)
        return
    # spawn, not fork: the import may run in a thread of the task worker, and forking a
    # threaded process can deadlock on locks held by other threads.
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context("spawn"), initializer=_worker_init
    ) as pool:
        pending: list[Future[Prepared]] = []
        ahead = workers + 1
        for rows in batches:
            pending.append(pool.submit(prepare_rows, context, rows))
            if len(pending) > ahead:
                yield pending.pop(0).result()
        while pending:
            yield pending.pop(0).result()
