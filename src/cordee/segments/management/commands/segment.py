from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Any

from django.core.management.base import CommandError, CommandParser

from cordee.core.commands import CordeeCommand
from cordee.partners.models import Partner
from cordee.privacy.access import Actor
from cordee.segments.compiler import definition_queryset
from cordee.segments.definition import DefinitionError
from cordee.segments.exports import segment_export
from cordee.segments.queries import definition_parse, segment_size, segments_visible_to
from cordee.segments.services import stats_refresh


class Command(CordeeCommand):
    help = (
        "Segments : « segment list », « segment count FICHIER.json », "
        "« segment export SLUG --format csv|jsonl [-o FICHIER] », « segment refresh »."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="un segment par ligne : identifiant, nom, taille")
        count = sub.add_parser("count", help="la taille d'une définition (fichier JSON)")
        count.add_argument("file", help="fichier JSON de la définition (« - » : entrée standard)")
        export = sub.add_parser("export", help="exporter les membres d'un segment")
        export.add_argument("slug")
        export.add_argument("--format", choices=["csv", "jsonl"], default="csv")
        export.add_argument("-o", "--output", help="fichier de sortie (défaut : sortie standard)")
        for p in (listing, count, export):
            p.add_argument("--partner", help="compter et exporter comme ce partenaire le verrait")
        refresh = sub.add_parser(
            "refresh", help="recalculer agrégats, RFM, typologie 3F et risque de départ"
        )
        refresh.add_argument(
            "--no-train", action="store_true", help="garder le modèle de risque actuel"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "refresh":
            report = stats_refresh(train=not options["no_train"])
            for step, seconds in report.seconds.items():
                self.stdout.write(f"{step}\t{seconds:.2f} s")
            if report.churn is not None:
                self.stdout.write(
                    f"churn_auc\t{report.churn.auc:.3f}\t(récence seule : {report.churn.baseline_auc:.3f})"
                )
            return
        actor = self._actor(options.get("partner"))
        if action == "list":
            for segment in segments_visible_to(actor):
                self.stdout.write(f"{segment.slug}\t{segment.name}\t{segment_size(segment, actor)}")
        elif action == "count":
            self.stdout.write(str(self._count(options["file"], actor)))
        else:
            self._export(options, actor)

    def _actor(self, slug: str | None) -> Actor:
        if not slug:
            return Actor.system("cli")
        try:
            return Actor.for_partner(Partner.objects.get(slug=slug), "cli")
        except Partner.DoesNotExist:
            raise CommandError(f"partenaire inconnu : « {slug[:60]} »") from None

    def _count(self, file: str, actor: Actor) -> int:
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"impossible de lire {file} : {exc.strerror}") from None
        try:
            return definition_queryset(definition_parse(text), actor).count()
        except DefinitionError as exc:
            raise CommandError("définition refusée — " + " ; ".join(exc.errors)) from None

    def _export(self, options: dict[str, Any], actor: Actor) -> None:
        segment = segments_visible_to(actor).filter(slug=options["slug"]).first()
        if segment is None:
            raise CommandError(f"segment inconnu : « {options['slug'][:60]} »")
        output = options["output"]
        # The raw stream: csv writes its own line endings.
        out: IO[str] = getattr(self.stdout, "_out", sys.stdout)
        try:
            stream: IO[str] = open(output, "w", encoding="utf-8", newline="") if output else out  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"impossible d'écrire {output} : {exc.strerror}") from exc
        try:
            count = segment_export(
                segment=segment, actor=actor, stream=stream, fmt=options["format"]
            )
        except DefinitionError as exc:
            raise CommandError("définition refusée — " + " ; ".join(exc.errors)) from None
        finally:
            if output:
                stream.close()
        if output:
            self.stderr.write(f"{count} clients exportés dans {output}")
