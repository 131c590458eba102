"""The match of a single record as it arrives (API, public forms, front desk; issue 3).

A record no exact key attaches (e-mail, phone, external id, card) would create a customer.
Before it does, it is scored against the whole base (:func:`customer_candidates`), with the
batch run's zones (:class:`Thresholds`) and its household rule:

- merge zone, with one of birth date, e-mail, phone or street address the same and no name
  or birth date contradicting: the record joins that customer, through the normal attach path (golden
  record, links, signals). The pair is kept as a decided :class:`PairDecision` (reason
  ``arrival``, with its score and evidence): the batch run then never asks about it again;
- review zone: the customer is created and the pair waits in the review queue;
- below, or people sharing contact details without being one person: a new customer.

The search covers the whole base, not what the caller sees: the decision is the
destination's. Nothing of it reaches the caller. A record only joins, automatically, a
customer the caller already sees in full (joining links the caller's partner to the
customer, and the caller would then read it whole); a match on a customer it does not see
goes to review, decided by the destination, and the caller is told only that a customer
was created. Without a trained model the exact keys stay the only way to join.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.customers.candidates import customer_candidates, stored_model
from cordee.customers.matching.evidence import DIFFERENT, SAME
from cordee.customers.matching.features import feature_row
from cordee.customers.matching.resolve import Thresholds
from cordee.customers.models import Customer, PairDecision, ReviewStatus, SourceRecord
from cordee.privacy.access import Actor, customers_fully_visible
from cordee.privacy.audit import audit_log

__all__ = [
    "ArrivalMatch",
    "arrival_match",
    "arrival_pairs_write",
    "arrival_undo",
    "ARRIVAL_REASON",
]

ARRIVAL_REASON = "arrival"
# The fields that, besides the names, may identify a person: a record with none of them
# (a name alone, or placeholders only) never joins anyone.
_IDENTIFYING = ("birth_date", "email", "phone", "address", "postcode")
# A join nobody checks needs more than the score: one of these the same on both sides, and
# no name nor birth date contradicting. A name and a postcode alone (a common name in a
# town) or a surname that differs (a married name?) wait for a person in the review queue.
_STRONG = ("birth_date", "email", "phone", "address_line1")
_NOT_CONTRADICTED = ("first_name", "last_name", "birth_date")


def _sure(evidence: Mapping[str, str]) -> bool:
    return any(evidence.get(f) == SAME for f in _STRONG) and all(
        evidence.get(f) != DIFFERENT for f in _NOT_CONTRADICTED
    )


@dataclass(frozen=True, slots=True)
class ArrivalMatch:
    customer_id: int
    zone: str  # "merge" (the record joins the customer) or "review" (a new customer)
    score: float
    evidence: dict[str, str]


def _identifies(features: Mapping[str, Any]) -> bool:
    if features["last_name"] is None or features["first_name"] is None:
        return False
    return any(features[name] is not None for name in _IDENTIFYING)


def arrival_match(
    data: Mapping[str, Any], actor: Actor, thresholds: Thresholds | None = None
) -> ArrivalMatch | None:
    """The existing customer the record most likely is, and in which zone; None to create."""
    if stored_model() is None or not _identifies(feature_row(data)):
        return None
    thresholds = thresholds or Thresholds()
    # The whole base (the destination's decision); the caller is told nothing of it.
    found = customer_candidates(
        data, base=Customer.objects.all(), limit=5, min_probability=thresholds.review
    )
    scored = [
        c
        for c in found
        if c.household is None and c.probability is not None and c.probability >= thresholds.review
    ]
    if not scored:
        return None
    best = scored[0]
    assert best.probability is not None  # noqa: S101 (filtered above)
    zone = "review"
    if best.probability >= thresholds.merge:
        # Two customers in the merge zone: which one is for a person to say.
        alone = len(scored) == 1 or (scored[1].probability or 0.0) < thresholds.merge
        if (
            alone
            and _sure(best.evidence)
            and best.customer_id in customers_fully_visible(actor, [best.customer_id])
        ):
            zone = "merge"
    return ArrivalMatch(best.customer_id, zone, best.probability, best.evidence)


def arrival_pairs_write(matches: Sequence[tuple[int, ArrivalMatch]]) -> None:
    """Keep each arrival match as a pair of source records: (the record just stored, the
    customer's first record), decided for a join, pending for a review."""
    if not matches:
        return
    firsts: dict[int, int] = dict(
        SourceRecord.objects.filter(customer_id__in={m.customer_id for _, m in matches})
        .order_by()
        .values("customer_id")
        .annotate(first=Min("pk"))
        .values_list("customer_id", "first")
    )
    now = timezone.now()
    pairs = []
    for record_id, match in matches:
        other = firsts.get(match.customer_id)
        if other is None or other == record_id:
            continue
        left, right = sorted((record_id, other))
        merged = match.zone == "merge"
        pairs.append(
            PairDecision(
                left_id=left,
                right_id=right,
                status=ReviewStatus.MERGED if merged else ReviewStatus.PENDING,
                score=match.score,
                reason=ARRIVAL_REASON,
                evidence=match.evidence,
                decided_at=now if merged else None,
            )
        )
    PairDecision.objects.bulk_create(pairs, ignore_conflicts=True)


def arrival_undo(*, decision_id: int, actor: Actor) -> int | None:
    """A record joined a customer at its arrival and a person says it is someone else: the
    record (with what came through it: activities, consents) is set apart as a new customer,
    and the pair is decided *different people*, so that no later run joins them again.

    The newer record of the pair is the one that arrived. Returns the new customer's id, or
    None when the two records are no longer on one customer (split since): the pair is then
    only decided.
    """
    from cordee.customers.splitting import customer_split

    with transaction.atomic():
        decision = (
            PairDecision.objects.select_for_update()
            .filter(pk=decision_id, reason=ARRIVAL_REASON)
            .first()
        )
        if decision is None:
            raise ValidationError(_("Ce rattachement n'existe pas."))
        if decision.status != ReviewStatus.MERGED:
            raise ValidationError(_("Ce rattachement a déjà été défait."))
        owners = dict(
            SourceRecord.objects.filter(pk__in=(decision.left_id, decision.right_id)).values_list(
                "pk", "customer_id"
            )
        )
        customer_id = owners.get(decision.left_id)
        arrived = decision.right_id
        created: int | None = None
        if customer_id is not None and customer_id == owners.get(arrived):
            events = customer_split(customer_id=customer_id, groups=[[arrived]], actor=actor)
            created = events[0].absorbed_id if events else None
        decision.status = ReviewStatus.DIFFERENT
        decision.decided_by = actor.user
        decision.decided_at = timezone.now()
        decision.save(update_fields=["status", "decided_by", "decided_at"])
        audit_log(
            actor=actor,
            action="customer.arrival_undo",
            obj=Customer(pk=customer_id) if customer_id else None,
            pair=decision.pk,
            new_customer=created,
        )
    return created
