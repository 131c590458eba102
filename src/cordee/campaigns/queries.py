"""Reads: which campaigns an actor may see, and what a campaign returned."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from cordee.activities.models import Activity, ActivityKind
from cordee.campaigns.models import Campaign, Delivery, DeliveryStatus, EventKind, TrackingEvent
from cordee.privacy.access import Actor

# What counts as a conversion: something booked, bought or done with the destination.
CONVERSION_KINDS = (
    ActivityKind.STAY,
    ActivityKind.PURCHASE,
    ActivityKind.TICKET,
    ActivityKind.LESSON,
    ActivityKind.RENTAL,
    ActivityKind.VISIT,
    ActivityKind.MEAL,
)


def campaigns_visible_to(actor: Actor) -> QuerySet[Campaign]:
    qs = Campaign.objects.select_related("purpose", "partner", "message")
    if actor.sees_everything:
        return qs
    if actor.partner is None:
        return qs.none()
    return qs.filter(partner=actor.partner)


def campaign_for(actor: Actor, pk: int) -> Campaign:
    try:
        return campaigns_visible_to(actor).get(pk=pk)
    except Campaign.DoesNotExist:
        raise Http404 from None


@dataclass
class GroupReturn:
    members: int = 0
    converted: int = 0
    revenue: Decimal = Decimal(0)

    @property
    def rate(self) -> float:
        return self.converted / self.members if self.members else 0.0


@dataclass
class CampaignReport:
    statuses: dict[str, int] = field(default_factory=dict)
    opens: int = 0
    clicks: int = 0
    unsubscribes: int = 0
    bounces: int = 0
    complaints: int = 0
    recipients: GroupReturn = field(default_factory=GroupReturn)
    control: GroupReturn = field(default_factory=GroupReturn)
    cost: Decimal = Decimal(0)
    window_end: dt.datetime | None = None

    @property
    def sent(self) -> int:
        return self.statuses.get(DeliveryStatus.SENT, 0)

    @property
    def waiting(self) -> int:
        return self.statuses.get(DeliveryStatus.PENDING, 0) + self.statuses.get(
            DeliveryStatus.CLAIMED, 0
        )

    @property
    def bounced(self) -> int:
        return self.statuses.get(DeliveryStatus.BOUNCED, 0)

    @property
    def failed(self) -> int:
        return self.statuses.get(DeliveryStatus.FAILED, 0)

    @property
    def skipped(self) -> int:
        return self.statuses.get(DeliveryStatus.SKIPPED, 0)

    @property
    def uplift(self) -> float | None:
        """Conversion rate of the recipients minus that of the control group (points)."""
        if not self.control.members:
            return None
        return self.recipients.rate - self.control.rate

    @property
    def return_on_cost(self) -> float | None:
        """Revenue per unit of cost (None without a cost)."""
        return float(self.recipients.revenue / self.cost) if self.cost else None


def _group_return(
    campaign: Campaign, status: str, start: dt.datetime, end: dt.datetime
) -> GroupReturn:
    members = Delivery.objects.filter(campaign=campaign, status=status).values("customer_id")
    conversions = Activity.objects.filter(
        customer_id__in=members,
        kind__in=CONVERSION_KINDS,
        created_at__gte=start,
        created_at__lt=end,
        starts_on__gte=timezone.localdate(start),
    )
    agg = conversions.aggregate(people=Count("customer_id", distinct=True), revenue=Sum("amount"))
    return GroupReturn(
        members=Delivery.objects.filter(campaign=campaign, status=status).count(),
        converted=agg["people"] or 0,
        revenue=agg["revenue"] or Decimal(0),
    )


def campaign_report(campaign: Campaign) -> CampaignReport:
    """Delivery, reactions and return. Conversions: activities recorded within the campaign's
    attribution window from the start of sending, for the recipients and (the same measure)
    for the control group held out."""
    report = CampaignReport(cost=campaign.cost)
    report.statuses = dict(
        Delivery.objects.filter(campaign=campaign)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    events = dict(
        TrackingEvent.objects.filter(delivery__campaign=campaign)
        .values_list("kind")
        .annotate(n=Count("delivery_id", distinct=True))
        .values_list("kind", "n")
    )
    report.opens = events.get(EventKind.OPEN, 0)
    report.clicks = events.get(EventKind.CLICK, 0)
    report.unsubscribes = events.get(EventKind.UNSUBSCRIBE, 0)
    report.bounces = events.get(EventKind.BOUNCE, 0)
    report.complaints = events.get(EventKind.COMPLAINT, 0)
    if campaign.started_at is not None:
        end = campaign.started_at + dt.timedelta(days=campaign.conversion_days)
        report.window_end = end
        report.recipients = _group_return(campaign, DeliveryStatus.SENT, campaign.started_at, end)
        report.control = _group_return(campaign, DeliveryStatus.CONTROL, campaign.started_at, end)
    return report
