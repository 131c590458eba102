"""The triggers page (office only): each rule, its last runs and what they sent; on or off."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Max, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from cordee.campaigns.models import Campaign, DeliveryStatus, TriggerRule
from cordee.campaigns.offers import can_review_offers
from cordee.core.views import SignedInRequest
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log

LAST_RUNS = 7


def _marketer(request: SignedInRequest) -> Actor:
    actor = Actor.for_user(request.user)
    if not can_review_offers(actor):  # the office's administrators and marketers
        raise PermissionDenied
    return actor


def _runs(rule_ids: list[int]) -> dict[int, list[Campaign]]:
    """The last days each rule ran, with the counts of what its day's campaign sent."""
    sent = Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.SENT))
    waiting = Count(
        "deliveries",
        filter=Q(deliveries__status__in=(DeliveryStatus.PENDING, DeliveryStatus.CLAIMED)),
    )
    failed = Count(
        "deliveries",
        filter=Q(
            deliveries__status__in=(
                DeliveryStatus.FAILED,
                DeliveryStatus.BOUNCED,
                DeliveryStatus.SKIPPED,
            )
        ),
    )
    runs: dict[int, list[Campaign]] = {pk: [] for pk in rule_ids}
    for pk in rule_ids:
        runs[pk] = list(
            Campaign.objects.filter(trigger_id=pk)
            .order_by("-run_date")
            .annotate(sent=sent, waiting=waiting, failed=failed)[:LAST_RUNS]
        )
    return runs


def trigger_list(request: SignedInRequest) -> HttpResponse:
    _marketer(request)
    rules = list(
        TriggerRule.objects.select_related("purpose", "partner")
        .annotate(
            last_run=Max("campaigns__run_date"),
            occasions_total=Count("occasions", distinct=True),
        )
        .order_by("name")
    )
    runs = _runs([r.pk for r in rules])
    context: dict[str, Any] = {"rows": [(rule, runs[rule.pk]) for rule in rules]}
    return render(request, "campaigns/triggers.html", context)


@require_POST
def trigger_toggle(request: SignedInRequest, pk: int) -> HttpResponse:
    actor = _marketer(request)
    rule = get_object_or_404(TriggerRule, pk=pk)
    active = request.POST.get("active") == "1"
    with transaction.atomic():
        TriggerRule.objects.filter(pk=rule.pk).update(is_active=active)
        audit_log(actor=actor, action="trigger.toggle", obj=rule, active=active)
    return redirect("campaigns:triggers")
