from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils import translation

from cordee.core.commands import CordeeCommand
from cordee.privacy.access import Actor
from cordee.privacy.register import register_build, register_csv, register_json, register_markdown
from cordee.privacy.services import consent_states_rebuild

RENDERERS = {"csv": register_csv, "json": register_json, "md": register_markdown}


class Command(CordeeCommand):
    help = (
        "Protection des données : « privacy register --format csv|json|md » imprime le registre "
        "des traitements ; « privacy consent-states » recalcule l'état des consentements."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        register = sub.add_parser("register", help="imprimer le registre des traitements")
        register.add_argument("--format", choices=sorted(RENDERERS), default="md")
        register.add_argument("--language", choices=["fr", "en"], default="fr")
        sub.add_parser(
            "consent-states", help="recalculer l'état courant des consentements depuis l'historique"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "consent-states":
            count = consent_states_rebuild(actor=Actor.system("cli"))
            self.stdout.write(str(count))
            return
        with translation.override(options["language"]):
            text = RENDERERS[options["format"]](register_build())
        self.stdout.write(text, ending="" if text.endswith("\n") else "\n")
