"""A/B tests: a share of the audience split between variants, then the winner for the rest.

At the snapshot (``sending.campaign_start``) each recipient outside the control group is drawn,
deterministically from the campaign and the customer, into the test share or the rest; a test
recipient is drawn into one variant, recorded on its ledger row (``Delivery.variant``). The
rest waits with status ``held``: the claim never takes those rows.

``campaign_winner_pick`` chooses the winner (by the campaign's metric, or the marketer's
choice) and releases the rest to it in ONE transaction whose first statement is a conditional
UPDATE (``winner IS NULL``): two workers racing, or a worker and the marketer's click, pick
once; the loser changes nothing. Held rows go to ``pending`` with no variant and are rendered
with the winner, which never changes once set: the rest gets one variant, the winner.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from cordee.activities.models import Activity
from cordee.campaigns.models import (
    Campaign,
    CampaignState,
    Delivery,
    DeliveryStatus,
    EventKind,
    TrackingEvent,
    Variant,
    WinnerMetric,
)
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log

LABELS = "ABCDEFGH"


def ab_draw(campaign_id: int, customer_id: int, test_percent: int, variants: int) -> int | None:
    """The variant index a recipient is drawn for, or None for the rest (deterministic)."""
    digest = hashlib.blake2b(f"ab:{campaign_id}:{customer_id}".encode(), digest_size=8).digest()
    value = int.from_bytes(digest)
    if value % 100 >= test_percent:
        return None
    return (value // 100) % variants


def campaign_is_ab(campaign: Campaign) -> bool:
    return campaign.test_percent > 0 and campaign.variants.count() >= 2


@dataclass
class VariantResult:
    variant: Variant
    subject: str
    members: int = 0
    sent: int = 0
    opens: int = 0
    clicks: int = 0
    converted: int = 0
    is_winner: bool = False

    def _rate(self, n: int) -> float:
        return n / self.sent if self.sent else 0.0

    @property
    def open_rate(self) -> float:
        return self._rate(self.opens)

    @property
    def click_rate(self) -> float:
        return self._rate(self.clicks)

    @property
    def conversion_rate(self) -> float:
        return self._rate(self.converted)

    def score(self, metric: str) -> float:
        return {
            WinnerMetric.OPENS: self.open_rate,
            WinnerMetric.CLICKS: self.click_rate,
            WinnerMetric.CONVERSIONS: self.conversion_rate,
        }[WinnerMetric(metric)]


def variant_results(campaign: Campaign) -> list[VariantResult]:
    """Per variant, its test recipients: sent, opened, clicked, converted (people, not events)."""
    from cordee.campaigns.queries import CONVERSION_KINDS

    variants = list(campaign.variants.select_related("message"))
    results = {
        v.pk: VariantResult(
            variant=v, subject=v.message.subject_fr, is_winner=v.pk == campaign.winner_id
        )
        for v in variants
    }
    test_rows = Delivery.objects.filter(campaign=campaign, variant__isnull=False)
    for variant_id, members, sent in test_rows.values_list("variant_id").annotate(
        members=Count("id"), sent=Count("id", filter=Q(status=DeliveryStatus.SENT))
    ):
        results[variant_id].members, results[variant_id].sent = members, sent
    events = (
        TrackingEvent.objects.filter(
            delivery__campaign=campaign,
            delivery__variant__isnull=False,
            kind__in=(EventKind.OPEN, EventKind.CLICK),
        )
        .values_list("delivery__variant_id", "kind")
        .annotate(n=Count("delivery_id", distinct=True))
    )
    for variant_id, kind, n in events:
        if kind == EventKind.OPEN:
            results[variant_id].opens = n
        else:
            results[variant_id].clicks = n
    if campaign.started_at is not None:
        end = campaign.started_at + dt.timedelta(days=campaign.conversion_days)
        for variant in variants:
            members_sent = test_rows.filter(variant=variant, status=DeliveryStatus.SENT).values(
                "customer_id"
            )
            results[variant.pk].converted = (
                Activity.objects.filter(
                    customer_id__in=members_sent,
                    kind__in=CONVERSION_KINDS,
                    created_at__gte=campaign.started_at,
                    created_at__lt=end,
                    starts_on__gte=timezone.localdate(campaign.started_at),
                )
                .values("customer_id")
                .distinct()
                .count()
            )
    return [results[v.pk] for v in variants]


def winner_choose(campaign: Campaign) -> Variant | None:
    """The variant with the best rate on the campaign's metric; a tie goes to the first."""
    results = variant_results(campaign)
    if not results:
        return None
    best = max(
        results, key=lambda r: (r.score(campaign.winner_metric), -LABELS.index(r.variant.label))
    )
    return best.variant


def winner_due_at(campaign: Campaign) -> dt.datetime | None:
    if campaign.started_at is None:
        return None
    return campaign.started_at + dt.timedelta(hours=campaign.winner_delay)


def campaign_winner_pick(
    *, campaign: Campaign, actor: Actor, variant: Variant | None = None
) -> Variant | None:
    """Choose the winner (``variant``, or the best by the metric) and send it to the rest.

    Returns the winner if this call chose it; None if the campaign had one already, is not
    sending, or is no A/B test. Whoever calls it, however many at once, it happens once.
    """
    if variant is not None and variant.campaign_id != campaign.pk:
        raise ValueError("variant of another campaign")
    with transaction.atomic():
        if variant is None:
            variant = winner_choose(campaign)
            if variant is None:
                return None
        taken = Campaign.objects.filter(
            pk=campaign.pk, winner__isnull=True, state=CampaignState.SENDING, test_percent__gt=0
        ).update(winner=variant, winner_at=timezone.now())
        if not taken:
            return None
        released = Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.HELD).update(
            status=DeliveryStatus.PENDING
        )
        campaign.winner, campaign.winner_at = variant, timezone.now()
        audit_log(
            actor=actor,
            action="campaign.winner",
            obj=campaign,
            variant=variant.label,
            metric=campaign.winner_metric,
            released=released,
        )

    def send_rest() -> None:
        from cordee.campaigns.tasks import campaign_send

        campaign_send.enqueue(campaign.pk)

    transaction.on_commit(send_rest)
    return variant


def winners_pick_due(*, actor: Actor) -> list[int]:
    """Pick the winner of every automatic A/B test whose delay is over (cron-able, idempotent)."""
    picked = []
    candidates = Campaign.objects.filter(
        state=CampaignState.SENDING,
        test_percent__gt=0,
        winner__isnull=True,
        winner_auto=True,
        started_at__isnull=False,
    )
    now = timezone.now()
    for campaign in candidates:
        due = winner_due_at(campaign)
        if due is not None and due <= now and campaign_winner_pick(campaign=campaign, actor=actor):
            picked.append(campaign.pk)
    return picked
