"""Runs every benchmark and writes docs/BENCHMARKS.md.

.venv/bin/python bench/run.py [--lines 1000000] [--backends postgresql,sqlite]
    [--api | --only-api] [--campaign-messages N] [--segments-customers N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import DATA, write_section  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument(
        "--top-up",
        type=int,
        default=250_000,
        help="lines of a second file so the search runs on ≥ 1M customers",
    )
    parser.add_argument("--api", action="store_true", help="also run bench_api.py (REST API)")
    parser.add_argument("--only-api", action="store_true", help="run bench_api.py only")
    parser.add_argument("--campaign-messages", type=int, default=100_000)
    parser.add_argument(
        "--segments-customers",
        type=int,
        default=1_000_000,
        help="customers generated for the segments benchmark (0: skip it)",
    )
    args = parser.parse_args()
    if args.only_api:
        subprocess.run([sys.executable, str(HERE / "bench_api.py")], check=True)
        return

    import bench_import

    path = bench_import.bench_file(args.lines)
    results = []
    for backend in args.backends.split(","):
        home = Path(__import__("tempfile").mkdtemp(prefix=f"cordee-bench-{backend}-"))
        results.append(bench_import.import_once(path, backend, home))
        print(results[-1], flush=True)
    floor = bench_import.copy_floor(path, bench_import.pg_fresh_database("cordee_bench_floor"))
    bench_import.write_report(args.lines, path, results, floor)

    search_sections = []
    for r in results:
        env_url, home = str(r["database_url"]), str(r["home"])
        if args.top_up:
            extra = bench_import.bench_file(args.top_up, seed=2)
            bench_import.import_more(extra, env_url, Path(home), partner="bench-2")
        out = subprocess.run(
            [
                sys.executable,
                str(HERE / "bench_search.py"),
                "--database-url",
                env_url,
                "--home",
                home,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        search_sections.append(f"### {r['backend']}\n\n{out}")
    write_section(
        "Customer search",
        "Command: `.venv/bin/python bench/run.py` (search runs in-process on the databases the import filled, "
        "topped up with a second file; each query is one list page: the capped count and the first 50 rows in name order).\n"
        "Target: p95 < 200 ms at 1M customers.\n\n" + "\n\n".join(search_sections),
    )
    if args.api:
        subprocess.run([sys.executable, str(HERE / "bench_api.py")], check=True)
    subprocess.run(
        [
            sys.executable,
            str(HERE / "bench_campaign.py"),
            "--messages",
            str(args.campaign_messages),
        ],
        check=True,
    )
    for r in results:
        if r["backend"] == "postgresql":  # one incoming record against the same base
            subprocess.run(
                [
                    sys.executable,
                    str(HERE / "bench_match_one.py"),
                    "--database-url",
                    str(r["database_url"]),
                    "--home",
                    str(r["home"]),
                ],
                check=True,
            )
    if args.segments_customers:
        # Its own generated database (1M customers, ~20M activities); writes its own section.
        subprocess.run(
            [
                sys.executable,
                str(HERE / "bench_segments.py"),
                "--customers",
                str(args.segments_customers),
            ],
            check=True,
        )
    print(f"report written; data kept in {DATA}")


if __name__ == "__main__":
    main()
