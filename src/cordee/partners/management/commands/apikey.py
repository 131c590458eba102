from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from cordee.core.commands import CordeeCommand
from cordee.partners.apikeys import (
    DEFAULT_SCOPES,
    SCOPES,
    api_key_create,
    api_key_revoke,
    parse_scopes,
)
from cordee.partners.models import APIKey, Partner
from cordee.privacy.access import Actor


class Command(CordeeCommand):
    help = "Gère les clés d'API des partenaires : « apikey create », « apikey list », « apikey revoke »."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="créer une clé (affichée une seule fois)")
        create.add_argument("--partner", required=True, help="identifiant du partenaire")
        create.add_argument(
            "--scopes",
            default=",".join(DEFAULT_SCOPES),
            help="droits séparés par des virgules : " + ", ".join(SCOPES),
        )
        create.add_argument("--name", default="", help="libellé (ex. « logiciel de réservation »)")
        listing = sub.add_parser("list", help="lister les clés")
        listing.add_argument("--partner", default=None)
        revoke = sub.add_parser("revoke", help="révoquer une clé")
        revoke.add_argument("prefix", help="le préfixe de la clé (cdk_<préfixe>_…)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self._create(options)
        elif action == "list":
            self._list(options["partner"])
        else:
            self._revoke(options["prefix"])

    def _partner(self, slug: str) -> Partner:
        partner = Partner.objects.filter(slug=slug).first()
        if partner is None:
            raise CommandError(f"Partenaire inconnu : « {slug} ».")
        return partner

    def _create(self, options: dict[str, Any]) -> None:
        partner = self._partner(options["partner"])
        try:
            scopes = parse_scopes(options["scopes"])
            _key, text = api_key_create(
                partner=partner, scopes=scopes, name=options["name"], actor=Actor.system("cli")
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(text)
        self.stderr.write(
            "Conservez cette clé maintenant : elle ne sera plus jamais affichée "
            f"(préfixe {_key.prefix}, droits {', '.join(scopes)})."
        )

    def _list(self, slug: str | None) -> None:
        keys = APIKey.objects.select_related("partner").order_by("partner__slug", "created_at")
        if slug:
            keys = keys.filter(partner=self._partner(slug))
        self.stdout.write("prefix\tpartner\tname\tscopes\tcreated\tlast_used\trevoked")
        for key in keys:
            self.stdout.write(
                "\t".join(
                    (
                        key.prefix,
                        key.partner.slug,
                        key.name,
                        ",".join(key.scopes),
                        key.created_at.isoformat(timespec="seconds"),
                        key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "",
                        key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "",
                    )
                )
            )

    def _revoke(self, prefix: str) -> None:
        prefix = prefix.removeprefix("cdk_").split("_")[0]
        key = APIKey.objects.filter(prefix=prefix).first()
        if key is None:
            raise CommandError(f"Aucune clé de préfixe « {prefix} ».")
        api_key_revoke(key=key, actor=Actor.system("cli"))
        self.stdout.write(f"{key.prefix}\trévoquée")
