"""The visibility gate's cost at a million customers, on PostgreSQL.

A partner's customer list (the customers it brought plus those who agreed to be shared,
through ``customers_visible_to``) against the hub's unrestricted list, in the same run:
the list page's two queries (capped count + first page), a name search and a deep page.

PYTHONPATH=src .venv/bin/python bench/bench_gate.py [--customers 1000000] [--runs 40]
    [--database cordee_bench_gate] [--reuse]

Fills its own database (``cordee_bench_gate`` unless ``--database``) with SQL
(generate_series): 20 partners, each customer brought by one of them, 30 % of them sharing
(a granted partner_offers consent, mirrored on the customer as ``shares_with_partners``).

Three readers in the same run: the hub (no gate, the reference), the partner through the
gate, and the partner through the gate as it was before the sharing flag (the consent
states probed per row, the former count), kept here to measure the change.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import PG_ADMIN_URL, machine, pg_fresh_database, write_section  # noqa: E402

PARTNERS = 20
SHARE_PERCENT = 30


def reading(list_row: tuple[float, ...]) -> str:
    """What the list's row says, in words (the figures of this run)."""
    _label, hp50, hp95, pp50, pp95, hcpu, pcpu, bp50, bp95, bcpu = list_row
    cpu, p50, p95 = pcpu / max(hcpu, 1e-9), pp50 / hp50, pp95 / hp95
    met = "met" if max(cpu, p50) <= 1.3 else "not met"
    return (
        "Reading: the hub's list is a bare index scan of `customer_name_idx` (the reference). "
        "The partner's gate is now `shares_with_partners OR EXISTS(link of this partner)`: "
        "the sharing consent is read from a column of the customer row "
        "(`cordee.privacy.sharing` keeps it equal to the `partner_offers` consent states on "
        "every write), so the first page walks `customer_name_idx` as before (~150 rows for "
        "51) but probes `customer_link_unique` only for unshared rows, and the consent states "
        "not at all; the condition is one SQL template (`_SharedOrBrought`), the ORM's "
        "compilation of two `Exists` having cost more than the reads. The capped count reads "
        "the partial `customer_shared_idx` (1,001 index-only entries, as cheap as the hub's "
        "count) and the partner's unshared links only when fewer than the cap are shared. "
        f"**Target ≤ 1.3x: {met}** on the list — {cpu:.2f}x in CPU time, {p50:.2f}x at p50 "
        f"and {p95:.2f}x at p95 wall; through the former gate (two probes per row, the "
        f"two-range count), measured in the same run: {bcpu / max(hcpu, 1e-9):.2f}x CPU, "
        f"{bp50 / hp50:.2f}x p50, {bp95 / hp95:.2f}x p95. With ~40 runs and 10 ms clock ticks "
        "the CPU figures are ± ~0.3 ms per run: ratios near the target need several runs to "
        "be told apart. A name search and a deep page keep the link probe on unshared "
        "matches (not part of the list target)."
    )


def fill(url: str, customers: int) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO partners_partner (slug, name, kind, resort, is_active, created_at) "
            "VALUES ('office', 'Office', 'hub', '', true, now())"
        )
        conn.execute(
            "INSERT INTO partners_partner (slug, name, kind, resort, is_active, created_at) "
            "SELECT 'p' || i, 'Partenaire ' || i, 'hotel', '', true, now() "
            f"FROM generate_series(1, {PARTNERS}) i"
        )
        conn.execute(
            """
            INSERT INTO customers_customer (
              civility, first_name, last_name, email, phone, phone_other, address_line1,
              address_line2, postal_code, city, region, departement, country, language, gender,
              profession, family_situation, interests, preferred_season, attributes, provenance,
              last_name_key, first_name_key, city_key, email_hash, phone_hash, created_at,
              updated_at)
            SELECT '', 'P' || substr(md5('f' || i), 1, 5), 'N' || substr(md5(i::text), 1, 7),
              'c' || i || '@example.fr', '', '', '', '', '74400', 'Chamonix', '', '74', 'FR',
              'fr', '', '', '', '[]', '', '{}', '{}',
              substr(md5(i::text), 1, 8), substr(md5('f' || i), 1, 6), 'chamonix',
              substr(md5('e' || i), 1, 32), '', now(), now()
            FROM generate_series(1, %s) i
            """,
            [customers],
        )
        conn.execute(
            "INSERT INTO customers_customerlink (customer_id, partner_id, first_seen) "
            "SELECT c.id, (SELECT id FROM partners_partner WHERE slug = 'p' || (1 + c.id %% %s)), "
            "now() FROM customers_customer c",
            [PARTNERS],
        )
        conn.execute(
            """
            INSERT INTO privacy_consentevent (customer_id, purpose_id, controller_id, status, at,
              channel, actor_label, page)
            SELECT c.id, (SELECT id FROM privacy_purpose WHERE slug = 'partner_offers'),
              (SELECT id FROM partners_partner WHERE kind = 'hub'), 'granted', now(), 'import',
              'bench', ''
            FROM customers_customer c WHERE c.id %% 100 < %s
            """,
            [SHARE_PERCENT],
        )
        conn.execute(
            "INSERT INTO privacy_consentstate (customer_id, purpose_id, controller_id, status, "
            "at, event_id) SELECT customer_id, purpose_id, controller_id, status, at, id "
            "FROM privacy_consentevent"
        )
        # The sharing flag as the migration fills it (cordee.privacy.sharing keeps it).
        conn.execute(
            "UPDATE customers_customer SET shares_with_partners = true WHERE id IN ("
            "SELECT customer_id FROM privacy_consentstate WHERE status = 'granted' AND "
            "purpose_id = (SELECT id FROM privacy_purpose WHERE slug = 'partner_offers'))"
        )
        conn.execute("VACUUM ANALYZE")


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def backend_cpu() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (same machine)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def former_gate() -> tuple[object, object]:
    """The partner's gate as it was before the sharing flag, for the "before" column.

    The condition probed the ``partner_offers`` consent state and the partner's link for each
    customer walked; the count read two capped index ranges (the sharing consents, the links)
    and united them.
    """
    from django.db import connection
    from django.db.models import Exists, OuterRef, Q
    from django.db.models.expressions import RawSQL

    from cordee.customers.models import Customer, CustomerLink
    from cordee.privacy.models import ConsentState

    class ProbedExists(Exists):
        def as_postgresql(self, compiler, connection, **extra):  # type: ignore[no-untyped-def]
            template = "EXISTS(%(subquery)s OFFSET 0)"
            return self.as_sql(compiler, connection, template=template, **extra)

    purpose_sql = "SELECT id FROM privacy_purpose WHERE slug = %s LIMIT 1"

    def visible(actor):  # type: ignore[no-untyped-def]
        granted = ConsentState.objects.filter(
            customer=OuterRef("pk"),
            purpose_id=RawSQL(purpose_sql, ("partner_offers",)),  # noqa: S611
            status="granted",
        )
        brought = CustomerLink.objects.filter(customer=OuterRef("pk"), partner=actor.partner)
        return Customer.objects.filter(Q(ProbedExists(granted)) | Q(ProbedExists(brought)))

    def count(actor, cap):  # type: ignore[no-untyped-def]
        sql = (
            "SELECT (SELECT COUNT(*) FROM (SELECT DISTINCT customer_id FROM "
            f"privacy_consentstate WHERE purpose_id = ({purpose_sql}) "
            "AND status = 'granted' LIMIT %s) s), "
            "(SELECT COUNT(*) FROM (SELECT customer_id FROM customers_customerlink "
            "WHERE partner_id = %s LIMIT %s) b)"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, ["partner_offers", cap, actor.partner.pk, cap])
            shared, brought = cursor.fetchone()
        if shared >= cap or brought >= cap:
            return cap
        ids = set(
            ConsentState.objects.filter(
                purpose__slug="partner_offers", status="granted"
            ).values_list("customer_id", flat=True)
        )
        ids |= set(
            CustomerLink.objects.filter(partner=actor.partner).values_list("customer_id", flat=True)
        )
        return min(cap, len(ids))

    return visible, count


def measure(runs: int) -> tuple[list[tuple[float, ...]], str, list[tuple[str, float]]]:
    import django

    django.setup()
    from django.db import connection

    from cordee.customers.queries import Filters, customer_page, encode_cursor
    from cordee.partners.models import Partner
    from cordee.privacy.access import Actor, customers_visible_count, customers_visible_to
    from cordee.privacy.sharing import sharing_mismatches

    wrong, _ids = sharing_mismatches()
    assert wrong == 0, f"{wrong} customers with a sharing flag unlike their consent"
    hub = Actor.system("bench")
    partner = Actor.for_partner(Partner.objects.get(slug="p7"), "bench")
    former_visible, former_count = former_gate()
    middle = customers_visible_to(hub).count() // 2
    deep = customers_visible_to(hub).order_by("last_name_key", "first_name_key", "id")[middle]
    cases = {
        "liste (compte plafonné + 1re page)": (Filters(), ""),
        "recherche par nom (« a1 »)": (Filters(q="a1"), ""),
        "page profonde (curseur au milieu)": (Filters(), encode_cursor(deep)),
    }
    readers = {
        "hub": (
            lambda: customers_visible_to(hub),
            lambda cap: customers_visible_count(hub, cap=cap),
        ),
        "partner": (
            lambda: customers_visible_to(partner),
            lambda cap: customers_visible_count(partner, cap=cap),
        ),
        "before": (lambda: former_visible(partner), lambda cap: former_count(partner, cap)),
    }
    rows = []
    for label, (filters, after) in cases.items():
        timings: dict[str, list[float]] = {who: [] for who in readers}
        # CPU time (this process + its PostgreSQL backend), less sensitive than wall time to
        # what else runs on the machine; summed over the runs (the clock ticks are 10 ms).
        cpu: dict[str, float] = dict.fromkeys(readers, 0.0)
        for _ in range(runs):
            for who, (visible, count) in readers.items():
                cpu_start = time.process_time() + backend_cpu()
                start = time.perf_counter()
                customer_page(visible(), filters, after=after, count_visible=count)
                timings[who].append((time.perf_counter() - start) * 1000)
                cpu[who] += time.process_time() + backend_cpu() - cpu_start
        rows.append(
            (
                label,
                statistics.median(timings["hub"]),
                p(timings["hub"], 0.95),
                statistics.median(timings["partner"]),
                p(timings["partner"], 0.95),
                cpu["hub"] * 1000 / runs,
                cpu["partner"] * 1000 / runs,
                statistics.median(timings["before"]),
                p(timings["before"], 0.95),
                cpu["before"] * 1000 / runs,
            )
        )
    qs = customers_visible_to(partner).order_by("last_name_key", "first_name_key", "id")[:51]
    sql, params = qs.query.sql_with_params()
    plan = explain_fastest(sql, params)
    seen: list[tuple[str, object]] = []

    def capture(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        seen.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        customers_visible_count(partner, cap=1001)
    plan += "\n\nPlan of the partner's capped count:\n"
    for sql, params in seen:
        plan += "\n" + explain_fastest(sql, params)
    rights = rights_timings()
    return rows, plan, rights


def explain_fastest(sql: str, params: object, tries: int = 5) -> str:
    """The plan with its run's figures, the fastest of a few runs (a loaded machine stalls)."""
    from django.db import connection

    best: tuple[float, str] | None = None
    for _ in range(tries):
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql, params)
            lines = [r[0] for r in cur.fetchall()]
        took = float(lines[-1].split(":")[1].split()[0])  # "Execution Time: 1.244 ms"
        if best is None or took < best[0]:
            best = (took, "\n".join(lines))
    assert best is not None
    return best[1]


def rights_timings(repeat: int = 3) -> list[tuple[str, float]]:
    """The access export and the erasure of a customer with 1,000 activities, in this base."""
    import datetime as dt

    from django.utils import timezone

    from cordee.activities.models import Activity
    from cordee.customers.models import Customer, CustomerLink, SourceRecord
    from cordee.partners.models import Partner
    from cordee.privacy.access import Actor
    from cordee.privacy.erasure import customer_erase
    from cordee.privacy.portability import customer_data_json

    partner = Partner.objects.get(slug="p3")
    run = int(time.time())
    exports, erasures = [], []
    for n in range(repeat):
        customer = Customer.objects.create(
            first_name="Bench", last_name=f"Erasure{n}", email=f"bench{n}@example.fr"
        )
        CustomerLink.objects.create(customer=customer, partner=partner, first_seen=timezone.now())
        SourceRecord.objects.bulk_create(
            SourceRecord(
                customer=customer,
                partner=partner,
                channel="import",
                collected_at=timezone.now(),
                raw={"e": f"bench{n}@example.fr", "i": i},
                data={"email": f"bench{n}@example.fr"},
                fingerprint=f"bench-{run}-{n}-{i}",
            )
            for i in range(5)
        )
        Activity.objects.bulk_create(
            Activity(
                customer=customer,
                partner=partner,
                kind="purchase",
                channel="import",
                starts_on=dt.date(2025, 1, 1) + dt.timedelta(days=i % 300),
                product=f"forfait {i}",
            )
            for i in range(1000)
        )
        start = time.perf_counter()
        customer_data_json(customer)
        exports.append(time.perf_counter() - start)
        start = time.perf_counter()
        customer_erase(customer=customer, actor=Actor.system("bench"), reason="bench")
        erasures.append(time.perf_counter() - start)
    return [
        ("export d'accès (JSON), client à 1 000 activités", statistics.median(exports) * 1000),
        ("effacement, client à 1 000 activités", statistics.median(erasures) * 1000),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--reuse", action="store_true", help="measure the existing database")
    parser.add_argument("--database", default="cordee_bench_gate")
    parser.add_argument(
        "--print-only", action="store_true", help="print, do not write docs/BENCHMARKS.md"
    )
    args = parser.parse_args()
    name = args.database
    home = Path(tempfile.mkdtemp(prefix="cordee-bench-gate-"))
    os.environ["CORDEE_HOME"] = str(home)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordee.settings")
    fill_seconds = 0.0
    if args.reuse:
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        env = {**os.environ, "CORDEE_DATABASE_URL": url}
        subprocess.run([sys.executable, "-m", "cordee", "migrate", "-v", "0"], env=env, check=True)
    else:
        url = pg_fresh_database(name)
        env = {**os.environ, "CORDEE_DATABASE_URL": url}
        subprocess.run([sys.executable, "-m", "cordee", "migrate", "-v", "0"], env=env, check=True)
        start = time.perf_counter()
        fill(url, args.customers)
        fill_seconds = time.perf_counter() - start
    os.environ["CORDEE_DATABASE_URL"] = url
    filled = f"fill {fill_seconds:.0f} s" if fill_seconds else "the base of a previous fill"
    load_before = os.getloadavg()[0]
    rows, plan, rights = measure(args.runs)
    load_after = os.getloadavg()[0]
    lines = [
        f"{args.customers:,} customers on PostgreSQL, {PARTNERS} partners, each customer brought "
        f"by one, {SHARE_PERCENT} % sharing (granted `partner_offers`); the partner sees "
        f"≈ {100 / PARTNERS + SHARE_PERCENT * (1 - 1 / PARTNERS):.0f} % of the base. "
        f"{args.runs} runs per case, the hub, the partner and the partner through the former "
        f'gate ("before") interleaved in the same run ({filled}). '
        f"Machine: {machine()}; shared with other developers, load average "
        f"{load_before:.1f} → {load_after:.1f} during the run: compare ratios, not "
        "milliseconds. CPU time is this process plus its PostgreSQL backend, per run.",
        "",
        "| query | hub p50 ms | hub p95 ms | partner p50 ms | partner p95 ms | ratio p50 "
        "| ratio p95 | hub CPU ms | partner CPU ms | ratio CPU | before: ratio p50 "
        "| before: ratio p95 | before: ratio CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, hp50, hp95, pp50, pp95, hcpu, pcpu, bp50, bp95, bcpu in rows:
        lines.append(
            f"| {label} | {hp50:.1f} | {hp95:.1f} | {pp50:.1f} | {pp95:.1f} | "
            f"{pp50 / hp50:.2f}× | {pp95 / hp95:.2f}× | {hcpu:.1f} | {pcpu:.1f} | "
            f"{pcpu / max(hcpu, 1e-9):.2f}× | {bp50 / hp50:.2f}× | {bp95 / hp95:.2f}× | "
            f"{bcpu / max(hcpu, 1e-9):.2f}× |"
        )
    lines += ["", reading(rows[0])]
    lines += ["", "Rights of a person in the same base (median of 3, target < 1 s each):", ""]
    lines += ["| operation | ms |", "|---|---:|"]
    lines += [f"| {label} | {ms:.0f} |" for label, ms in rights]
    lines += ["", "Plan of the partner's first page (the fastest of 5):", "", "```", plan, "```"]
    body = "\n".join(lines)
    print(body)
    if not args.print_only:
        write_section("Visibility gate", body)


if __name__ == "__main__":
    main()
