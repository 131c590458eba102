"""What every ``cordee`` command shares: one clear line on a user's mistake, no traceback."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _


class CordeeCommand(BaseCommand):
    def execute(self, *args: Any, **options: Any) -> Any:
        from cordee.privacy.encryption import FieldKeyError

        try:
            try:
                return super().execute(*args, **options)
            except FieldKeyError as exc:
                # A missing or wrong field-encryption key: say which, not a traceback.
                raise CommandError(
                    _("chiffrement des coordonnées : %(message)s") % {"message": exc}
                ) from None
        except CommandError as exc:
            if not getattr(self, "_called_from_command_line", False) or options.get("traceback"):
                raise
            self.stderr.write(_("Erreur : %(message)s") % {"message": exc})
            sys.exit(exc.returncode)
