from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from cordee.channels.feeds import feeds_poll, feeds_root
from cordee.core.commands import CordeeCommand
from cordee.partners.models import Partner


class Command(CordeeCommand):
    help = _("Dossiers de dépôt des partenaires : « poll » importe les fichiers déposés.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["poll"])
        parser.add_argument("--partner", help=_("seulement ce partenaire (identifiant)"))

    def handle(self, *args: Any, **options: Any) -> None:
        partners = None
        if options["partner"]:
            partner = Partner.objects.filter(slug=options["partner"], is_active=True).first()
            if partner is None:
                raise CommandError(
                    _("Partenaire inconnu ou inactif : %(slug)s") % {"slug": options["partner"]}
                )
            partners = [partner]
        result = feeds_poll(partners=partners)
        self.stdout.write(
            _(
                "%(root)s : %(i)s importé(s), %(d)s déjà reçu(s), %(q)s en quarantaine, %(w)s en cours d'écriture."
            )
            % {
                "root": feeds_root(),
                "i": len(result.imported),
                "d": len(result.duplicates),
                "q": len(result.quarantined),
                "w": len(result.waiting),
            }
        )
        for name in result.quarantined:
            self.stdout.write(_("  quarantaine : %(name)s") % {"name": name})
