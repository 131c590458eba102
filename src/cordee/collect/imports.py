"""Importing a partner's customer file: read → recognise columns → normalise → attach.

The file is read in batches; each batch is one transaction, so a long import shows its
progress, an interruption keeps what was done, and running the same file again skips the
lines already received (the source records' fingerprints) — it resumes.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.collect.columns import Mapping, looks_like_header, recognise
from cordee.collect.models import ImportBatch, ImportIssue, ImportStatus, IssueLevel
from cordee.collect.prepare import Prepared, RowContext, prepare_all, worker_count
from cordee.collect.reader import UnreadableFile, header_notes, open_table
from cordee.core.bulk import bulk_insert
from cordee.customers.models import Channel
from cordee.customers.services import source_records_attach
from cordee.partners.models import Partner, PartnerKind, User
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log
from cordee.privacy.services import consents_record_from_new_sources

logger = logging.getLogger(__name__)

BATCH_SIZE = 20_000
# Warnings beyond this many per import are counted, not stored one by one.
MAX_STORED_WARNINGS = 100_000
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

Progress = Callable[[ImportBatch], None]


def import_batch_create(
    *,
    partner: Partner,
    source: Path,
    filename: str,
    actor: Actor,
    mapping: Mapping | None = None,
    dry_run: bool = False,
    move: bool = False,
) -> ImportBatch:
    """Register an import and keep a copy of the file under CORDEE_HOME until it has run."""
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            partner=partner,
            created_by=actor.user if isinstance(actor.user, User) else None,
            filename=filename[:255],
            size=source.stat().st_size,
            dry_run=dry_run,
            mapping={"columns": mapping.columns, "defaults": mapping.defaults} if mapping else None,
        )
        folder = settings.CORDEE_HOME / "uploads" / "imports"
        folder.mkdir(parents=True, exist_ok=True)
        safe = _UNSAFE_NAME.sub("_", Path(filename).name)[-80:] or "fichier"
        target = folder / f"{batch.pk}-{safe}"
        if move:
            shutil.move(source, target)
        else:
            shutil.copyfile(source, target)
        batch.stored_path = str(target)
        batch.save(update_fields=["stored_path"])
        audit_log(
            actor=actor,
            action="import.dry_run" if dry_run else "import.create",
            obj=batch,
            partner=partner.slug,
            size=batch.size,
        )
    return batch


def import_batch_run(*, batch_id: int, progress: Progress | None = None) -> ImportBatch:
    """Run a registered import to the end. Safe to call twice: only one run claims it."""
    claimed = ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.PENDING).update(
        status=ImportStatus.RUNNING, started_at=timezone.now()
    )
    batch = ImportBatch.objects.select_related("partner").get(pk=batch_id)
    if not claimed:
        return batch
    try:
        _run(batch, progress)
    except UnreadableFile as exc:
        _fail(batch, str(exc.message))
    except Exception:
        logger.exception("import %s failed", batch.pk)
        _fail(batch, _("Erreur interne pendant l'import ; les lots déjà traités sont conservés."))
        raise
    finally:
        if not batch.dry_run or batch.status == ImportStatus.FAILED:
            _discard_file(batch)
    return batch


def _fail(batch: ImportBatch, message: str) -> None:
    batch.status = ImportStatus.FAILED
    batch.error = message
    batch.finished_at = timezone.now()
    batch.save(update_fields=["status", "error", "finished_at"])


def _discard_file(batch: ImportBatch) -> None:
    # The uploaded file holds personal data: once its lines are source records, it goes.
    if batch.stored_path:
        Path(batch.stored_path).unlink(missing_ok=True)


def _mapping_of(batch: ImportBatch) -> Mapping | None:
    if not batch.mapping:
        return None
    return Mapping(
        columns=batch.mapping.get("columns", {}), defaults=batch.mapping.get("defaults", {})
    )


def _unique_headers(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    unique = []
    for header in headers:
        count = seen.get(header, 0) + 1
        seen[header] = count
        unique.append(header if count == 1 else f"{header} ({count})")
    return unique


def _run(batch: ImportBatch, progress: Progress | None) -> None:
    mapping = _mapping_of(batch)
    with open_table(
        batch.stored_path,
        filename=batch.filename,
        is_header=partial(looks_like_header, mapping=mapping),
    ) as table:
        plan = recognise(table.headers, mapping)
        batch.file_format = table.format
        batch.encoding = table.encoding or ""
        batch.delimiter = table.delimiter or ""
        batch.columns = [[header, canonical] for header, canonical in plan.describe()]
        batch.column_warnings = [str(w) for w in plan.warnings]
        batch.column_warnings[:0] = header_notes(table)
        batch.save(
            update_fields=["file_format", "encoding", "delimiter", "columns", "column_warnings"]
        )
        if plan.consents and not Partner.objects.filter(kind=PartnerKind.HUB).exists():
            # Consents for the destination's own purposes are given to the tourist office:
            # without it they could not be recorded, and a consent is never dropped silently.
            raise UnreadableFile(
                _(
                    "Ce fichier contient des consentements mais aucun office de tourisme n'est "
                    "configuré. Créez-le d'abord (cordee partner add office --name … --kind hub)."
                )
            )
        if not plan.fields and not plan.consents:
            raise UnreadableFile(
                _(
                    "Aucune colonne reconnue (en-têtes : %(headers)s). "
                    "Renommez les colonnes ou fournissez un fichier de correspondance."
                )
                % {"headers": ", ".join(table.headers[:10])}
            )
        context = RowContext(
            headers=_unique_headers(table.headers),
            fields=list(plan.fields.items()),
            consents=list(plan.consents.items()),
            defaults=mapping.defaults if mapping else {},
            copy_text=connection.vendor == "postgresql",
        )
        stored_warnings = 0
        workers = worker_count(batch.size)
        for prepared in prepare_all(context, table.batches(BATCH_SIZE), workers):
            stored_warnings = _store(batch, prepared, stored_warnings)
            if progress:
                progress(batch)
    batch.refresh_from_db()
    batch.status = ImportStatus.DONE
    batch.finished_at = timezone.now()
    batch.save(update_fields=["status", "finished_at"])
    if progress:
        progress(batch)


def _store(batch: ImportBatch, prepared: Prepared, stored_warnings: int) -> int:
    """Write one prepared batch in one transaction and add it to the report."""
    issues = []
    warnings = 0
    for line, level, field_name, message, cells in prepared.issues:
        if level == IssueLevel.WARNING:
            warnings += 1
            if stored_warnings >= MAX_STORED_WARNINGS:
                continue
            stored_warnings += 1
        issues.append((batch.pk, line, level, field_name, message, cells))
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Each batch's commit does not wait for its WAL to reach the disk. A crash (of
            # the server, not of this process) may lose the last few committed batches —
            # never half of one, and never the database's consistency — and running the
            # import again resumes: the fingerprints skip the lines already stored.
            with connection.cursor() as cur:
                cur.execute("SET LOCAL synchronous_commit = off")
                # The batch's statements are short: compiling them (JIT) costs more than it saves.
                cur.execute("SET LOCAL jit = off")
        attached = source_records_attach(
            partner=batch.partner,
            channel=Channel.IMPORT,
            records=prepared.records,
            batch_id=batch.pk,
            dry_run=batch.dry_run,
        )
        if attached.source_record_ids:
            # The consents the new source records carry, handed over rather than read back.
            records, owners = prepared.records, attached.customer_ids
            received = attached.received_at
            assert received is not None
            consents_record_from_new_sources(
                records=[
                    (source_id, owners[i], batch.partner_id, records[i].collected_at or received,
                     consents, records[i].email_hash, records[i].phone_hash)
                    for i, source_id in zip(
                        attached.source_record_indexes, attached.source_record_ids, strict=True
                    )
                    if (consents := records[i].data.get("consents"))
                ],
                channel=Channel.IMPORT,
                actor=Actor.system(f"import:{batch.pk}"),
                new_customers=set(attached.new_customer_ids),
            )  # fmt: skip
        bulk_insert(ImportIssue, ("batch", "line", "level", "field", "message", "cells"), issues)
        ImportBatch.objects.filter(pk=batch.pk).update(
            lines_read=F("lines_read") + prepared.rows,
            accepted=F("accepted") + len(prepared.records),
            rejected=F("rejected") + prepared.rejected,
            warnings=F("warnings") + warnings,
            unchanged=F("unchanged") + attached.unchanged,
            customers_created=F("customers_created") + attached.created,
            customers_matched=F("customers_matched") + attached.matched,
        )
    batch.refresh_from_db(fields=list(_COUNTERS))
    return stored_warnings


_COUNTERS = (
    "lines_read",
    "accepted",
    "rejected",
    "warnings",
    "unchanged",
    "customers_created",
    "customers_matched",
)
