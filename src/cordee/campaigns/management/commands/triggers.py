from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.campaigns.sending import campaign_send_run
from cordee.campaigns.triggers import triggers_run
from cordee.core.commands import CordeeCommand
from cordee.privacy.access import Actor


class Command(CordeeCommand):
    help = "Déclencheurs : « triggers run [--date AAAA-MM-JJ] [--wait] » (idempotent, chaque jour)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="lancer les déclencheurs du jour")
        run.add_argument("--date", default="")
        run.add_argument("--wait", action="store_true", help="envoyer ici et attendre la fin")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = options["date"].strip()
        try:
            day = dt.date.fromisoformat(raw) if raw else timezone.localdate()
        except ValueError:
            raise CommandError(
                _("Date invalide : %(d)s (attendu AAAA-MM-JJ)") % {"d": raw[:40]}
            ) from None
        results = triggers_run(day=day, actor=Actor.system("triggers"))
        for r in results:
            self.stdout.write(
                _("%(name)s : %(c)s occasion(s), %(q)s message(s) en file, %(a)s déjà envoyé(s)")
                % {"name": r.rule.name, "c": r.candidates, "q": r.queued, "a": r.already}
            )
            if options["wait"] and r.queued and r.campaign is not None:
                campaign_send_run(campaign_id=r.campaign.pk)
