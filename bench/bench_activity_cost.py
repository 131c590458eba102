"""CPU per activity of the two bulk write paths, this version and a previous one, same run.

.venv/bin/python bench/bench_activity_cost.py --before-src PREVIOUS/src [--lines 100000,200000]
    [--bulk-calls 8] [--rounds 2] [--customers 20000] [--workers 2]

Each version gets its own database (``cordee_bulk_cost`` and ``cordee_bulk_cost_before``,
dropped and created afresh, set up by its own code with the same customers, as in
bench_api.py). Then, alternating the versions:

- bulk API calls of 5,000 activities (bench/api_per_call.py, no HTTP server: Django's
  handler through its test client), Python and PostgreSQL CPU per activity;
- ``cordee import --activities`` of files of each size in ``--lines`` into an emptied
  activity table (the aggregates' refresh queued, none run: the import alone), CPU of the
  command with its worker processes and of the database's backends.

The import's CPU holds a fixed part (three Python processes start and set Django up,
~1 CPU-s each) and a part per line. Two sizes give both: the difference between them,
divided by the lines that differ, is the cost per line that a 10M-line file pays; the rest
is the fixed part. Prints one JSON object (and each measure as it comes).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench_api import activities_empty, activities_file, file_import, setup

HERE = Path(__file__).resolve().parent
DATABASE = "cordee_bulk_cost"


def bulk_cost(
    args: argparse.Namespace, env: dict[str, str], src: str, url: str, key: str
) -> dict[str, Any]:
    run = subprocess.run(
        [sys.executable, str(HERE / "api_per_call.py"), key, str(args.customers),
         "--health", "0", "--single", "0", "--bulk", str(args.bulk_calls)],
        env={**os.environ, **env, "CORDEE_TASKS": "huey", "PYTHONPATH": src,
             "CORDEE_DATABASE_URL": url},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    figures = json.loads(run.stdout.strip().splitlines()[-1])["bulk"]
    per = 1000 / 5000  # ms per call of 5,000 -> µs per activity
    return {
        "python_us": figures["python_ms"] * per,
        "postgresql_us": figures["postgresql_ms"] * per,
        "total_us": (figures["python_ms"] + figures["postgresql_ms"]) * per,
    }


def import_cost(
    args: argparse.Namespace, env: dict[str, str], src: str, url: str, lines: int
) -> dict[str, Any]:
    activities_empty(url)
    measured = file_import(
        activities_file(lines, args.customers),
        src=src,
        url=url,
        env={**env, "CORDEE_TASKS": "huey", "CORDEE_IMPORT_WORKERS": str(args.workers)},
    )
    measured["cpu_s"] = measured["python_cpu_s"] + measured["postgresql_cpu_s"]
    return measured


def marginal(small: dict[str, Any], large: dict[str, Any]) -> dict[str, float]:
    """Cost per line from two sizes, the fixed part, and 10M lines from them."""
    lines = large["lines"] - small["lines"]
    python = (large["python_cpu_s"] - small["python_cpu_s"]) / lines
    postgresql = (large["postgresql_cpu_s"] - small["postgresql_cpu_s"]) / lines
    fixed = large["cpu_s"] - (python + postgresql) * large["lines"]
    ten_m = fixed + (python + postgresql) * 10_000_000
    return {
        "python_us_per_line": python * 1e6,
        "postgresql_us_per_line": postgresql * 1e6,
        "us_per_line": (python + postgresql) * 1e6,
        "fixed_cpu_s": fixed,
        "ten_million_cpu_s": ten_m,
        "ten_million_min_on_2_cores": ten_m / 2 / 60,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before-src", default="")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--lines", default="100000,200000")
    parser.add_argument("--bulk-calls", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database", default=DATABASE, help="dropped and created afresh")
    args = parser.parse_args()
    sizes = sorted(int(n) for n in args.lines.split(",") if n.strip())
    env = {
        "CORDEE_HOME": tempfile.mkdtemp(prefix="cordee-bench-cost-"),
        "CORDEE_TASKS": "immediate",
        "CORDEE_API_RATE": "100000000/s",
        "CORDEE_INDEX_KEY": "bench-index-key",
    }
    versions = {"after": (str(HERE.parent / "src"), args.database)}
    if args.before_src:
        versions = {
            "before": (str(Path(args.before_src).resolve()), f"{args.database}_before"),
            **versions,
        }
    setups = {name: setup(args, src, db, env) for name, (src, db) in versions.items()}
    out: dict[str, Any] = {name: {"bulk": [], "import": {}} for name in versions}
    for _round in range(args.rounds):
        for name, (src, _db) in versions.items():
            url, key = setups[name]
            figures = bulk_cost(args, env, src, url, key)
            out[name]["bulk"].append(figures)
            print("bulk", name, figures, flush=True)
    for lines in sizes:
        for name, (src, _db) in versions.items():
            measured = import_cost(args, env, src, setups[name][0], lines)
            out[name]["import"][lines] = measured
            print("import", name, lines, measured, flush=True)
    if len(sizes) >= 2:
        for name in versions:
            imports = out[name]["import"]
            out[name]["import_per_line"] = marginal(imports[sizes[0]], imports[sizes[-1]])
            print("import per line", name, out[name]["import_per_line"], flush=True)
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
