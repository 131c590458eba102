"""The CPU cost of one API call, in one process: Python and its PostgreSQL backend.

.venv/bin/python bench/api_per_call.py TOKEN CUSTOMERS [--single 300] [--lookup 300] [--bulk 6]
    [--bulk-size 5000] [--profile health|single|lookup|bulk [--sort tottime]]
(run by bench_api.py against its database, with its environment: CORDEE_DATABASE_URL, …)

The calls go through Django's whole request handler (middleware, URL resolution, ninja) with
Django's test client, as gunicorn's workers would run them, one after the other: no load
generator, no scheduling, so the figures hold on a busy machine. CPU time is the process's
own (``time.process_time``) and its PostgreSQL backend's (``/proc/<pid>/stat``), with the
statements counted. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TICKS = os.sysconf("SC_CLK_TCK")


def backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def measure(
    calls: int, call: Callable[[int], Any], pid: int, *, profile: str | None = None
) -> dict[str, float]:
    from django.db import connection

    for i in range(min(5, calls)):  # warm caches (key, seasons, imports)
        call(-1 - i)
    executed = [0]

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        executed[0] += 1
        return execute(sql, params, many, context)

    wrapper = connection.execute_wrapper(count)
    wrapper.__enter__()
    profiler = cProfile.Profile(time.process_time) if profile else None
    py0, pg0, wall0 = time.process_time(), backend_cpu(pid), time.perf_counter()
    if profiler:
        profiler.enable()
    for i in range(calls):
        call(i)
    if profiler:
        profiler.disable()
    py1, pg1, wall1 = time.process_time(), backend_cpu(pid), time.perf_counter()
    wrapper.__exit__(None, None, None)
    statements = executed[0]
    if profiler and profile:
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats(profile).print_stats(int(os.environ.get("PROFILE_ROWS", "40")))
    return {
        "python_ms": (py1 - py0) * 1000 / calls,
        "postgresql_ms": (pg1 - pg0) * 1000 / calls,
        "wall_ms": (wall1 - wall0) * 1000 / calls,
        "statements": statements / calls,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("token")
    parser.add_argument("customers", type=int)
    parser.add_argument("--health", type=int, default=1000)
    parser.add_argument("--single", type=int, default=300)
    parser.add_argument("--lookup", type=int, default=300)
    parser.add_argument("--bulk", type=int, default=6)
    parser.add_argument("--bulk-size", type=int, default=5000)
    parser.add_argument("--profile", choices=("health", "single", "lookup", "bulk"), default=None)
    parser.add_argument("--sort", default="cumulative")
    args = parser.parse_args()

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordee.settings")
    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["*"]
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    client = Client(HTTP_AUTHORIZATION=f"Bearer {args.token}")
    n = args.customers
    run = f"{time.time_ns() % 10**9}"

    def health(i: int) -> None:
        assert client.get("/sante/").status_code == 200

    def single(i: int) -> None:
        body = {
            "customer_external_id": f"C{(i * 7919) % n}",
            "kind": "visit",
            "starts_on": f"2026-0{1 + i % 3}-{1 + i % 28:02}",
            "amount": "12.50",
            "external_id": f"P{run}-{i}",
        }
        response = client.post("/api/v1/activities", body, content_type="application/json")
        assert response.status_code == 201, response.content[:300]

    def lookup(i: int) -> None:
        response = client.get(f"/api/v1/customers/lookup?email=client{(i * 7919) % n}%40example.fr")
        assert response.status_code == 200, response.content[:300]

    def bulk(i: int) -> None:
        items = [
            {
                "customer_external_id": f"C{(j * 7919 + i) % n}",
                "kind": "ticket",
                "starts_on": f"2026-01-{1 + j % 28:02}",
                "amount": "42.00",
                "external_id": f"Q{run}-{i}-{j}",
            }
            for j in range(args.bulk_size)
        ]
        body = json.dumps({"activities": items})
        response = client.post("/api/v1/activities/bulk", body, content_type="application/json")
        assert response.status_code == 200, response.content[:300]
        assert response.json()["created"] == args.bulk_size, response.json()["rejected"]

    out: dict[str, Any] = {"bulk_size": args.bulk_size}
    for name, call, count in (
        ("health", health, args.health),
        ("single", single, args.single),
        ("lookup", lookup, args.lookup),
        ("bulk", bulk, args.bulk),
    ):
        if count > 0:
            out[name] = measure(
                count, call, pid, profile=args.sort if args.profile == name else None
            )
    # The aggregates the worker refreshes after the writes, in this process.
    from cordee.segments.refresh import stats_refresh_stale

    py0, pg0 = time.process_time(), backend_cpu(pid)
    refreshed = stats_refresh_stale()
    out["refresh"] = {
        "customers": refreshed,
        "python_ms": (time.process_time() - py0) * 1000,
        "postgresql_ms": (backend_cpu(pid) - pg0) * 1000,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
