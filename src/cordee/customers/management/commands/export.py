from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import transaction

from cordee.core.commands import CordeeCommand
from cordee.customers.exports import iter_customer_rows, write_csv, write_jsonl
from cordee.partners.models import Partner
from cordee.privacy.access import Actor, customers_visible_to
from cordee.privacy.audit import audit_log


class Command(CordeeCommand):
    help = "Exporte les fiches clients (une par ligne) en CSV ou JSON Lines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["customers"], help="ce qu'il faut exporter")
        parser.add_argument("--format", choices=["csv", "jsonl"], default="csv")
        parser.add_argument(
            "--with-sources", action="store_true", help="ajoute la liste des sources"
        )
        parser.add_argument(
            "-o", "--output", help="fichier de sortie (par défaut : la sortie standard)"
        )
        parser.add_argument("--partner", help="n'exporter que ce que ce partenaire peut voir")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system("cli")
        if options["partner"]:
            try:
                actor = Actor.for_partner(Partner.objects.get(slug=options["partner"]), "cli")
            except Partner.DoesNotExist:
                raise CommandError(f"partenaire inconnu : « {options['partner']} »") from None
        rows = iter_customer_rows(
            customers_visible_to(actor), actor=actor, with_sources=options["with_sources"]
        )
        output = options["output"]
        try:
            stream = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"impossible d'écrire {output} : {exc.strerror}") from exc
        try:
            if options["format"] == "csv":
                count = write_csv(rows, stream, with_sources=options["with_sources"])
            else:
                count = write_jsonl(rows, stream)
        finally:
            if output:
                stream.close()
        with transaction.atomic():
            audit_log(
                actor=actor,
                action="customer.export",
                format=options["format"],
                count=count,
                to=Path(output).name if output else "stdout",
            )
        if output:
            self.stderr.write(f"{count} clients exportés dans {output}")
