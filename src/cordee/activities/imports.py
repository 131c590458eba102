"""Importing a partner's activity file: read → recognise columns → clean → find the customer → write.

The same reader and report as customer files (an ``ImportBatch`` with its ``ImportIssue``
lines), marked as an activity import. Each batch of lines is one transaction; a line that
cannot be read or whose customer cannot be found is reported with its number and reason,
the others go in. Running the same file again creates nothing new: each line's reference
(or, without one, the line's own content) identifies the activity.

On a large file the lines are read and cleaned in worker processes, as customer files are
(``collect.prepare.in_workers``), while this process finds the customers and writes the
previous batch.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.activities.columns import looks_like_activity_header, recognise_activity_columns
from cordee.activities.joins import Keys, card_digits, customers_find
from cordee.activities.models import ActivityImport, ActivityKind
from cordee.activities.services import NewActivity, activities_record_bulk, copy_middle
from cordee.activities.values import activity_values
from cordee.collect import normalise as norm
from cordee.collect.imports import import_batch_create
from cordee.collect.intake import clean_text
from cordee.collect.models import ImportBatch, ImportIssue, ImportStatus, IssueLevel
from cordee.collect.prepare import PlainRows, WorkerLost, in_workers, worker_count
from cordee.collect.reader import Row, UnreadableFile, header_notes, open_table
from cordee.core.bulk import bulk_insert, gc_paused
from cordee.customers.models import Channel
from cordee.partners.models import Partner
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log

logger = logging.getLogger(__name__)

BATCH_SIZE = 20_000
_MAX_ISSUE_CELL = 1_000
Progress = Callable[[ImportBatch], None]


def activity_import_create(
    *,
    partner: Partner,
    source: Path,
    filename: str,
    actor: Actor,
    default_kind: str = "",
    dry_run: bool = False,
    move: bool = False,
) -> ImportBatch:
    """Register an activity import (the file is kept under CORDEE_HOME until it has run)."""
    if default_kind and default_kind not in ActivityKind.values:
        raise ValueError(default_kind)
    with transaction.atomic():
        batch = import_batch_create(
            partner=partner,
            source=source,
            filename=filename,
            actor=actor,
            dry_run=dry_run,
            move=move,
        )
        ActivityImport.objects.create(batch=batch, default_kind=default_kind)
    return batch


def activity_import_run(*, batch_id: int, progress: Progress | None = None) -> ImportBatch:
    """Run a registered activity import to the end. Safe to call twice: one run claims it."""
    claimed = ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.PENDING).update(
        status=ImportStatus.RUNNING, started_at=timezone.now()
    )
    batch = ImportBatch.objects.select_related("partner", "activity_import").get(pk=batch_id)
    if not claimed:
        return batch
    try:
        _run(batch, progress)
    except UnreadableFile as exc:
        _fail(batch, str(exc.message))
    except WorkerLost as exc:
        logger.exception("activity import %s: a worker process stopped", batch.pk)
        batch.refresh_from_db(fields=["lines_read"])
        _fail(
            batch,
            _(
                "Un processus de lecture du fichier s'est arrêté à la ligne %(line)s. Les "
                "%(done)s premières lignes sont enregistrées ; importez de nouveau le fichier "
                "pour la suite : les activités déjà enregistrées ne seront pas comptées deux fois."
            )
            % {"line": exc.args[0] or "?", "done": batch.lines_read},
        )
    except Exception:
        logger.exception("activity import %s failed", batch.pk)
        _fail(batch, _("Erreur interne pendant l'import ; les lots déjà traités sont conservés."))
        raise
    finally:
        if batch.stored_path and (not batch.dry_run or batch.status == ImportStatus.FAILED):
            Path(batch.stored_path).unlink(missing_ok=True)
    return batch


def _fail(batch: ImportBatch, message: str) -> None:
    batch.status = ImportStatus.FAILED
    batch.error = message
    batch.finished_at = timezone.now()
    batch.save(update_fields=["status", "error", "finished_at"])


def _run(batch: ImportBatch, progress: Progress | None) -> None:
    marker = batch.activity_import
    with open_table(
        batch.stored_path, filename=batch.filename, is_header=looks_like_activity_header
    ) as table:
        plan = recognise_activity_columns(table.headers)
        batch.file_format = table.format
        batch.encoding = table.encoding or ""
        batch.delimiter = table.delimiter or ""
        batch.columns = [[header, name] for header, name in plan.describe()]
        batch.column_warnings = plan.warnings
        batch.column_warnings[:0] = header_notes(table)
        batch.save(
            update_fields=["file_format", "encoding", "delimiter", "columns", "column_warnings"]
        )
        problems = plan.problems(default_kind=marker.default_kind or None)
        if problems:
            raise UnreadableFile(
                _(
                    "Ce fichier ne peut pas être importé comme activités : %(why)s. En-têtes : %(headers)s."
                )
                % {"why": " ; ".join(problems), "headers": ", ".join(table.headers[:12])}
            )
        context = LineContext(
            fields=list(plan.fields.items()),
            default_kind=marker.default_kind or None,
            copy_text=connection.vendor == "postgresql",
        )
        workers = worker_count(batch.size)
        for rows, prepared in in_workers(
            activity_lines_prepare, context, table.batches(BATCH_SIZE), workers
        ):
            with gc_paused():
                _store(batch, marker, rows, prepared)
            if progress:
                progress(batch)
    batch.status = ImportStatus.DONE
    batch.finished_at = timezone.now()
    batch.save(update_fields=["status", "finished_at"])
    if progress:
        progress(batch)


def _cells(row: Row) -> list[str]:
    return [c[:_MAX_ISSUE_CELL] for c in row.cells]


def _keys(raw: dict[str, str]) -> tuple[Keys, str | None]:
    # ``raw`` holds the non-empty cells only: a key that is absent is not read at all.
    ref, card = raw.get("customer_ref"), raw.get("card_number")
    keys = Keys(
        customer_ref=clean_text(ref, 100) if ref else "",
        card_number=card_digits(card)[:20] if card else "",
    )
    email, phone = raw.get("email"), raw.get("phone")
    if email:
        try:
            keys.email = norm.email(email) or ""
        except norm.InvalidValue as exc:
            if not keys.any() and not phone:
                return keys, str(exc.message)
    if phone:
        try:
            keys.phone = norm.phone(phone) or ""
        except norm.InvalidValue as exc:
            if not keys.any():
                return keys, str(exc.message)
    return keys, None


def _line_reference(raw: dict[str, str]) -> str:
    """A reference for a line that has none: the same line imported again is recognised."""
    text = "\x1f".join(f"{k}={raw[k]}" for k in sorted(raw))
    return "L:" + hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


@dataclass(frozen=True)
class LineContext:
    """How to read this file's lines: picklable, sent with each batch to a worker."""

    fields: list[tuple[str, int]]
    default_kind: str | None
    # PostgreSQL: each line's COPY text is made with its values (services.copy_middle).
    copy_text: bool = False


@dataclass
class PreparedLines:
    errors: list[tuple[int, str]] = field(default_factory=list)  # (index in batch, reason)
    # (index in batch, cleaned values, customer keys, COPY text or None)
    lines: list[tuple[int, dict[str, Any], Keys, str | None]] = field(default_factory=list)


def activity_lines_prepare(context: LineContext, rows: PlainRows) -> PreparedLines:
    """Read and clean a batch of lines: no database, so it runs in the worker processes."""
    out = PreparedLines()
    positions, default_kind, copy_text = context.fields, context.default_kind, context.copy_text
    for index, (_line, cells, error) in enumerate(rows):
        if error:
            out.errors.append((index, error))
            continue
        raw = {name: cells[i] for name, i in positions if i < len(cells) and cells[i]}
        if "reference" in raw:
            raw["external_id"] = raw.pop("reference")
        cleaned = activity_values(raw, default_kind=default_kind)
        found_keys, key_error = _keys(raw)
        if not cleaned.ok or key_error:
            out.errors.append((index, (cleaned.message() if not cleaned.ok else key_error) or ""))
            continue
        if not cleaned.values.get("external_id"):
            cleaned.values["external_id"] = _line_reference(raw)
        values = cleaned.values
        out.lines.append((index, values, found_keys, copy_middle(values) if copy_text else None))
    return out


def _store(
    batch: ImportBatch, marker: ActivityImport, rows: list[Row], prepared: PreparedLines
) -> None:
    issues: list[tuple[int, int, str, str, str, list[str] | None]] = [
        (batch.pk, rows[i].line, IssueLevel.ERROR, "", message[:500], _cells(rows[i]))
        for i, message in prepared.errors
    ]
    found = customers_find(
        partner=batch.partner, keys=[keys for _i, _v, keys, _text in prepared.lines]
    )
    items: list[NewActivity] = []
    unmatched = 0
    for (index, values, _found_keys, text), who in zip(prepared.lines, found, strict=True):
        if who.customer_id is None:
            unmatched += 1
            row = rows[index]
            issues.append((batch.pk, row.line, IssueLevel.ERROR, "", who.reason[:500], _cells(row)))
            continue
        items.append(
            NewActivity(
                customer_id=who.customer_id,
                values=values,
                source_record_id=who.source_record_id,
                copy_text=text,
            )
        )
    actor = Actor.system(f"import:{batch.pk}")
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # As for customer files: a crash may lose the last batches, never half of one,
            # and running the file again resumes (references skip what is stored).
            with connection.cursor() as cur:
                cur.execute("SET LOCAL synchronous_commit = off")
        if batch.dry_run:
            with transaction.atomic():
                written = activities_record_bulk(
                    partner=batch.partner, items=items, actor=actor, channel=Channel.IMPORT,
                    batch_id=batch.pk, audit=False,
                )  # fmt: skip
                transaction.set_rollback(True)
        else:
            written = activities_record_bulk(
                partner=batch.partner, items=items, actor=actor, channel=Channel.IMPORT,
                batch_id=batch.pk, audit=False,
            )  # fmt: skip
        bulk_insert(ImportIssue, ("batch", "line", "level", "field", "message", "cells"), issues)
        counts = written.counts()
        unchanged = counts["unchanged"] + counts["duplicate"]
        ImportBatch.objects.filter(pk=batch.pk).update(
            lines_read=F("lines_read") + len(rows),
            accepted=F("accepted") + len(items),
            rejected=F("rejected") + len(issues),
            unchanged=F("unchanged") + unchanged,
            customers_matched=F("customers_matched") + len(items),
            bytes_done=F("bytes_done") + sum([sum(map(len, r.cells)) for r in rows]),
        )
        ActivityImport.objects.filter(pk=marker.pk).update(
            unmatched=F("unmatched") + unmatched, updated=F("updated") + counts["updated"]
        )
        if not batch.dry_run:
            audit_log(
                actor=actor,
                action="activity.import",
                obj=batch,
                partner=batch.partner.slug,
                lines=len(rows),
                created=counts["created"],
                updated=counts["updated"],
                unchanged=unchanged,
                rejected=len(issues),
            )
    batch.refresh_from_db(
        fields=[
            "lines_read",
            "accepted",
            "rejected",
            "unchanged",
            "customers_matched",
            "bytes_done",
        ]
    )
