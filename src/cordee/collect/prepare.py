"""Turning rows of a file into prepared source records: pure work, run in parallel on big files.

Everything here is CPU work that needs no database (normalising, fingerprints, keyed hashes,
JSON text), so a large import spreads it over worker processes while the main process
writes the previous batch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

from cordee.collect.intake import normalise_fields
from cordee.collect.reader import Row
from cordee.customers.incoming import IncomingRecord
from cordee.privacy.encryption import sealer

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
    # Format each record's rows in PostgreSQL's COPY text format here, not in the writer.
    copy_text: bool = False


@dataclass
class Prepared:
    rows: int = 0
    records: list[IncomingRecord] = field(default_factory=list)
    # (line, level, field, message, cells or None)
    issues: list[tuple[int, str, str, str, list[str] | None]] = field(default_factory=list)
    # The records in transit from a worker process, as plain tuples (see _pack).
    packed: list[tuple[Any, ...]] | None = None

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
    headers, field_items, consent_items, defaults, copy_text = (
        context.headers,
        context.fields,
        context.consents,
        context.defaults,
        context.copy_text,
    )
    seal = sealer()  # the current key, looked up once per batch
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
        # The customer this record would create alone is computed here too: most new
        # customers have one record in their batch, and the writer then only adds ids.
        out.records.append(record.prepare(golden=True, copy_text=copy_text, seal=seal))
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


# What crosses from a worker to the writer for a record prepared with copy_text is only
# what source_records_attach reads on PostgreSQL, as a plain tuple: pickling it costs a
# fraction of pickling the record (raw dict, JSON text twice, golden tuple).
def _prepare_in_worker(
    context: RowContext, rows: list[tuple[int, list[str], str | None]]
) -> Prepared:
    prepared = prepare_rows(context, [Row(line, cells, error) for line, cells, error in rows])
    if context.copy_text:
        prepared.packed = [
            (r.external_id, r.line, r.data, r.fingerprint, r.email_hash, r.phone_hash,
             r.golden_fields, r.copy_tail, r.golden_copy)
            for r in prepared.records
        ]  # fmt: skip
    else:
        prepared.packed = [
            (r.external_id, r.line, r.data, r.fingerprint, r.email_hash, r.phone_hash,
             r.golden_fields, r.raw_json, r.data_json, r.golden)
            for r in prepared.records
        ]  # fmt: skip
    prepared.records = []
    return prepared


def _unpack(prepared: Prepared) -> Prepared:
    """Records good for source_records_attach (their raw content is in its JSON text only)."""
    if prepared.packed is None:
        return prepared
    records = []
    for external_id, line, data, fp, email, phone, fields, *text in prepared.packed:
        record = IncomingRecord(raw={}, data=data, external_id=external_id, line=line)
        record.fingerprint, record.email_hash, record.phone_hash = fp, email, phone
        record.golden_fields = fields
        if len(text) == 2:
            record.copy_tail, record.golden_copy = text
            record.golden = ()  # only golden_copy is used on this path
        else:
            record.raw_json, record.data_json, record.golden = text
        records.append(record)
    prepared.records, prepared.packed = records, None
    return prepared


def prepare_all(
    context: RowContext, batches: Iterable[list[Row]], workers: int
) -> Iterator[Prepared]:
    """Prepared batches in file order; with workers, a few batches are prepared ahead."""
    if workers <= 0:
        for rows in batches:
            yield prepare_rows(context, rows)
        return
    for _rows, prepared in in_workers(_prepare_in_worker, context, batches, workers):
        yield _unpack(prepared)


class WorkerLost(Exception):
    """A worker process stopped (killed, out of memory) before it returned its batch."""


PlainRows = list[tuple[int, list[str], str | None]]


def in_workers[C, R](
    work: Callable[[C, PlainRows], R],
    context: C,
    batches: Iterable[list[Row]],
    workers: int,
) -> Iterator[tuple[list[Row], R]]:
    """Each batch of rows with what ``work`` made of it, in file order.

    ``work`` is pure CPU work (no database) on the rows as plain tuples, given the same
    ``context`` each time; both must be picklable (``work`` a module-level function). With
    ``workers``, it runs in that many processes, a few batches ahead of the caller, which
    writes meanwhile; without, in this process. A worker that dies raises
    :class:`WorkerLost` where its batch was awaited: the batches returned before it are
    whole, those after it are not returned.
    """
    if workers <= 0:
        for rows in batches:
            yield rows, work(context, [(row.line, row.cells, row.error) for row in rows])
        return
    # spawn, not fork: the import may run in a thread of the task worker, and forking a
    # threaded process can deadlock on locks held by other threads.
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context("spawn"), initializer=_worker_init
    ) as pool:
        pending: list[tuple[list[Row], Future[R]]] = []
        ahead = workers + 1
        waiting: list[Row] = []  # the oldest batch not returned yet
        try:
            for rows in batches:
                plain = [(row.line, row.cells, row.error) for row in rows]
                pending.append((rows, pool.submit(work, context, plain)))
                if len(pending) > ahead:
                    waiting, future = pending[0]
                    done = future.result()
                    pending.pop(0)
                    yield waiting, done
            while pending:
                waiting, future = pending[0]
                done = future.result()
                pending.pop(0)
                yield waiting, done
        except BrokenProcessPool as exc:
            oldest = pending[0][0] if pending else waiting
            raise WorkerLost(oldest[0].line if oldest else None) from exc
