"""``cordee``: a thin front over Django's management commands.

Other tools script these forms; keep them stable:
  cordee migrate | serve [--port P] | worker | createsuperuser
  cordee demo [--customers N] [--no-serve] [--port P]
  cordee partner add SLUG --name NAME --kind KIND | cordee partner list
  cordee import PATH --partner SLUG [--mapping FILE] [--dry-run]
  cordee import PATH --partner SLUG --activities [--kind KIND] [--dry-run]
  cordee season list | cordee season add --kind winter|summer --start DATE --end DATE
  cordee resolve [--full] [--retrain] [--quiet]
  cordee export customers --format csv|jsonl [--with-sources] [-o FILE]
  cordee privacy register --format csv|json|md [--language fr|en] | cordee privacy consent-states
  cordee segment list | count FILE.json | export SLUG --format csv|jsonl [-o FILE] | refresh
  cordee feeds poll [--partner SLUG] | cordee webhooks retry
  cordee privacy request list [--all] | cordee privacy link CUSTOMER_ID [--days N]
  cordee privacy export (CUSTOMER_ID | --email X) [--format json|csv] [-o FILE]
  cordee privacy erase (CUSTOMER_ID | --email X) --reason TEXT [--request N] [--yes]
  cordee privacy purge [--dry-run] [--yes]
  cordee campaign send --segment SLUG --purpose PURPOSE --subject TEXT --template FILE [--dry-run] [--wait]
  cordee campaign dispatch | cordee campaign run ID | cordee triggers run [--date YYYY-MM-DD] [--wait]
"""

from __future__ import annotations

import os
import sys

# cordee's own words mapped to management command names where the two differ.
ALIASES = {"import": "import_customers"}


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordee.settings")
    if len(args) > 1 and args[1] == "import" and "--activities" in args:
        args[1:] = ["import_activities", *(a for a in args[2:] if a != "--activities")]
    if len(args) > 1 and args[1] in ALIASES:
        args[1] = ALIASES[args[1]]
    if len(args) == 1:
        args.append("help")
    args[0] = "cordee"
    from django.core.management import execute_from_command_line

    execute_from_command_line(args)


if __name__ == "__main__":
    main()
