"""The per-customer aggregates, written by set-based SQL (never one Python object per customer).

Every function takes ``customer_ids``: ``None`` rebuilds the whole table, a list recomputes
those customers only (what the ``activities_changed`` receiver does). The SQL is built from
Django querysets where it can (so that JSON look-ups compile per database) and is plain,
portable SQL otherwise: it runs unchanged on SQLite and PostgreSQL.
"""

# SQL here is assembled from table names, fixed fragments and integer keys only; every value
# travels as a query parameter.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, IntegerField, Max, Min, OuterRef, Q, Sum, Value
from django.db.models.functions import Coalesce

from cordee.activities.models import Activity, ActivityKind, Season, SeasonKind
from cordee.customers.models import Customer
from cordee.segments.config import segments_config
from cordee.segments.models import CustomerSeasonStats, CustomerStats, ScoringState

CHUNK = 5_000
ZERO = Value(Decimal("0.00"))


def chunks[T](ids: Sequence[T], size: int = CHUNK) -> Iterator[list[T]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def _in(column: str, ids: list[int] | None) -> tuple[str, list[Any]]:
    if ids is None:
        return "1=1", []
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def _insert_select(model: Any, columns: Sequence[str], queryset: Any) -> None:
    sql, params = queryset.query.sql_with_params()
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cur:
        cur.execute(f"INSERT INTO {_table(model)} ({cols}) {sql}", params)


def season_stats_rebuild(customer_ids: list[int] | None = None) -> None:
    """One row per customer and season attended: counts, spend, satisfaction, complaints."""
    motives = segments_config()["constrained_motives"]
    where, params = _in("customer_id", customer_ids)
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {_table(CustomerSeasonStats)} WHERE {where}", params)
    activities = Activity.objects.filter(season__isnull=False)
    if customer_ids is not None:
        activities = activities.filter(customer_id__in=customer_ids)
    queryset = (
        activities.values("customer_id", "season_id")
        .annotate(
            n=Count("id"),
            amt=Coalesce(Sum("amount"), ZERO),
            last=Max("starts_on"),
            ssum=Coalesce(Sum("satisfaction"), 0),
            sn=Count("satisfaction"),
            compl=Count("id", filter=Q(kind=ActivityKind.COMPLAINT)),
            cons=Count("id", filter=Q(details__motive__in=motives)),
            r=Value(0, IntegerField()),
            f=Value(0, IntegerField()),
            m=Value(0, IntegerField()),
        )
        .order_by()
    )
    _insert_select(
        CustomerSeasonStats,
        (
            "customer_id", "season_id", "activity_count", "amount", "last_on",
            "satisfaction_sum", "satisfaction_n", "complaints", "constrained",
            "rfm_r", "rfm_f", "rfm_m",
        ),
        queryset,
    )  # fmt: skip


STATS_COLUMNS = (
    "customer_id", "activity_count", "amount_total", "first_on", "last_on",
    "winter_count", "winter_amount", "winter_last_on", "winter_seasons",
    "summer_count", "summer_amount", "summer_last_on", "summer_seasons",
    "satisfaction_avg", "complaints", "rfm_r", "rfm_f", "rfm_m", "loyalty_group",
    "loyalty_season_id", "churn_risk", "updated_at",
)  # fmt: skip


def customer_stats_rebuild(customer_ids: list[int] | None = None) -> None:
    """One row per customer (those without any activity too: they are the prospects)."""
    now = dt.datetime.now(dt.UTC)
    where, params = _in("customer_id", customer_ids)
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {_table(CustomerStats)} WHERE {where}", params)
    activities = Activity.objects.all()
    if customer_ids is not None:
        activities = activities.filter(customer_id__in=customer_ids)
    winter, summer = Q(season__kind=SeasonKind.WINTER), Q(season__kind=SeasonKind.SUMMER)
    zero = Value(0, IntegerField())
    queryset = (
        activities.values("customer_id")
        .annotate(
            n=Count("id"),
            amt=Coalesce(Sum("amount"), ZERO),
            first=Min("starts_on"),
            last=Max("starts_on"),
            wn=Count("id", filter=winter),
            wa=Coalesce(Sum("amount", filter=winter), ZERO),
            wl=Max("starts_on", filter=winter),
            ws=zero,
            sn=Count("id", filter=summer),
            sa=Coalesce(Sum("amount", filter=summer), ZERO),
            sl=Max("starts_on", filter=summer),
            ss=zero,
            sat=_avg_satisfaction(),
            compl=Count("id", filter=Q(kind=ActivityKind.COMPLAINT)),
            r=zero,
            f=zero,
            m=zero,
            g=Value("prospect"),
            gs=Value(None, IntegerField()),
            risk=Value(None, output_field=CustomerStats._meta.get_field("churn_risk")),
            at=Value(now, output_field=CustomerStats._meta.get_field("updated_at")),
        )
        .order_by()
    )
    _insert_select(CustomerStats, STATS_COLUMNS, queryset)
    stats_rows_ensure(customer_ids)
    _seasons_attended_update(customer_ids)


def stats_rows_ensure(customer_ids: list[int] | None) -> None:
    """An empty row for each customer that has none (the customers without any activity)."""
    now = dt.datetime.now(dt.UTC)
    zero = Value(0, IntegerField())
    none_date: Any = Value(None, output_field=Activity._meta.get_field("starts_on"))
    customers = Customer.objects.filter(
        ~Exists(CustomerStats.objects.filter(customer_id=OuterRef("pk")))
    )
    if customer_ids is not None:
        customers = customers.filter(pk__in=customer_ids)
    empty = customers.values("pk").annotate(
        n=zero, amt=ZERO, first=none_date, last=none_date, wn=zero, wa=ZERO, wl=none_date,
        ws=zero, sn=zero, sa=ZERO, sl=none_date, ss=zero,
        sat=Value(None, output_field=CustomerStats._meta.get_field("satisfaction_avg")),
        compl=zero, r=zero, f=zero, m=zero, g=Value("prospect"), gs=Value(None, IntegerField()),
        risk=Value(None, output_field=CustomerStats._meta.get_field("churn_risk")),
        at=Value(now, output_field=CustomerStats._meta.get_field("updated_at")),
    ).order_by()  # fmt: skip
    _insert_select(CustomerStats, STATS_COLUMNS, empty)


def _avg_satisfaction() -> Any:
    from django.db.models import Avg, FloatField
    from django.db.models.functions import Cast

    return Avg(Cast("satisfaction", FloatField()))


def _seasons_attended_update(customer_ids: list[int] | None) -> None:
    stats, season_stats, seasons = (
        _table(CustomerStats),
        _table(CustomerSeasonStats),
        _table(Season),
    )
    where, params = _in("ss.customer_id", customer_ids)
    with connection.cursor() as cur:
        cur.execute(
            f"""
            UPDATE {stats} SET winter_seasons = t.w, summer_seasons = t.s
            FROM (
                SELECT ss.customer_id AS cid,
                       SUM(CASE WHEN se.kind = 'winter' THEN 1 ELSE 0 END) AS w,
                       SUM(CASE WHEN se.kind = 'summer' THEN 1 ELSE 0 END) AS s
                FROM {season_stats} ss JOIN {seasons} se ON se.id = ss.season_id
                WHERE {where}
                GROUP BY ss.customer_id
            ) AS t
            WHERE {stats}.customer_id = t.cid
            """,
            params,
        )


# RFM -------------------------------------------------------------------------------------
# A score is 1 + the number of breakpoints at or below the value; the breakpoints are the
# lowest value of each quintile after the first, taken in the last bulk run. Ties therefore
# always get the same score, and an incremental update scores a customer against the same
# population the bulk run saw.

RFM_METRICS = (("rfm_r", "last_on"), ("rfm_f", "activity_count"), ("rfm_m", "amount"))


def _breakpoints(table: str, value: str, partition: str | None, where: str) -> dict[Any, list]:
    tiles = segments_config()["rfm_tiles"]
    part = f"PARTITION BY {partition}" if partition else ""
    key = partition or "0"
    with connection.cursor() as cur:
        cur.execute(
            f"""
            SELECT k, tile, MIN(v) FROM (
                SELECT {key} AS k, {value} AS v, NTILE({tiles}) OVER ({part} ORDER BY {value}) AS tile
                FROM {table} WHERE {where}
            ) AS t
            WHERE tile > 1 GROUP BY k, tile ORDER BY k, tile
            """
        )
        out: dict[Any, list] = {}
        for k, _tile, v in cur.fetchall():
            out.setdefault(k, []).append(v)
    return out


def _score_sql(column: str, breakpoints: list) -> tuple[str, list[Any]]:
    if not breakpoints:
        return "1", []
    parts = [f"(CASE WHEN {column} >= %s THEN 1 ELSE 0 END)" for _ in breakpoints]
    return "1 + " + " + ".join(parts), list(breakpoints)


def _json_ready(values: list, column: str) -> list:
    # SQLite hands dates back as ISO text from raw SQL, PostgreSQL as dates.
    if column == "last_on":
        return [v.isoformat() if isinstance(v, dt.date) else str(v) for v in values]
    return [float(v) for v in values]


def _from_json(values: list, kind: str) -> list:
    return [dt.date.fromisoformat(v) if kind == "last_on" else v for v in values]


def rfm_rebuild() -> None:
    """Quintiles over all time (customers with an activity) and per season (those who came)."""
    stats, season_stats = _table(CustomerStats), _table(CustomerSeasonStats)
    state: dict[str, Any] = {"all": {}, "seasons": {}}
    for score, column in RFM_METRICS:
        col = "amount_total" if column == "amount" else column
        bp = _breakpoints(stats, col, None, "activity_count > 0").get(0, [])
        state["all"][score] = _json_ready(bp, column)
    for score, column in RFM_METRICS:
        for season_id, bp in _breakpoints(season_stats, column, "season_id", "1=1").items():
            state["seasons"].setdefault(str(season_id), {})[score] = _json_ready(bp, column)
    ScoringState.objects.update_or_create(key="rfm", defaults={"value": state})
    rfm_apply(None, state)


def rfm_apply(customer_ids: list[int] | None, state: dict[str, Any] | None = None) -> None:
    """Score customers against the stored breakpoints (all of them, or only ``customer_ids``)."""
    if state is None:
        row = ScoringState.objects.filter(key="rfm").first()
        if row is None:
            return
        state = row.value
    stats, season_stats = _table(CustomerStats), _table(CustomerSeasonStats)
    where, ids = _in("customer_id", customer_ids)
    sets, params = [], []
    for score, column in RFM_METRICS:
        col = "amount_total" if column == "amount" else column
        sql, p = _score_sql(col, _from_json(state["all"].get(score, []), column))
        sets.append(f"{score} = {sql}")
        params += p
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {stats} SET {', '.join(sets)} WHERE activity_count > 0 AND {where}",
            params + ids,
        )
        for season_id, by_score in state["seasons"].items():
            sets, params = [], []
            for score, column in RFM_METRICS:
                sql, p = _score_sql(column, _from_json(by_score.get(score, []), column))
                sets.append(f"{score} = {sql}")
                params += p
            cur.execute(
                f"UPDATE {season_stats} SET {', '.join(sets)} WHERE season_id = %s AND {where}",
                [*params, int(season_id), *ids],
            )
