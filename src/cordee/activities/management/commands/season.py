"""``cordee season list`` and ``cordee season add|set|rule``: the destination's seasons."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from cordee.activities.models import Season, SeasonKind
from cordee.activities.seasons import season_rule_save, season_save, season_windows
from cordee.collect import normalise as norm
from cordee.core.commands import CordeeCommand
from cordee.privacy.access import Actor

_KINDS = {
    "winter": "winter",
    "hiver": "winter",
    "summer": "summer",
    "ete": "summer",
    "été": "summer",
}


def _kind(text: str) -> str:
    kind = _KINDS.get(text.strip().lower())
    if kind is None:
        raise CommandError(f"type de saison inconnu : « {text} » (hiver ou été)")
    return kind


def _date(text: str, name: str) -> dt.date:
    try:
        day = norm.date(text)
    except norm.InvalidValue as exc:
        raise CommandError(f"{name} : {exc.message}") from None
    if day is None:
        raise CommandError(f"{name} : date obligatoire")
    return day


def _month_day(text: str, name: str) -> tuple[int, int]:
    day, sep, month = text.strip().partition("/")
    if not sep or not day.isdigit() or not month.isdigit():
        raise CommandError(f"{name} : jour/mois attendu (ex. 01/12)")
    return int(month), int(day)


class Command(CordeeCommand):
    help = "Les saisons de la destination : les lister, en créer une, déplacer ses dates."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="lister les saisons et leurs dates habituelles")
        add = sub.add_parser("add", help="créer une saison (ou déplacer ses dates avec --code)")
        add.add_argument("--kind", required=True, help="hiver (winter) ou été (summer)")
        add.add_argument("--start", required=True, help="premier jour (AAAA-MM-JJ ou JJ/MM/AAAA)")
        add.add_argument("--end", required=True, help="dernier jour, inclus")
        add.add_argument("--code", default="", help="code d'une saison existante à modifier")
        rule = sub.add_parser("rule", help="dates habituelles d'un type de saison")
        rule.add_argument("--kind", required=True)
        rule.add_argument("--start", required=True, help="jour/mois, ex. 01/12")
        rule.add_argument("--end", required=True, help="jour/mois, ex. 30/04")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system("cli")
        action = options["action"]
        try:
            if action == "add":
                existing = None
                if options["code"]:
                    existing = Season.objects.filter(code=options["code"]).first()
                    if existing is None:
                        raise CommandError(f"saison inconnue : « {options['code']} »")
                season = season_save(
                    kind=_kind(options["kind"]),
                    starts_on=_date(options["start"], "--start"),
                    ends_on=_date(options["end"], "--end"),
                    actor=actor,
                    season=existing,
                )
                self.stdout.write(
                    f"{season.code}\t{season.name}\t{season.starts_on}\t{season.ends_on}"
                )
                return
            if action == "rule":
                season_rule_save(
                    kind=_kind(options["kind"]),
                    start=_month_day(options["start"], "--start"),
                    end=_month_day(options["end"], "--end"),
                    actor=actor,
                )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        for window in season_windows().values():
            label = SeasonKind(window.kind).label
            self.stdout.write(
                f"# {label} : du {window.start_day:02}/{window.start_month:02} "
                f"au {window.end_day:02}/{window.end_month:02}"
            )
        self.stdout.write("code\tnom\tdébut\tfin\tactivités")
        for season in Season.objects.order_by("starts_on"):
            count = season.activities.count()
            self.stdout.write(
                f"{season.code}\t{season.name}\t{season.starts_on}\t{season.ends_on}\t{count}"
            )
