"""The 3F typology: fidèles, forcés, fuyants (plus nouveaux and prospects), season by season.

For a season S of a kind (winter or summer), with W = ``window`` (3 by default), a customer
who came in at least one season of that kind up to S is, in this order (docs/segments.md):

1. **nouveau** — S is the first season of that kind they came in;
2. **forcé** — came in ≥ ``loyal_min`` of the last W seasons, but dissatisfied (average
   satisfaction ≤ ``dissatisfied_max`` or ≥ ``complaints_min`` complaints in the window) or
   constrained (activities whose ``details.motive`` is a group or business trip, a captive
   customer...);
3. **fidèle** — came in ≥ ``loyal_min`` of the last W seasons and is neither;
4. **fuyant** — came before but in none of the last W seasons (``absent``); came once in the
   window and was dissatisfied (``insatisfait``); came once in the window after coming more
   often in the W seasons before (``en_baisse``); or only comes now and then (``occasionnel``);
5. otherwise (came once in the window, for the first time, satisfied): **nouveau**.

A customer who never came in a season of that kind is a **prospect** (no typology row).
Everything is computed for all customers at once by one INSERT … SELECT per season.
"""

# SQL here is assembled from table names, fixed fragments and integer keys only; every value
# travels as a query parameter.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from cordee.activities.models import Season
from cordee.customers.models import Customer
from cordee.segments.aggregates import _clear, _in, _table
from cordee.segments.config import segments_config
from cordee.segments.models import (
    CustomerSeasonStats,
    CustomerTypology,
    LoyaltyGroup,
)


def seasons_of_kind(kind: str) -> list[Season]:
    return list(Season.objects.filter(kind=kind).order_by("starts_on"))


def reference_season(today: dt.date | None = None) -> Season | None:
    """The season the dashboards speak of: the latest one that has started."""
    if today is None:
        fixed = segments_config().get("today")  # a fixed date for benchmarks and demos
        today = dt.date.fromisoformat(fixed) if fixed else dt.date.today()
    started = Season.objects.filter(starts_on__lte=today).order_by("-starts_on").first()
    return started or Season.objects.order_by("starts_on").first()


def previous_season(season: Season) -> Season | None:
    return (
        Season.objects.filter(kind=season.kind, starts_on__lt=season.starts_on)
        .order_by("-starts_on")
        .first()
    )


def next_season(season: Season) -> Season | None:
    return (
        Season.objects.filter(kind=season.kind, starts_on__gt=season.starts_on)
        .order_by("starts_on")
        .first()
    )


TYPOLOGY_COLUMNS = (
    "customer_id", "season_id", "group", "reason", "came_recent", "came_before",
    "seasons_total", "seasons_since_last", "activities", "amount", "satisfaction_avg",
    "complaints", "constrained",
)  # fmt: skip


def typology_compute(
    season: Season, customer_ids: list[int] | None = None, *, clear: bool = True
) -> None:
    """(Re)write the 3F group of every customer (or of ``customer_ids``) in ``season``."""
    cfg = segments_config()
    ordered = [s.pk for s in seasons_of_kind(season.kind)]
    o = ordered.index(season.pk)
    known = ordered[: o + 1]
    w = int(cfg["window"])
    ordinal = "CASE season_id " + " ".join(f"WHEN {pk} THEN {i}" for i, pk in enumerate(known))
    ordinal += " END"
    recent = f"ord > {o - w}"
    before = f"ord > {o - 2 * w} AND ord <= {o - w}"
    where, ids = _in("customer_id", customer_ids)
    typology, season_stats = _table(CustomerTypology), _table(CustomerSeasonStats)
    dissatisfied = "(sat IS NOT NULL AND sat <= %s) OR complaints >= %s"
    group_case = f"""
        CASE
            WHEN first_ord = {o} THEN 'nouveau'
            WHEN recent_n >= %s AND ({dissatisfied} OR constrained > 0) THEN 'force'
            WHEN recent_n >= %s THEN 'fidele'
            WHEN recent_n = 0 THEN 'fuyant'
            WHEN {dissatisfied} THEN 'fuyant'
            WHEN first_ord > {o - w} THEN 'nouveau'
            ELSE 'fuyant'
        END"""
    reason_case = f"""
        CASE
            WHEN first_ord = {o} THEN 'premiere_saison'
            WHEN recent_n >= %s AND ({dissatisfied}) THEN 'revient_insatisfait'
            WHEN recent_n >= %s AND constrained > 0 THEN 'revient_contraint'
            WHEN recent_n >= %s THEN 'revient_satisfait'
            WHEN recent_n = 0 THEN 'absent'
            WHEN {dissatisfied} THEN 'insatisfait'
            WHEN first_ord > {o - w} THEN 'recent'
            WHEN prev_n > recent_n THEN 'en_baisse'
            ELSE 'occasionnel'
        END"""
    sat_max, compl_min, loyal = (
        float(cfg["dissatisfied_max"]),
        int(cfg["complaints_min"]),
        int(cfg["loyal_min"]),
    )
    group_params = [loyal, sat_max, compl_min, loyal, sat_max, compl_min]
    reason_params = [loyal, sat_max, compl_min, loyal, loyal, sat_max, compl_min]
    cols = ", ".join(connection.ops.quote_name(c) for c in TYPOLOGY_COLUMNS)
    sql = f"""
        INSERT INTO {typology} ({cols})
        SELECT customer_id, %s, {group_case}, {reason_case}, recent_n, prev_n, total,
               {o} - last_ord, acts, amt, sat, complaints, constrained
        FROM (
            SELECT customer_id,
                   SUM(CASE WHEN {recent} THEN 1 ELSE 0 END) AS recent_n,
                   SUM(CASE WHEN {before} THEN 1 ELSE 0 END) AS prev_n,
                   COUNT(*) AS total,
                   MIN(ord) AS first_ord,
                   MAX(ord) AS last_ord,
                   SUM(CASE WHEN {recent} THEN activity_count ELSE 0 END) AS acts,
                   SUM(CASE WHEN {recent} THEN amount ELSE 0 END) AS amt,
                   CASE WHEN SUM(CASE WHEN {recent} THEN satisfaction_n ELSE 0 END) > 0
                        THEN 1.0 * SUM(CASE WHEN {recent} THEN satisfaction_sum ELSE 0 END)
                             / SUM(CASE WHEN {recent} THEN satisfaction_n ELSE 0 END)
                   END AS sat,
                   SUM(CASE WHEN {recent} THEN complaints ELSE 0 END) AS complaints,
                   SUM(CASE WHEN {recent} THEN constrained ELSE 0 END) AS constrained
            FROM (
                SELECT customer_id, activity_count, amount, satisfaction_sum, satisfaction_n,
                       complaints, constrained, {ordinal} AS ord
                FROM {season_stats}
                WHERE season_id IN ({", ".join(str(pk) for pk in known)}) AND {where}
            ) AS attended
            GROUP BY customer_id
        ) AS facts
    """
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {typology} WHERE season_id = %s AND {where}", [season.pk, *ids])
        cur.execute(sql, [season.pk, *group_params, *reason_params, *ids])


def typology_seasons() -> list[Season]:
    """The seasons that get a typology: the last ``history`` of each kind that have started."""
    history = int(segments_config()["history"])
    ref = reference_season()
    if ref is None:
        return []
    out: list[Season] = []
    for kind in ("winter", "summer"):
        started = [s for s in seasons_of_kind(kind) if s.starts_on <= ref.starts_on]
        out += started[-history:]
    return out


def typology_rebuild(customer_ids: list[int] | None = None) -> Season | None:
    """Every typology season (for everyone, or for ``customer_ids``); returns the reference
    season, whose group the customer stats rebuild copies."""
    if customer_ids is None:
        _clear(CustomerTypology, None)
    for season in typology_seasons():
        typology_compute(season, customer_ids, clear=customer_ids is not None)
    return reference_season()


# Explaining a group --------------------------------------------------------------------------


@dataclass
class GroupExplanation:
    group: str
    label: str
    season: Season | None
    reason: str
    facts: list[str]


REASONS = {
    "premiere_saison": "Première saison de ce type dans la destination.",
    "revient_insatisfait": "Revient, mais insatisfait (note moyenne basse ou réclamation).",
    "revient_contraint": "Revient, mais par contrainte (groupe, voyage d’affaires, client captif).",
    "revient_satisfait": "Revient régulièrement et n’est pas insatisfait.",
    "absent": "Venu auparavant, mais absent des dernières saisons.",
    "insatisfait": "Venu une seule fois sur la période, et insatisfait.",
    "recent": "Venu une fois récemment, pour la première fois.",
    "en_baisse": "Fréquence en baisse : venait plus souvent auparavant.",
    "occasionnel": "Ne vient qu’occasionnellement.",
    "jamais": "N’est jamais venu pour une saison de ce type.",
}


def group_explain(customer_id: int, season: Season | None = None) -> GroupExplanation:
    """The group of one customer in ``season`` (default: the reference season) and why."""
    season = season or reference_season()
    cfg = segments_config()
    row = (
        CustomerTypology.objects.filter(customer_id=customer_id, season=season).first()
        if season
        else None
    )
    if row is None:
        return GroupExplanation(
            group=LoyaltyGroup.PROSPECT,
            label=str(LoyaltyGroup.PROSPECT.label),
            season=season,
            reason=_(REASONS["jamais"]),
            facts=[],
        )
    w = cfg["window"]
    facts = [
        _("Venu %(n)s saison(s) sur les %(w)s dernières (%(k)s), %(before)s sur les %(w)s d’avant.")
        % {
            "n": row.came_recent,
            "w": w,
            "k": season.get_kind_display() if season else "",
            "before": row.came_before,
        },
        _("%(n)s saison(s) de ce type en tout ; dernière venue il y a %(s)s saison(s).")
        % {"n": row.seasons_total, "s": row.seasons_since_last},
        _("%(n)s activité(s) et %(a)s € sur la période.") % {"n": row.activities, "a": row.amount},
    ]
    if row.satisfaction_avg is not None:
        facts.append(_("Satisfaction moyenne : %(s).1f / 10.") % {"s": row.satisfaction_avg})
    if row.complaints:
        facts.append(_("%(n)s réclamation(s) sur la période.") % {"n": row.complaints})
    if row.constrained:
        facts.append(
            _("%(n)s activité(s) contrainte(s) (groupe, affaires…).") % {"n": row.constrained}
        )
    return GroupExplanation(
        group=row.group,
        label=str(LoyaltyGroup(row.group).label),
        season=season,
        reason=_(REASONS.get(row.reason, row.reason)),
        facts=facts,
    )


def typology_flow(season: Season, visible: QuerySet[Customer]) -> dict[str, Any]:
    """How many of the ``visible`` customers went from each group in the previous season of
    the same kind to each group in ``season`` (prospect: no typology row). Counts only."""
    prev = previous_season(season)
    groups = [g.value for g in LoyaltyGroup]
    matrix = {a: dict.fromkeys(groups, 0) for a in groups}

    def group_in(s: Season | None) -> Any:
        if s is None:
            return Value(LoyaltyGroup.PROSPECT.value)
        return Coalesce(
            Subquery(
                CustomerTypology.objects.filter(customer_id=OuterRef("pk"), season=s).values(
                    "group"
                )[:1]
            ),
            Value(LoyaltyGroup.PROSPECT.value),
        )

    rows = (
        visible.order_by()
        .annotate(before=group_in(prev), after=group_in(season))
        .values("before", "after")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        matrix[row["before"]][row["after"]] = row["n"]
    totals = {g: sum(matrix[b][g] for b in groups) for g in groups}
    previous_totals = {g: sum(matrix[g].values()) for g in groups}
    return {
        "season": season,
        "previous": prev,
        "groups": groups,
        "matrix": matrix,
        "totals": totals,
        "previous_totals": previous_totals,
    }
