from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from cordee.collect.columns import MappingError, load_mapping
from cordee.collect.imports import import_batch_create, import_batch_run
from cordee.collect.models import ImportBatch, ImportIssue, ImportStatus, IssueLevel
from cordee.core.commands import CordeeCommand
from cordee.partners.models import Partner
from cordee.privacy.access import Actor


class Command(CordeeCommand):
    help = "Importe un fichier de clients d'un partenaire (CSV, XLSX, ODS)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="fichier à importer")
        parser.add_argument("--partner", required=True, help="identifiant du partenaire (slug)")
        parser.add_argument(
            "--mapping", help="fichier de correspondance des colonnes (JSON ou TOML)"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="essai à blanc : rien n'est enregistré"
        )
        parser.add_argument("--quiet", action="store_true", help="pas de barre de progression")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"fichier introuvable : {path}")
        try:
            partner = Partner.objects.get(slug=options["partner"])
        except Partner.DoesNotExist:
            raise CommandError(
                f"partenaire inconnu : « {options['partner']} » (voir « cordee partner list »)"
            ) from None
        mapping = None
        if options["mapping"]:
            try:
                mapping = load_mapping(Path(options["mapping"]))
            except MappingError as exc:
                raise CommandError(str(exc.message)) from exc
            except OSError as exc:
                raise CommandError(f"fichier de correspondance illisible : {exc.strerror}") from exc
        batch = import_batch_create(
            partner=partner,
            source=path,
            filename=path.name,
            actor=Actor.system("cli"),
            mapping=mapping,
            dry_run=options["dry_run"],
        )
        batch = self._run(batch, quiet=options["quiet"] or not self.stdout.isatty())
        if batch.status == ImportStatus.FAILED:
            raise CommandError(batch.error, returncode=2)
        self._report(batch)

    def _run(self, batch: ImportBatch, *, quiet: bool) -> ImportBatch:
        if quiet:
            return import_batch_run(batch_id=batch.pk)
        columns = [
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
        ]
        with Progress(*columns, transient=True) as bar:
            task = bar.add_task("Import", total=100)

            def show(current: ImportBatch) -> None:
                bar.update(
                    task,
                    completed=current.progress_percent,
                    description=f"{current.lines_read:,} lignes".replace(",", " "),
                )

            return import_batch_run(batch_id=batch.pk, progress=show)

    def _report(self, batch: ImportBatch) -> None:
        out = self.stdout.write
        title = "Essai à blanc (rien n'a été enregistré)" if batch.dry_run else "Import terminé"
        out(f"{title} : {batch.filename} → {batch.partner.slug}")
        out(f"  format : {batch.file_format} {batch.encoding} {batch.delimiter!r}".rstrip())
        recognised = [f"{h} → {c}" for h, c in batch.columns if c]
        ignored = [h for h, c in batch.columns if not c]
        out(f"  colonnes reconnues : {', '.join(recognised) or 'aucune'}")
        if ignored:
            out(f"  colonnes ignorées : {', '.join(ignored)}")
        for warning in batch.column_warnings:
            out(f"  attention : {warning}")
        out(f"  lignes lues : {batch.lines_read}")
        out(f"  lignes acceptées : {batch.accepted}")
        out(f"  lignes rejetées : {batch.rejected}")
        out(f"  lignes déjà connues : {batch.unchanged}")
        out(f"  clients créés : {batch.customers_created}")
        out(f"  clients rapprochés : {batch.customers_matched}")
        out(f"  avertissements : {batch.warnings}")
        errors = ImportIssue.objects.filter(batch=batch, level=IssueLevel.ERROR)[:20]
        for issue in errors:
            out(f"  ligne {issue.line} rejetée : {issue.message}")
        if batch.rejected > 20:
            out(
                f"  … et {batch.rejected - 20} autres lignes rejetées (voir la page de l'import n° {batch.pk})"
            )
        if batch.lines_read == 0:
            out("  aucune ligne de données dans le fichier")
