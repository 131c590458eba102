"""The visibility gate's cost at a million customers, on PostgreSQL.

A partner's customer list (the customers it brought plus those who agreed to be shared,
through ``customers_visible_to``) against the hub's unrestricted list, in the same run:
the list page's two queries (capped count + first page), a name search and a deep page.

PYTHONPATH=src .venv/bin/python bench/bench_gate.py [--customers 1000000] [--runs 40]

Fills its own database ``cordee_bench_gate`` with SQL (generate_series): 20 partners, each
customer brought by one of them, 30 % of them sharing (a granted partner_offers consent).
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
        conn.execute("VACUUM ANALYZE")


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(runs: int) -> tuple[list[tuple[str, float, float, float, float]], str]:
    import django

    django.setup()
    from django.db import connection

    from cordee.customers.queries import Filters, customer_page, encode_cursor
    from cordee.partners.models import Partner
    from cordee.privacy.access import Actor, customers_visible_to

    hub = Actor.system("bench")
    partner = Actor.for_partner(Partner.objects.get(slug="p7"), "bench")
    middle = customers_visible_to(hub).count() // 2
    deep = customers_visible_to(hub).order_by("last_name_key", "first_name_key", "id")[middle]
    cases = {
        "liste (compte plafonné + 1re page)": (Filters(), ""),
        "recherche par nom (« a1 »)": (Filters(q="a1"), ""),
        "page profonde (curseur au milieu)": (Filters(), encode_cursor(deep)),
    }
    rows = []
    for label, (filters, after) in cases.items():
        timings: dict[str, list[float]] = {"hub": [], "partner": []}
        for _ in range(runs):
            for who, actor in (("hub", hub), ("partner", partner)):
                start = time.perf_counter()
                customer_page(customers_visible_to(actor), filters, after=after)
                timings[who].append((time.perf_counter() - start) * 1000)
        rows.append(
            (
                label,
                statistics.median(timings["hub"]),
                p(timings["hub"], 0.95),
                statistics.median(timings["partner"]),
                p(timings["partner"], 0.95),
            )
        )
    qs = customers_visible_to(partner).order_by("last_name_key", "first_name_key", "id")[:51]
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql, params)
        plan = "\n".join(r[0] for r in cur.fetchall())
    return rows, plan


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--reuse", action="store_true", help="measure the existing database")
    args = parser.parse_args()
    name = "cordee_bench_gate"
    home = Path(tempfile.mkdtemp(prefix="cordee-bench-gate-"))
    os.environ["CORDEE_HOME"] = str(home)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordee.settings")
    fill_seconds = 0.0
    if args.reuse:
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    else:
        url = pg_fresh_database(name)
        env = {**os.environ, "CORDEE_DATABASE_URL": url}
        subprocess.run([sys.executable, "-m", "cordee", "migrate", "-v", "0"], env=env, check=True)
        start = time.perf_counter()
        fill(url, args.customers)
        fill_seconds = time.perf_counter() - start
    os.environ["CORDEE_DATABASE_URL"] = url
    rows, plan = measure(args.runs)
    lines = [
        f"{args.customers:,} customers on PostgreSQL, {PARTNERS} partners, each customer brought "
        f"by one, {SHARE_PERCENT} % sharing (granted `partner_offers`); the partner sees "
        f"≈ {100 / PARTNERS + SHARE_PERCENT * (1 - 1 / PARTNERS):.0f} % of the base. "
        f"{args.runs} runs per case, hub and partner interleaved in the same run "
        f"(fill {fill_seconds:.0f} s). Machine: {machine()}; shared by six developers, noisy.",
        "",
        "| query | hub p50 ms | hub p95 ms | partner p50 ms | partner p95 ms | ratio p95 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, hp50, hp95, pp50, pp95 in rows:
        lines.append(
            f"| {label} | {hp50:.1f} | {hp95:.1f} | {pp50:.1f} | {pp95:.1f} | {pp95 / hp95:.2f}× |"
        )
    lines += ["", "Plan of the partner's first page:", "", "```", plan, "```"]
    body = "\n".join(lines)
    print(body)
    write_section("Visibility gate", body)


if __name__ == "__main__":
    main()
