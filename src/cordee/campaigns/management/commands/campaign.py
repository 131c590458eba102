from __future__ import annotations

from email.utils import parseaddr
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from cordee.campaigns.abtest import (
    campaign_is_ab,
    campaign_winner_pick,
    variant_results,
    winners_pick_due,
)
from cordee.campaigns.audience import audience_steps
from cordee.campaigns.models import Campaign, Channel, Delivery, Message, Variant, WinnerMetric
from cordee.campaigns.sending import campaign_send_run, campaign_start
from cordee.campaigns.services import (
    campaign_save,
    campaigns_dispatch_due,
    message_check,
    winner_schedule,
)
from cordee.campaigns.templatefile import template_file_read
from cordee.core.commands import CordeeCommand
from cordee.privacy.access import Actor
from cordee.privacy.models import Purpose
from cordee.privacy.services import hub_partner


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ; ".join(f"{k} : {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


class Command(CordeeCommand):
    help = (
        "Campagnes : « campaign send --segment SLUG --purpose FINALITÉ --subject OBJET --template "
        "FICHIER [--dry-run] [--wait] » ; « campaign dispatch » lance les campagnes programmées "
        "dont l'heure est venue ; « campaign run ID » envoie ce qui reste d'une campagne."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        send = sub.add_parser("send", help="créer et envoyer une campagne")
        send.add_argument("--segment", default="")
        send.add_argument("--purpose", required=True)
        send.add_argument("--subject", required=True)
        send.add_argument("--template", required=True, type=Path)
        send.add_argument("--channel", choices=Channel.values, default=Channel.EMAIL)
        send.add_argument("--name", default="")
        send.add_argument("--from", dest="sender", default="", help='"Nom <adresse>"')
        send.add_argument(
            "--variant-subject",
            action="append",
            default=[],
            help="test A/B : l'objet d'une autre variante (B, C…), le message de A",
        )
        send.add_argument(
            "--variant-template",
            action="append",
            default=[],
            type=Path,
            help="test A/B : le message d'une autre variante (dans l'ordre des --variant-subject)",
        )
        send.add_argument("--test-percent", type=int, default=0, help="part testée (%%)")
        send.add_argument("--winner-metric", choices=WinnerMetric.values, default="clicks")
        send.add_argument("--winner-after", type=int, default=4, help="heures avant le choix")
        send.add_argument("--dry-run", action="store_true")
        send.add_argument("--wait", action="store_true", help="envoyer ici et attendre la fin")
        sub.add_parser("dispatch", help="lancer les campagnes programmées dont l'heure est venue")
        run = sub.add_parser("run", help="envoyer ce qui reste d'une campagne (reprise)")
        run.add_argument("campaign_id", type=int)
        winner = sub.add_parser(
            "winner", help="test A/B : résultats par variante, et envoi du gagnant au reste"
        )
        winner.add_argument("campaign_id", type=int)
        winner.add_argument("--variant", default="", help="la lettre choisie (sinon : le critère)")
        winner.add_argument("--show", action="store_true", help="afficher seulement")
        winner.add_argument("--wait", action="store_true", help="envoyer le reste ici")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system("cli")
        action = options["action"]
        if action == "dispatch":
            started = campaigns_dispatch_due(actor=actor)
            self.stdout.write(_("%(n)s campagne(s) lancée(s)") % {"n": len(started)})
            picked = winners_pick_due(actor=actor)
            if picked:
                self.stdout.write(
                    _("%(n)s test(s) A/B : gagnant envoyé au reste") % {"n": len(picked)}
                )
            return
        if action == "winner":
            self._winner(actor, options)
            return
        if action == "run":
            if not Campaign.objects.filter(pk=options["campaign_id"]).exists():
                raise CommandError(_("Campagne inconnue : %(id)s") % {"id": options["campaign_id"]})
            self._report(
                campaign_send_run(campaign_id=options["campaign_id"]), options["campaign_id"]
            )
            return
        self._send(actor, options)

    def _send(self, actor: Actor, options: dict[str, Any]) -> None:
        try:
            message = template_file_read(options["template"])
            message.update(subject_fr=options["subject"])
            hub = hub_partner()
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from None
        subjects, templates = options["variant_subject"], options["variant_template"]
        variants: list[dict[str, Any]] = []
        try:
            for i in range(max(len(subjects), len(templates))):
                fields = template_file_read(templates[i]) if i < len(templates) else {}
                if i < len(subjects):
                    fields["subject_fr"] = subjects[i]
                variants.append(fields)
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from None
        name, address = parseaddr(options["sender"]) if options["sender"] else ("", "")
        fields = dict(
            name=options["name"] or options["subject"][:150],
            purpose=options["purpose"][:40],
            channel=options["channel"],
            segment_slug=options["segment"][:60],
            sender_name=name or hub.name,
            sender_email=address or f"contact@{hub.slug}.invalid",
            partner=hub,
        )
        if variants or options["test_percent"]:
            fields.update(
                variants=variants,
                test_percent=options["test_percent"],
                winner_metric=options["winner_metric"],
                winner_delay=options["winner_after"],
            )
        try:
            if options["dry_run"]:
                clean = message_check(channel=options["channel"], **message)
                purpose = Purpose.objects.filter(slug=fields["purpose"], is_active=True).first()
                if purpose is None:
                    raise ValidationError(
                        _("Finalité inconnue : %(slug)s") % {"slug": fields["purpose"]}
                    )
                draft = Campaign(
                    name=fields["name"],
                    purpose=purpose,
                    channel=fields["channel"],
                    segment_slug=fields["segment_slug"],
                    partner=hub,
                    message=Message(**clean),
                )
                steps, _qs = audience_steps(draft, actor)
                self._steps([s.as_dict() for s in steps])
                self.stdout.write(_("Essai à blanc : rien n'a été envoyé."))
                return
            with transaction.atomic():
                campaign = campaign_save(actor=actor, **fields, **message)
                queued = campaign_start(campaign=campaign, actor=actor)
                if not options["wait"]:
                    winner_schedule(campaign)
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from None
        self._steps(campaign.audience_steps)
        self.stdout.write(
            _("Campagne n° %(id)s : %(n)s message(s) à envoyer") % {"id": campaign.pk, "n": queued}
        )
        if options["wait"]:
            self._report(campaign_send_run(campaign_id=campaign.pk), campaign.pk)
        else:
            from cordee.campaigns.tasks import campaign_send

            campaign_send.enqueue(campaign.pk)
            self.stdout.write(_("Envoi confié au travailleur (cordee worker)."))

    def _winner(self, actor: Actor, options: dict[str, Any]) -> None:
        campaign = Campaign.objects.filter(pk=options["campaign_id"]).first()
        if campaign is None:
            raise CommandError(_("Campagne inconnue : %(id)s") % {"id": options["campaign_id"]})
        if not campaign_is_ab(campaign):
            raise CommandError(_("Cette campagne n'est pas un test A/B."))
        chosen: Variant | None = None
        if options["variant"] and not options["show"]:
            chosen = campaign.variants.filter(label=options["variant"].upper()[:1]).first()
            if chosen is None:
                raise CommandError(_("Variante inconnue : %(v)s") % {"v": options["variant"][:5]})
        if not options["show"]:
            picked = campaign_winner_pick(campaign=campaign, actor=actor, variant=chosen)
            campaign.refresh_from_db()
            if picked is None:
                self.stderr.write(
                    _("Gagnant déjà choisi (ou campagne pas en cours d'envoi) : rien de changé.")
                )
            else:
                self.stdout.write(
                    _("Variante %(v)s envoyée au reste de l'audience.") % {"v": picked.label}
                )
                if options["wait"]:
                    self._report(campaign_send_run(campaign_id=campaign.pk), campaign.pk)
        metric = WinnerMetric(campaign.winner_metric).label
        self.stdout.write(_("Critère : %(metric)s") % {"metric": metric})
        for r in variant_results(campaign):
            self.stdout.write(
                f"{r.variant.label}{' *' if r.is_winner else '  '} "
                + _(
                    "envoyés %(sent)s · ouvertures %(opens)s (%(o).1f %%) · clics %(clicks)s "
                    "(%(c).1f %%) · conversions %(conv)s (%(v).1f %%) · « %(subject)s »"
                )
                % {
                    "sent": r.sent,
                    "opens": r.opens,
                    "o": 100 * r.open_rate,
                    "clicks": r.clicks,
                    "c": 100 * r.click_rate,
                    "conv": r.converted,
                    "v": 100 * r.conversion_rate,
                    "subject": r.subject,
                }
            )

    def _steps(self, steps: list[dict[str, Any]]) -> None:
        for step in steps:
            self.stdout.write(f"{step['count']:>10}  {step['label']}")

    def _report(self, report: Any, campaign_id: int) -> None:
        from django.db.models import Count

        counts = dict(
            Delivery.objects.filter(campaign_id=campaign_id)
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        self.stdout.write(
            _(
                "Envoyés : %(sent)s · écartés : %(skipped)s · rejetés : %(bounced)s · échecs : %(failed)s · en attente : %(pending)s"
            )
            % {
                "sent": counts.get("sent", 0),
                "skipped": counts.get("skipped", 0),
                "bounced": counts.get("bounced", 0),
                "failed": counts.get("failed", 0),
                "pending": counts.get("pending", 0) + counts.get("claimed", 0),
            }
        )
        for error in report.errors[-3:]:
            self.stderr.write(_("Incident : %(error)s") % {"error": error})
