"""Identity resolution against the demo generator's ground truth (issue 3).

    .venv/bin/python bench/bench_resolution.py [--records 100000 1000000] [--seed 7]
    .venv/bin/python bench/bench_resolution.py --methods cordee --backend duckdb spark

Builds the partners' demo files (`build_demo_files`), reads them through the import's own
path (reader -> column recognition -> `normalise_fields`, no database), then runs three
methods on the same records, each in its own process so that its peak memory is its own:
exact normalised e-mail matching, plain Splink (default comparisons, no domain rules), and
Cordée's matcher (`cordee.customers.matching`). Prints a markdown table and writes it as
the "Identity resolution" section of docs/BENCHMARKS.md. Time is the method's own (from
normalised records to clusters, training included), not reading the files.

With ``--backend spark`` (needs pyspark and Java 17), Cordée's matcher runs on Spark
(``CORDEE_RESOLUTION_BACKEND=spark``, ``CORDEE_SPARK_MASTER``, default ``local[2]``),
training included; the figures go to their own section, beside DuckDB's of the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DATA, write_section  # noqa: E402

METHODS = ("exact_email", "plain_splink", "cordee")
RECORDS_PER_CUSTOMER = 2.08  # what build_demo_files writes per generated person, measured


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordee.settings")
    os.environ.setdefault("CORDEE_HOME", str(DATA / "resolution-home"))
    import django

    django.setup()


def prepare(records: int, seed: int) -> Path:
    """The normalised records of a demo of about `records` lines, with their truth."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from cordee.customers.matching import evaluate
    from cordee.demo.files import build_demo_files

    path = DATA / f"resolution-{records}-s{seed}.parquet"
    if path.exists():
        return path
    directory = DATA / f"resolution-{records}-s{seed}"
    start = time.perf_counter()
    demo = build_demo_files(directory, customers=round(records / RECORDS_PER_CUSTOMER), seed=seed)
    table = evaluate.records_table(
        record
        for file in demo.files
        for record in evaluate.read_partner_file(file.path, file.partner)
    )
    persons, households = evaluate.truth_columns(table, demo.truth)
    table = table.append_column("person_id", pa.array(persons, pa.int64()))
    table = table.append_column("household_id", pa.array(households, pa.int64()))
    pq.write_table(table, path)
    print(
        f"prepared {table.num_rows} records in {time.perf_counter() - start:.0f} s -> {path}",
        file=sys.stderr,
    )
    return path


def run_one(method: str, path: Path) -> None:
    """In a child process: run one method, print its result as JSON."""
    import pyarrow.parquet as pq

    from cordee.customers.matching import evaluate
    from cordee.customers.matching.backends import backend_name, spark_session

    table = pq.read_table(path)
    persons = table.column("person_id").to_pylist()
    households = table.column("household_id").to_pylist()
    backend = backend_name()
    if backend == "spark" and method == "cordee":
        spark_session()  # the JVM's start is not the method's time
    result = evaluate.run_method(method, table, persons, households)
    metrics = result.metrics
    jvm_mib = 0.0
    if backend == "spark" and method == "cordee":
        spark_session().stop()  # the JVM exits: its peak memory becomes a child's
        jvm_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "method": method,
                "backend": backend,
                "jvm_peak_rss_mib": jvm_mib,
                "records": metrics.records,
                "precision": metrics.precision,
                "recall": metrics.recall,
                "f1": metrics.f1,
                "families": metrics.families_wrongly_merged,
                "households": metrics.households,
                "households_merged": metrics.households_merged,
                "seconds": result.seconds,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def measure(method: str, path: Path, backend: str = "duckdb") -> dict[str, float | str]:
    import subprocess

    proc = subprocess.run(
        [sys.executable, __file__, "--run", method, "--data", str(path)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "CORDEE_RESOLUTION_BACKEND": backend},
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"{method} failed on {path}")
    result: dict[str, float | str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def table(results: list[dict[str, float | str]]) -> str:
    from cordee.customers.matching.evaluate import METHOD_LABELS

    lines = [
        "| Records | Method | Precision | Recall | F1 | Families wrongly merged | Time | Peak RSS |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {int(r['records']):,} | {METHOD_LABELS[str(r['method'])]} "
            f"| {float(r['precision']):.4f} | {float(r['recall']):.4f} | {float(r['f1']):.4f} "
            f"| {100 * float(r['families']):.2f} % ({int(r['households_merged'])} of "
            f"{int(r['households']):,}) | {float(r['seconds']):.1f} s "
            f"| {float(r['peak_rss_mib']):,.0f} MiB |"
        )
    return "\n".join(lines)


def backend_table(results: list[dict[str, float | str]]) -> str:
    lines = [
        "| Records | Backend | Precision | Recall | F1 | Families wrongly merged | Time "
        "| Ratio to DuckDB | Peak RSS (Python) | Peak RSS (JVM) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    reference = {r["records"]: float(r["seconds"]) for r in results if r["backend"] == "duckdb"}
    for r in results:
        base = reference.get(r["records"])
        ratio = f"{float(r['seconds']) / base:.1f}×" if base else "—"
        jvm = float(r.get("jvm_peak_rss_mib") or 0)
        lines.append(
            f"| {int(r['records']):,} | {r['backend']} "
            f"| {float(r['precision']):.4f} | {float(r['recall']):.4f} | {float(r['f1']):.4f} "
            f"| {100 * float(r['families']):.2f} % ({int(r['households_merged'])} of "
            f"{int(r['households']):,}) | {float(r['seconds']):.1f} s | {ratio} "
            f"| {float(r['peak_rss_mib']):,.0f} MiB | {f'{jvm:,.0f} MiB' if jvm else '—'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[100_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--run", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--backend",
        nargs="+",
        default=["duckdb"],
        choices=("duckdb", "spark"),
        help="where Cordée's matcher runs (with spark: its own section, DuckDB beside it)",
    )
    args = parser.parse_args()
    _django()
    if args.run:
        run_one(args.run, args.data)
        return
    DATA.mkdir(parents=True, exist_ok=True)
    if "spark" in args.backend:
        spark_main(args)
        return
    results = []
    for records in args.records:
        path = prepare(records, args.seed)
        for method in args.methods:
            result = measure(method, path)
            print(json.dumps(result), file=sys.stderr)
            results.append(result)
    body = table(results)
    print(body)
    if not args.no_write:
        command = "`.venv/bin/python bench/bench_resolution.py --records " + " ".join(
            str(n) for n in args.records
        )
        body = (
            f"{command} --seed {args.seed}` — demo partner files (`build_demo_files`), read "
            "through the import's reader and `normalise_fields`; pairwise precision / "
            "recall / F1 against the generator's ground truth; families wrongly merged = "
            "households with two people or more among the records, two of whom share a "
            "cluster. Time: the method alone (normalised records to clusters, model "
            "training included); peak RSS: the method's process. Targets (issue 3): "
            "F1 >= 0.97 with <= 1 % families wrongly merged; 1M records <= 10 min in "
            "<= 8 GiB.\n\n" + body
        )
        write_section("Identity resolution", body)


def spark_main(args: argparse.Namespace) -> None:
    """Cordée's matcher on each backend, the same records, one after the other."""
    results = []
    for records in args.records:
        path = prepare(records, args.seed)
        for backend in args.backend:
            result = measure("cordee", path, backend)
            print(json.dumps(result), file=sys.stderr)
            results.append(result)
    body = backend_table(results)
    print(body)
    if args.no_write:
        return
    master = os.environ.get("CORDEE_SPARK_MASTER", "local[2]")
    command = (
        "`.venv/bin/python bench/bench_resolution.py --records "
        + " ".join(str(n) for n in args.records)
        + f" --seed {args.seed} --methods cordee --backend {' '.join(args.backend)}`"
    )
    write_section(
        "Identity resolution on Spark",
        f"{command} — Cordée's matcher (training by EM included) on DuckDB in the process, "
        f"then on Spark {master} (same machine, JVM start not counted), on the same "
        "records as the section above. Peak RSS (JVM): the Spark driver's process, read "
        "after it stopped. The 2 cores are shared with other developers' tests: read the "
        "ratio more than the seconds.\n\n" + body,
    )


if __name__ == "__main__":
    main()
