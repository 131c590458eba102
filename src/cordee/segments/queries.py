"""Reads of segments: sizes, parsed definitions, profiles."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from cordee.customers.models import Customer, CustomerLink
from cordee.privacy.access import Actor, customers_visible_to
from cordee.segments.compiler import segment_queryset
from cordee.segments.definition import DefinitionError
from cordee.segments.models import LoyaltyGroup, Segment

MAX_DEFINITION_BYTES = 200_000


def definition_parse(text: str | bytes) -> dict[str, Any]:
    """JSON text → definition, or :class:`DefinitionError` with a French message."""
    if len(text) > MAX_DEFINITION_BYTES:
        raise DefinitionError([_("définition trop longue (200 000 caractères au plus).")])
    try:
        data = json.loads(text)
    except RecursionError:
        raise DefinitionError([_("trop d'imbrications.")]) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise DefinitionError(
            [_("JSON illisible : %(error)s") % {"error": str(exc)[:200]}]
        ) from None
    if not isinstance(data, dict):
        raise DefinitionError([_("la définition doit être un objet JSON.")])
    return data


def segments_visible_to(actor: Actor) -> QuerySet[Segment]:
    """The tourist office's segments and the actor's own (a partner's are its business)."""
    qs = Segment.objects.all()
    if not actor.sees_everything:
        qs = qs.filter(Q(owner__isnull=True) | Q(owner=actor.partner))
    return qs.order_by("slug")


@dataclass
class Timed:
    count: int
    milliseconds: float


def timed_count(qs: QuerySet[Customer]) -> Timed:
    start = time.perf_counter()
    count = qs.count()
    return Timed(count=count, milliseconds=round((time.perf_counter() - start) * 1000, 1))


def segment_size(segment: Segment, actor: Actor) -> int:
    return segment_queryset(segment, actor).count()


AGE_BANDS = ((0, 17), (18, 24), (25, 34), (35, 49), (50, 64), (65, 130))


def profile(
    qs: QuerySet[Customer], year: int, *, readable: QuerySet[Customer] | None = None
) -> dict[str, Any]:
    """What a set of customers looks like: origin, age, activity, spend, satisfaction, 3F.

    ``readable``: the part of ``qs`` whose private fields the reader may count (a partner's
    own customers); the age, the behaviour and the 3F group are counted over it alone, so that
    no figure adds up what a shared customer did not share (all of ``qs`` for the office).
    """
    own = qs if readable is None else readable
    total = qs.count()
    stats = own.aggregate(
        activities=Avg("stats__activity_count"),
        spend=Avg("stats__amount_total"),
        spend_total=Sum("stats__amount_total"),
        satisfaction=Avg("stats__satisfaction_avg"),
    )
    origins = list(
        qs.exclude(departement="")
        .values("departement")
        .annotate(n=Count("pk"))
        .order_by("-n", "departement")[:8]
    )
    foreign = qs.exclude(country__in=["", "FR"]).count()
    ages = []
    for low, high in AGE_BANDS:
        n = own.filter(birth_year__gte=year - high, birth_year__lte=year - low).count()
        ages.append({"band": f"{low}–{high}" if high < 130 else f"{low}+", "n": n})
    groups = dict(
        own.values_list("stats__loyalty_group")
        .annotate(n=Count("pk"))
        .values_list("stats__loyalty_group", "n")
    )
    return {
        "total": total,
        "activities": stats["activities"] or 0,
        "spend": stats["spend"] or 0,
        "satisfaction": stats["satisfaction"],
        "origins": origins,
        "foreign": foreign,
        "ages": ages,
        "groups": [(str(g.label), groups.get(g.value, 0)) for g in LoyaltyGroup],
    }


def profile_compare(members: QuerySet[Customer], actor: Actor, year: int) -> dict[str, Any]:
    everyone = customers_visible_to(actor)
    if actor.partner is None or actor.sees_everything:
        segment, base = profile(members, year), profile(everyone, year)
    else:
        brought = CustomerLink.objects.filter(partner=actor.partner).values("customer_id")
        segment = profile(members, year, readable=members.filter(pk__in=brought))
        base = profile(everyone, year, readable=everyone.filter(pk__in=brought))
    return {
        "own_only": not (actor.partner is None or actor.sees_everything),
        "segment": segment,
        "base": base,
        "ages": list(zip(segment["ages"], base["ages"], strict=True)),
        "groups": list(zip(segment["groups"], base["groups"], strict=True)),
    }
