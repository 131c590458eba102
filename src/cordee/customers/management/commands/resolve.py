from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management.base import CommandError, CommandParser
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn

from cordee.core.commands import CordeeCommand
from cordee.customers.resolution import resolution_run
from cordee.privacy.access import Actor

STAGES = {"load": "Lecture des enregistrements", "score": "Rapprochement", "merge": "Fusions"}


class Command(CordeeCommand):
    help = (
        "Rapproche les enregistrements source arrivés depuis la dernière résolution : "
        "fusions sûres, paires à revoir, foyers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--full", action="store_true", help="tout reprendre, pas seulement les nouveautés"
        )
        parser.add_argument(
            "--retrain", action="store_true", help="réapprendre le modèle sur toute la base"
        )
        parser.add_argument("--quiet", action="store_true", help="pas de barre de progression")

    def handle(self, *args: Any, **options: Any) -> None:
        columns = [TextColumn("{task.description}"), BarColumn(), TaskProgressColumn()]
        disabled = options["quiet"] or not self.stdout.isatty()
        with Progress(*columns, transient=True, disable=disabled) as bar:
            tasks: dict[str, TaskID] = {}

            def show(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(STAGES.get(stage, stage), total=total or 1)
                bar.update(tasks[stage], completed=done, total=total or 1)

            try:
                run = resolution_run(
                    full=options["full"],
                    retrain=options["retrain"],
                    actor=Actor.system("cli"),
                    progress=show,
                )
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            except ImproperlyConfigured as exc:  # the backend cannot run (Spark, Java)
                raise CommandError(str(exc)) from None
        out = self.stdout.write
        out(f"Résolution n° {run.pk}{' complète' if run.full else ''} terminée :")
        out(f"  enregistrements examinés : {run.records}")
        out(f"  fusionnés : {run.merged}")
        out(f"  séparés : {run.split}")
        out(f"  à revoir : {run.to_review}")
        out(f"  foyers : {run.households}")
        out(f"  inchangés : {run.untouched}")
        if run.retrained:
            out("  modèle appris sur la base et enregistré")
