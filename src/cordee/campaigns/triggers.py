"""Triggers: a daily, idempotent job (``cordee triggers run [--date D]``).

For each active rule, the customers whose occasion falls on the day get a message, once:
``TriggerOccasion`` is unique per rule × customer × occasion, so running the day again (or
twice at once) sends nothing more. Each rule's day is one campaign (unique per rule × day),
with its member snapshot, ledger and return like any other.

Birthdays: on the day and month, every year. Someone born on 29 February is wished a happy
birthday on 28 February in years without a 29th (not 1 March: still in their birth month).
Stay anniversaries follow the same rule. A day the job does not run is not caught up by the
next run; run the missed day with ``--date``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.activities.models import Activity, ActivityKind, Season
from cordee.campaigns.audience import (
    campaign_audience_base,
    not_suppressed,
    under_pressure_cap,
    with_address,
    with_consent,
)
from cordee.campaigns.models import (
    Campaign,
    CampaignState,
    Delivery,
    DeliveryStatus,
    Message,
    TriggerKind,
    TriggerOccasion,
    TriggerRule,
)
from cordee.campaigns.rendering import check_text
from cordee.campaigns.sending import campaign_finish_if_done
from cordee.campaigns.services import message_check
from cordee.customers.models import Customer
from cordee.customers.models import Season as PreferredSeason
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log
from cordee.privacy.models import Purpose
from cordee.privacy.services import hub_partner
from cordee.segments.models import Segment

# The longest wait a rule may name: ten years (a win-back after 540 days is the usual).
MAX_DAYS = 3650


def _month_day_q(field: str, day: dt.date) -> Q:
    """Dates whose anniversary is ``day``: same month and day, and 29 Feb on a 28 Feb of a
    year without 29 Feb."""
    q = Q(**{f"{field}__month": day.month, f"{field}__day": day.day})
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        q |= Q(**{f"{field}__month": 2, f"{field}__day": 29})
    return q


def occasions(rule: TriggerRule, day: dt.date, base: QuerySet[Customer]) -> dict[int, str]:
    """{customer id: occasion key} for the customers of ``base`` whose occasion is ``day``."""
    kind = rule.kind
    if kind == TriggerKind.BIRTHDAY:
        ids = base.filter(_month_day_q("birth_date", day)).filter(birth_date__lt=day)
        return {pk: f"birthday-{day.year}" for pk in ids.values_list("pk", flat=True)}
    if kind == TriggerKind.STAY_ANNIVERSARY:
        target = day + dt.timedelta(days=rule.days)
        stays = Activity.objects.filter(
            _month_day_q("starts_on", target),
            customer__in=base,
            kind=ActivityKind.STAY,
            starts_on__lt=target.replace(month=1, day=1),
        ).order_by("customer_id", "-starts_on")
        found: dict[int, str] = {}
        for customer_id, activity_id in stays.values_list("customer_id", "id"):
            found.setdefault(customer_id, f"stay-{activity_id}-{target.year}")
        return found
    if kind == TriggerKind.SEASON_OPENING:
        target = day + dt.timedelta(days=rule.days)
        found = {}
        for season in Season.objects.filter(starts_on=target):
            fans = base.filter(preferred_season__in=(season.kind, PreferredSeason.BOTH))
            for pk in fans.values_list("pk", flat=True):
                found.setdefault(pk, f"season-{season.code}"[:60])
        return found
    if kind == TriggerKind.POST_STAY:
        target = day - dt.timedelta(days=rule.days)
        stays = Activity.objects.filter(customer__in=base, kind=ActivityKind.STAY).filter(
            Q(ends_on=target) | Q(ends_on__isnull=True, starts_on=target)
        )
        found = {}
        for customer_id, activity_id in stays.order_by("id").values_list("customer_id", "id"):
            found.setdefault(customer_id, f"survey-{activity_id}")
        return found
    if kind == TriggerKind.WINBACK:
        # Lapsing: nothing since ``days`` days. One message per lapse (keyed by the last
        # activity): a customer who comes back and lapses again is written to again.
        cutoff = day - dt.timedelta(days=rule.days or 540)
        last = (
            Activity.objects.filter(customer__in=base)
            .values("customer_id")
            .annotate(last=Max("starts_on"), last_id=Max("id"))
            .filter(last__lt=cutoff)
        )
        return {row["customer_id"]: f"winback-{row['last_id']}" for row in last}
    return {}


@dataclass
class TriggerResult:
    rule: TriggerRule
    campaign: Campaign | None
    candidates: int
    queued: int
    already: int


def _day_campaign(rule: TriggerRule, day: dt.date) -> Campaign:
    campaign, _created = Campaign.objects.get_or_create(
        trigger=rule,
        run_date=day,
        defaults={
            "name": f"{rule.name} — {day.isoformat()}",
            "partner": rule.partner,
            "purpose": rule.purpose,
            "channel": rule.channel,
            "segment_slug": rule.segment_slug,
            "message": rule.message,
            "sender_name": rule.sender_name,
            "sender_email": rule.sender_email,
            "state": CampaignState.SENDING,
            "started_at": timezone.now(),
        },
    )
    return campaign


def trigger_run(*, rule: TriggerRule, day: dt.date, actor: Actor) -> TriggerResult:
    with transaction.atomic():
        campaign = _day_campaign(rule, day)
        base = campaign_audience_base(campaign, actor)
        found = occasions(rule, day, base)
        eligible = with_address(Customer.objects.filter(pk__in=list(found)), campaign.channel)
        eligible = under_pressure_cap(
            not_suppressed(with_consent(eligible, campaign), campaign), campaign
        )
        ids = list(eligible.values_list("pk", flat=True))
        done = set(
            TriggerOccasion.objects.filter(
                trigger=rule, customer_id__in=ids, occasion__in={found[i] for i in ids}
            ).values_list("customer_id", "occasion")
        )
        new = [pk for pk in ids if (pk, found[pk]) not in done]
        TriggerOccasion.objects.bulk_create(
            [
                TriggerOccasion(trigger=rule, customer_id=pk, occasion=found[pk], campaign=campaign)
                for pk in new
            ],
            ignore_conflicts=True,
        )
        languages = dict(Customer.objects.filter(pk__in=new).values_list("pk", "language"))
        Delivery.objects.bulk_create(
            [
                Delivery(
                    campaign=campaign,
                    customer_id=pk,
                    status=DeliveryStatus.PENDING,
                    language="en" if (languages.get(pk) or "").startswith("en") else "fr",
                )
                for pk in new
            ],
            ignore_conflicts=True,
        )
        if new:
            Campaign.objects.filter(pk=campaign.pk).update(state=CampaignState.SENDING)
            campaign.state = CampaignState.SENDING
        else:
            campaign_finish_if_done(campaign)
        audit_log(
            actor=actor, action="trigger.run", obj=campaign, day=day.isoformat(), queued=len(new)
        )
    return TriggerResult(rule, campaign, len(found), len(new), len(ids) - len(new))


def triggers_run(*, day: dt.date, actor: Actor) -> list[TriggerResult]:
    """Every active rule for ``day``; the messages go through the usual sending task."""
    from cordee.campaigns.tasks import campaign_send

    results = [
        trigger_run(rule=rule, day=day, actor=actor)
        for rule in TriggerRule.objects.filter(is_active=True).select_related(
            "purpose", "message", "partner"
        )
    ]
    for result in results:
        if result.queued and result.campaign is not None:
            transaction.on_commit(partial(campaign_send.enqueue, result.campaign.pk))
    return results


def trigger_save(
    *,
    actor: Actor,
    rule: TriggerRule | None,
    name: str,
    kind: str,
    days: int,
    purpose_slug: str,
    subject_fr: str,
    blocks_fr: list[dict[str, Any]],
    subject_en: str = "",
    blocks_en: list[dict[str, Any]] | None = None,
    segment_slug: str = "",
    sender_name: str = "",
    sender_email: str = "",
) -> TriggerRule:
    """Create a trigger rule (``rule`` None) or change one: its occasion, audience and message.

    Every field is checked first; a ValidationError names each wrong field. The rule is sent
    by the tourist office (the hub), by e-mail, like the command line's ``cordee triggers add``.
    """
    errors: dict[str, list[str]] = {}
    try:
        check_text(name, _("Nom"), limit=150)
        if not name.strip():
            raise ValidationError(_("Nom : à renseigner."))
    except ValidationError as exc:
        errors["name"] = exc.messages
    if kind not in TriggerKind.values:
        errors["kind"] = [_("Déclencheur inconnu : %(kind)s") % {"kind": str(kind)[:40]}]
    if not 0 <= days <= MAX_DAYS:
        errors["days"] = [_("Jours : de 0 à %(max)s.") % {"max": MAX_DAYS}]
    purpose = Purpose.objects.filter(slug=purpose_slug[:40], is_active=True).first()
    if purpose is None:
        errors["purpose"] = [_("Finalité inconnue : %(slug)s") % {"slug": purpose_slug[:40]}]
    if segment_slug and not Segment.objects.filter(slug=segment_slug).exists():
        errors["segment_slug"] = [_("Segment inconnu : %(slug)s") % {"slug": segment_slug[:60]}]
    try:
        check_text(sender_name, _("Nom de l'expéditeur"), limit=100)
        if any(c in sender_name for c in '\r\n<>"'):
            raise ValidationError(
                _("Nom de l'expéditeur : retours à la ligne, < > et \" interdits.")
            )
    except ValidationError as exc:
        errors["sender_name"] = exc.messages
    try:
        if sender_email:
            validate_email(sender_email)
    except ValidationError:
        errors["sender_email"] = [_("Adresse de l'expéditeur invalide.")]
    clean: dict[str, Any] = {}
    try:
        clean = message_check(
            channel="email",
            subject_fr=subject_fr,
            subject_en=subject_en,
            blocks_fr=blocks_fr,
            blocks_en=list(blocks_en or []),
            sms_fr="",
            sms_en="",
        )
    except ValidationError as exc:
        errors.update(exc.message_dict if hasattr(exc, "error_dict") else {"message": exc.messages})
    if errors:
        raise ValidationError(errors)
    assert purpose is not None
    hub = hub_partner()
    fields = {
        "name": name.strip(),
        "kind": kind,
        "days": days,
        "purpose": purpose,
        "segment_slug": segment_slug,
        "sender_name": sender_name.strip() or hub.name,
        "sender_email": sender_email or f"contact@{hub.slug}.invalid",
    }
    with transaction.atomic():
        if rule is None:
            rule = TriggerRule.objects.create(
                partner=hub, channel="email", message=Message.objects.create(**clean), **fields
            )
            audit_log(actor=actor, action="trigger.add", obj=rule)
        else:
            Message.objects.filter(pk=rule.message_id).update(**clean)
            TriggerRule.objects.filter(pk=rule.pk).update(**fields)
            rule.refresh_from_db()
            audit_log(actor=actor, action="trigger.change", obj=rule)
    return rule
