"""The per-customer aggregates, written by set-based SQL (never one Python object per customer).

Every function takes ``customer_ids``: ``None`` rebuilds the whole table, a list recomputes
those customers only (what the ``activities_changed`` receiver does). Each table is written
by one ``INSERT … SELECT`` — RFM scores, 3F group and churn risk included — and never
updated row by row afterwards: at a million customers, rewriting rows costs more than
computing them. The SQL runs unchanged on SQLite and PostgreSQL.

RFM: in a bulk run a score is the value's cumulative distribution in quintiles
(``CUME_DIST``, so equal values share a score); the run then stores, per score, the lowest
value that got it. An incremental update scores a customer against those breakpoints, i.e.
against the population the bulk run saw.
"""

# SQL here is assembled from table names, fixed fragments and integer keys only; every value
# travels as a query parameter.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Max, Min, Q, Sum, Value
from django.db.models.functions import Coalesce

from cordee.activities.models import Activity, ActivityKind, Season
from cordee.customers.models import Customer
from cordee.segments.config import segments_config
from cordee.segments.models import (
    CustomerSeasonStats,
    CustomerStats,
    CustomerTypology,
    ScoringState,
)

CHUNK = 5_000
ZERO = Value(Decimal("0.00"))
CHURN_TABLE = "segments_churn_scores"
SEASON_GROUPS = "segments_season_groups"  # scratch tables of a bulk rebuild (PostgreSQL)
CUSTOMER_GROUPS = "segments_customer_groups"
BULK_MAINTENANCE_WORK_MEM = "512MB"  # index builds after a bulk load


def chunks[T](ids: Sequence[T], size: int = CHUNK) -> Iterator[list[T]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def _in(column: str, ids: list[int] | None) -> tuple[str, list[Any]]:
    if ids is None:
        return "1=1", []
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


@contextmanager
def bulk_load(model: Any) -> Iterator[None]:
    """A full rebuild of an aggregate table: emptied, then filled by one ``INSERT … SELECT``.

    On PostgreSQL its indexes and unique constraints are dropped while the rows go in and
    created again afterwards under the same names: one sorted build per index instead of
    millions of random insertions into each (at a million customers, the difference between
    minutes and seconds). The caller's transaction holds it all, as it already holds the
    ``TRUNCATE``'s lock: readers wait for the new rows, never see the table half built or
    without its unique keys, and a failure rolls everything back. The primary key stays when
    another table refers to it. Elsewhere (SQLite) the table is just emptied.
    """
    table = model._meta.db_table
    if connection.vendor != "postgresql":
        _clear(model, None)
        yield
        return
    quoted = _table(model)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.conname, pg_get_constraintdef(c.oid), c.contype FROM pg_constraint c "
            "WHERE c.conrelid = %s::regclass AND c.contype IN ('p', 'u') "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint r WHERE r.confrelid = c.conrelid "
            "AND r.contype = 'f')",
            [table],
        )
        constraints = [(name, definition) for name, definition, _kind in cur.fetchall()]
        cur.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = %s::regclass AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            [table],
        )
        indexes = cur.fetchall()
        cur.execute(f"TRUNCATE {quoted}")
        for name, _definition in constraints:
            cur.execute(f"ALTER TABLE {quoted} DROP CONSTRAINT {connection.ops.quote_name(name)}")
        for name, _definition in indexes:
            cur.execute(f"DROP INDEX {name}")  # regclass text: already quoted where needed
    yield
    with connection.cursor() as cur:
        cur.execute("SET LOCAL maintenance_work_mem = %s", [BULK_MAINTENANCE_WORK_MEM])
        for name, definition in constraints:
            cur.execute(
                f"ALTER TABLE {quoted} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}"
            )
        for _name, definition in indexes:
            cur.execute(definition)


def _clear(model: Any, customer_ids: list[int] | None) -> None:
    with connection.cursor() as cur:
        if customer_ids is None and connection.vendor == "postgresql":
            cur.execute(f"TRUNCATE {_table(model)}")
        else:
            where, params = _in("customer_id", customer_ids)
            cur.execute(f"DELETE FROM {_table(model)} WHERE {where}", params)


def _cols(columns: Sequence[str]) -> str:
    return ", ".join(connection.ops.quote_name(c) for c in columns)


# RFM scores ---------------------------------------------------------------------------------

RFM = (("rfm_r", "last_on"), ("rfm_f", "n"), ("rfm_m", "amt"))


def _score(cume: str) -> str:
    """The score of a cumulative distribution ``cume`` (0 < cume ≤ 1): 1 to ``rfm_tiles``,
    a value exactly on a boundary (cume = 0.4) taking the lower score.

    The fraction is truncated, never rounded: PostgreSQL's ``CAST(4.99 AS INTEGER)`` rounds
    to 5 (SQLite truncates), which gave PostgreSQL scores 1 to 6, the first and the last
    for a tenth of the customers each."""
    tiles = int(segments_config()["rfm_tiles"])
    fraction = f"{cume} * {tiles} - 0.000001"
    if connection.vendor == "postgresql":
        fraction = f"TRUNC({fraction})"
    return f"(1 + CAST({fraction} AS INTEGER))"


def _rfm_bulk(value: str, partition: str) -> str:
    return _score(f"CUME_DIST() OVER (PARTITION BY {partition} ORDER BY {value})")


def _rfm_from_breakpoints(value: str, breakpoints: list[Any]) -> tuple[str, list[Any]]:
    """The score of ``value``: the highest score whose lowest value it reaches (else 1).

    ``breakpoints`` are ``(score, lowest value)`` pairs. A score may be missing — values
    tied across a quintile boundary all get the upper score (``CUME_DIST``) — so the score
    is the one stored, never the breakpoint's rank."""
    if not breakpoints:
        return "1", []
    pairs = sorted(breakpoints, key=lambda p: p[0], reverse=True)
    whens = " ".join(f"WHEN {value} >= %s THEN {int(score)}" for score, _low in pairs)
    return f"(CASE {whens} ELSE 1 END)", [low for _score, low in pairs]


def _rfm_state() -> dict[str, Any]:
    row = ScoringState.objects.filter(key="rfm").first()
    return row.value if row else {}


def _decode(stored: list[Any], column: str) -> list[tuple[int, Any]]:
    """The stored breakpoints of ``column`` as (score, value) pairs, values typed for the
    comparison (SQLite compares a number with a decimal sent as text as smaller than it).
    An older state kept the values alone, the scores following from 2."""
    name = column.removeprefix("p.")
    pairs = [
        (int(item[0]), item[1]) if isinstance(item, list) else (2 + i, item)
        for i, item in enumerate(stored)
    ]

    def typed(v: Any) -> Any:
        if name == "last_on":
            return dt.date.fromisoformat(v)
        if name == "n":
            return int(v)
        return Decimal(str(v)) if connection.vendor == "postgresql" else float(v)

    return [(score, typed(v)) for score, v in pairs]


def _encode(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):  # SQLite gives dates back as text
        return value
    return float(value)


def _breakpoints_store(key: str, table: str, partition: str | None) -> None:
    """Per score (and partition), the lowest value that got it, for incremental updates."""
    state = _rfm_state()
    part = partition or "0"
    out: dict[str, dict[str, list[Any]]] = {}
    columns = {"rfm_r": "last_on", "rfm_f": "activity_count", "rfm_m": "amount"}
    if table == _table(CustomerStats):
        columns = {"rfm_r": "last_on", "rfm_f": "activity_count", "rfm_m": "amount_total"}
    with connection.cursor() as cur:
        for score, column in columns.items():
            keys = f"{partition}, {score}" if partition else score
            cur.execute(
                f"SELECT {part}, {score}, MIN({column}) FROM {table} WHERE {score} > 1 "
                f"GROUP BY {keys} ORDER BY {keys}"
            )
            for k, got, low in cur.fetchall():
                out.setdefault(str(k), {}).setdefault(score, []).append([got, _encode(low)])
    state[key] = out
    ScoringState.objects.update_or_create(key="rfm", defaults={"value": state})


# Per customer and season ---------------------------------------------------------------------


def season_stats_rebuild(customer_ids: list[int] | None = None) -> None:
    """One row per customer and season attended: counts, spend, satisfaction, complaints, RFM."""
    motives = segments_config()["constrained_motives"]
    activities = Activity.objects.filter(season__isnull=False)
    if customer_ids is not None:
        activities = activities.filter(customer_id__in=customer_ids)
    grouped = (
        activities.values("customer_id", "season_id")
        .annotate(
            n=Count("id"),
            amt=Coalesce(Sum("amount"), ZERO),
            first_on=Min("starts_on"),
            last_on=Max("starts_on"),
            ssum=Coalesce(Sum("satisfaction"), 0),
            sn=Count("satisfaction"),
            compl=Count("id", filter=Q(kind=ActivityKind.COMPLAINT)),
            cons=Count("id", filter=Q(details__motive__in=motives)),
        )
        .order_by()
    )
    sql, grouped_params = grouped.query.sql_with_params()
    scores: list[str] = []
    score_params: list[Any] = []  # they come first: the scores precede FROM in the statement
    if customer_ids is None:
        scores = [_rfm_bulk(column, "season_id") for _score, column in RFM]
    else:
        by_season = _rfm_state().get("seasons", {})
        for score, column in RFM:
            cases = []
            for season_id, bps in by_season.items():
                expr, p = _rfm_from_breakpoints(column, _decode(bps.get(score, []), column))
                cases.append(f"WHEN {int(season_id)} THEN {expr}")
                score_params += p
            scores.append(f"CASE season_id {' '.join(cases)} ELSE 0 END" if cases else "0")
    params = [*score_params, *grouped_params]
    columns = (
        "customer_id", "season_id", "activity_count", "amount", "first_on", "last_on",
        "satisfaction_sum", "satisfaction_n", "complaints", "constrained", "rfm_r", "rfm_f", "rfm_m",
    )  # fmt: skip
    insert = (
        f"INSERT INTO {_table(CustomerSeasonStats)} ({_cols(columns)}) "
        f"SELECT customer_id, season_id, n, amt, first_on, last_on, ssum, sn, compl, cons, {', '.join(scores)} "
        f"FROM ({sql}) AS g"
    )
    if customer_ids is not None:
        _clear(CustomerSeasonStats, customer_ids)
        with connection.cursor() as cur:
            cur.execute(insert, params)
        return
    with bulk_load(CustomerSeasonStats), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            _season_stats_bulk_pg(cur, motives, columns)
        else:
            # Written in customer order: a customer's seasons share a page or two, which is
            # what the typology pass and the segment conditions read by customer.
            cur.execute(insert + " ORDER BY customer_id, season_id", params)
    _breakpoints_store("seasons", _table(CustomerSeasonStats), "season_id")


def money_sum(value: str) -> str:
    """``SUM(value)`` of a money column (two decimals), exactly, with a small state.

    On PostgreSQL, a ``numeric`` sum keeps a state of some hundred bytes per group: grouping
    20M activities into 4M customer-seasons then outgrows the memory of a hash table and
    spills to disk. The sum of whole cents as ``double precision`` is exact (every partial
    sum is an integer below 2**53, i.e. any total a ``numeric(14, 2)`` column can hold) and
    its state is one machine word."""
    if connection.vendor != "postgresql":
        return f"SUM({value})"
    return f"(CAST(CAST(SUM(CAST({value} * 100 AS double precision)) AS bigint) AS numeric) * 0.01)"


def _cume_score(rank: str, total: str) -> str:
    """The score :func:`_rfm_bulk` gives, from the rows ranked up to this value (peers
    included) and the partition's rows: what ``CUME_DIST`` computes, in the same
    arithmetic."""
    return _score(f"CAST({rank} AS double precision) / CAST({total} AS double precision)")


def _histogram_scores(source: str, value: str, partition: str | None) -> str:
    """A subquery giving the RFM score of each distinct ``value`` of ``source`` (per
    ``partition``): ``p`` (the partition), ``v`` (the value), ``score``.

    Recency and frequency take few distinct values (days of a season, counts), so counting
    rows per value and accumulating the counts ranks millions of rows without sorting
    them — where ``CUME_DIST`` sorts the whole table once per score."""
    part = partition or "0"
    over = "PARTITION BY p" if partition else ""
    keys = f"{partition}, {value}" if partition else value
    return f"""(
        SELECT p, v, {_cume_score(f"SUM(k) OVER ({over} ORDER BY v)", f"SUM(k) OVER ({over})")} AS score
        FROM (SELECT {part} AS p, {value} AS v, COUNT(*) AS k FROM {source} GROUP BY {keys}) AS h
    )"""


def _season_stats_bulk_pg(cur: Any, motives: list[str], columns: Sequence[str]) -> None:
    """The bulk season stats on PostgreSQL: one grouping of the activities into a scratch
    table, then the RFM scores of every row (recency and frequency by histogram, spend by
    ``CUME_DIST``) written in customer order.

    PostgreSQL never plans an INSERT … SELECT in parallel, but does a CREATE TABLE … AS: the
    grouping of every activity (the bulk of the work) goes into a scratch table, where
    parallel workers may help; the scores read it from there."""
    activities = _table(Activity)
    motive_list = ", ".join(["CAST(%s AS jsonb)"] * len(motives)) or "NULL"
    cur.execute(f"DROP TABLE IF EXISTS {SEASON_GROUPS}")
    cur.execute(
        f"""
        CREATE TEMPORARY TABLE {SEASON_GROUPS} AS
        SELECT a.customer_id, a.season_id, COUNT(*) AS n,
               COALESCE(CAST(SUM(CAST(a.amount * 100 AS double precision)) AS bigint), 0) AS cents,
               MIN(a.starts_on) AS first_on, MAX(a.starts_on) AS last_on,
               COALESCE(SUM(a.satisfaction), 0) AS ssum, COUNT(a.satisfaction) AS sn,
               COUNT(*) FILTER (WHERE a.kind = %s) AS compl,
               COUNT(*) FILTER (WHERE (a.details -> 'motive') IN ({motive_list})) AS cons
        FROM {activities} a WHERE a.season_id IS NOT NULL
        GROUP BY a.customer_id, a.season_id
        """,
        [ActivityKind.COMPLAINT.value, *[json.dumps(m) for m in motives]],
    )
    # The scores join by hash (a few thousand values): the planner, misled by the values'
    # estimated spread, would rather sort the millions of rows for merge joins.
    cur.execute(f"ANALYZE {SEASON_GROUPS}")
    cur.execute("SET LOCAL enable_mergejoin = off")
    recency = _score_table(cur, "r", _histogram_scores(SEASON_GROUPS, "last_on", "season_id"))
    frequency = _score_table(cur, "f", _histogram_scores(SEASON_GROUPS, "n", "season_id"))
    spend = _spend_breakpoints(cur, SEASON_GROUPS, "cents", "season_id")
    # Written in customer order: a customer's seasons share a page or two, which is what
    # the typology pass and the segment conditions read by customer.
    cur.execute(
        f"""
        INSERT INTO {_table(CustomerSeasonStats)} ({_cols(columns)})
        SELECT g.customer_id, g.season_id, g.n, CAST(g.cents AS numeric) * 0.01, g.first_on, g.last_on, g.ssum, g.sn,
               g.compl, g.cons, r.score, f.score, {spend}
        FROM {SEASON_GROUPS} AS g
        JOIN {recency} AS r ON r.p = g.season_id AND r.v = g.last_on
        JOIN {frequency} AS f ON f.p = g.season_id AND f.v = g.n
        ORDER BY g.customer_id, g.season_id
        """
    )
    cur.execute(f"DROP TABLE {SEASON_GROUPS}, {recency}, {frequency}")


def _spend_breakpoints(cur: Any, source: str, value: str, partition: str) -> str:
    """The spend score :func:`_rfm_bulk` gives each row of ``source`` (an integer
    ``value``, per ``partition``), as an expression on ``g.<value>`` and ``g.<partition>``,
    without ranking every row.

    A score is ``1 + trunc(cume × tiles − 10⁻⁶)`` where cume is the share of the
    partition's rows whose value is at most the row's; it only grows with the value. So a
    row reaches score k + 1 exactly when its value is at least the c-th smallest of its
    partition, c being the smallest count whose cume reaches k + 1 in that same
    arithmetic (IEEE doubles, here and in PostgreSQL). Those few values are read by
    position from one narrow sort of (partition, value), where ``CUME_DIST`` needs the
    whole rows sorted and every partition held to count it."""
    tiles = int(segments_config()["rfm_tiles"])
    cur.execute(f"SELECT {partition}, COUNT(*) FROM {source} GROUP BY {partition}")
    sizes = dict(cur.fetchall())

    def score(c: int, n: int) -> int:
        return 1 + math.trunc(c / n * tiles - 0.000001)

    wanted: dict[tuple[int, int], list[int]] = {}  # (partition, position) -> scores reached
    for part, n in sizes.items():
        for k in range(1, tiles):
            c = max(1, (k * n) // tiles - 2)
            while c <= n and score(c, n) < k + 1:
                c += 1
            if c <= n:
                wanted.setdefault((int(part), c), []).append(k + 1)
    if not wanted:
        return "1"
    # percentile_disc(f) is the value at position ceil(f × n): f = (c − ½) / n gives c.
    at: dict[int, list[int]] = {}
    for part, c in wanted:
        at.setdefault(part, []).append(c)
    fractions = " ".join(
        f"WHEN {part} THEN ARRAY[{', '.join(repr((c - 0.5) / sizes[part]) for c in cs)}]"
        for part, cs in at.items()
    )
    cur.execute(
        f"SELECT {partition}, percentile_disc(CAST(CASE {partition} {fractions} END "
        f"AS double precision[])) WITHIN GROUP (ORDER BY {value}) FROM {source} "
        f"WHERE {partition} IN ({', '.join(str(p) for p in at)}) GROUP BY {partition}"
    )
    lows: dict[int, dict[int, int]] = {}  # partition -> score -> lowest value reaching it
    for part, values in cur.fetchall():
        for c, low in zip(at[int(part)], values, strict=True):
            for k in wanted[(int(part), c)]:
                lows.setdefault(int(part), {})[k] = int(low)
    cases = []
    for part, by_score in lows.items():
        whens = " ".join(
            f"WHEN g.{value} >= {low} THEN {k}" for k, low in sorted(by_score.items(), reverse=True)
        )
        cases.append(f"WHEN {part} THEN CASE {whens} ELSE 1 END")
    return f"(CASE g.{partition} {' '.join(cases)} ELSE 1 END)"


def _score_table(cur: Any, name: str, scores: str) -> str:
    """The scores of a histogram (a few thousand rows) in a scratch table of their own,
    analysed: the planner then knows them small, keeps them in hash tables and streams the
    millions of rows past them — estimating the subquery as large, it built its hash
    table of the millions of rows instead."""
    table = f"segments_scores_{name}"
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(f"CREATE TEMPORARY TABLE {table} AS SELECT * FROM {scores} AS s")
    cur.execute(f"ANALYZE {table}")
    return table


# Per customer ---------------------------------------------------------------------------------

STATS_COLUMNS = (
    "customer_id", "activity_count", "amount_total", "first_on", "last_on",
    "winter_count", "winter_amount", "winter_last_on", "winter_seasons",
    "summer_count", "summer_amount", "summer_last_on", "summer_seasons", "seasons_attended",
    "satisfaction_avg", "complaints", "rfm_r", "rfm_f", "rfm_m", "loyalty_group",
    "loyalty_season_id", "churn_risk", "updated_at",
)  # fmt: skip


def churn_scores_table() -> None:
    """The connection's scratch table of churn risks, read by :func:`customer_stats_rebuild`."""
    with connection.cursor() as cur:
        cur.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {CHURN_TABLE} (cid bigint PRIMARY KEY, risk double precision)"
        )


def customer_stats_rebuild(
    customer_ids: list[int] | None = None, reference: Season | None = None
) -> None:
    """One row per customer — those without any activity too: they are the prospects — with
    the RFM scores, the 3F group of the ``reference`` season and the churn risk computed
    just before (typology and churn scratch table)."""
    churn_scores_table()
    season_stats, seasons, activities = (
        _table(CustomerSeasonStats),
        _table(Season),
        _table(Activity),
    )
    customers, typology = _table(Customer), _table(CustomerTypology)
    where_c, ids = _in("c.id", customer_ids)
    where_s, ids_s = _in("ss.customer_id", customer_ids)
    where_a, ids_a = _in("a.customer_id", customer_ids)
    # Activities outside any season count in the all-time figures only.
    unseasoned = f"""
        SELECT a.customer_id AS cid, COUNT(*) AS n, COALESCE(SUM(a.amount), 0) AS amt,
               MIN(a.starts_on) AS first_on, MAX(a.starts_on) AS last_on, NULL AS kind, NULL AS sid,
               COALESCE(SUM(a.satisfaction), 0) AS ssum, COUNT(a.satisfaction) AS sn,
               SUM(CASE WHEN a.kind = 'complaint' THEN 1 ELSE 0 END) AS compl
        FROM {activities} a WHERE a.season_id IS NULL AND {where_a} GROUP BY a.customer_id"""
    seasoned = f"""
        SELECT ss.customer_id AS cid, ss.activity_count AS n, ss.amount AS amt, ss.first_on,
               ss.last_on, se.kind AS kind, ss.season_id AS sid, ss.satisfaction_sum AS ssum,
               ss.satisfaction_n AS sn, ss.complaints AS compl
        FROM {season_stats} ss JOIN {seasons} se ON se.id = ss.season_id WHERE {where_s}"""
    per_customer = f"""
        SELECT cid, SUM(n) AS n, SUM(amt) AS amt, MIN(first_on) AS first_on, MAX(last_on) AS last_on,
               SUM(CASE WHEN kind = 'winter' THEN n ELSE 0 END) AS wn,
               SUM(CASE WHEN kind = 'winter' THEN amt ELSE 0 END) AS wa,
               MAX(CASE WHEN kind = 'winter' THEN last_on END) AS wl,
               SUM(CASE WHEN kind = 'winter' THEN 1 ELSE 0 END) AS ws,
               SUM(CASE WHEN kind = 'summer' THEN n ELSE 0 END) AS sn_,
               SUM(CASE WHEN kind = 'summer' THEN amt ELSE 0 END) AS sa,
               MAX(CASE WHEN kind = 'summer' THEN last_on END) AS sl,
               SUM(CASE WHEN kind = 'summer' THEN 1 ELSE 0 END) AS ss_,
               {_seasons_list("sid")} AS attended,
               CASE WHEN SUM(sn) > 0 THEN 1.0 * SUM(ssum) / SUM(sn) END AS sat,
               SUM(compl) AS compl
        FROM ({seasoned} UNION ALL {unseasoned}) AS u GROUP BY cid"""
    # Placeholders in their textual order: scores, reference season and time, the two
    # id filters inside the subquery, the typology join, the outer filter.
    score_params: list[Any] = []
    scores = []
    if customer_ids is None:
        scores = [
            f"CASE WHEN p.n > 0 THEN {_rfm_bulk('p.' + column, '(COALESCE(p.n, 0) > 0)')} ELSE 0 END"
            for _score, column in RFM
        ]
    else:
        state = _rfm_state().get("all", {}).get("0", {})
        for score, column in RFM:
            expr, p = _rfm_from_breakpoints("p." + column, _decode(state.get(score, []), column))
            scores.append(f"CASE WHEN p.n > 0 THEN {expr} ELSE 0 END")
            score_params += p
    ref = reference.pk if reference else None
    if customer_ids is None and connection.vendor == "postgresql":
        _customer_stats_bulk_pg(per_customer, ref)
        _breakpoints_store("all", _table(CustomerStats), None)
        return
    params = [*score_params, ref, dt.datetime.now(dt.UTC), *ids_s, *ids_a, ref, *ids]
    load = bulk_load(CustomerStats) if customer_ids is None else nullcontext()
    if customer_ids is not None:
        _clear(CustomerStats, customer_ids)
    with load, connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO {_table(CustomerStats)} ({_cols(STATS_COLUMNS)})
            SELECT c.id, COALESCE(p.n, 0), COALESCE(p.amt, 0), p.first_on, p.last_on,
                   COALESCE(p.wn, 0), COALESCE(p.wa, 0), p.wl, COALESCE(p.ws, 0),
                   COALESCE(p.sn_, 0), COALESCE(p.sa, 0), p.sl, COALESCE(p.ss_, 0),
                   COALESCE(p.attended, ''), p.sat, COALESCE(p.compl, 0), {", ".join(scores)},
                   COALESCE(t."group", 'prospect'), %s, r.risk, %s
            FROM {customers} c
            LEFT JOIN ({per_customer}) AS p ON p.cid = c.id
            LEFT JOIN {typology} t ON t.customer_id = c.id AND t.season_id = %s
            LEFT JOIN {CHURN_TABLE} r ON r.cid = c.id
            WHERE {where_c}
            """,
            params,
        )
    if customer_ids is None:
        _breakpoints_store("all", _table(CustomerStats), None)


def _customer_stats_bulk_pg(per_customer: str, ref: int | None) -> None:
    """The bulk customer stats on PostgreSQL: each customer's figures grouped once into a
    scratch table, scored there (recency and frequency by histogram, spend by ``CUME_DIST``
    among the customers with an activity, as :func:`customer_stats_rebuild` scores them),
    then one row per customer."""
    customers, typology = _table(Customer), _table(CustomerTypology)
    spend = _rfm_bulk("amt", "0")
    recency = _histogram_scores(CUSTOMER_GROUPS, "last_on", None)
    frequency = _histogram_scores(CUSTOMER_GROUPS, "n", None)
    with bulk_load(CustomerStats), connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {CUSTOMER_GROUPS}")
        cur.execute(f"CREATE TEMPORARY TABLE {CUSTOMER_GROUPS} AS {per_customer}")
        cur.execute(f"ANALYZE {CUSTOMER_GROUPS}")
        cur.execute("SET LOCAL enable_mergejoin = off")  # as in _season_stats_bulk_pg
        cur.execute(
            f"""
            INSERT INTO {_table(CustomerStats)} ({_cols(STATS_COLUMNS)})
            SELECT c.id, COALESCE(p.n, 0), COALESCE(p.amt, 0), p.first_on, p.last_on,
                   COALESCE(p.wn, 0), COALESCE(p.wa, 0), p.wl, COALESCE(p.ws, 0),
                   COALESCE(p.sn_, 0), COALESCE(p.sa, 0), p.sl, COALESCE(p.ss_, 0),
                   COALESCE(p.attended, ''), p.sat, COALESCE(p.compl, 0),
                   COALESCE(r.score, 0), COALESCE(f.score, 0), COALESCE(p.m, 0),
                   COALESCE(t."group", 'prospect'), %s, k.risk, %s
            FROM {customers} c
            LEFT JOIN (SELECT *, {spend} AS m FROM {CUSTOMER_GROUPS}) AS p ON p.cid = c.id
            LEFT JOIN {recency} AS r ON r.v = p.last_on
            LEFT JOIN {frequency} AS f ON f.v = p.n
            LEFT JOIN {typology} t ON t.customer_id = c.id AND t.season_id = %s
            LEFT JOIN {CHURN_TABLE} k ON k.cid = c.id
            ORDER BY c.id
            """,
            [ref, dt.datetime.now(dt.UTC), ref],
        )
        cur.execute(f"DROP TABLE {CUSTOMER_GROUPS}")


def _seasons_list(column: str) -> str:
    """The aggregate writing ``seasons_attended``: " 3 5 12 " (NULLs skipped; '' for none)."""
    if connection.vendor == "postgresql":
        joined = f"string_agg(CAST({column} AS text), ' ' ORDER BY {column})"
    else:  # SQLite: group_concat takes no ORDER BY before 3.44; the order does not matter
        joined = f"group_concat(CAST({column} AS text), ' ')"
    return f"CASE WHEN COUNT({column}) > 0 THEN ' ' || {joined} || ' ' ELSE '' END"


def stats_rows_ensure(customer_ids: list[int]) -> None:
    """An empty row for each of these customers that has none (a new customer: a prospect)."""
    customers, stats = _table(Customer), _table(CustomerStats)
    if connection.vendor == "postgresql":
        # One array parameter: an import batch names ~14,000 new customers, and as many
        # "%s" in an IN list cost more to bind client-side and to parse than the insert.
        where, ids = "c.id = ANY(%s::bigint[])", [list(customer_ids)]
    else:
        where, ids = _in("c.id", customer_ids)
    columns = (
        "customer_id", "activity_count", "amount_total", "winter_count", "winter_amount",
        "winter_seasons", "summer_count", "summer_amount", "summer_seasons", "seasons_attended",
        "complaints",
        "rfm_r", "rfm_f", "rfm_m", "loyalty_group", "updated_at",
    )  # fmt: skip
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {stats} ({_cols(columns)}) "
            f"SELECT c.id, 0, 0, 0, 0, 0, 0, 0, 0, '', 0, 0, 0, 0, 'prospect', %s FROM {customers} c "
            f"WHERE {where} AND NOT EXISTS (SELECT 1 FROM {stats} s WHERE s.customer_id = c.id)",
            [dt.datetime.now(dt.UTC), *ids],
        )
