from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from cordee.channels.webhooks import deliveries_retry_due
from cordee.core.commands import CordeeCommand


class Command(CordeeCommand):
    help = _("Webhooks sortants : « retry » envoie les livraisons dont le nouvel essai est dû.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["retry"])

    def handle(self, *args: Any, **options: Any) -> None:
        count = deliveries_retry_due()
        self.stdout.write(_("%(n)s livraison(s) tentée(s).") % {"n": count})
