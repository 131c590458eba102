"""Pages of identity resolution: the review queue, and undoing a merge (hub users only)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cordee.core.views import SignedInRequest
from cordee.customers.arrival import arrival_undo
from cordee.customers.identity import ReviewCursor, review_page
from cordee.customers.merging import customers_merge, merge_undo, pair_decide
from cordee.customers.models import MergeEvent, MergeKind, PairDecision, ReviewStatus, SourceRecord
from cordee.partners.models import User
from cordee.privacy.access import Actor, customer_for
from cordee.privacy.audit import audit_log, client_ip

ACTIONS = {
    "merge": ReviewStatus.MERGED,
    "reject": ReviewStatus.REJECTED,
    "different": ReviewStatus.DIFFERENT,
}


def _hub_only(user: User) -> Actor:
    if not (user.is_superuser or user.is_hub_user):
        raise PermissionDenied(_("La revue des doublons est réservée à l'office de tourisme."))
    return Actor.for_user(user)


def review_list(request: SignedInRequest) -> HttpResponse:
    actor = _hub_only(request.user)
    page = review_page(actor, after=ReviewCursor.parse(request.GET.get("apres")))
    audit_log(
        actor=actor, action="customer.review_list", ip=client_ip(request), pairs=len(page.pairs)
    )
    return render(
        request,
        "customers/review.html",
        {"pairs": page.pairs, "pending": page.pending, "page": page},
    )


@require_POST
def review_decide(request: SignedInRequest, decision_id: int) -> HttpResponse:
    actor = _hub_only(request.user)
    status = ACTIONS.get(request.POST.get("action", ""))
    error = ""
    decision = None
    if status is None:
        error = _("Action inconnue.")
    else:
        try:
            decision = pair_decide(decision_id=decision_id, status=status, actor=actor)
        except ValidationError as exc:
            error = " ".join(exc.messages)
    if request.htmx:
        return render(
            request,
            "customers/review.html#decided",
            {"decision": decision, "error": error, "decision_id": decision_id},
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("C'est noté."))
    return redirect("customers:review")


@require_POST
def merge_undo_view(request: SignedInRequest, event_id: int) -> HttpResponse:
    user = request.user
    if not user.can_manage_partners:
        raise PermissionDenied(
            _("Seuls les administrateurs de l'office peuvent annuler une fusion.")
        )
    actor = Actor.for_user(user)
    try:
        event = MergeEvent.objects.get(pk=event_id, kind__in=(MergeKind.MERGE, MergeKind.SPLIT))
    except MergeEvent.DoesNotExist:
        raise PermissionDenied(_("Cette fusion n'existe pas.")) from None
    customer_for(actor, event.survivor_id)  # 404 unless the reader may see the survivor
    try:
        if event.kind == MergeKind.SPLIT:
            # A split is undone by merging the two again (and that merge can be undone).
            customers_merge(event.survivor_id, event.absorbed_id, actor=actor)
            done = _("Les deux clients sont réunis à nouveau.")
        else:
            merge_undo(event, actor=actor)
            done = _("Fusion annulée : le client n° %(id)s est revenu tel qu'il était.") % {
                "id": event.absorbed_id
            }
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("customers:detail", event.survivor_id)
    messages.success(request, done)
    return redirect("customers:detail", event.survivor_id)


@require_POST
def arrival_undo_view(request: SignedInRequest, decision_id: int) -> HttpResponse:
    """Set apart a record that joined a customer at its arrival (not the same person)."""
    user = request.user
    if not user.can_manage_partners:
        raise PermissionDenied(
            _("Seuls les administrateurs de l'office peuvent défaire un rattachement.")
        )
    actor = Actor.for_user(user)
    decision = PairDecision.objects.filter(pk=decision_id).first()
    owner = (
        SourceRecord.objects.filter(pk=decision.left_id)
        .values_list("customer_id", flat=True)
        .first()
        if decision is not None
        else None
    )
    if owner is None:
        raise PermissionDenied(_("Ce rattachement n'existe pas."))
    customer_for(actor, owner)  # 404 unless the reader may see the customer
    try:
        created = arrival_undo(decision_id=decision_id, actor=actor)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("customers:detail", owner)
    if created is None:
        messages.success(request, _("C'est noté : ce ne sont pas les mêmes personnes."))
    else:
        messages.success(
            request,
            _("L'enregistrement arrivé est mis à part dans le client n° %(id)s.") % {"id": created},
        )
    return redirect("customers:detail", owner)
