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
Everything is computed for all customers and all typology seasons of a kind at once by
one INSERT … SELECT.
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
from cordee.segments.aggregates import _in, _table, bulk_load, money_sum
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


def typology_compute(seasons: list[Season], customer_ids: list[int] | None = None) -> None:
    """Write the 3F group of every customer (or of ``customer_ids``) in each of ``seasons``,
    in one pass over the per-season rows.

    Each per-season row is paired with the typology seasons of its kind it precedes (or is):
    ``ord`` is its rank among the seasons of that kind, ``o`` the typology season's; grouping
    by customer and typology season then gives the facts of every season at once (a row
    feeds at most ``history`` groups), where one statement per season read the rows again
    each time. The caller has emptied the rows to write (:func:`typology_rebuild`).
    """
    # One statement per kind of season: each groups half the rows, so that at a million
    # customers the grouping keeps within memory instead of spilling to disk.
    for kind in dict.fromkeys(s.kind for s in seasons):
        _typology_compute_kind([s for s in seasons if s.kind == kind], customer_ids)


def _typology_compute_kind(seasons: list[Season], customer_ids: list[int] | None) -> None:
    cfg = segments_config()
    w = int(cfg["window"])
    pairs = []
    for season in seasons:
        ordered = [s.pk for s in seasons_of_kind(season.kind)]
        o = ordered.index(season.pk)
        # Whether the season is in the window (rec) or in the window before it (bef),
        # decided here once per pair of seasons instead of in each sum for every row.
        pairs += [
            f"SELECT {int(pk)} AS sid, {int(season.pk)} AS tid, {o} AS o, {i} AS ord, "
            f"{int(i > o - w)} AS rec, {int(o - 2 * w < i <= o - w)} AS bef"
            for i, pk in enumerate(ordered[: o + 1])
        ]
    where, ids = _in("ss.customer_id", customer_ids)
    typology, season_stats = _table(CustomerTypology), _table(CustomerSeasonStats)
    dissatisfied = "(sat IS NOT NULL AND sat <= %s) OR complaints >= %s"
    group_case = f"""
        CASE
            WHEN first_ord = o THEN 'nouveau'
            WHEN recent_n >= %s AND ({dissatisfied} OR constrained > 0) THEN 'force'
            WHEN recent_n >= %s THEN 'fidele'
            WHEN recent_n = 0 THEN 'fuyant'
            WHEN {dissatisfied} THEN 'fuyant'
            WHEN first_ord > o - {w} THEN 'nouveau'
            ELSE 'fuyant'
        END"""
    reason_case = f"""
        CASE
            WHEN first_ord = o THEN 'premiere_saison'
            WHEN recent_n >= %s AND ({dissatisfied}) THEN 'revient_insatisfait'
            WHEN recent_n >= %s AND constrained > 0 THEN 'revient_contraint'
            WHEN recent_n >= %s THEN 'revient_satisfait'
            WHEN recent_n = 0 THEN 'absent'
            WHEN {dissatisfied} THEN 'insatisfait'
            WHEN first_ord > o - {w} THEN 'recent'
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
        SELECT customer_id, tid, {group_case}, {reason_case}, recent_n, prev_n, total,
               o - last_ord, acts, amt, sat, complaints, constrained
        FROM (
            SELECT ss.customer_id, p.tid, p.o,
                   SUM(p.rec) AS recent_n,
                   SUM(p.bef) AS prev_n,
                   COUNT(*) AS total,
                   MIN(p.ord) AS first_ord,
                   MAX(p.ord) AS last_ord,
                   SUM(p.rec * ss.activity_count) AS acts,
                   {money_sum("p.rec * ss.amount")} AS amt,
                   CASE WHEN SUM(p.rec * ss.satisfaction_n) > 0
                        THEN 1.0 * SUM(p.rec * ss.satisfaction_sum)
                             / SUM(p.rec * ss.satisfaction_n)
                   END AS sat,
                   SUM(p.rec * ss.complaints) AS complaints,
                   SUM(p.rec * ss.constrained) AS constrained
            FROM {season_stats} ss
            JOIN ({" UNION ALL ".join(pairs)}) AS p ON p.sid = ss.season_id
            WHERE {where}
            GROUP BY ss.customer_id, p.tid, p.o
        ) AS facts
    """
    with connection.cursor() as cur:
        cur.execute(sql, [*group_params, *reason_params, *ids])


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
    seasons = typology_seasons()
    if customer_ids is None:
        with bulk_load(CustomerTypology):
            typology_compute(seasons)
        return reference_season()
    where, ids = _in("customer_id", customer_ids)
    with connection.cursor() as cur:
        cur.execute(
            f"DELETE FROM {_table(CustomerTypology)} WHERE season_id IN "
            f"({', '.join(str(int(s.pk)) for s in seasons) or 'NULL'}) AND {where}",
            ids,
        )
    typology_compute(seasons, customer_ids)
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
