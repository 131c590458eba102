from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from cordee.collect import normalise as norm
from cordee.core.commands import CordeeCommand
from cordee.customers.models import Customer
from cordee.privacy.access import Actor
from cordee.privacy.crypto import email_index
from cordee.privacy.register import register_build, register_csv, register_json, register_markdown
from cordee.privacy.services import consent_states_rebuild

RENDERERS = {"csv": register_csv, "json": register_json, "md": register_markdown}


class Command(CordeeCommand):
    help = (
        "Protection des données : register, consent-states, check-sharing, request list, "
        "export, erase, purge, link, rotate-key (voir « cordee privacy ACTION --help »)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        register = sub.add_parser("register", help="imprimer le registre des traitements")
        register.add_argument("--format", choices=sorted(RENDERERS), default="md")
        register.add_argument("--language", choices=["fr", "en"], default="fr")
        sub.add_parser(
            "consent-states", help="recalculer l'état courant des consentements depuis l'historique"
        )
        sharing = sub.add_parser(
            "check-sharing",
            help="vérifier que l'indicateur de partage de chaque client suit son consentement",
        )
        sharing.add_argument("--repair", action="store_true", help="corriger les écarts trouvés")
        request = sub.add_parser("request", help="demandes d'exercice de droits")
        request.add_argument("request_action", choices=["list"])
        request.add_argument("--all", action="store_true", help="avec les demandes closes")
        export = sub.add_parser("export", help="exporter toutes les données d'une personne")
        export.add_argument("customer_id", nargs="?", default="")
        export.add_argument("--email", default="")
        export.add_argument("--format", choices=["json", "csv"], default="json")
        export.add_argument("-o", "--output", default="")
        erase = sub.add_parser("erase", help="effacer une personne partout")
        erase.add_argument("customer_id", nargs="?", default="")
        erase.add_argument("--email", default="")
        erase.add_argument("--reason", required=True)
        erase.add_argument("--request", type=int, default=None, help="n° de la demande")
        erase.add_argument("--yes", action="store_true", help="ne pas demander de confirmation")
        purge = sub.add_parser(
            "purge", help="effacer les personnes au-delà de leur durée de conservation"
        )
        purge.add_argument("--dry-run", action="store_true")
        purge.add_argument("--yes", action="store_true", help="ne pas demander de confirmation")
        link = sub.add_parser("link", help="lien signé vers le centre de préférences d'un client")
        link.add_argument("customer_id")
        link.add_argument("--days", type=int, default=None)
        rotate = sub.add_parser(
            "rotate-key",
            help="nouvelle clé de chiffrement des coordonnées, et tout rechiffrer avec elle",
        )
        what = rotate.add_mutually_exclusive_group()
        what.add_argument(
            "--resume",
            action="store_true",
            help="seulement rechiffrer ce qui n'est pas sous la clé courante",
        )
        what.add_argument("--retire", metavar="ID", default="", help="retirer une ancienne clé")
        what.add_argument("--status", action="store_true", help="clés et valeurs par clé")
        what.add_argument(
            "--print-key", action="store_true", help="imprimer une clé pour CORDEE_FIELD_KEYS"
        )
        rotate.add_argument("--quiet", action="store_true", help="pas de barre de progression")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "consent-states":
            count = consent_states_rebuild(actor=Actor.system("cli"))
            self.stdout.write(str(count))
            return
        if action == "register":
            with translation.override(options["language"]):
                text = RENDERERS[options["format"]](register_build())
            self.stdout.write(text, ending="" if text.endswith("\n") else "\n")
            return
        getattr(self, f"handle_{action.replace('-', '_')}")(**options)

    def _customer(self, customer_id: str, email: str) -> Customer:
        if bool(customer_id) == bool(email):
            raise CommandError(_("indiquez soit un n° de client, soit --email."))
        if customer_id:
            try:
                pk = int(customer_id)
            except ValueError:
                raise CommandError(
                    _("n° de client invalide : « %(v)s »") % {"v": customer_id[:40]}
                ) from None
            found = Customer.objects.filter(pk=pk).first() if 0 < pk < 2**63 else None
        else:
            try:
                normalised = norm.email(email)
            except norm.InvalidValue:
                raise CommandError(_("e-mail invalide.")) from None
            matches = list(Customer.objects.filter(email_hash=email_index(normalised or ""))[:2])
            if len(matches) > 1:
                raise CommandError(
                    _("plusieurs clients ont cet e-mail : indiquez le n° de client.")
                )
            found = matches[0] if matches else None
        if found is None:
            raise CommandError(_("client introuvable."))
        return found

    def _confirm(self, question: str, yes: bool) -> None:
        if yes:
            return
        if not sys.stdin.isatty():
            raise CommandError(_("confirmation impossible sans terminal : ajoutez --yes."))
        answer = input(f"{question} [oui/non] ").strip().lower()
        if answer not in {"o", "oui", "y", "yes"}:
            raise CommandError(_("abandon : rien n'a été effacé."))

    def handle_check_sharing(self, **options: Any) -> None:
        from cordee.privacy.sharing import sharing_check

        count, ids = sharing_check(repair=options["repair"], actor=Actor.system("cli"))
        if not count:
            self.stdout.write(_("Indicateur de partage : conforme aux consentements."))
            return
        shown = ", ".join(str(i) for i in ids) + (" …" if count > len(ids) else "")
        if options["repair"]:
            self.stdout.write(
                _("Indicateur de partage : %(n)s client(s) corrigé(s) (n° %(ids)s).")
                % {"n": count, "ids": shown}
            )
            return
        raise CommandError(
            _(
                "indicateur de partage : %(n)s client(s) en écart avec leur consentement "
                "(n° %(ids)s) ; « cordee privacy check-sharing --repair » les corrige."
            )
            % {"n": count, "ids": shown}
        )

    def handle_request(self, **options: Any) -> None:
        from django.utils import timezone

        from cordee.privacy.requests import requests_by_deadline

        today = timezone.localdate()
        rows = requests_by_deadline(open_only=not options["all"])
        # The identity check beside the deadline (cordee.privacy.identity).
        self.stdout.write(_("n°\tdroit\treçue le\téchéance\tétat\tclient") + "\t" + _("identité"))
        for r in rows:
            late = _(" EN RETARD") if r.is_overdue(today) else ""
            self.stdout.write(
                f"{r.pk}\t{r.kind}\t{r.received_on}\t{r.deadline}{late}\t{r.status}\t"
                f"{r.customer_ref or '-'}\t{r.identity}"
            )

    def handle_export(self, **options: Any) -> None:
        from cordee.privacy.audit import audit_log
        from cordee.privacy.portability import customer_data_csv, customer_data_json

        customer = self._customer(options["customer_id"], options["email"])
        text = (customer_data_json if options["format"] == "json" else customer_data_csv)(customer)
        audit_log(
            actor=Actor.system("cli"),
            action="customer.export_subject",
            obj=customer,
            format=options["format"],
        )
        if options["output"]:
            try:
                Path(options["output"]).write_text(text, encoding="utf-8")
            except OSError as exc:
                raise CommandError(
                    _("impossible d'écrire %(f)s : %(e)s")
                    % {"f": options["output"], "e": exc.strerror}
                ) from None
        else:
            self.stdout.write(text)

    def handle_erase(self, **options: Any) -> None:
        from cordee.privacy.erasure import customer_erase
        from cordee.privacy.models import DataSubjectRequest

        customer = self._customer(options["customer_id"], options["email"])
        dsr = None
        if options["request"] is not None:
            dsr = DataSubjectRequest.objects.filter(pk=options["request"]).first()
            if dsr is None:
                raise CommandError(_("demande introuvable."))
        self._confirm(
            _("Effacer définitivement le client n° %(n)s et tout ce qui le concerne ?")
            % {"n": customer.pk},
            options["yes"],
        )
        try:
            result = customer_erase(
                customer=customer, actor=Actor.system("cli"), reason=options["reason"], request=dsr
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        except Customer.DoesNotExist:
            raise CommandError(_("client déjà effacé.")) from None
        summary = ", ".join(f"{k}={v}" for k, v in result.counts.items() if v)
        self.stdout.write(
            _("Client n° %(n)s effacé (trace n° %(t)s). %(s)s")
            % {"n": result.customer_ref, "t": result.tombstone.pk, "s": summary}
        )

    def handle_purge(self, **options: Any) -> None:
        from cordee.privacy.retention import retention_purge

        actor = Actor.system("cli")
        report = retention_purge(actor=actor, dry_run=True)
        for rule in report.rules:
            self.stdout.write(
                f"{rule.reason}\t{report.counts[rule.reason]}\t"
                + _("dernier contact avant le %(d)s") % {"d": rule.cutoff.date()}
            )
        total = sum(report.counts.values())
        if options["dry_run"] or not total:
            self.stdout.write(
                _("Simulation : rien n'a été effacé.")
                if options["dry_run"]
                else _("Rien à effacer.")
            )
            return
        self._confirm(_("Effacer ces %(n)s clients ?") % {"n": total}, options["yes"])
        done = retention_purge(actor=actor, dry_run=False)
        self.stdout.write(_("%(n)s client(s) effacé(s).") % {"n": done.erased})
        summary = ", ".join(f"{k}={v}" for k, v in done.erased_counts.items() if v)
        if summary:
            self.stdout.write(summary)

    def handle_rotate_key(self, **options: Any) -> None:
        from cordee.privacy import encryption, rotation

        if options["print_key"]:
            key_id = encryption.new_key_id(encryption.keyring().keys)
            self.stdout.write(encryption.key_line(key_id, encryption.new_key()).replace(" ", ":"))
            return
        ring = encryption.keyring()
        try:
            if options["status"]:
                for key_id in ring.keys:
                    used = sum(rotation.key_usage(key_id).values())
                    current = _(" (courante)") if key_id == ring.current else ""
                    self.stdout.write(
                        _("clé %(k)s%(c)s : %(n)s valeur(s)")
                        % {"k": key_id, "c": current, "n": used}
                    )
                for name, n in sorted(rotation.clear_values().items()):
                    self.stdout.write(_("%(f)s : %(n)s valeur(s) en clair") % {"f": name, "n": n})
                return
            if options["retire"]:
                rotation.key_retire(options["retire"])
                self.stdout.write(_("Clé %(k)s retirée.") % {"k": options["retire"]})
                return
            if not options["resume"]:
                key_id = rotation.key_add()
                self.stdout.write(
                    _(
                        "Nouvelle clé %(k)s, courante (%(f)s) : gardez-en une copie hors de cette machine."
                    )
                    % {"k": key_id, "f": encryption.key_file()}
                )
        except rotation.RotationRefused as exc:
            raise CommandError(str(exc)) from None
        counts = self._reencrypt(options["quiet"])
        current = encryption.keyring().current
        for table, n in counts.items():
            self.stdout.write(_("%(t)s : %(n)s ligne(s) rechiffrée(s)") % {"t": table, "n": n})
        old = [k for k in encryption.keyring().keys if k != current]
        if old:
            self.stdout.write(
                _(
                    "Tout est sous la clé %(k)s. Anciennes clés : %(o)s (cordee privacy rotate-key --retire ID)."
                )
                % {"k": current, "o": ", ".join(old)}
            )

    def _reencrypt(self, quiet: bool) -> dict[str, int]:
        from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn

        from cordee.privacy.rotation import reencrypt

        columns = [TextColumn("{task.description}"), BarColumn(), TaskProgressColumn()]
        with Progress(*columns, transient=True, disable=quiet or not self.stdout.isatty()) as bar:
            tasks: dict[str, TaskID] = {}

            def show(table: str, done: int, total: int) -> None:
                if table not in tasks:
                    tasks[table] = bar.add_task(table, total=total or 1)
                bar.update(tasks[table], completed=done, total=total or 1)

            return reencrypt(progress=show)

    def handle_link(self, **options: Any) -> None:
        from cordee.privacy.preferences import preference_link

        customer = self._customer(options["customer_id"], "")
        days = options["days"]
        if days is not None and not 1 <= days <= 365:
            raise CommandError(_("--days : entre 1 et 365."))
        self.stdout.write(preference_link(customer, days=days))
