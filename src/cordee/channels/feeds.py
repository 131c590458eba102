"""Partner drop folders: a partner without a developer drops its nightly export, Cordée imports it.

CORDEE_HOME/feeds/<partner slug>/
    incoming/     the partner (or its SFTP account) drops files here
    done/         each imported file, with <name>.report.txt beside it
    quarantine/   a file that could not be imported, with <name>.txt saying why

A file is taken only once it has stopped changing (its last change older than
CORDEE_FEED_SETTLE_SECONDS), so a file still being written is left for the next poll. The
same content dropped twice (SHA-256) is moved to done/ with a report saying so, and imports
nothing. Files in done/ and quarantine/ hold personal data: they go after CORDEE_FEED_KEEP_DAYS.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cordee.channels.models import FeedFile, FeedStatus
from cordee.collect.imports import import_batch_create, import_batch_run
from cordee.collect.models import ImportBatch, ImportStatus
from cordee.partners.models import Partner
from cordee.privacy.access import Actor

logger = logging.getLogger(__name__)

ACCEPTED_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xls", ".ods"}
_IGNORED_PREFIXES = (".", "~")
_IGNORED_SUFFIXES = (".part", ".tmp", ".partial", ".filepart", ".crdownload")


def feeds_root() -> Path:
    return Path(settings.CORDEE_HOME) / "feeds"


def settle_seconds() -> float:
    return float(getattr(settings, "CORDEE_FEED_SETTLE_SECONDS", 60))


def keep_days() -> int:
    return int(getattr(settings, "CORDEE_FEED_KEEP_DAYS", 30))


def feed_folders(partner: Partner) -> dict[str, Path]:
    base = feeds_root() / partner.slug
    folders = {name: base / name for name in ("incoming", "done", "quarantine")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folders


@dataclass
class PollResult:
    imported: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)


def feeds_poll(*, partners: list[Partner] | None = None, now: float | None = None) -> PollResult:
    """Import every settled file of every active partner's drop folder. Idempotent."""
    result = PollResult()
    moment = time.time() if now is None else now
    with translation.override("fr"):
        for partner in partners or list(Partner.objects.filter(is_active=True).order_by("slug")):
            folders = feed_folders(partner)
            for path in sorted(folders["incoming"].iterdir()):
                if not path.is_file() or path.name.startswith(_IGNORED_PREFIXES):
                    continue
                if path.name.lower().endswith(_IGNORED_SUFFIXES):
                    continue
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue
                if moment - stat.st_mtime < settle_seconds():
                    result.waiting.append(path.name)
                    continue
                _take(partner, path, folders, result)
            _purge_old(folders, moment)
    return result


def _take(partner: Partner, path: Path, folders: dict[str, Path], result: PollResult) -> None:
    size = path.stat().st_size
    name = path.name[:200]
    if path.suffix.lower() not in ACCEPTED_SUFFIXES:
        _quarantine(
            partner,
            path,
            folders,
            size,
            "",
            _("Type de fichier refusé (« %(suffix)s ») : CSV, TXT, XLSX, XLS ou ODS attendu.")
            % {"suffix": path.suffix[:20] or _("aucune extension")},
        )
        result.quarantined.append(name)
        return
    if size == 0:
        _quarantine(partner, path, folders, size, "", _("Fichier vide."))
        result.quarantined.append(name)
        return
    if size > settings.CORDEE_IMPORT_MAX_BYTES:
        _quarantine(partner, path, folders, size, "", _("Fichier trop volumineux."))
        result.quarantined.append(name)
        return
    digest = _sha256(path)
    earlier = (
        FeedFile.objects.filter(
            partner=partner, sha256=digest, status__in=[FeedStatus.IMPORTED, FeedStatus.DUPLICATE]
        )
        .order_by("received_at")
        .first()
    )
    if earlier is not None:
        report = _("Fichier identique à « %(name)s » reçu le %(date)s : rien n'a été importé.") % {
            "name": earlier.name,
            "date": timezone.localtime(earlier.received_at).strftime("%d/%m/%Y %H:%M"),
        }
        target = _move(path, folders["done"])
        target.with_name(target.name + ".report.txt").write_text(report + "\n", encoding="utf-8")
        FeedFile.objects.create(
            partner=partner,
            name=name,
            sha256=digest,
            size=size,
            status=FeedStatus.DUPLICATE,
            reason=report[:500],
            received_at=timezone.now(),
        )
        result.duplicates.append(name)
        return
    batch = import_batch_create(
        partner=partner, source=path, filename=path.name, actor=Actor.system(f"feed:{partner.slug}")
    )
    try:
        batch = import_batch_run(batch_id=batch.pk)
    except Exception:  # noqa: BLE001 - logged by the import; the file must not stay in incoming/
        batch.refresh_from_db()
    reason = _bad_batch_reason(batch)
    if reason:
        _quarantine(partner, path, folders, size, digest, reason, batch)
        result.quarantined.append(name)
        return
    target = _move(path, folders["done"])
    target.with_name(target.name + ".report.txt").write_text(_report(batch), encoding="utf-8")
    FeedFile.objects.create(
        partner=partner,
        name=name,
        sha256=digest,
        size=size,
        status=FeedStatus.IMPORTED,
        batch=batch,
        received_at=timezone.now(),
    )
    result.imported.append(name)
    if settings.CORDEE_RESOLVE_AFTER_IMPORT and (
        batch.customers_created or batch.customers_matched
    ):
        from cordee.customers.tasks import resolve_run

        resolve_run.enqueue()  # what the file brought meets the base (merges, review, households)


def _bad_batch_reason(batch: ImportBatch) -> str:
    if batch.status != ImportStatus.DONE:
        return batch.error or _("Import interrompu.")
    if batch.lines_read and not batch.accepted and not batch.unchanged:
        return (
            _("Aucune ligne acceptée sur %(n)s : voir le détail des lignes rejetées.")
            % {"n": batch.lines_read}
            + "\n"
            + _issues_text(batch)
        )
    if not batch.lines_read:
        return _("Aucune ligne de données dans ce fichier.")
    return ""


def _issues_text(batch: ImportBatch, limit: int = 200) -> str:
    lines = []
    for issue in batch.issues.filter(level="error").order_by("line")[:limit]:
        lines.append(
            _("ligne %(line)s : %(message)s") % {"line": issue.line, "message": issue.message}
        )
    return "\n".join(lines)


def _report(batch: ImportBatch) -> str:
    counts = [
        (_("Lignes lues"), batch.lines_read),
        (_("Lignes acceptées"), batch.accepted),
        (_("Lignes rejetées"), batch.rejected),
        (_("Lignes déjà reçues"), batch.unchanged),
        (_("Avertissements"), batch.warnings),
        (_("Clients créés"), batch.customers_created),
        (_("Clients rapprochés"), batch.customers_matched),
    ]
    text = [
        _("Rapport d'import de « %(name)s » (import n° %(id)s)")
        % {"name": batch.filename, "id": batch.pk},
        "",
    ]
    text += [f"{label} : {value}" for label, value in counts]
    issues = _issues_text(batch)
    if issues:
        text += ["", _("Lignes rejetées :"), issues]
    return "\n".join(text) + "\n"


def _quarantine(
    partner: Partner,
    path: Path,
    folders: dict[str, Path],
    size: int,
    digest: str,
    reason: str,
    batch: ImportBatch | None = None,
) -> None:
    target = _move(path, folders["quarantine"])
    target.with_name(target.name + ".txt").write_text(reason + "\n", encoding="utf-8")
    FeedFile.objects.create(
        partner=partner,
        name=path.name[:200],
        sha256=digest or _sha256(target),
        size=size,
        status=FeedStatus.QUARANTINED,
        reason=reason[:500],
        batch=batch,
        received_at=timezone.now(),
    )
    logger.warning("feed %s: %s quarantined: %s", partner.slug, path.name, reason.splitlines()[0])


def _move(path: Path, folder: Path) -> Path:
    """Into ``folder`` under a dated name, never over an earlier file."""
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    target = folder / f"{stamp}-{path.name}"
    counter = 1
    while target.exists():
        counter += 1
        target = folder / f"{stamp}-{counter}-{path.name}"
    shutil.move(path, target)
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _purge_old(folders: dict[str, Path], moment: float) -> None:
    limit = moment - dt.timedelta(days=keep_days()).total_seconds()
    for name in ("done", "quarantine"):
        for old in folders[name].iterdir():
            if old.is_file() and old.stat().st_mtime < limit:
                old.unlink(missing_ok=True)
