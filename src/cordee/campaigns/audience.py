"""Who receives a campaign: segment ∩ consent ∩ not suppressed ∩ pressure cap, step by step.

The base is resolved in ONE place, ``campaign_audience_base``: the segment's members when the
segments app is installed (``cordee.segments.services.segment_queryset``), otherwise every
customer the actor may see (``cordee.privacy.access.customers_visible_to``) — the segment
slug is then kept on the campaign but not applied, and the first step says so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.campaigns.conf import pressure_cap
from cordee.campaigns.models import (
    Campaign,
    Channel,
    Delivery,
    DeliveryStatus,
    Suppression,
)
from cordee.customers.models import Customer
from cordee.partners.models import Partner, PartnerKind
from cordee.privacy.access import Actor, customers_visible_to
from cordee.privacy.models import ControllerKind, Purpose
from cordee.privacy.queries import consent_granted
from cordee.segments.compiler import segment_queryset
from cordee.segments.models import Segment

PRESSURE_WINDOW = dt.timedelta(days=7)
SMS_PURPOSE = "sms"


def campaign_audience_base(campaign: Campaign, actor: Actor) -> QuerySet[Customer]:
    """The segment's members the actor may see; every visible customer without a segment.

    A joint action also passes the gate of each co-signing partner: a partner's offer only
    ever reaches customers that partner may see (those it brought, or shared with partners).
    """
    if not campaign.segment_slug:
        qs = customers_visible_to(actor)
    else:
        segment = Segment.objects.filter(slug=campaign.segment_slug).first()
        if segment is None:
            # The segment was deleted since the campaign was written: nobody, not everyone.
            return Customer.objects.none()
        qs = segment_queryset(segment, actor)
    if campaign.is_joint:
        from cordee.campaigns.offers import joint_partners

        for partner in joint_partners(campaign):
            qs = qs & customers_visible_to(Actor.for_partner(partner, "action commune"))
    return qs


def with_address(qs: QuerySet[Customer], channel: str) -> QuerySet[Customer]:
    return qs.exclude(phone="") if channel == Channel.SMS else qs.exclude(email="")


def _controller(campaign: Campaign) -> Partner | None:
    """To whom the consent must have been given for this campaign."""
    if campaign.purpose.controller == ControllerKind.HUB:
        return Partner.objects.filter(kind=PartnerKind.HUB).first()
    if campaign.purpose.controller == ControllerKind.PARTNER:
        return campaign.partner
    return None  # joint: a consent given to the office or to any partner counts


def consent_conditions(campaign: Campaign) -> list[Exists]:
    """What consent a recipient needs (the campaign's purpose, and SMS for an SMS campaign),
    as conditions on the outer customer: filters for the audience, columns at send time."""
    conditions = [consent_granted(campaign.purpose, _controller(campaign))]
    if campaign.channel == Channel.SMS and campaign.purpose.slug != SMS_PURPOSE:
        sms = Purpose.objects.filter(slug=SMS_PURPOSE).first()
        if sms is not None:
            conditions.append(consent_granted(sms))
    return conditions


def with_consent(qs: QuerySet[Customer], campaign: Campaign) -> QuerySet[Customer]:
    for condition in consent_conditions(campaign):
        qs = qs.filter(condition)
    return qs


def suppressed(campaign: Campaign) -> Exists:
    """The outer customer's address is on the suppression list for this campaign."""
    key = "phone_hash" if campaign.channel == Channel.SMS else "email_hash"
    return Exists(
        Suppression.objects.filter(channel=campaign.channel, address_hash=OuterRef(key)).filter(
            Q(purpose__isnull=True) | Q(purpose_id=campaign.purpose_id)
        )
    )


def not_suppressed(qs: QuerySet[Customer], campaign: Campaign) -> QuerySet[Customer]:
    # A restricted customer (Art. 18, cordee.privacy.objection) is out of every campaign and
    # trigger too: this check runs when the audience is built and again at send time.
    return qs.filter(~suppressed(campaign), restricted_at__isnull=True)


def received_recently(campaign: Campaign) -> Coalesce:
    """How many messages of other campaigns the outer customer was sent in the last 7 days
    (the pressure cap at send time, one probe of ``delivery_pressure_idx`` per customer)."""
    sent = (
        Delivery.objects.filter(
            customer_id=OuterRef("pk"), sent_at__gte=timezone.now() - PRESSURE_WINDOW
        )
        .exclude(campaign_id=campaign.pk)
        .order_by()
        .values("customer_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(sent, output_field=IntegerField()), 0)


def under_pressure_cap(qs: QuerySet[Customer], campaign: Campaign) -> QuerySet[Customer]:
    """Customers who received fewer than the cap in the last 7 days, all senders together.

    Messages queued by other campaigns that are sending count too: two campaigns prepared the
    same morning cannot both fill the week. (At send time, ``received_recently`` counts what
    was actually sent, for a batch's customers only.)
    """
    since = timezone.now() - PRESSURE_WINDOW
    recent = Q(sent_at__gte=since) | Q(
        status__in=(DeliveryStatus.PENDING, DeliveryStatus.CLAIMED, DeliveryStatus.HELD)
    )
    full = (
        Delivery.objects.filter(recent)
        .exclude(campaign_id=campaign.pk)
        .values("customer_id")
        .annotate(n=Count("id"))
        .filter(n__gte=pressure_cap())
        .values("customer_id")
    )
    return qs.exclude(pk__in=full)


@dataclass
class Step:
    key: str
    label: str
    count: int

    def as_dict(self) -> dict[str, object]:
        return {"key": self.key, "label": self.label, "count": self.count}


def audience_steps(campaign: Campaign, actor: Actor) -> tuple[list[Step], QuerySet[Customer]]:
    """The count explained step by step, and the final queryset."""
    qs = campaign_audience_base(campaign, actor)
    if campaign.segment_slug:
        base_label = _("Segment « %(slug)s »") % {"slug": campaign.segment_slug}
    elif campaign.is_joint:
        base_label = _("Tous les clients partagés avec les partenaires")
    else:
        base_label = _("Tous les clients visibles (aucun segment choisi)")
    if campaign.is_joint:
        base_label += _(", visibles par chaque partenaire cosignataire")
    steps = [Step("base", base_label, qs.count())]
    qs = with_address(qs, campaign.channel)
    label = _("… avec un téléphone") if campaign.channel == Channel.SMS else _("… avec un e-mail")
    steps.append(Step("address", label, qs.count()))
    qs = with_consent(qs, campaign)
    steps.append(
        Step(
            "consent",
            _("… ayant consenti à « %(purpose)s »") % {"purpose": campaign.purpose.name}
            + (_(" et aux SMS") if campaign.channel == Channel.SMS else ""),
            qs.count(),
        )
    )
    qs = not_suppressed(qs, campaign)
    steps.append(
        Step(
            "suppression",
            _(
                "… hors liste d'exclusion (rejets, plaintes, désinscriptions, oppositions, limitations)"
            ),
            qs.count(),
        )
    )
    qs = under_pressure_cap(qs, campaign)
    steps.append(
        Step(
            "pressure",
            _("… sous le plafond de %(cap)s messages par semaine") % {"cap": pressure_cap()},
            qs.count(),
        )
    )
    return steps, qs


def in_control_group(campaign_id: int, customer_id: int, percent: int) -> bool:
    """Deterministic: the same person stays in or out of a campaign's control group."""
    if percent <= 0:
        return False
    digest = hashlib.blake2b(f"{campaign_id}:{customer_id}".encode(), digest_size=4).digest()
    return int.from_bytes(digest) % 100 < percent
