"""Reads of identity resolution for the pages: merge history, households, pairs to review.

Every customer shown comes through the privacy gate (``customers_visible_to``): a partner
never learns from a household or a merge that another partner knows someone.
"""

from __future__ import annotations

import math
import re
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


# A score as repr() writes it (0.85, 1e-05), then the pair's id.
_CURSOR = re.compile(r"(\d+(?:\.\d+)?(?:e[+-]?\d+)?)_(\d{1,19})")


@dataclass(frozen=True, slots=True)
class ReviewCursor:
    """Where a page of the review queue ends: the last pair's score and id (keyset paging:
    the next page is an index range from there, however deep, never an OFFSET)."""

    score: float
    pk: int

    def __str__(self) -> str:
        return f"{self.score!r}_{self.pk}"

    @classmethod
    def parse(cls, text: object) -> ReviewCursor | None:
        """The cursor of a page link; None (the first page) for anything else."""
        if not isinstance(text, str) or len(text) > 60:
            return None
        match = _CURSOR.fullmatch(text)
        if match is None:
            return None
        score, pk = float(match[1]), int(match[2])
        if not (math.isfinite(score) and 0 < pk < 2**63):
            return None
        return cls(score, pk)


@dataclass
class ReviewPage:
    pairs: list[ReviewPair]
    pending: int  # pairs waiting for a decision, in all
    start: int  # position (1 = first) of the page's first pair in the queue
    end: int  # position of its last pair
    next: ReviewCursor | None  # None on the last page


def _pending() -> Any:
    return PairDecision.objects.filter(status=ReviewStatus.PENDING)


def _decisions_after(cursor: ReviewCursor | None, limit: int) -> list[PairDecision]:
    """The pending pairs after `cursor`, strongest first (ties: newest first).

    Two index range scans of (status, score desc, id desc): the rest of the cursor's score,
    then the lower scores; an ``OR`` of both would make PostgreSQL walk the index from its
    start, as slow at page 3,000 as an OFFSET.
    """
    pending = _pending().select_related("left", "right")
    if cursor is None:
        return list(pending.order_by("-score", "-pk")[:limit])
    same = list(pending.filter(score=cursor.score, pk__lt=cursor.pk).order_by("-pk")[:limit])
    if len(same) < limit:
        lower = pending.filter(score__lt=cursor.score).order_by("-score", "-pk")
        same += list(lower[: limit - len(same)])
    return same


def _position(cursor: ReviewCursor | None) -> int:
    """How many pending pairs come before the one after `cursor` (two index range counts)."""
    if cursor is None:
        return 0
    pending = _pending()
    return (
        pending.filter(score__gt=cursor.score).count()
        + pending.filter(score=cursor.score, pk__gte=cursor.pk).count()
    )


def review_page(actor: Actor, *, after: ReviewCursor | None = None, limit: int = 30) -> ReviewPage:
    """One page of the pending pairs, strongest first, both sides through the gate."""
    decisions = _decisions_after(after, limit + 1)
    more = len(decisions) > limit
    decisions = decisions[:limit]
    start = _position(after) + 1
    last = decisions[-1] if decisions else None
    return ReviewPage(
        pairs=_review_pairs(actor, decisions),
        pending=_pending().count(),
        start=start,
        end=start + len(decisions) - 1,
        next=ReviewCursor(last.score, last.pk) if more and last is not None else None,
    )


def review_pairs(actor: Actor, *, limit: int = 30) -> list[ReviewPair]:
    """The first pending pairs, strongest first, both sides through the gate."""
    return _review_pairs(actor, _decisions_after(None, limit))


def _review_pairs(actor: Actor, decisions: list[PairDecision]) -> list[ReviewPair]:
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


@dataclass
class ArrivalEntry:
    decision: PairDecision
    evidence: list[EvidenceLine]
    can_undo: bool = False


def arrivals_of(customer: Customer, actor: Actor | None = None) -> list[ArrivalEntry]:
    """The records that joined this customer as they arrived on a score (no exact key),
    newest first, with their why (``customers/arrival.py``)."""
    from cordee.customers.arrival import ARRIVAL_REASON

    # Through the customer's records (source_customer_idx), then the pairs' own indexes.
    records = SourceRecord.objects.filter(customer=customer).values("pk")
    decisions = PairDecision.objects.filter(
        Q(left_id__in=records) | Q(right_id__in=records),
        reason=ARRIVAL_REASON,
        status=ReviewStatus.MERGED,
    ).order_by("-pk")[:50]
    admin = bool(actor and actor.user and actor.user.can_manage_partners)
    return [ArrivalEntry(d, evidence_lines(d.evidence), can_undo=admin) for d in decisions]


def customer_identity(customer: Customer, actor: Actor) -> dict[str, Any]:
    """What the customer page shows of identity resolution."""
    return {
        "households": households_of(customer, actor),
        "history": merge_history(customer, actor),
        "arrivals": arrivals_of(customer, actor),
    }
