"""Customer search at a million customers: p50/p95 of the list page's queries, hub and partner views.

.venv/bin/python bench/bench_search.py --database-url postgres://…/cordee_bench --home DIR
(run by bench/run.py after the import benchmark, on the database it filled)
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="")
    parser.add_argument("--home", required=True)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    os.environ["CORDEE_HOME"] = args.home
    os.environ["CORDEE_DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordee.settings")
    import django

    django.setup()
    from cordee.customers.models import Customer
    from cordee.customers.queries import Filters, customer_page
    from cordee.partners.models import Partner
    from cordee.privacy.access import Actor, customers_visible_to

    total = Customer.objects.count()
    rng = random.Random(7)
    top = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    sample = list(
        Customer.objects.filter(
            pk__in=[rng.randint(1, top) for _ in range(args.queries * 2)]
        ).values("first_name", "last_name", "email", "phone", "city")
    )
    kinds: dict[str, list[str]] = {
        "nom": [],
        "prénom nom": [],
        "e-mail": [],
        "téléphone": [],
        "ville": [],
    }
    for row in sample:
        if row["last_name"]:
            kinds["nom"].append(row["last_name"][:5])
        if row["first_name"] and row["last_name"]:
            kinds["prénom nom"].append(f"{row['first_name']} {row['last_name']}")
        if row["email"]:
            kinds["e-mail"].append(row["email"].upper())
        if row["phone"]:
            kinds["téléphone"].append(
                "0" + row["phone"][3:] if row["phone"].startswith("+33") else row["phone"]
            )
        if row["city"]:
            kinds["ville"].append(row["city"])
    partner = Partner.objects.exclude(kind="hub").first()
    actors = [("hub", Actor.system("bench"))]
    if partner:
        actors.append(("partner", Actor.for_partner(partner, "bench")))
    lines = []
    all_times: list[float] = []
    for actor_label, actor in actors:
        for kind, queries in kinds.items():
            times = []
            for q in queries[: args.queries // len(kinds)]:
                start = time.perf_counter()
                page = customer_page(customers_visible_to(actor), Filters(q=q))
                _ = [c.pk for c in page.customers]
                times.append((time.perf_counter() - start) * 1000)
            if not times:
                continue
            times.sort()
            all_times.extend(times)
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            lines.append(
                f"| {actor_label} | {kind} | {len(times)} | {statistics.median(times):.1f} | {p95:.1f} | {times[-1]:.1f} |"
            )
    all_times.sort()
    overall = all_times[max(0, int(len(all_times) * 0.95) - 1)] if all_times else float("nan")
    print(f"customers={total}")
    print(f"overall_p95_ms={overall:.1f}")
    print("| view | query | n | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|---|")
    print("\n".join(lines))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
