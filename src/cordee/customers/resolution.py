"""Batch identity resolution over the base: what ``cordee resolve`` runs (issue 3).

A run takes the source records new since the last finished run (all of them with
``full``) together with the records they could match (same e-mail or phone hash, same
folded surname), scores them with the stored Splink model (trained on the whole base the
first time, or when asked), and applies the three zones:

- split first: a customer whose records resolution puts in several clusters was joined by
  an exact key at intake (a hotel's front-desk e-mail, a family's shared phone); each other
  cluster is set apart as a new customer, unless a person merged that customer by hand;
- merge: a cluster whose records belong to several customers becomes one customer, the
  oldest surviving; each merge goes to the ledger with its run, score and evidence. A pair
  a person declared "different people" or rejected is never merged automatically;
- review: a doubtful pair of records of two customers becomes a :class:`PairDecision` to
  review, unless a person already decided about that pair;
- household: two records of two customers sharing contact details without being one person
  become a :class:`HouseholdLink`.

Then the golden records of the customers that received new records are recomputed with the
full survivorship rule. The run's high-water mark moves only when it finishes, so a run
that fails is simply done again by the next one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.collect.normalise import fold
from cordee.core.bulk import chunked
from cordee.customers.golden import customers_golden_recompute
from cordee.customers.matching.evidence import pair_evidence
from cordee.customers.matching.features import SourceInput, build_features, clean_card_number
from cordee.customers.merging import customers_merge
from cordee.customers.models import (
    HouseholdLink,
    MergeEvent,
    MergeKind,
    PairDecision,
    ResolutionRun,
    ReviewStatus,
    SourceRecord,
)
from cordee.customers.splitting import customer_split
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log

__all__ = ["Progress", "resolution_run", "BLOCKING_DECISIONS"]

# What a person said that forbids an automatic merge of the pair's customers.
BLOCKING_DECISIONS = (ReviewStatus.REJECTED, ReviewStatus.DIFFERENT)
# (stage, done, total): the command draws it as progress bars.
Progress = Callable[[str, int, int], None]
_CHUNK = 5_000


def _quiet(stage: str, done: int, total: int) -> None:
    return None


@dataclass
class _Records:
    """The records of a run, by position (the matcher's unique_id)."""

    ids: list[int] = field(default_factory=list)
    data: list[dict[str, Any]] = field(default_factory=list)
    inputs: list[SourceInput] = field(default_factory=list)
    owner: dict[int, int] = field(default_factory=dict)  # source record id -> customer id


def _working_ids(high_water: int, full: bool) -> tuple[list[int], int]:
    """The ids of the records to resolve, and how many of them are new."""
    records = SourceRecord.objects.filter(customer__isnull=False)
    if full:
        ids = list(records.order_by("pk").values_list("pk", flat=True))
        return ids, len(ids)
    new = list(records.filter(pk__gt=high_water).order_by("pk").values_list("pk", flat=True))
    if not new:
        return [], 0
    wanted = set(new)
    emails: set[str] = set()
    phones: set[str] = set()
    names: set[str] = set()
    cards: set[str] = set()
    for part in chunked(new, _CHUNK):
        for email, phone, last, card in records.filter(pk__in=part).values_list(
            "email_hash", "phone_hash", "data__last_name", "data__card_number"
        ):
            if email:
                emails.add(email)
            if phone:
                phones.add(phone)
            if isinstance(last, str) and fold(last):
                names.add(fold(last)[:100])
            if clean_card_number(card):
                cards.add(str(card))
    for column, values in (
        ("email_hash", emails),
        ("phone_hash", phones),
        ("customer__last_name_key", names),
        ("customer__loyalty_card__number", cards),  # the card holder's own records
    ):
        for keys in chunked(sorted(values), _CHUNK):
            wanted.update(records.filter(**{f"{column}__in": keys}).values_list("pk", flat=True))
    return sorted(wanted), len(new)


def _load(ids: Sequence[int], progress: Progress) -> _Records:
    records = _Records()
    for done, part in enumerate(chunked(ids, _CHUNK)):
        rows = SourceRecord.objects.filter(pk__in=part).order_by("pk")
        for pk, customer_id, partner, external_id, data in rows.values_list(
            "pk", "customer_id", "partner__slug", "external_id", "data"
        ):
            data = data if isinstance(data, dict) else {}
            records.ids.append(pk)
            records.data.append(data)
            records.inputs.append(SourceInput(partner, external_id, data))
            records.owner[pk] = customer_id
        progress("load", min((done + 1) * _CHUNK, len(ids)), len(ids))
    return records


def _model(
    records: _Records, *, retrain: bool, full_base: bool, backend: str
) -> tuple[dict[str, Any], bool]:
    from cordee.customers.matching.model import default_model_path, load_model, save_model, train

    path = default_model_path()
    if path.exists() and not retrain:
        return load_model(path), False
    inputs = records.inputs
    if not full_base:  # learn on the whole base, not on the few records of this run
        everything = SourceRecord.objects.filter(customer__isnull=False).order_by("pk")
        inputs = _load(list(everything.values_list("pk", flat=True)), _quiet).inputs
    if len(inputs) < 50:
        raise ValidationError(
            _(
                "Trop peu d'enregistrements (%(count)s) pour apprendre le modèle de "
                "rapprochement : il en faut au moins 50."
            )
            % {"count": len(inputs)}
        )
    model = train(build_features(inputs), backend=backend)
    save_model(model, path)
    return model, True


def _card_links(records: _Records) -> list[tuple[int, int]]:
    """Pairs (holder's record, record carrying the card) by position: the loyalty card is a
    deterministic key. Only issued cards count, each joined to the holder's first record of
    the run; a card carried by the records of many customers (a desk's own card typed on
    every line) counts for none of them."""
    from cordee.customers.services import CARD_SHARING_LIMIT

    carried: dict[str, list[int]] = {}
    for position, data in enumerate(records.data):
        card = clean_card_number(data.get("card_number"))
        if card:
            carried.setdefault(card, []).append(position)
    if not carried:
        return []
    card_model = apps.get_model("activities", "LoyaltyCard")
    holders: dict[str, int] = {}
    for part in chunked(sorted(carried), _CHUNK):
        holders.update(
            card_model.objects.filter(number__in=part).values_list("number", "customer_id")
        )
    first_of: dict[int, int] = {}
    for position, record_id in enumerate(records.ids):
        first_of.setdefault(records.owner[record_id], position)
    links: list[tuple[int, int]] = []
    for card, positions in carried.items():
        anchor = first_of.get(holders.get(card, 0))
        owners = {records.owner[records.ids[p]] for p in positions}
        if anchor is None or len(owners) > CARD_SHARING_LIMIT:
            continue
        links.extend((anchor, p) for p in positions if p != anchor)
    return links


class _Owners:
    """Which customer holds each record, followed through the merges of the run."""

    def __init__(self, owner: dict[int, int]) -> None:
        self.owner = owner
        self.merged_into: dict[int, int] = {}

    def of(self, record_id: int) -> int:
        customer = self.owner[record_id]
        while customer in self.merged_into:
            customer = self.merged_into[customer]
        return customer


def _blocked(survivor: int, absorbed: int) -> bool:
    """Whether a person said a record of one and a record of the other are not one person."""
    pair = Q(left__customer_id=survivor, right__customer_id=absorbed) | Q(
        left__customer_id=absorbed, right__customer_id=survivor
    )
    return PairDecision.objects.filter(pair, status__in=BLOCKING_DECISIONS).exists()


def _apply_merges(
    run: ResolutionRun,
    records: _Records,
    owners: _Owners,
    clusters: Sequence[int],
    best: dict[int, list[tuple[int, float]]],
    actor: Actor,
    progress: Progress,
) -> int:
    members: dict[int, list[int]] = {}
    for position, cluster in enumerate(clusters):
        members.setdefault(cluster, []).append(position)
    groups = [m for m in members.values() if len(m) > 1]
    merged = 0
    for done, positions in enumerate(groups, 1):
        customers = sorted({owners.of(records.ids[p]) for p in positions})
        survivor = customers[0]
        for absorbed in customers[1:]:
            if _blocked(survivor, absorbed):
                continue
            score, evidence = _why(survivor, absorbed, positions, records, owners, best)
            try:
                customers_merge(
                    survivor, absorbed, actor=actor, run=run, score=score, evidence=evidence
                )
            except ValidationError:
                continue  # gone meanwhile (merged by hand): the next run sees the new state
            owners.merged_into[absorbed] = survivor
            merged += 1
        progress("merge", done, len(groups))
    return merged


def _apply_splits(
    run: ResolutionRun,
    records: _Records,
    owners: _Owners,
    clusters: Sequence[int],
    actor: Actor,
) -> int:
    """Set apart what an exact key joined and resolution says is several people.

    Only customers whose records are all in this run (otherwise their other records' side
    is unknown) and that no person merged by hand. The largest group keeps the customer.
    """
    groups: dict[int, dict[int, list[int]]] = {}
    for position, cluster in enumerate(clusters):
        record = records.ids[position]
        groups.setdefault(owners.owner[record], {}).setdefault(cluster, []).append(record)
    divided = {c: g for c, g in groups.items() if len(g) > 1}
    if not divided:
        return 0
    counts: dict[int, int] = {}
    manual: set[int] = set()
    for part in chunked(sorted(divided), 2_000):
        counts.update(
            SourceRecord.objects.filter(customer_id__in=part)
            .values("customer_id")
            .annotate(n=Count("pk"))
            .values_list("customer_id", "n")
        )
        manual.update(
            MergeEvent.objects.filter(
                kind=MergeKind.MERGE, survivor_id__in=part, run__isnull=True
            ).values_list("survivor_id", flat=True)
        )
    split = 0
    for customer, by_cluster in divided.items():
        parts = sorted(by_cluster.values(), key=lambda ids: (-len(ids), min(ids)))
        if customer in manual or counts.get(customer) != sum(len(p) for p in parts):
            continue
        for event in customer_split(customer_id=customer, groups=parts[1:], actor=actor, run=run):
            for record in event.moved["source_records"]:
                owners.owner[record] = event.absorbed_id
            split += 1
    return split


def _why(
    survivor: int,
    absorbed: int,
    positions: Sequence[int],
    records: _Records,
    owners: _Owners,
    best: dict[int, list[tuple[int, float]]],
) -> tuple[float | None, dict[str, str]]:
    """The strongest scored pair between the two customers' records, and its evidence."""
    side = {p: owners.of(records.ids[p]) for p in positions}
    found: tuple[float, int, int] | None = None
    for left in positions:
        if side[left] != survivor:
            continue
        for right, probability in best.get(left, ()):
            if side.get(right) == absorbed and (found is None or probability > found[0]):
                found = (probability, left, right)
    if found is None:  # joined through a third record: show the closest pair anyway
        left = next(p for p in positions if side[p] == survivor)
        right = next(p for p in positions if side[p] == absorbed)
        return None, pair_evidence(records.data[left], records.data[right])
    probability, left, right = found
    return probability, pair_evidence(records.data[left], records.data[right])


def _ordered(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def _apply_pairs(
    run: ResolutionRun,
    records: _Records,
    owners: _Owners,
    pairs: Iterable[dict[str, Any]],
) -> tuple[int, int, set[int]]:
    """Review items and household links; returns (new to review, new households, records seen)."""
    reviews: dict[tuple[int, int], PairDecision] = {}
    households: dict[tuple[int, int], HouseholdLink] = {}
    involved: set[int] = set()
    for pair in pairs:
        left, right = records.ids[pair["unique_id_l"]], records.ids[pair["unique_id_r"]]
        involved.update((left, right))
        if owners.of(left) == owners.of(right):
            continue
        key = _ordered(left, right)
        zone = pair["zone"]
        evidence = pair_evidence(
            records.data[pair["unique_id_l"]], records.data[pair["unique_id_r"]]
        )
        if zone == "review" and key not in reviews:
            reviews[key] = PairDecision(
                left_id=key[0],
                right_id=key[1],
                score=pair["match_probability"],
                reason=str(pair["reason"])[:100],
                evidence=evidence,
                run=run,
            )
        elif zone == "household" and key not in households:
            households[key] = HouseholdLink(
                left_id=key[0], right_id=key[1], reason=str(pair["reason"])[:100], run=run
            )
    new_reviews = _insert_new(PairDecision, reviews)
    new_households = _insert_new(HouseholdLink, households)
    return new_reviews, new_households, involved


def _insert_new(model: Any, rows: dict[tuple[int, int], Any]) -> int:
    """Insert the pairs not already there (a decided pair stays as it was decided)."""
    keys = sorted(rows)
    known: set[tuple[int, int]] = set()
    for part in chunked(keys, 2_000):
        lefts = {k[0] for k in part}
        known.update(
            (l_id, r_id)
            for l_id, r_id in model.objects.filter(left_id__in=lefts).values_list(
                "left_id", "right_id"
            )
        )
    fresh = [rows[k] for k in keys if k not in known]
    with transaction.atomic():
        model.objects.bulk_create(fresh, batch_size=2_000, ignore_conflicts=True)
    return len(fresh)


def resolution_run(
    *,
    full: bool = False,
    retrain: bool = False,
    actor: Actor | None = None,
    progress: Progress | None = None,
) -> ResolutionRun:
    """Resolve what is new (everything with ``full``) and apply the three zones."""
    from cordee.customers.matching.backends import check
    from cordee.customers.matching.resolve import resolve

    backend = check()  # before anything is written: a missing Spark or Java says so here
    actor = actor or Actor.system("resolve")
    progress = progress or _quiet
    last = ResolutionRun.objects.filter(finished_at__isnull=False).aggregate(hw=Max("high_water"))
    high_water = int(last["hw"] or 0)
    first_run = not ResolutionRun.objects.filter(finished_at__isnull=False).exists()
    full = full or first_run
    run = ResolutionRun.objects.create(full=full)
    ids, new = _working_ids(high_water, full)
    run.high_water = max([high_water, *ids]) if ids else high_water
    records = _load(ids, progress)
    run.records = new
    owners = _Owners(records.owner)
    merged = to_review = households = 0
    involved: set[int] = set()
    if ids:
        model, run.retrained = _model(records, retrain=retrain, full_base=full, backend=backend)
        progress("score", 0, 1)
        resolution = resolve(
            build_features(records.inputs),
            model=model,
            backend=backend,
            linked=_card_links(records),
        )
        progress("score", 1, 1)
        pairs = resolution.pairs.to_pylist()
        best: dict[int, list[tuple[int, float]]] = {}
        for p in pairs:
            if p["zone"] == "merge":
                left, right, probability = (
                    p["unique_id_l"],
                    p["unique_id_r"],
                    p["match_probability"],
                )
                best.setdefault(left, []).append((right, probability))
                best.setdefault(right, []).append((left, probability))
        run.split = _apply_splits(run, records, owners, resolution.cluster_ids(), actor)
        merged = _apply_merges(
            run, records, owners, resolution.cluster_ids(), best, actor, progress
        )
        to_review, households, involved = _apply_pairs(run, records, owners, pairs)
        touched = {owners.of(i) for i in ids if i > high_water or full}
        customers_golden_recompute(touched)
    new_ids = [i for i in ids if full or i > high_water]
    run.merged, run.to_review, run.households = merged, to_review, households
    run.untouched = sum(1 for i in new_ids if i not in involved)
    run.finished_at = timezone.now()
    run.save()
    audit_log(
        actor=actor,
        action="resolution.run",
        obj=run,
        full=full,
        records=run.records,
        merged=merged,
        to_review=to_review,
        households=households,
        split=run.split,
    )
    return run
