"""The triggers pages (office only): each rule, its last runs and what they sent; on or off;
created and changed with their message."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from cordee.campaigns.forms import (
    BLOCK_LABELS,
    FIRST_BLOCKS,
    TriggerForm,
    blocks_from_post,
    message_editors,
)
from cordee.campaigns.models import Campaign, DeliveryStatus, TriggerKind, TriggerRule
from cordee.campaigns.offers import can_review_offers
from cordee.campaigns.triggers import trigger_save
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


def trigger_edit(request: SignedInRequest, pk: int | None = None) -> HttpResponse:
    """Create a trigger, or change its occasion, audience and message (office only)."""
    actor = _marketer(request)
    rule = get_object_or_404(TriggerRule, pk=pk) if pk is not None else None
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        form = TriggerForm(request.POST)
        blocks_fr = blocks_from_post(request.POST, "fr")
        blocks_en = blocks_from_post(request.POST, "en")
        if form.is_valid():
            data = form.cleaned_data
            try:
                rule = trigger_save(
                    actor=actor,
                    rule=rule,
                    name=data["name"],
                    kind=data["kind"],
                    days=data["days"],
                    purpose_slug=data["purpose"].slug,
                    segment_slug=data["segment_slug"],
                    sender_name=data["sender_name"],
                    sender_email=data["sender_email"],
                    subject_fr=data["subject_fr"],
                    subject_en=data["subject_en"],
                    blocks_fr=blocks_fr,
                    blocks_en=blocks_en,
                )
                return redirect(f"{reverse('campaigns:triggers')}#trigger-{rule.pk}")
            except ValidationError as exc:
                errors = exc.message_dict
        else:
            # Each message says which field it is about: the list sits above the form.
            errors = {
                k: [f"{form.fields[k].label} : {e}" if k in form.fields else str(e) for e in v]
                for k, v in form.errors.items()
            }
    elif rule is not None:
        form = TriggerForm(
            initial={
                "name": rule.name,
                "kind": rule.kind,
                "days": rule.days,
                "purpose": rule.purpose.slug,
                "segment_slug": rule.segment_slug,
                "sender_name": rule.sender_name,
                "sender_email": rule.sender_email,
                "subject_fr": rule.message.subject_fr,
                "subject_en": rule.message.subject_en,
            }
        )
        blocks_fr, blocks_en = rule.message.blocks_fr, rule.message.blocks_en
    else:
        form = TriggerForm(initial={"kind": TriggerKind.BIRTHDAY, "purpose": "newsletter"})
        blocks_fr, blocks_en = FIRST_BLOCKS, []
    editors, shown = message_editors(
        form,
        {"fr": blocks_fr, "en": blocks_en},
        subjects={"fr": ("subject_fr",), "en": ("subject_en",)},
    )
    context = {
        "rule": rule,
        "form": form,
        "errors": errors,
        "editors": editors,
        "editor_fields": shown,
        "block_labels": BLOCK_LABELS,
    }
    return render(request, "campaigns/trigger_edit.html", context)
