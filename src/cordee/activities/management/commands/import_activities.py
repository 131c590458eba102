"""``cordee import PATH --partner SLUG --activities [--kind KIND] [--dry-run]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from cordee.activities.imports import activity_import_create, activity_import_run
from cordee.activities.models import ActivityImport, ActivityKind
from cordee.activities.values import KIND_LOOKUP
from cordee.collect.columns import fold
from cordee.collect.models import ImportIssue, ImportStatus, IssueLevel
from cordee.core.commands import CordeeCommand
from cordee.partners.models import Partner
from cordee.privacy.access import Actor


class Command(CordeeCommand):
    help = "Importe un fichier d'activités d'un partenaire (réservations, billetterie, caisse)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="fichier à importer (CSV, XLSX, ODS)")
        parser.add_argument("--partner", required=True, help="identifiant du partenaire (slug)")
        parser.add_argument(
            "--kind",
            default="",
            help="type des lignes sans colonne Type (séjour, visite, achat, forfait, cours…)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="essai à blanc : rien n'est enregistré"
        )
        parser.add_argument("--quiet", action="store_true", help="(accepté, sans effet)")

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
        kind = ""
        if options["kind"]:
            kind = KIND_LOOKUP.get(fold(options["kind"]), "")
            if not kind:
                raise CommandError(
                    f"type d'activité inconnu : « {options['kind']} » "
                    f"(types : {', '.join(ActivityKind.values)})"
                )
        batch = activity_import_create(
            partner=partner,
            source=path,
            filename=path.name,
            actor=Actor.system("cli"),
            default_kind=kind,
            dry_run=options["dry_run"],
        )
        batch = activity_import_run(batch_id=batch.pk)
        if batch.status == ImportStatus.FAILED:
            raise CommandError(batch.error, returncode=2)
        marker = ActivityImport.objects.get(batch=batch)
        out = self.stdout.write
        title = "Essai à blanc (rien n'a été enregistré)" if batch.dry_run else "Import terminé"
        out(f"{title} : {batch.filename} → {partner.slug} (activités)")
        recognised = [f"{h} → {c}" for h, c in batch.columns if c]
        ignored = [h for h, c in batch.columns if not c]
        out(f"  colonnes reconnues : {', '.join(recognised) or 'aucune'}")
        if ignored:
            out(f"  colonnes ignorées : {', '.join(ignored)}")
        for warning in batch.column_warnings:
            out(f"  attention : {warning}")
        created = batch.accepted - batch.unchanged - marker.updated
        out(f"  lignes lues : {batch.lines_read}")
        out(f"  activités créées : {created}")
        out(f"  activités mises à jour : {marker.updated}")
        out(f"  lignes déjà connues : {batch.unchanged}")
        out(f"  lignes rejetées : {batch.rejected} (dont sans client : {marker.unmatched})")
        for issue in ImportIssue.objects.filter(batch=batch, level=IssueLevel.ERROR)[:20]:
            out(f"  ligne {issue.line} rejetée : {issue.message}")
        if batch.rejected > 20:
            out(
                f"  … et {batch.rejected - 20} autres lignes rejetées (page de l'import n° {batch.pk})"
            )
