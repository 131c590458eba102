"""One incoming record matched against a base of a million customers: p50/p95 of
``customer_candidates`` (indexed SQL candidates, scored in Python with the stored model).

.venv/bin/python bench/bench_match_one.py [--lines 1000000] [--top-up 450000] [--queries 400]
.venv/bin/python bench/bench_match_one.py --database-url postgres://…/cordee_bench_match --home DIR

Without ``--database-url`` it fills a fresh PostgreSQL database through the real import
(a partner file, then a second partner's file so that the base passes a million customers)
and learns the model on the demo valley's files; then it times the desk's question: "is
this person already a customer?".
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import write_section  # noqa: E402

TARGET_MS = 50.0


def prepare(lines: int, top_up: int) -> tuple[str, Path]:
    import bench_import

    home = Path(tempfile.mkdtemp(prefix="cordee-bench-match-"))
    result = bench_import.import_once(
        bench_import.bench_file(lines), "postgresql", home, database="cordee_bench_match"
    )
    url = str(result["database_url"])
    if top_up:
        bench_import.import_more(bench_import.bench_file(top_up, seed=2), url, home)
    return url, home


def replicate(target: int) -> int:
    """Grow the base to ``target`` customers by copying the imported ones in SQL.

    Each copy keeps the names, town and postcode (so a common surname is as common as in a
    real base of that size) and gets another birth date and its own e-mail and phone keys.
    Far faster than importing a million lines on a shared machine; the look-ups see the
    same kind of table.
    """
    from django.db import connection

    from cordee.customers.models import Customer

    fields = [f for f in Customer._meta.concrete_fields if f.column != "id"]
    changed = {
        "birth_date": "birth_date + (%(k)s * 37)",
        "birth_year": "CASE WHEN birth_date IS NULL THEN NULL ELSE "
        "extract(year FROM birth_date + (%(k)s * 37))::int END",
        "email": "CASE WHEN email = '' THEN '' ELSE 'c%(k)s.' || email END",
        "email_hash": "CASE WHEN email_hash = '' THEN '' ELSE md5(email_hash || '%(k)s') END",
        "phone_hash": "CASE WHEN phone_hash = '' THEN '' ELSE md5(phone_hash || '%(k)s') END",
    }
    table = Customer._meta.db_table
    originals = Customer.objects.count()
    k = 0
    with connection.cursor() as cur:
        while Customer.objects.count() < target:
            k += 1
            missing = target - Customer.objects.count()
            columns = ", ".join(f'"{f.column}"' for f in fields)
            values = ", ".join(
                changed[f.column] % {"k": k} if f.column in changed else f'"{f.column}"'
                for f in fields
            )
            cur.execute(
                f'INSERT INTO "{table}" ({columns}) SELECT {values} FROM "{table}" '  # noqa: S608
                f"WHERE id <= %s ORDER BY id LIMIT %s",
                [originals, missing],
            )
        cur.execute(f'ANALYZE "{table}"')
    return Customer.objects.count()


def train_model(home: Path, customers: int = 20_000) -> float:
    from cordee.customers.matching import evaluate
    from cordee.customers.matching.features import build_features
    from cordee.customers.matching.model import save_model, train
    from cordee.demo.files import build_demo_files

    start = time.perf_counter()
    files = build_demo_files(home / "demo", customers=customers, seed=7)
    records = [r for f in files.files for r in evaluate.read_partner_file(f.path, f.partner)]
    save_model(train(build_features(records)), home / "matching" / "model.json")
    return time.perf_counter() - start


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def incoming_records(
    rng: random.Random, count: int
) -> list[tuple[str, dict[str, object], int | None]]:
    """(kind, data, the customer it should find or None) — what a desk would type."""
    from cordee.customers.models import Customer

    top = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    rows = list(
        Customer.objects.filter(pk__in=[rng.randint(1, top) for _ in range(count * 2)]).values(
            "pk", "first_name", "last_name", "email", "phone", "birth_date", "postal_code", "city"
        )
    )[:count]
    out: list[tuple[str, dict[str, object], int | None]] = []
    for n, row in enumerate(rows):
        birth = row["birth_date"].isoformat() if row["birth_date"] else None
        base = {"first_name": row["first_name"], "last_name": row["last_name"], "birth_date": birth,
                "postal_code": row["postal_code"], "city": row["city"]}  # fmt: skip
        if n % 10 < 4:  # the same person at the desk, another e-mail, maybe a typo
            data = {**base, "first_name": _typo(row["first_name"], rng) if n % 2 else row["first_name"],
                    "email": f"autre.{n}@exemple-fai.fr"}  # fmt: skip
            out.append(("same person, new e-mail", data, row["pk"]))
        elif n % 10 < 7:  # a known e-mail
            out.append(("known e-mail", {**base, "email": row["email"]}, row["pk"]))
        else:  # somebody new with a common name
            other = rows[(n * 7) % len(rows)]
            data = {"first_name": row["first_name"], "last_name": other["last_name"],
                    "birth_date": f"{1940 + n % 60}-{1 + n % 12:02d}-{1 + n % 27:02d}",
                    "postal_code": other["postal_code"], "email": f"nouveau.{n}@exemple-fai.fr"}  # fmt: skip
            out.append(("new person", data, None))
    return out


def measure(queries: int) -> str:
    from cordee.customers.candidates import customer_candidates, stored_model
    from cordee.customers.models import Customer
    from cordee.privacy.access import Actor, customers_visible_to

    assert stored_model() is not None, "no trained model"
    total = Customer.objects.count()
    rng = random.Random(11)
    records = incoming_records(rng, queries)
    base = customers_visible_to(Actor.system("bench"))
    customer_candidates(records[0][1], base=base)  # warm the model cache and the connection
    by_kind: dict[str, list[float]] = {}
    found: dict[str, list[bool]] = {}
    everything: list[float] = []
    for kind, data, expected in records:
        start = time.perf_counter()
        candidates = customer_candidates(data, base=base)
        elapsed = (time.perf_counter() - start) * 1000
        by_kind.setdefault(kind, []).append(elapsed)
        everything.append(elapsed)
        ids = [c.customer_id for c in candidates]
        found.setdefault(kind, []).append(expected in ids if expected else not ids)

    def p95(times: list[float]) -> float:
        ordered = sorted(times)
        return ordered[max(0, int(len(ordered) * 0.95) - 1)]

    lines = [
        f"Base: **{total:,} customers** (PostgreSQL). Overall p95: **{p95(everything):.1f} ms** "
        f"(target ≤ {TARGET_MS:.0f} ms).",
        "",
        "| incoming record | n | p50 ms | p95 ms | max ms | right answer |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, times in by_kind.items():
        right = sum(found[kind]) / len(found[kind])
        lines.append(
            f"| {kind} | {len(times)} | {statistics.median(times):.1f} | {p95(times):.1f} | "
            f"{max(times):.1f} | {right:.0%} |"
        )
    lines.append("")
    lines.append(
        "Right answer: the customer the record was made from is among the candidates (for a "
        "new person: no candidate at all)."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--top-up", type=int, default=450_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--home", default="")
    parser.add_argument(
        "--replicate-to",
        type=int,
        default=0,
        help="grow the base to this many customers by copies in SQL (see replicate)",
    )
    args = parser.parse_args()
    if args.database_url:
        url, home = args.database_url, Path(args.home or tempfile.mkdtemp(prefix="cordee-bench-"))
    else:
        url, home = prepare(args.lines, args.top_up)
    os.environ["CORDEE_HOME"] = str(home)
    os.environ["CORDEE_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordee.settings")
    import django

    django.setup()
    grown = ""
    if args.replicate_to:
        from cordee.customers.models import Customer

        imported = Customer.objects.count()
        total = replicate(args.replicate_to)
        grown = (
            f" This run's base: {imported:,} customers imported, grown to {total:,} by copies "
            "in SQL (`--replicate-to`: same names and towns, other birth dates and contact keys)."
        )
    trained = ""
    if not (home / "matching" / "model.json").exists():
        trained = f" The model was learned on the demo valley's files (20,000 people) in {train_model(home):.0f} s."
    source = (
        "on an existing base"
        if args.database_url
        else "the base is filled through the real import: a 1,000,000-line partner file "
        "then a 450,000-line second file"
    )
    body = measure(args.queries)
    print(body)
    write_section(
        "Matching one incoming record",
        f"Command: `.venv/bin/python bench/bench_match_one.py{' ' + ' '.join(sys.argv[1:]) if sys.argv[1:] else ''}` "
        f"({source}; "
        "`customer_candidates` is timed in-process, one record at a time, as the desk and the "
        "API call it). No reference in the same run: Splink's own `predict` against the whole "
        "base needs the base's features in DuckDB first (about 0.4 s a record, "
        f"ARCHITECTURE.md).{grown}{trained} The machine is shared by several developers: figures are "
        "noisy.\n\n" + body,
    )


if __name__ == "__main__":
    main()
