"""Segments at a million customers and 20 million activities on PostgreSQL.

.venv/bin/python bench/bench_segments.py [--customers 1000000] [--activities-per-customer 20]

Generates the data with set-based SQL (generate_series) in a fresh database, then measures:
the rebuild of aggregates + RFM + 3F + churn risk (target ≤ 5 min), a compound segment count
(behaviour window + qualification + consent + geography) against a hand-written SQL query for
the same segment in the same run (target ≤ 2 s and ≤ 1.5×), and the churn model's AUC on a
held-out season beside a recency-only baseline.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import cordee, pg_fresh_database, write_section  # noqa: E402

TODAY = dt.date(2026, 11, 22)
PARTNERS = 20
DEPARTEMENTS = (
    ["75"] * 10 + ["92"] * 6 + ["93"] * 5 + ["94"] * 5 + ["77", "78", "91", "95"] * 3
    + ["69"] * 6 + ["13"] * 5 + ["74"] * 8 + ["73"] * 8 + ["38"] * 6 + ["01", "33", "31", "44", "59", "67", "06", "34", "35", "21"] * 2
)  # fmt: skip
INTERESTS = ["ski", "surf", "randonnée", "vtt", "spa", "gastronomie", "escalade", "patrimoine"]


def _fill(cur, table: str, given: dict[str, str]) -> tuple[str, str]:
    """Column list and SELECT expressions: ``given`` plus a neutral value for every other
    NOT NULL column without a default (so the generator follows the models as they change)."""
    cur.execute(
        "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
        "WHERE table_name = %s ORDER BY ordinal_position",
        [table],
    )
    cols, exprs = [], []
    for name, dtype, nullable, default in cur.fetchall():
        if name in given:
            cols.append(f'"{name}"')
            exprs.append(given[name])
        elif nullable == "NO" and default is None and name != "id":
            neutral = {
                "jsonb": "'{}'::jsonb",
                "boolean": "false",
                "timestamp with time zone": "now()",
                "date": "CURRENT_DATE",
                "integer": "0",
                "smallint": "0",
                "bigint": "0",
                "numeric": "0",
            }.get(dtype, "''")
            cols.append(f'"{name}"')
            exprs.append(neutral)
    return ", ".join(cols), ", ".join(exprs)


def generate(url: str, customers: int, activities: int) -> dict[str, float]:
    import psycopg

    timings: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        # Generated rows are consistent by construction: skip the per-row foreign-key
        # triggers while generating (the benchmark measures reads and rebuilds, not this).
        cur.execute("SET session_replication_role = replica")
        start = time.perf_counter()
        cur.execute(
            "INSERT INTO partners_partner (slug, name, kind, resort, is_active, created_at) "
            "VALUES ('office', 'Office de tourisme', 'hub', '', true, now())"
        )
        kinds = [
            "hotel",
            "campsite",
            "rental",
            "ski_school",
            "lift_operator",
            "restaurant",
            "activity",
            "shop",
        ]
        for i in range(PARTNERS):
            cur.execute(
                "INSERT INTO partners_partner (slug, name, kind, resort, is_active, created_at) "
                "VALUES (%s, %s, %s, '', true, now())",
                [f"partenaire-{i}", f"Partenaire {i}", kinds[i % len(kinds)]],
            )
        for year in range(2018, 2027):
            if year >= 2019:
                cur.execute(
                    "INSERT INTO activities_season (code, name, kind, starts_on, ends_on) VALUES (%s, %s, 'summer', %s, %s)",
                    [f"ete-{year}", f"Été {year}", dt.date(year, 6, 1), dt.date(year, 9, 30)],
                )
            if year <= 2025:
                cur.execute(
                    "INSERT INTO activities_season (code, name, kind, starts_on, ends_on) VALUES (%s, %s, 'winter', %s, %s)",
                    [
                        f"hiver-{year}-{year + 1}",
                        f"Hiver {year}-{year + 1}",
                        dt.date(year, 12, 1),
                        dt.date(year + 1, 4, 15),
                    ],
                )
        deps = "ARRAY[" + ",".join(f"'{d}'" for d in DEPARTEMENTS) + "]"
        interests = "ARRAY[" + ",".join(f"'{i}'" for i in INTERESTS) + "]"
        cols, exprs = _fill(
            cur,
            "customers_customer",
            {
                "first_name": "'Prénom' || g",
                "last_name": "'Nom' || g",
                "gender": "CASE WHEN random() < 0.52 THEN 'F' ELSE 'M' END",
                "birth_year": "1940 + floor(random() * 68)::int",
                "country": "CASE WHEN random() < 0.88 THEN 'FR' WHEN random() < 0.5 THEN 'BE' ELSE 'DE' END",
                "departement": f"({deps})[1 + floor(random() * {len(DEPARTEMENTS)})::int]",
                "postal_code": "''",
                "interests": f"jsonb_build_array(({interests})[1 + floor(random() * 8)::int], ({interests})[1 + floor(random() * 8)::int])",
                "attributes": "'{}'::jsonb",
                "provenance": "'{}'::jsonb",
                "created_at": "now()",
                "updated_at": "now()",
            },
        )
        cur.execute(
            f"INSERT INTO customers_customer ({cols}) SELECT {exprs} FROM generate_series(1, %s) AS g",
            [customers],
        )
        cur.execute(
            "INSERT INTO customers_customerlink (customer_id, partner_id, first_seen) "
            "SELECT c.id, p.id, now() FROM customers_customer c "
            f"JOIN partners_partner p ON p.slug = 'partenaire-' || (c.id % {PARTNERS})"
        )
        timings["customers"] = time.perf_counter() - start

        start = time.perf_counter()
        cols, exprs = _fill(
            cur,
            "privacy_consentevent",
            {
                "customer_id": "c.id",
                "purpose_id": "(SELECT id FROM privacy_purpose WHERE slug = 'partner_offers')",
                "controller_id": "(SELECT id FROM partners_partner WHERE kind = 'hub')",
                "status": "'granted'",
                "at": "now()",
                "channel": "'form'",
            },
        )
        cur.execute(
            f"INSERT INTO privacy_consentevent ({cols}) SELECT {exprs} FROM customers_customer c WHERE random() < 0.45"
        )
        cur.execute(
            "INSERT INTO privacy_consentstate (customer_id, purpose_id, controller_id, status, at, event_id) "
            "SELECT customer_id, purpose_id, controller_id, status, at, id FROM privacy_consentevent"
        )
        # The sharing flag the partners' gate reads, as the consent services keep it.
        cur.execute(
            "UPDATE customers_customer SET shares_with_partners = true WHERE id IN ("
            "SELECT customer_id FROM privacy_consentstate WHERE status = 'granted' AND "
            "purpose_id = (SELECT id FROM privacy_purpose WHERE slug = 'partner_offers'))"
        )
        timings["consents"] = time.perf_counter() - start

        # Behaviour: each customer has a propensity to come, a satisfaction level and a trend
        # that follows it (the dissatisfied drift away), so that the past says something
        # about the next season — and not only through recency.
        start = time.perf_counter()
        cur.execute(
            "CREATE UNLOGGED TABLE bench_people AS SELECT id, "
            "0.03 + 0.62 * power(random(), 1.6) AS p, 3 + floor(random() * 8)::int AS sat, "
            "(id % 33 = 0) AS business FROM customers_customer"
        )
        cur.execute(
            "CREATE UNLOGGED TABLE bench_seasons AS SELECT id, starts_on, (ends_on - starts_on) AS len, "
            "(row_number() OVER (ORDER BY starts_on) - 1) AS ord FROM activities_season"
        )
        cur.execute(
            "CREATE UNLOGGED TABLE bench_visits AS SELECT b.id AS cid, s.id AS sid, s.starts_on, s.len, b.sat, b.business, "
            "0 AS n FROM bench_people b CROSS JOIN bench_seasons s "
            "WHERE random() < b.p + (b.sat - 6.5) * 0.035 * (s.ord - 8) / 8.0"
        )
        # As many activities per customer-season as it takes to reach the target total:
        # 1 + round(U * 2(m - 1)) has mean m (the visits drawn vary with the propensities).
        cur.execute("SELECT count(*) FROM bench_visits")
        visits = cur.fetchone()[0]
        mean = max(1.0, activities / max(visits, 1))
        cur.execute("UPDATE bench_visits SET n = 1 + round(random() * %s)::int", [2 * (mean - 1)])
        print(f"{visits:,} customer-seasons, {mean:.2f} activities each on average", flush=True)
        cur.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'activities_activity' AND indexname NOT LIKE '%pkey'"
        )
        indexes = [r[0] for r in cur.fetchall()]
        cur.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'activities_activity' AND indexname NOT LIKE '%pkey'"
        )
        for (name,) in cur.fetchall():
            cur.execute(f'DROP INDEX "{name}"')
        cols, exprs = _fill(
            cur,
            "activities_activity",
            {
                "customer_id": "v.cid",
                "partner_id": f"(SELECT min(id) FROM partners_partner) + 1 + (v.cid % {PARTNERS})",
                "kind": "CASE WHEN v.sat < 5 AND random() < 0.08 THEN 'complaint' ELSE "
                "(ARRAY['stay','ticket','lesson','rental','meal','purchase','visit'])[1 + floor(random() * 7)::int] END",
                "channel": "'import'",
                "starts_on": "v.starts_on + floor(random() * v.len)::int",
                "season_id": "v.sid",
                "amount": "round((15 + random() * 180)::numeric, 2)",
                "currency": "'EUR'",
                "satisfaction": "CASE WHEN random() < 0.4 THEN greatest(0, least(10, v.sat + floor(random() * 3)::int - 1)) END",
                "details": "CASE WHEN v.business THEN '{\"motive\": \"business\"}'::jsonb ELSE '{}'::jsonb END",
                "created_at": "now()",
            },
        )
        cur.execute(
            f"INSERT INTO activities_activity ({cols}) SELECT {exprs} FROM bench_visits v, generate_series(1, v.n) AS g"
        )
        timings["activities_insert"] = time.perf_counter() - start
        start = time.perf_counter()
        for sql in indexes:
            cur.execute(sql)
        for table in ("bench_people", "bench_seasons", "bench_visits"):
            cur.execute(f"DROP TABLE {table}")
        cur.execute("VACUUM ANALYZE")
        timings["activities_index"] = time.perf_counter() - start
    return timings


COMPOUND = {
    "all": [
        {"field": "gender", "op": "eq", "value": "F"},
        {"field": "age", "op": "between", "value": [18, 35]},
        {"field": "zone", "op": "in", "value": ["ile-de-france"]},
        {"field": "interests", "op": "contains", "value": "surf"},
        {
            "field": "activities",
            "metric": "seasons",
            "seasons": {"kind": "summer", "last": 3},
            "op": "gte",
            "value": 2,
        },
        {"field": "activities", "metric": "amount", "op": "gt", "value": 400},
        {"field": "consent", "op": "granted", "purpose": "partner_offers"},
    ]
}

HAND_COMMON = """
SELECT count(*) FROM customers_customer c
JOIN segments_customerstats s ON s.customer_id = c.id
WHERE c.gender = 'F'
  AND c.birth_year BETWEEN %(y_low)s AND %(y_high)s
  AND c.departement IN ('75','77','78','91','92','93','94','95')
  AND lower(c.interests::text) LIKE '%%"surf"%%'
  AND s.amount_total > 400
  AND EXISTS (SELECT 1 FROM privacy_consentstate cs JOIN privacy_purpose p ON p.id = cs.purpose_id
              WHERE cs.customer_id = c.id AND cs.status = 'granted' AND p.slug = 'partner_offers')
"""
# Two ways a person would write "came in at least 2 of the last 3 summers"; the faster one
# of the run is the reference.
HAND_SQL = {
    "grouped IN": HAND_COMMON
    + """  AND c.id IN (SELECT customer_id FROM segments_customerseasonstats
               WHERE season_id = ANY(%(summers)s) GROUP BY customer_id HAVING count(*) >= 2)""",
    "correlated count": HAND_COMMON
    + """  AND (SELECT count(*) FROM segments_customerseasonstats x
       WHERE x.customer_id = c.id AND x.season_id = ANY(%(summers)s)) >= 2""",
}

RAW_WINDOW = {
    "all": [
        {"field": "zone", "op": "in", "value": ["paris-petite-couronne"]},
        {"field": "activities", "kind": "lesson", "since_days": 730, "op": "gte", "value": 2},
        {"field": "consent", "op": "granted", "purpose": "partner_offers"},
    ]
}
RAW_HAND_SQL = {
    "grouped IN": """
SELECT count(*) FROM customers_customer c
WHERE c.departement IN ('75','92','93','94')
  AND c.id IN (SELECT customer_id FROM activities_activity
               WHERE kind = 'lesson' AND starts_on >= %(since)s GROUP BY customer_id HAVING count(*) >= 2)
  AND EXISTS (SELECT 1 FROM privacy_consentstate cs JOIN privacy_purpose p ON p.id = cs.purpose_id
              WHERE cs.customer_id = c.id AND cs.status = 'granted' AND p.slug = 'partner_offers')
"""
}


def _cpu_seconds(pid: int) -> float:
    """CPU time used so far by a local process (the PostgreSQL backend doing the work): on a
    machine shared with other jobs, wall time says more about the neighbours than about us."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


BACKEND: list[int] = []


class ParallelWorkersCpu:
    """CPU time of the parallel workers PostgreSQL starts for one backend (``leader_pid``),
    which the backend's own figure leaves out: a thread looks for them every
    ``interval`` seconds and keeps the last CPU time read of each. A worker's last
    ``interval`` before it exits may be missed."""

    def __init__(self, url: str, leader: int, interval: float = 0.2) -> None:
        import threading

        self.url, self.leader, self.interval = url, leader, interval
        self.seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.is_set():
                pids = [
                    r[0]
                    for r in conn.execute(
                        "SELECT pid FROM pg_stat_activity WHERE leader_pid = %s AND pid <> %s",
                        [self.leader, self.leader],
                    ).fetchall()
                ]
                for pid in pids:
                    # A worker that exited meanwhile keeps its last reading.
                    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                        self.seen[pid] = _cpu_seconds(pid)
                self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def total(self) -> float:
        return sum(self.seen.values())


def _median(fn, runs: int = 5) -> tuple[float, object]:
    """Median wall time of ``runs`` warm runs (and, in CPU_TIMES, the backend's median CPU)."""
    fn()  # warm the cache: both sides are measured warm
    times, cpu, out = [], [], None
    for _ in range(runs):
        start, cpu_start = time.perf_counter(), _cpu_seconds(BACKEND[0])
        out = fn()
        times.append(time.perf_counter() - start)
        cpu.append(_cpu_seconds(BACKEND[0]) - cpu_start)
    CPU_TIMES.append(statistics.median(cpu))
    return statistics.median(times), out


CPU_TIMES: list[float] = []


FIGURES: dict[str, object] = {}


def measure(url: str, home: str, skip_rebuild: bool = False) -> str:
    os.environ["CORDEE_HOME"] = home
    os.environ["CORDEE_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordee.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from cordee.activities.models import Activity, Season
    from cordee.customers.models import Customer
    from cordee.partners.models import Partner
    from cordee.privacy.access import Actor
    from cordee.segments.compiler import definition_queryset
    from cordee.segments.services import stats_refresh

    settings.CORDEE_SEGMENTS = {
        "today": TODAY.isoformat()
    }  # the data's "today", whatever the clock

    customers, activities = Customer.objects.count(), Activity.objects.count()
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
    BACKEND.append(backend)
    workers = ParallelWorkersCpu(url, backend)
    workers.start()

    def clock() -> float:
        return _cpu_seconds(backend) + time.process_time() + workers.total()

    load_start = os.getloadavg()[0]
    start, cpu_start = time.perf_counter(), clock()
    backend_start, workers_start = _cpu_seconds(backend), workers.total()
    report = stats_refresh(cpu_clock=clock) if not skip_rebuild else None
    rebuild = time.perf_counter() - start
    rebuild_cpu = clock() - cpu_start
    workers.stop()
    FIGURES["rebuild_backend_cpu_s"] = _cpu_seconds(backend) - backend_start
    FIGURES["rebuild_workers_cpu_s"] = workers.total() - workers_start
    FIGURES["load_start"] = load_start

    actor = Actor.system("bench")
    summers = list(
        Season.objects.filter(kind="summer", starts_on__lte=TODAY)
        .order_by("-starts_on")
        .values_list("pk", flat=True)[:3]
    )
    params = {"y_low": TODAY.year - 35, "y_high": TODAY.year - 18, "summers": summers}

    def orm(definition):
        return lambda: definition_queryset(definition, actor, today=TODAY).count()

    def hand(sql, p):
        def run():
            with connection.cursor() as cur:
                cur.execute(sql, p)
                return cur.fetchone()[0]

        return run

    def best_hand(variants, p):
        timed = []
        for name, sql in variants.items():
            seconds, count = _median(hand(sql, p))
            timed.append((seconds, count, name, CPU_TIMES[-1]))
        return min(timed, key=lambda t: t[0])

    rows = []
    for label, definition, sql, p in (
        ("compound (aggregates)", COMPOUND, HAND_SQL, params),
        (
            "raw activity window",
            RAW_WINDOW,
            RAW_HAND_SQL,
            {"since": TODAY - dt.timedelta(days=730)},
        ),
    ):
        orm_s, orm_n = _median(orm(definition))
        orm_cpu = CPU_TIMES[-1]
        hand_s, hand_n, hand_name, hand_cpu = best_hand(sql, p)
        FIGURES[label] = {
            "orm_ms": orm_s * 1000,
            "orm_cpu_ms": orm_cpu * 1000,
            "hand_ms": hand_s * 1000,
            "hand_cpu_ms": hand_cpu * 1000,
            "count": orm_n,
        }
        rows.append(
            f"| {label} | {orm_n:,} | {orm_s * 1000:.0f} ms ({orm_cpu * 1000:.0f} ms CPU) | {hand_n:,} "
            f"| {hand_s * 1000:.0f} ms ({hand_cpu * 1000:.0f} ms CPU, {hand_name}) | {orm_s / hand_s:.2f}× |"
        )
    partner = Actor.for_partner(Partner.objects.get(slug="partenaire-3"), "bench")
    p_s, p_n = _median(lambda: definition_queryset(COMPOUND, partner, today=TODAY).count())

    # The compiled compound count's plan, as PostgreSQL ran it (warm), and the settings
    # that decide whether the rebuild's grouping gets parallel workers.
    compound_sql, compound_params = (
        definition_queryset(COMPOUND, actor, today=TODAY).values("pk").query.sql_with_params()
    )
    with connection.cursor() as cur:
        cur.execute(
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) SELECT count(*) FROM ("
            + compound_sql
            + ") AS segment",
            compound_params,
        )
        plan = [row[0] for row in cur.fetchall()]
        cur.execute("SHOW max_parallel_workers_per_gather")
        workers = cur.fetchone()[0]
        cur.execute("SHOW server_version")
        version = cur.fetchone()[0].split()[0]

    FIGURES["rebuild_s"] = rebuild if report else None
    FIGURES["rebuild_cpu_s"] = rebuild_cpu if report else None
    FIGURES["steps"] = dict(report.seconds) if report else {}
    FIGURES["steps_cpu"] = dict(report.cpu) if report else {}
    FIGURES["activities"] = activities
    FIGURES["load"] = os.getloadavg()[0]
    churn = report.churn if report else None
    steps = (
        ", ".join(
            f"{k} {v:.1f} s ({report.cpu.get(k, 0):.1f} s CPU)" for k, v in report.seconds.items()
        )
        if report
        else "skipped"
    )
    factors = ", ".join(
        f"{name} {weight:+.2f}" for name, weight in (churn.factors[:5] if churn else [])
    )
    return "\n".join(
        [
            f"Data: {customers:,} customers, {activities:,} activities, 16 seasons (8 summers, 8 winters), 45 % consented to partner offers.",
            "",
            f"**RFM + 3F + churn risk rebuild: {rebuild:.1f} s wall, {rebuild_cpu:.1f} s CPU** "
            f"(PostgreSQL backend {FIGURES.get('rebuild_backend_cpu_s', 0):.1f} s + its parallel workers "
            f"{FIGURES.get('rebuild_workers_cpu_s', 0):.1f} s + Python; load average {FIGURES.get('load_start', 0):.1f} "
            f"at the start, {os.getloadavg()[0]:.1f} at the end; target ≤ 300 s) — per step (wall): {steps}.",
            "",
            "| segment | ORM count | ORM time (median of 5, warm; backend CPU) | hand SQL count | hand SQL time (fastest variant) | ratio (wall) |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            f"Same compound segment as partner `partenaire-3` (through the gate): {p_n:,} in {p_s * 1000:.0f} ms.",
            verdict(rebuild if report else None, rebuild_cpu),
            "",
            "Plan of the compiled compound count (`EXPLAIN ANALYZE`, warm):",
            "",
            "```",
            *plan,
            "```",
            "",
            f"PostgreSQL {version}, `max_parallel_workers_per_gather` = {workers}: the rebuild's "
            "grouping of the activities (a `CREATE TABLE … AS`), the index builds and the counts "
            "(see `Workers Launched` above) may use that many parallel workers, whose CPU time is "
            "in the rebuild's CPU figures (read from /proc every 0.2 s while they run) but not in the "
            "counts' (the backend process's own).",
            "",
            (
                f"**Churn** (not coming back next summer), trained on {', '.join(churn.trained_on)} ({churn.rows_train:,} rows), "
                f"held out {churn.held_out} ({churn.rows_test:,} rows): **AUC {churn.auc:.3f}** vs recency-only baseline **{churn.baseline_auc:.3f}**. "
                f"Strongest factors (standardised coefficients, + pushes towards leaving): {factors}."
                if churn
                else "Churn: not enough seasons to train."
            ),
        ]
    )


def verdict(rebuild: float | None, rebuild_cpu: float) -> str:
    """The targets, met or not, from this run's figures."""
    compound = FIGURES.get("compound (aggregates)")
    out = []
    if isinstance(compound, dict):
        ms, ratio = compound["orm_ms"], compound["orm_ms"] / compound["hand_ms"]
        out.append(
            f"Targets: compound ≤ 2 s — **{'met' if ms <= 2000 else 'not met'}** ({ms:,.0f} ms wall, "
            f"{compound['orm_cpu_ms']:,.0f} ms backend CPU); ≤ 1.5× the hand-written SQL — "
            f"**{'met' if ratio <= 1.5 else 'not met'}** ({ratio:.2f}×)"
        )
    if rebuild is not None:
        out.append(
            f"rebuild ≤ 300 s — **{'met' if rebuild <= 300 else 'not met'} in wall time** "
            f"({rebuild:.0f} s at load {os.getloadavg()[0]:.0f} on 2 cores; "
            f"{rebuild_cpu:.0f} s of backend, parallel workers and Python CPU)"
        )
    return "; ".join(out) + "."


def before_after(before: dict, after: dict) -> str:
    """The previous code's run and this one, on the same database (each at its own load)."""

    def rebuild(f: dict) -> str:
        if f.get("rebuild_s") is None:
            return "not run"
        return f"{f['rebuild_s']:.0f} s wall, {f['rebuild_cpu_s']:.0f} s CPU"

    def cpu_split(f: dict) -> str:
        if f.get("rebuild_backend_cpu_s") is None:
            return "–"
        return f"{f['rebuild_backend_cpu_s']:.0f} s / {f['rebuild_workers_cpu_s']:.0f} s"

    def count(f: dict, label: str) -> str:
        r = f.get(label)
        if not r:
            return "–"
        return f"{r['orm_ms']:.0f} ms ({r['orm_cpu_ms']:.0f} ms CPU) vs hand {r['hand_ms']:.0f} ms ({r['hand_cpu_ms']:.0f} ms CPU)"

    lines = [
        f"Before / after on the same database ({after.get('activities', 0):,} activities); "
        f"the previous code: {before.get('code', 'previous commit')}.",
        "",
        "| | before | after |",
        "|---|---|---|",
        f"| load average at the start of the rebuild | {before.get('load_start', 0):.1f} | {after.get('load_start', 0):.1f} |",
        f"| load average at the end of the run | {before.get('load', 0):.1f} | {after.get('load', 0):.1f} |",
        f"| RFM + 3F + risk rebuild | {rebuild(before)} | {rebuild(after)} |",
        f"| — of which backend CPU / parallel workers' CPU | {cpu_split(before)} | {cpu_split(after)} |",
    ]
    if before.get("rebuild_cpu_s") and after.get("rebuild_cpu_s"):
        lines.append(
            f"| ratio after / before | | {after['rebuild_s'] / before['rebuild_s']:.2f}× wall, "
            f"{after['rebuild_cpu_s'] / before['rebuild_cpu_s']:.2f}× CPU |"
        )

    def step_time(f: dict, step: str) -> str:
        wall, cpu = f.get("steps", {}).get(step), f.get("steps_cpu", {}).get(step)
        if wall is None:
            return "–"
        return f"{wall:.1f} s" + ("" if cpu is None else f" ({cpu:.1f} s CPU)")

    for step in dict.fromkeys([*before.get("steps", {}), *after.get("steps", {})]):
        lines.append(f"| — {step} | {step_time(before, step)} | {step_time(after, step)} |")
    for label in ("compound (aggregates)", "raw activity window"):
        lines.append(f"| {label} count | {count(before, label)} | {count(after, label)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument(
        "--activities-per-customer",
        type=float,
        default=20.0,
        help="activities to generate per customer, over all seasons (20M for 1M customers)",
    )
    parser.add_argument("--database", default="cordee_bench_segments")
    parser.add_argument(
        "--measure-only", action="store_true", help="reuse the database already generated"
    )
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--label", default="", help="which code ran (kept in --json)")
    parser.add_argument(
        "--before",
        help="figures (--json) of a run of the previous code on the same database, shown beside",
    )
    parser.add_argument(
        "--generate-only", action="store_true", help="generate the database, measure nothing"
    )
    parser.add_argument("--skip-rebuild", action="store_true", help="time the counts only")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="cordee-bench-segments-")
    if args.measure_only:
        url = "postgres://postgres@127.0.0.1:5432/" + args.database
        gen = {}
    else:
        url = pg_fresh_database(args.database)
        env = {**os.environ, "CORDEE_HOME": home, "CORDEE_DATABASE_URL": url}
        subprocess.run(cordee("migrate", "-v", "0"), env=env, check=True)
        gen = generate(url, args.customers, round(args.customers * args.activities_per_customer))
        print("generated", {k: round(v, 1) for k, v in gen.items()}, flush=True)
        if args.generate_only:
            return
    body = measure(url, home, skip_rebuild=args.skip_rebuild)
    gen_line = (
        "Generation (set-based SQL, not part of the targets): "
        + ", ".join(f"{k} {v:.0f} s" for k, v in gen.items())
        + "."
        if gen
        else ""
    )
    text = (
        "Command: `.venv/bin/python bench/bench_segments.py "
        f"--customers {args.customers}` (PostgreSQL; also run by `bench/run.py`). The machine is shared "
        "with other developers' jobs (2 cores): timings are noisy.\n\n" + body + "\n\n" + gen_line
    )
    if args.before:
        text += "\n\n" + before_after(json.loads(Path(args.before).read_text()), FIGURES)
    FIGURES["code"] = args.label
    if args.json:
        Path(args.json).write_text(json.dumps(FIGURES, indent=1))
    print(text)
    if not args.no_report:
        write_section("Segments, RFM, 3F and churn", text)


if __name__ == "__main__":
    main()
