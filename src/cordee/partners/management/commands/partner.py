from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from cordee.core.commands import CordeeCommand
from cordee.partners.models import Partner, PartnerKind
from cordee.partners.services import partner_create
from cordee.privacy.access import Actor


class Command(CordeeCommand):
    help = "Gère les partenaires de la destination : « partner add » et « partner list »."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="ajouter un partenaire")
        add.add_argument("slug")
        add.add_argument("--name", required=True)
        add.add_argument("--kind", required=True, help=", ".join(PartnerKind.values))
        add.add_argument("--resort", default="")
        sub.add_parser("list", help="lister les partenaires")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "add":
            try:
                partner = partner_create(
                    slug=options["slug"],
                    name=options["name"],
                    kind=options["kind"],
                    resort=options["resort"],
                    actor=Actor.system("cli"),
                )
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            self.stdout.write(f"{partner.slug}\t{partner.name}\t{partner.kind}")
            return
        self.stdout.write("slug\tname\tkind\tresort\tcustomers")
        for partner in Partner.objects.order_by("slug"):
            count = partner.customer_links.count()
            self.stdout.write(
                f"{partner.slug}\t{partner.name}\t{partner.kind}\t{partner.resort}\t{count}"
            )
