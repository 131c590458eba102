"""The review queue (/clients/doublons/) with many pending pairs: one page, first and deep.

    .venv/bin/python bench/bench_review.py [--pairs 100000] [--runs 20]

Fills a fresh PostgreSQL database (``cordee_bench_review``) with 2 × pairs customers through
the intake and ``pairs`` pending pairs with few distinct scores (ties abound, as when many
pairs share one comparison vector), then times ``identity.review_page`` — the page's pairs,
its position and the total — at the start, the middle and the end of the queue, beside the
same page read with an OFFSET (the reference, in the same run).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from common import cordee, pg_fresh_database, run_measured, write_section  # noqa: E402


def fill(pairs: int) -> None:
    from cordee.customers.incoming import IncomingRecord
    from cordee.customers.models import PairDecision, SourceRecord
    from cordee.customers.services import source_records_attach
    from cordee.partners.models import Partner, PartnerKind

    hotel = Partner.objects.create(slug="hotel", name="Hôtel", kind=PartnerKind.HOTEL)
    for start in range(0, 2 * pairs, 20_000):
        records = [
            IncomingRecord(
                raw={"n": str(n)}, data={"last_name": f"Nom{n}", "email": f"p{n}@example.fr"}
            )
            for n in range(start, min(start + 20_000, 2 * pairs))
        ]
        source_records_attach(partner=hotel, channel="import", records=records)
    ids = list(SourceRecord.objects.order_by("pk").values_list("pk", flat=True))
    PairDecision.objects.bulk_create(
        (
            PairDecision(left_id=ids[2 * n], right_id=ids[2 * n + 1], score=0.8 + (n % 19) / 100)
            for n in range(pairs)
        ),
        batch_size=5_000,
    )


def timed(function, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def measure(pairs: int, runs: int) -> list[tuple[str, float, float, float, float]]:
    from django.db import connection

    from cordee.customers.identity import ReviewCursor, _review_pairs, review_page
    from cordee.customers.models import PairDecision, ReviewStatus
    from cordee.partners.models import Partner, PartnerKind, Role, User
    from cordee.privacy.access import Actor

    office = Partner.objects.create(slug="office", name="Office", kind=PartnerKind.HUB)
    user = User.objects.create(username="camille", partner=office, role=Role.HUB_ADMIN)
    actor = Actor.for_user(user)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    queue = list(
        PairDecision.objects.filter(status=ReviewStatus.PENDING)
        .order_by("-score", "-pk")
        .values_list("score", "pk")
    )
    rows = []
    for label, position in (
        ("first page", 0),
        ("middle", pairs // 2),
        ("last page", pairs - 30),
    ):
        cursor = None if position == 0 else ReviewCursor(*queue[position - 1])

        def keyset(cursor: ReviewCursor | None = cursor, label: str = label) -> None:
            page = review_page(actor, after=cursor)
            assert page.pairs, label

        def offset(position: int = position) -> None:
            pending = PairDecision.objects.filter(status=ReviewStatus.PENDING)
            decisions = list(
                pending.select_related("left", "right").order_by("-score", "-pk")[
                    position : position + 31
                ]
            )
            pending.count()
            assert _review_pairs(actor, decisions[:30])

        k50, k95 = timed(keyset, runs)
        o50, o95 = timed(offset, runs)
        rows.append((f"{label} (pair {position + 1:,})", k50, k95, o50, o95))
    return rows


def child(pairs: int, runs: int) -> None:
    import django

    django.setup()
    fill(pairs)
    for label, k50, k95, o50, o95 in measure(pairs, runs):
        print(f"ROW\t{label}\t{k50:.1f}\t{k95:.1f}\t{o50:.1f}\t{o95:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.pairs, args.runs)
        return
    url = pg_fresh_database("cordee_bench_review")
    home = tempfile.mkdtemp(prefix="cordee-bench-review-")
    env = {
        "CORDEE_DATABASE_URL": url,
        "CORDEE_HOME": home,
        "DJANGO_SETTINGS_MODULE": "cordee.settings",
        "PYTHONPATH": str(HERE.parent / "src"),
    }
    run_measured(cordee("migrate", "--noinput"), env)
    start = time.perf_counter()
    run = run_measured(
        [sys.executable, __file__, "--child", "--pairs", str(args.pairs), "--runs", str(args.runs)],
        env,
    )
    lines = [
        "| page | keyset p50 ms | keyset p95 ms | OFFSET p50 ms | OFFSET p95 ms | ratio p50 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for line in run.stdout.splitlines():
        if line.startswith("ROW\t"):
            _, label, k50, k95, o50, o95 = line.split("\t")
            ratio = float(k50) / float(o50) if float(o50) else 0.0
            lines.append(f"| {label} | {k50} | {k95} | {o50} | {o95} | {ratio:.2f}× |")
    body = "\n".join(lines)
    print(body)
    print(f"total {time.perf_counter() - start:.0f} s", file=sys.stderr)
    load = os.getloadavg()[0]
    if not args.no_write:
        write_section(
            "Review queue",
            f"`.venv/bin/python bench/bench_review.py --pairs {args.pairs} --runs {args.runs}` "
            f"— PostgreSQL, {args.pairs:,} pending pairs of {2 * args.pairs:,} customers, 19 "
            "distinct scores. One page of 30 as `/clients/doublons/` reads it (pairs, both "
            "customers through the gate, position, total), keyset (`review_page`) against the "
            "same page read with OFFSET, in the same run. Load average (1 min) at the end: "
            f"{load:.1f} on 2 cores shared with other developers: read the ratios.\n\n" + body,
        )


if __name__ == "__main__":
    main()
