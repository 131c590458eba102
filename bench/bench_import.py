"""Import of a large partner CSV, end to end, on PostgreSQL and SQLite, against PostgreSQL's bare COPY.

.venv/bin/python bench/bench_import.py [--lines 1000000] [--backends postgresql,sqlite]
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import resource
import tempfile
import threading
import time
from pathlib import Path

from common import DATA, cordee, dump, pg_fresh_database, run_measured, write_section


def bench_file(lines: int, seed: int = 1) -> Path:
    from cordee.demo.files import write_bench_file

    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"partner-{lines}-s{seed}.csv"
    if not path.exists():
        write_bench_file(path, lines=lines, seed=seed)
    return path


def copy_floor(path: Path, url: str) -> float:
    """PostgreSQL's own COPY of the same file into a bare, unindexed table of text columns."""
    import psycopg

    with path.open(newline="", encoding="utf-8-sig") as fh:
        sample = fh.read(65536)
    dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    header = next(csv.reader([sample.splitlines()[0]], dialect))
    columns = ", ".join(f'"c{i}" text' for i in range(len(header)))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_floor")
        conn.execute(f"CREATE UNLOGGED TABLE bench_floor ({columns})")
        start = time.perf_counter()
        with conn.cursor() as cur, path.open("rb") as fh:
            sql = f"COPY bench_floor FROM STDIN WITH (FORMAT csv, HEADER true, DELIMITER '{dialect.delimiter}')"
            with cur.copy(sql) as copy:
                while block := fh.read(1 << 20):
                    copy.write(block)
        seconds = time.perf_counter() - start
        conn.execute("DROP TABLE bench_floor")
    return seconds


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class _BackendCpu:
    """CPU time of the PostgreSQL backends serving ``database`` while the block runs.

    The machine is shared: wall time depends on the others' load, CPU time much less.
    Read from /proc (the server runs on this machine), polled as backends come and go.
    """

    def __init__(self, database: str | None) -> None:
        self.database = database
        self.seconds = 0.0
        self._seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> _BackendCpu:
        if self.database:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.database:
            self._stop.set()
            self._thread.join()
        self.seconds = sum(self._seen.values())

    def _poll(self) -> None:
        import psycopg

        from common import PG_ADMIN_URL

        tick = os.sysconf("SC_CLK_TCK")
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            while not self._stop.is_set():
                pids = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.database]
                ).fetchall()
                for (pid,) in pids:
                    try:
                        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    except OSError:
                        continue
                    self._seen[pid] = (int(fields[11]) + int(fields[12])) / tick
                self._stop.wait(0.2)


def _count(stdout: str, label: str) -> int:
    match = re.search(rf"{label} : (\d+)", stdout)
    return int(match.group(1)) if match else -1


def import_once(
    path: Path, backend: str, home: Path, database: str = "cordee_bench"
) -> dict[str, object]:
    env = {"CORDEE_HOME": str(home), "CORDEE_TASKS": "immediate"}
    if backend == "postgresql":
        env["CORDEE_DATABASE_URL"] = pg_fresh_database(database)
    else:
        env["CORDEE_DATABASE_URL"] = ""
    run_measured(cordee("migrate", "-v", "0"), env)
    run_measured(cordee("partner", "add", "office", "--name", "Office", "--kind", "hub"), env)
    run_measured(
        cordee("partner", "add", "bench", "--name", "Partenaire de test", "--kind", "hotel"), env
    )
    cpu_before = _children_cpu()
    with _BackendCpu(database if backend == "postgresql" else None) as backend_cpu:
        run = run_measured(cordee("import", str(path), "--partner", "bench", "--quiet"), env)
    cpu = _children_cpu() - cpu_before
    read = _count(run.stdout, "lignes lues")
    return {
        "backend": backend,
        "seconds": round(run.seconds, 1),
        "lines_per_s": round(read / run.seconds),
        "peak_rss_mib": round(run.peak_rss_mib),
        "cpu_s": round(cpu, 1),
        "pg_cpu_s": round(backend_cpu.seconds, 1),
        "lines_read": read,
        "accepted": _count(run.stdout, "lignes acceptées"),
        "rejected": _count(run.stdout, "lignes rejetées"),
        "customers_created": _count(run.stdout, "clients créés"),
        "customers_matched": _count(run.stdout, "clients rapprochés"),
        "database_url": env.get("CORDEE_DATABASE_URL", ""),
        "home": str(home),
    }


def import_more(path: Path, database_url: str, home: Path, *, partner: str = "bench-2") -> None:
    """A second partner's file, so that the search runs on more customers (its ids are its own)."""
    env = {
        "CORDEE_HOME": str(home),
        "CORDEE_TASKS": "immediate",
        "CORDEE_DATABASE_URL": database_url,
    }
    run_measured(
        cordee("partner", "add", partner, "--name", "Second partenaire", "--kind", "shop"), env
    )
    run_measured(cordee("import", str(path), "--partner", partner, "--quiet"), env)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument(
        "--database",
        default="cordee_bench",
        help="PostgreSQL database to (re)create: pick your own when others benchmark too",
    )
    args = parser.parse_args()
    path = bench_file(args.lines)
    results = []
    for backend in args.backends.split(","):
        home = Path(tempfile.mkdtemp(prefix=f"cordee-bench-{backend}-"))
        results.append(import_once(path, backend, home, args.database))
        print(dump(results[-1]))
    floor = copy_floor(path, pg_fresh_database(f"{args.database}_floor"))
    write_report(args.lines, path, results, floor)


def write_report(lines: int, path: Path, results: list[dict[str, object]], floor: float) -> None:
    size_mib = path.stat().st_size / 1024**2
    rows = [
        "| database | time | lines/s | peak memory | × COPY floor | CPU: import | CPU: PostgreSQL | accepted | rejected | customers created | matched |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        pg_cpu = f"{r['pg_cpu_s']} s" if r["backend"] == "postgresql" else "—"
        rows.append(
            f"| {r['backend']} | {r['seconds']} s | {r['lines_per_s']:,} | {r['peak_rss_mib']} MiB | "
            f"{float(r['seconds']) / floor:.1f}× | {r['cpu_s']} s | {pg_cpu} "
            f"| {r['accepted']:,} | {r['rejected']:,} | "
            f"{r['customers_created']:,} | {r['customers_matched']:,} |".replace(",", " ")
        )
    body = (
        f"File: {lines:,} lines, {size_mib:.0f} MiB, generated by `cordee.demo.files.write_bench_file` "
        "(about 20 % of the lines are the same people again, with the variations of real files).\n"
        "Command: `.venv/bin/python bench/run.py --lines "
        f"{lines}` (the import runs as `cordee import … --quiet` in a child process; peak memory is that process's).\n"
        "CPU: user + system seconds of the import and its worker processes, and of the PostgreSQL "
        "backends serving it. The machine is shared with other developers' runs: wall time "
        f"depends on their load (load average at the end of this run: {os.getloadavg()[0]:.1f} "
        "on 2 cores), CPU time much less.\n\n"
        + "\n".join(rows)
        + f"\n\nFloor: PostgreSQL `COPY` of the same file into a bare unindexed table of text columns: **{floor:.1f} s**.\n"
        "Targets: ≥ 25,000 lines/s on PostgreSQL (1M lines < 40 s), peak memory < 1.5 GiB.\n"
    ).replace(f"{lines:,}", f"{lines:,}".replace(",", " "))
    write_section("Import of a partner file", body)


if __name__ == "__main__":
    main()
