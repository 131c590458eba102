from __future__ import annotations

import datetime as dt
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.campaigns.models import TriggerKind, TriggerRule
from cordee.campaigns.sending import campaign_send_run
from cordee.campaigns.templatefile import template_file_read
from cordee.campaigns.triggers import trigger_save, triggers_run
from cordee.core.commands import CordeeCommand
from cordee.privacy.access import Actor


class Command(CordeeCommand):
    help = (
        "Déclencheurs : « triggers run [--date AAAA-MM-JJ] [--wait] » (idempotent, chaque jour) ; "
        "« triggers add --name N --kind birthday|… --days J --purpose F --subject S --template "
        "FICHIER » ; « triggers list »."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="lancer les déclencheurs du jour")
        run.add_argument("--date", default="")
        run.add_argument("--wait", action="store_true", help="envoyer ici et attendre la fin")
        add = sub.add_parser("add", help="créer un déclencheur")
        add.add_argument("--name", required=True)
        add.add_argument("--kind", required=True, choices=TriggerKind.values)
        add.add_argument("--days", type=int, default=0)
        add.add_argument("--purpose", required=True)
        add.add_argument("--subject", required=True)
        add.add_argument("--template", required=True, type=Path)
        add.add_argument("--from", dest="sender", default="", help='"Nom <adresse>"')
        sub.add_parser("list", help="lister les déclencheurs")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "add":
            self._add(options)
            return
        if options["action"] == "list":
            for rule in TriggerRule.objects.order_by("pk"):
                state = _("actif") if rule.is_active else _("inactif")
                self.stdout.write(f"{rule.pk}\t{rule.kind}\t{rule.days}\t{state}\t{rule.name}")
            return
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

    def _add(self, options: dict[str, Any]) -> None:
        name, address = parseaddr(options["sender"]) if options["sender"] else ("", "")
        try:
            message = template_file_read(options["template"])
            rule = trigger_save(
                actor=Actor.system("cli"),
                rule=None,
                name=options["name"],
                kind=options["kind"],
                days=options["days"],
                purpose_slug=options["purpose"],
                subject_fr=options["subject"],
                blocks_fr=message["blocks_fr"],
                subject_en=message.get("subject_en", ""),
                blocks_en=message.get("blocks_en") or [],
                sender_name=name,
                sender_email=address,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(_("Déclencheur n° %(id)s créé") % {"id": rule.pk})
