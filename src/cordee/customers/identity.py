"""Reads of identity resolution for the pages: merge history, households, pairs to review.

Every customer shown comes through the privacy gate (``customers_visible_to``): a partner
never learns from a household or a merge that another partner knows someone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cordee.customers.matching.evidence import EVIDENCE_FIELDS
from cordee.customers.models import (
    Customer,
    HouseholdLink,
    MergeEvent,
    MergeKind,
    PairDecision,
    ReviewStatus,
    SourceRecord,
)
from cordee.privacy.access import Actor, customers_visible_to

VERDICTS = {
    "same": _("identique"),
    "close": _("proche"),
    "different": _("différent"),
    "missing": _("inconnu d'un côté"),
}
FIELD_LABELS = {
    "first_name": _("prénom"),
    "last_name": _("nom"),
    "birth_date": _("date de naissance"),
    "email": _("e-mail"),
    "phone": _("téléphone"),
    "address_line1": _("adresse"),
    "postal_code": _("code postal"),
    "city": _("ville"),
}
REASONS = {
    "score": _("score intermédiaire"),
    "could be either of two people": _("pourrait être l'une ou l'autre de deux personnes"),
    "would join contradicting records": _("réunirait des fiches qui se contredisent"),
    "shared contact, different first names": _("coordonnées partagées, prénoms différents"),
    "shared contact, different birth dates": _(
        "coordonnées partagées, dates de naissance différentes"
    ),
}


@dataclass
class EvidenceLine:
    field: str
    label: str
    verdict: str
    verdict_label: str
    left: Any = None
    right: Any = None


def evidence_lines(
    evidence: dict[str, Any],
    left: dict[str, Any] | None = None,
    right: dict[str, Any] | None = None,
) -> list[EvidenceLine]:
    lines = []
    for name in EVIDENCE_FIELDS:
        verdict = evidence.get(name)
        if not isinstance(verdict, str):
            continue
        lines.append(
            EvidenceLine(
                field=name,
                label=str(FIELD_LABELS[name]),
                verdict=verdict,
                verdict_label=str(VERDICTS.get(verdict, verdict)),
                left=(left or {}).get(name),
                right=(right or {}).get(name),
            )
        )
    return lines


@dataclass
class HistoryEntry:
    event: MergeEvent
    other_id: int
    other_visible: bool
    evidence: list[EvidenceLine] = field(default_factory=list)
    undone: bool = False
    can_undo: bool = False


def merge_history(customer: Customer, actor: Actor) -> list[HistoryEntry]:
    """The merges and unmerges this customer took part in, newest first, with their why."""
    events = list(
        MergeEvent.objects.filter(
            Q(survivor_id=customer.pk) | Q(absorbed_id=customer.pk)
        ).select_related("run")[:50]
    )
    others = {e.absorbed_id if e.survivor_id == customer.pk else e.survivor_id for e in events}
    visible = set(customers_visible_to(actor).filter(pk__in=others).values_list("pk", flat=True))
    undone = set(
        MergeEvent.objects.filter(undoes__in=[e.pk for e in events]).values_list(
            "undoes_id", flat=True
        )
    )
    user = actor.user
    admin = bool(user is not None and user.can_manage_partners)
    # A split is undone by merging again: both customers must still be there.
    present = set(Customer.objects.filter(pk__in=others).values_list("pk", flat=True))
    entries = []
    for event in events:
        other = event.absorbed_id if event.survivor_id == customer.pk else event.survivor_id
        is_merge = event.kind == MergeKind.MERGE
        entries.append(
            HistoryEntry(
                event=event,
                other_id=other,
                other_visible=other in visible or (is_merge and other == event.absorbed_id),
                evidence=evidence_lines(event.evidence),
                undone=event.pk in undone,
                can_undo=admin
                and event.pk not in undone
                and not event.erased
                and (
                    (is_merge and event.survivor_id == customer.pk)
                    or (event.kind == MergeKind.SPLIT and other in present)
                ),
            )
        )
    return entries


def households_of(customer: Customer, actor: Actor) -> list[tuple[Customer, str]]:
    """The visible customers linked to this one as a household, with the reason."""
    records = SourceRecord.objects.filter(customer_id=customer.pk).values("pk")
    links = HouseholdLink.objects.filter(Q(left__in=records) | Q(right__in=records)).values_list(
        "left__customer_id", "right__customer_id", "reason"
    )
    reasons: dict[int, str] = {}
    for left, right, reason in links[:200]:
        other = right if left == customer.pk else left
        if other is not None and other != customer.pk:
            reasons.setdefault(other, str(REASONS.get(reason, reason)))
    people = customers_visible_to(actor).filter(pk__in=reasons).order_by("last_name_key", "pk")
    return [(person, reasons[person.pk]) for person in people]


@dataclass
class ReviewPair:
    decision: PairDecision
    left: Customer | None
    right: Customer | None
    evidence: list[EvidenceLine]
    reason: str

    @property
    def same_customer(self) -> bool:
        return self.left is not None and self.right is not None and self.left.pk == self.right.pk


def review_pairs(actor: Actor, *, limit: int = 30, after: float | None = None) -> list[ReviewPair]:
    """The pending pairs, strongest first, both sides through the gate."""
    pending = PairDecision.objects.filter(status=ReviewStatus.PENDING).select_related(
        "left", "right"
    )
    if after is not None:
        pending = pending.filter(score__lt=after)
    decisions = list(pending.order_by("-score", "pk")[:limit])
    ids = {c for d in decisions for c in (d.left.customer_id, d.right.customer_id) if c is not None}
    visible = {c.pk: c for c in customers_visible_to(actor).filter(pk__in=ids)}
    pairs = []
    shown: set[tuple[int, int]] = set()
    for decision in decisions:
        left = visible.get(decision.left.customer_id or 0)
        right = visible.get(decision.right.customer_id or 0)
        if left is None or right is None:
            continue
        # Several record pairs may join the same two customers: one entry, the strongest.
        customers = (min(left.pk, right.pk), max(left.pk, right.pk))
        if customers in shown:
            continue
        shown.add(customers)
        pairs.append(
            ReviewPair(
                decision=decision,
                left=left,
                right=right,
                evidence=evidence_lines(decision.evidence, decision.left.data, decision.right.data),
                reason=str(REASONS.get(decision.reason, decision.reason)),
            )
        )
    return pairs


def customer_identity(customer: Customer, actor: Actor) -> dict[str, Any]:
    """What the customer page shows of identity resolution."""
    return {
        "households": households_of(customer, actor),
        "history": merge_history(customer, actor),
    }
