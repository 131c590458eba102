"""The REST API under load, against the production setup (``cordee serve``: gunicorn + PostgreSQL),
and the import of a large activity file.

.venv/bin/python bench/bench_api.py [--customers 20000] [--seconds 10] [--file-lines 500000]
    [--api-only] [--generator wrk|python] [--connections 16] [--server-workers 2 --server-threads 4]

The load generator is ``wrk`` (Debian/Ubuntu: ``apt-get install wrk``) with the Lua scripts of
bench/wrk/ (a unique reference per POST, latency percentiles); without it, Python threads (one
persistent HTTP/1.1 connection each, stdlib http.client), which take much of the CPU the
server needs. Either runs on the same 2-core machine as gunicorn and PostgreSQL. The reference,
measured in the same run, is the ``/sante/`` health endpoint (one ``SELECT 1``). For each load,
the CPU seconds of the web server's processes, of the task worker, of the PostgreSQL backends
and of the generator are read from /proc and given per request: they hold on a busy machine,
when requests per second do not.

``--api-only``: the single POST, the look-up and the reference under load, and the cost per
call, without the bulk load, the file import or the report (a few minutes).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import DATA, PG_ADMIN_URL, cordee, pg_fresh_database, run_measured, write_section

DATABASE = "cordee_bench_api"
HERE = Path(__file__).resolve().parent
RESULTS = DATA / "api-results.json"  # what the last full run measured (--report-from)


def customers_file(count: int) -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"api-customers-{count}.csv"
    if not path.exists():
        rng = random.Random(3)
        with path.open("w", encoding="utf-8") as fh:
            fh.write("N° client;Prénom;Nom;E-mail;Téléphone\n")
            for i in range(count):
                phone = f"06{rng.randrange(10**8):08d}"
                fh.write(f"C{i};Prénom{i};Nom{i % 5000};client{i}@example.fr;{phone}\n")
    return path


def activities_file(lines: int, customers: int) -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"api-activities-{lines}-{customers}.csv"
    if not path.exists():
        rng = random.Random(5)
        kinds = ("Séjour", "Forfait", "Cours", "Achat", "Repas", "Visite")
        with path.open("w", encoding="utf-8") as fh:
            fh.write("Référence;N° client;Type;Date;Date de fin;Montant;Quantité;Produit\n")
            for i in range(lines):
                day = rng.randrange(1, 29)
                month = rng.choice((1, 2, 3, 7, 8, 12))
                fh.write(
                    f"A{i};C{rng.randrange(customers)};{rng.choice(kinds)};{day:02}/{month:02}/2026;;"
                    f"{rng.randrange(10, 900)},{rng.randrange(100):02};{rng.randrange(1, 5)};Produit {i % 300}\n"
                )
    return path


class BackendCPU:
    """CPU seconds of the PostgreSQL backends of one database while a command runs: polled
    from /proc (the server is on this machine), the last reading of each backend kept."""

    def __init__(self, url: str) -> None:
        self.database = url.rsplit("/", 1)[1]
        self.url = url.rsplit("/", 1)[0] + "/postgres"
        self.seen: dict[int, float] = {}
        self.start: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _pids(self) -> list[int]:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [self.database],
            ).fetchall()
        return [r[0] for r in rows]

    @staticmethod
    def _cpu(pid: int) -> float | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _poll(self) -> None:
        while not self.stop.wait(0.25):
            for pid in self._pids():
                cpu = self._cpu(pid)
                if cpu is not None:
                    self.start.setdefault(pid, cpu)
                    self.seen[pid] = cpu

    def __enter__(self) -> BackendCPU:
        for pid in self._pids():  # backends already there count from now
            cpu = self._cpu(pid)
            if cpu is not None:
                self.start[pid] = cpu
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    @property
    def seconds(self) -> float:
        # A backend first seen while running counts from zero (it started with the command).
        return sum(
            cpu - (self.start.get(pid, 0.0) if pid in self.start else 0.0)
            for pid, cpu in self.seen.items()
        )


def activities_empty(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE activities_activity CASCADE")
        conn.execute("VACUUM ANALYZE activities_activity")


def file_import(
    file: Path, *, src: str, url: str, env: dict[str, str], timeout: float | None = None
) -> dict[str, Any]:
    """``cordee import --activities`` of ``file`` by the code in ``src`` into ``url``: wall
    time, CPU of the command (its worker processes included) and of PostgreSQL."""
    import resource

    load0 = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = sum(1 for _ in file.open("rb")) - 1
    try:
        with BackendCPU(url) as pg:
            run = run_measured(
                cordee("import", str(file), "--partner", "hotel", "--activities", "--quiet"),
                {**env, "CORDEE_DATABASE_URL": url, "PYTHONPATH": src},
                timeout=timeout,
            )
    except subprocess.TimeoutExpired:
        return {"lines": lines, "seconds": timeout, "timed_out": True, "load": [load0]}
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    created = re.search(r"activités créées : (\d+)", run.stdout)
    return {
        "lines": lines,
        "seconds": run.seconds,
        "created": int(created.group(1)) if created else -1,
        "peak_rss_mib": run.peak_rss_mib,
        "python_cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        "postgresql_cpu_s": pg.seconds,
        "load": [load0, os.getloadavg()[0]],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(port: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/sante/")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("the server did not start")


Request = Callable[[int, int], tuple[str, str, bytes | None]]  # (thread, i) -> method, path, body


def load(
    port: int, token: str, make: Request, *, threads: int, seconds: float
) -> tuple[int, list[float], dict[int, int]]:
    """Run ``threads`` clients for ``seconds``; (requests, latencies in s, status counts)."""
    stop = time.perf_counter() + seconds
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        codes: dict[int, int] = {}
        i = 0
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        while time.perf_counter() < stop:
            method, path, body = make(n, i)
            i += 1
            start = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - start)
            codes[response.status] = codes.get(response.status, 0) + 1
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        with lock:
            latencies.extend(mine)
            for code, count in codes.items():
                statuses[code] = statuses.get(code, 0) + count

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return len(latencies), latencies, statuses


WRK_SCRIPTS = HERE / "wrk"
WRK_MISSING = (
    "wrk is not installed: the load falls back to Python threads, which take much of the CPU "
    "the server needs (install it: apt-get install wrk on Debian/Ubuntu, brew install wrk "
    "on macOS)"
)


class ServerCPU:
    """CPU seconds of the processes of one session (``cordee serve`` and its children),
    split between the web server (gunicorn) and the task worker."""

    def __init__(self, sid: int) -> None:
        self.sid = sid

    def read(self) -> dict[int, tuple[str, float]]:
        out: dict[int, tuple[str, float]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[3]) != self.sid:  # the session id
                    continue
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (OSError, ValueError):
                continue
            role = "worker" if " worker" in cmdline and "gunicorn" not in cmdline else "web"
            out[int(entry.name)] = (
                role,
                (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"),
            )
        return out

    @staticmethod
    def spent(
        before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
    ) -> dict[str, float]:
        totals = {"web": 0.0, "worker": 0.0}
        for pid, (role, cpu) in after.items():
            totals[role] += cpu - (before[pid][1] if pid in before else 0.0)
        return totals


def wrk_load(
    port: int,
    token: str,
    script: str,
    *,
    seconds: float,
    connections: int,
    customers: int,
    run: str,
) -> dict[str, Any]:
    """``wrk`` with ``bench/wrk/<script>.lua`` (and done.lua, which prints the figures)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write((WRK_SCRIPTS / f"{script}.lua").read_text())
        fh.write((WRK_SCRIPTS / "done.lua").read_text())
        path = fh.name
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "--latency",
             "-s", path, f"http://127.0.0.1:{port}"],
            env={**os.environ, "TOKEN": token, "CUSTOMERS": str(customers), "RUN": run},
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(path)
    line = next(x for x in out.splitlines() if x.startswith("WRK_JSON "))
    w = json.loads(line.removeprefix("WRK_JSON "))
    elapsed = w["duration_us"] / 1e6
    errors = sum(w[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    return {
        "requests": w["requests"],
        "per_second": w["requests"] / elapsed,
        "p50_ms": w["p50_us"] / 1000,
        "p99_ms": w["p99_us"] / 1000,
        "max_ms": w["max_us"] / 1000,
        "statuses": {
            "2xx": w["requests"] - w["non_2xx"],
            "other": w["non_2xx"],
            "socket errors": errors,
        },
    }


def measured_load(
    run_load: Callable[[], dict[str, Any]], server: ServerCPU, url: str
) -> dict[str, Any]:
    """``run_load`` with the CPU it cost: web server, task worker, PostgreSQL, generator
    (for the Python generator, this process), in ms per request."""
    import resource

    who = resource.RUSAGE_CHILDREN if "wrk" in run_load.__name__ else resource.RUSAGE_SELF
    gen0 = resource.getrusage(who)
    cpu0 = server.read()
    with BackendCPU(url) as pg:
        figures = run_load()
    spent = ServerCPU.spent(cpu0, server.read())
    gen1 = resource.getrusage(who)
    n = max(1, figures["requests"])
    generator = (gen1.ru_utime + gen1.ru_stime) - (gen0.ru_utime + gen0.ru_stime)
    figures["cpu_ms"] = {
        "web": spent["web"] * 1000 / n,
        "worker": spent["worker"] * 1000 / n,
        "postgresql": pg.seconds * 1000 / n,
        "generator": generator * 1000 / n,
    }
    figures["load"] = os.getloadavg()[0]
    return figures


def stale_drained(url: str, timeout: float = 300) -> float:
    """Seconds until the worker has refreshed every customer marked stale by the load."""
    import psycopg

    start = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('segments_stalestats')").fetchone() == (None,):
            return 0.0  # a version that refreshes inside each request
        while time.perf_counter() - start < timeout:
            row = conn.execute("SELECT count(*) FROM segments_stalestats").fetchone()
            if row is not None and row[0] == 0:
                break
            time.sleep(0.2)
    return round(time.perf_counter() - start, 1)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--bulk-size", type=int, default=5_000)
    parser.add_argument("--file-lines", type=int, default=500_000)
    parser.add_argument("--workers", type=int, default=2, help="cordee serve --workers")
    parser.add_argument(
        "--server-threads", type=int, default=0, help="cordee serve --threads (0: its default)"
    )
    parser.add_argument(
        "--generator",
        choices=("wrk", "python"),
        default="wrk" if shutil.which("wrk") else "python",
        help="the load generator (wrk when installed)",
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk's connections")
    parser.add_argument(
        "--lookup-connections", type=int, default=4, help="wrk's connections for the look-up"
    )
    parser.add_argument(
        "--api-only",
        action="store_true",
        help="the single POST, the look-up and /sante/ under load and per call; no bulk "
        "load, no file import, no report",
    )
    parser.add_argument("--database", default=DATABASE, help="dropped and created afresh")
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help="keep the databases a previous run set up (same --customers), with a new key",
    )
    parser.add_argument(
        "--before-src",
        default="",
        help="the previous version's src directory: its cost per call is measured too, "
        "alternating with this one's, against the same database",
    )
    parser.add_argument("--per-call-rounds", type=int, default=2)
    parser.add_argument(
        "--server-src",
        default="",
        help="serve the load from another version's src directory (same database): to "
        "compare versions under the same load",
    )
    parser.add_argument("--before-file-lines", type=int, default=200_000)
    parser.add_argument("--before-timeout", type=float, default=900)
    parser.add_argument("--compare-lines", type=int, default=200_000)
    parser.add_argument(
        "--report-from",
        default="",
        help="write the report from a results file a run saved (bench/data/api-results.json)",
    )
    args = parser.parse_args()
    if args.report_from:
        saved = json.loads(Path(args.report_from).read_text())
        args.__dict__.update(saved["args"])
        write_report(args, saved["results"])
        return

    generator = args.generator
    if generator == "wrk" and shutil.which("wrk") is None:
        generator = "python"
    if generator == "python":
        print(
            WRK_MISSING if shutil.which("wrk") is None else "load generator: Python threads",
            flush=True,
        )
    args.generator = generator
    if args.reuse_database:
        # The keys (secret, encryption) live in CORDEE_HOME: a kept database needs its home.
        home = DATA / f"home-{args.database}"
        home.mkdir(parents=True, exist_ok=True)
    else:
        home = Path(tempfile.mkdtemp(prefix="cordee-bench-api-"))
    env = {
        "CORDEE_HOME": str(home),
        "CORDEE_TASKS": "immediate",
        "CORDEE_API_RATE": "100000000/s",  # the rate limit would stop the load generator
        "CORDEE_INDEX_KEY": "bench-index-key",
    }
    # Each version gets its own database, set up by its own code (its own schema: the
    # previous version's foreign key constraints and indexes), with the same customers.
    versions = {"after": (str(HERE.parent / "src"), args.database)}
    if args.before_src:
        versions = {
            "before": (str(Path(args.before_src).resolve()), f"{args.database}_before"),
            **versions,
        }
    setups = {name: setup(args, src, database, env) for name, (src, database) in versions.items()}
    url, key = setups["after"]
    env["CORDEE_DATABASE_URL"] = url
    os.environ.update(env)

    port = free_port()
    # The production setup: gunicorn and the task worker (Huey), which refreshes the
    # customers' aggregates in batches after activities are written.
    server = subprocess.Popen(
        [
            *cordee("serve", "--port", str(port), "--workers", str(args.workers)),
            *(["--threads", str(args.server_threads)] if args.server_threads else []),
        ],
        env={
            **os.environ,
            **env,
            "CORDEE_TASKS": "huey",
            # This tree's code (or --server-src), not whatever the environment installed.
            "PYTHONPATH": str(Path(args.server_src or HERE.parent / "src").resolve()),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: gunicorn's workers are stopped with it
    )
    results: dict[str, object] = {}
    try:
        wait_up(port)
        rng = random.Random(11)
        n_cust = args.customers

        def health(t: int, i: int) -> tuple[str, str, bytes | None]:
            return "GET", "/sante/", None

        phase = ["warm"]  # the warm-up's references differ from the run's: every POST creates

        def single(t: int, i: int) -> tuple[str, str, bytes | None]:
            body = {
                "customer_external_id": f"C{rng.randrange(n_cust)}",
                "kind": "visit",
                "starts_on": f"2026-0{1 + i % 3}-{1 + i % 28:02}",
                "amount": "12.50",
                "external_id": f"S{phase[0]}{t}-{i}",
            }
            return "POST", "/api/v1/activities", json.dumps(body).encode()

        bulk_counter = [0]

        def bulk(t: int, i: int) -> tuple[str, str, bytes | None]:
            bulk_counter[0] += 1
            tag = f"B{t}-{i}"
            items = [
                {
                    "customer_external_id": f"C{(j * 7919 + i) % n_cust}",
                    "kind": "ticket",
                    "starts_on": f"2026-01-{1 + j % 28:02}",
                    "amount": "42.00",
                    "external_id": f"{tag}-{j}",
                }
                for j in range(args.bulk_size)
            ]
            return "POST", "/api/v1/activities/bulk", json.dumps({"activities": items}).encode()

        def lookup(t: int, i: int) -> tuple[str, str, bytes | None]:
            return (
                "GET",
                f"/api/v1/customers/lookup?email=client{rng.randrange(n_cust)}%40example.fr",
                None,
            )

        cpu = ServerCPU(server.pid)

        def under_load(name: str, make: Request, threads: int) -> dict[str, Any]:
            """One load: wrk with its Lua script, or the Python threads; warmed up first."""
            if generator == "wrk":
                connections = args.connections if name != "lookup" else args.lookup_connections

                def wrk(seconds: float, tag: str) -> dict[str, Any]:
                    return wrk_load(
                        port, key, name, seconds=seconds, connections=connections,
                        customers=n_cust, run=f"{tag}{time.time_ns() % 10**9}",
                    )  # fmt: skip

                wrk(2, "warm")

                def run_wrk() -> dict[str, Any]:
                    return wrk(args.seconds, "run")

                figures = measured_load(run_wrk, cpu, url)
                figures["clients"] = f"wrk, {connections} connections"
                return figures
            phase[0] = "warm"
            load(port, key, make, threads=threads, seconds=2)
            phase[0] = "run"

            def run_threads() -> dict[str, Any]:
                count, lat, statuses = load(port, key, make, threads=threads, seconds=args.seconds)
                return {
                    "requests": count,
                    "per_second": count / args.seconds,
                    "p50_ms": statistics.median(lat) * 1000,
                    "p99_ms": percentile(lat, 0.99) * 1000,
                    "statuses": statuses,
                }

            figures = measured_load(run_threads, cpu, url)
            figures["clients"] = f"Python, {threads} threads"
            return figures

        for name, make, threads in (
            ("health", health, args.threads),
            ("single", single, args.threads),
        ):
            results[name] = under_load(name, make, threads)
            print(name, results[name], flush=True)
        if not args.api_only:
            count, lat, statuses = load(port, key, bulk, threads=2, seconds=args.seconds)
            results["bulk"] = {
                "requests": count,
                "activities_per_second": count * args.bulk_size / args.seconds,
                "p50_ms": statistics.median(lat) * 1000,
                "statuses": statuses,
            }
            print("bulk", results["bulk"], flush=True)
        results["catch_up_s"] = stale_drained(url)
        print("aggregates caught up after", results["catch_up_s"], flush=True)
        results["lookup"] = under_load("lookup", lookup, 4)
        print("lookup", results["lookup"], flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    results["per_call"] = per_call(args, env, setups)
    if args.api_only:
        (DATA / "api-only-results.json").write_text(
            json.dumps({"args": vars(args), "results": results}, default=str)
        )
        print_api_only(results)
        return
    if args.file_lines <= 0:
        return  # the API only: no file, no report
    # Workers as `cordee import` chooses them for a file of this size (CORDEE_IMPORT_WORKERS).
    # The previous version gets a smaller file, and a time limit: on a table that already
    # holds activities, its look-up of known references could read the partner's whole
    # table per reference (minutes per batch).
    for name, (src, _database) in versions.items():
        lines = args.file_lines if name == "after" else args.before_file_lines
        file = activities_file(lines, args.customers)
        measured = file_import(
            file, src=src, url=setups[name][0], env=env,
            timeout=None if name == "after" else args.before_timeout,
        )  # fmt: skip
        results["file" if name == "after" else f"file_{name}"] = measured
        print("file", name, measured, flush=True)
    if args.before_src and args.compare_lines > 0:
        # The same file into the same empty table, each version on its own database: the
        # runs above differ in size, and the aggregates refreshed after each batch (inline
        # there, CORDEE_TASKS=immediate) cost more as customers gather activities. Here the
        # refresh is queued for the task worker (none runs): the import alone.
        file = activities_file(args.compare_lines, args.customers)
        compared = {}
        for name, (src, _database) in versions.items():
            activities_empty(setups[name][0])
            compared[name] = file_import(
                file, src=src, url=setups[name][0], env={**env, "CORDEE_TASKS": "huey"},
                timeout=None if name == "after" else args.before_timeout,
            )  # fmt: skip
            print("file, same size", name, compared[name], flush=True)
        results["file_compare"] = compared
    RESULTS.write_text(json.dumps({"args": vars(args), "results": results}, default=str))
    write_report(args, results)


def print_api_only(results: dict[str, Any]) -> None:
    """What --api-only measured: per request under load, CPU split by process."""
    for name in ("health", "single", "lookup"):
        r = results[name]
        c = r["cpu_ms"]
        total = c["web"] + c["worker"] + c["postgresql"]
        print(
            f"{name:7} {r['per_second']:8,.0f} req/s  p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  "
            f"CPU/request: web {c['web']:.2f} + worker {c['worker']:.2f} + PostgreSQL {c['postgresql']:.2f} "
            f"= {total:.2f} ms (ceiling on 2 cores {2000 / total:,.0f} req/s), "
            f"generator {c['generator']:.2f} ms  [{r['clients']}, load {r['load']:.1f}] {r['statuses']}"
        )


def database_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            is not None
        )


def setup(
    args: argparse.Namespace, src: str, database: str, env: dict[str, str]
) -> tuple[str, str]:
    """A fresh database migrated by the code in ``src``, with the partners, the customers
    and an API key: (its URL, the key). With --reuse-database, one a previous run set up
    is kept and only a new key is made."""
    if args.reuse_database and database_exists(database):
        url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{database}"
        env = {**env, "CORDEE_DATABASE_URL": url, "PYTHONPATH": src}
        out = run_measured(cordee("apikey", "create", "--partner", "hotel"), env).stdout
        token = re.search(r"cdk_[0-9a-f]+_[A-Za-z0-9_-]+", out)
        if token is None:
            raise SystemExit(f"no key in: {out}")
        return url, token.group(0)
    url = pg_fresh_database(database)
    env = {**env, "CORDEE_DATABASE_URL": url, "PYTHONPATH": src}
    run_measured(cordee("migrate", "-v", "0"), env)
    run_measured(cordee("partner", "add", "office", "--name", "Office", "--kind", "hub"), env)
    run_measured(cordee("partner", "add", "hotel", "--name", "Hôtel", "--kind", "hotel"), env)
    run_measured(
        cordee("import", str(customers_file(args.customers)), "--partner", "hotel", "--quiet"), env
    )
    out = run_measured(cordee("apikey", "create", "--partner", "hotel"), env).stdout
    token = re.search(r"cdk_[0-9a-f]+_[A-Za-z0-9_-]+", out)
    if token is None:
        raise SystemExit(f"no key in: {out}")
    return url, token.group(0)


def per_call(
    args: argparse.Namespace, env: dict[str, str], setups: dict[str, tuple[str, str]]
) -> dict[str, list[Any]]:
    """CPU per call in one process (bench/api_per_call.py), this version and the one before."""
    versions = {"after": str(HERE.parent / "src")}
    if args.before_src:
        versions = {"before": str(Path(args.before_src).resolve()), **versions}
    out: dict[str, list[Any]] = {name: [] for name in versions}
    for _round in range(args.per_call_rounds):
        for name, src in versions.items():
            url, key = setups[name]
            run = subprocess.run(
                [
                    sys.executable,
                    str(HERE / "api_per_call.py"),
                    key,
                    str(args.customers),
                    *(["--bulk", "0"] if args.api_only else []),
                ],  # fmt: skip
                env={
                    **os.environ,
                    **env,
                    "CORDEE_TASKS": "huey",
                    "PYTHONPATH": src,
                    "CORDEE_DATABASE_URL": url,
                },
                capture_output=True,
                text=True,
                check=True,
            )
            figures = json.loads(run.stdout.strip().splitlines()[-1])
            out[name].append(figures)
            print("per call", name, figures, flush=True)
    return out


def _per_call_table(r: dict[str, list[Any]]) -> str:
    """One column per version and round: Python and PostgreSQL CPU, statements, and the
    total in `/sante/` requests of the same run."""
    columns = [(name, i, figures) for name, runs in r.items() for i, figures in enumerate(runs)]
    head = "| per call | " + " | ".join(f"{name}, run {i + 1}" for name, i, _f in columns) + " |"
    lines = [head, "|---" * (len(columns) + 1) + "|"]

    def cell(f: dict[str, Any], what: str) -> str:
        h = f["health"]["python_ms"] + f["health"]["postgresql_ms"]
        c = f[what]
        total = c["python_ms"] + c["postgresql_ms"]
        digits = 0 if total > 50 else 1
        return (
            f"{c['python_ms']:.{digits}f} + {c['postgresql_ms']:.{digits}f} ms "
            f"({c['statements']:.0f} st.) = **{total / h:.1f}** `/sante/`"
        )

    lines.append(
        "| `GET /sante/` (Python + PostgreSQL) | "
        + " | ".join(
            f"{f['health']['python_ms']:.2f} + {f['health']['postgresql_ms']:.2f} ms"
            for _n, _i, f in columns
        )
        + " |"
    )
    lines.append("| single POST | " + " | ".join(cell(f, "single") for _n, _i, f in columns) + " |")
    lines.append(
        f"| bulk POST of {columns[0][2].get('bulk_size', 5000):,} | "
        + " | ".join(cell(f, "bulk") for _n, _i, f in columns)
        + " |"
    )
    lines.append(
        "| aggregates refreshed by the worker afterwards (per customer) | "
        + " | ".join(
            f"{f['refresh']['python_ms'] / max(1, f['refresh']['customers']):.2f} + "
            f"{f['refresh']['postgresql_ms'] / max(1, f['refresh']['customers']):.2f} ms"
            for _n, _i, f in columns
        )
        + " |"
    )
    return "\n".join(lines)


# What the version measured here changed, and what is left (found with cProfile on a CPU
# clock and by statement, through bench/api_per_call.py --profile single|bulk).
CHANGES = """What this version changed (profiles: `bench/api_per_call.py TOKEN 20000 --profile bulk
--sort tottime`, cProfile with a CPU clock; PostgreSQL CPU per statement read from `/proc`
around each statement):

- **The foreign keys of activities lost their database constraints** (customer, partner,
  season, source record, import batch; docs/data-model.md): each inserted row no longer fires
  five checks at commit. The writer holds the parents itself, one `SELECT … FOR KEY SHARE` per
  table in one statement per call (`core.bulk.hold_rows`); a parent that is gone fails the call
  as the constraint did. Deletions are handled by the code, as for the other bulk tables
  (Django's `PROTECT`/`SET_NULL`, the erasure, the merge's check).
- **Nine indexes → seven**: the foreign key's own index on `season_id` (the `(season, kind)`
  index starts with it) and the full index on `owner_id` (nulls included, so paid by every
  row) went; the owner's index is now the open follow-ups' one, partial on an owner being set.
- **The unique reference index is `(partner, external_id, kind)`**: with the kind second, the
  planner could probe `(partner)` alone for each reference and read every activity of the
  partner (the previous version's file import spent minutes per batch of 20,000 on a table
  that already held activities).
- **Ids: the sequence is named once** (`core.bulk.allocate_ids`): `pg_get_serial_sequence` ran
  for each of the 5,000 values (12 ms of PostgreSQL per call; also used by customer imports).
- Python per item: dates and prices read once per distinct text, the kind code taken as is,
  the customer keys checked on the exact type, the `COPY` line without helper calls, arrays of
  ids and references formatted in one pass.
- **File import: lines read and cleaned in worker processes** (`collect.prepare.in_workers`,
  the runner of customer file imports, now shared): the main process resolves the customers
  (one query per batch) and writes with `COPY` while the workers clean the next batches. A
  worker that dies fails the import with the line where it stopped; the batches stored before
  are whole and importing the file again adds the rest (references skip what is stored).

A single POST makes one statement more than before (6: the parents' hold), which costs less
than the five constraint checks it replaces.

Left: PostgreSQL's cost of a bulk call is now mostly `COPY` with its seven indexes, the customer
look-up (one probe per customer key), the known-reference probes and the lock on the customers
(`FOR KEY SHARE` writes each customer row). Python's is spread over the per-item checks, the row
and its `COPY` text, and the result list; the 50,000 activities/s target needs ~40 µs of CPU per
activity on 2 cores, generator and HTTP included. The customers are resolved in the file
import's main process, not in the workers (they have no database connection). With the aggregates refreshed inline
(`CORDEE_TASKS=immediate`, the first file table) the import's cost is mostly that refresh (the
segments' tables: ~4.4 million rows written and deleted for 1.2 million activities), which grows
with the activities each customer already has; the import alone (second table) costs ~104 µs of
CPU per line, 83 of them Python spread over the main process and its two workers (their start-up
and the pickling of every batch both ways included). The previous version's import, on a table
the planner believed small, spent longer and longer per batch in its look-up of known references
(the kind second in the unique index): it did not finish the same file."""


# The single POST and the look-up: what was measured and changed (cProfile through
# bench/api_per_call.py --profile single|lookup, and the CPU per request under wrk above).
SINGLE_CHANGES = """**The single POST and the look-up** (2026-11-23, branch api):

- **Load generator: `wrk`** (`apt-get install wrk`; the bench falls back to Python threads and
  says so when it is missing) with the Lua scripts of `bench/wrk/`: a new reference per POST
  (every POST creates), a random customer per look-up, p50/p99 from wrk's own histogram. It
  costs 0.06–0.2 ms of CPU per request; the Python threads (`--generator python`) cost
  0.7–1.2 ms per request, measured the same way (about a sixth of a single POST's server
  CPU, taken from the same 2 cores). Every load now reports the CPU per request of the web
  server, the task worker, PostgreSQL and the generator (table above): on a shared machine
  the requests per second move with the other runs, the CPU per request much less.
- **What a request costs before any work**: `/sante/` (one `SELECT 1`) takes 1.8–2.6 ms of
  CPU in gunicorn + Django (WSGI, middleware, URL resolution; the browser-only middleware is
  already skipped for `/api/`), so that this stack tops out at ~750–1,050 requests/s on 2
  cores for an endpoint that does nothing. The single POST costs ~12 ms of server CPU per
  request (web ~6–7, PostgreSQL ~3.5–4.5, the task worker's refresh of the customer's
  aggregates ~1.1–1.9): at most ~160–170 POSTs/s on 2 cores. **The ≥ 1,000 req/s target (2 ms of
  CPU per request, generator included) is out of reach of this stack (Django + gunicorn +
  PostgreSQL with a durable commit per POST): it is 6× away, and `/sante/` alone uses
  the whole budget.** The bulk POST is the way for a till that sends hundreds of activities
  a second.
- **Prepared statements** (`cordee.core.prepared`): the statements every API call runs — the
  key and its partner, the customer by reference, the seasons, the parents' hold, the insert
  with its audit entry, the stale mark — are prepared once per connection (psycopg's
  server-side binding, `prepare_threshold` in the database's `OPTIONS`;
  `CORDEE_DB_PREPARED=0` turns it off behind a pooler that cannot keep them). PostgreSQL's
  CPU per single POST: 3.6–4.0 → 2.5–2.9 ms per call in one process, 4.0–4.6 → 3.4–3.5 ms
  under load; per look-up 2.2–2.4 → 2.0 ms.
  Django's ORM statements stay unprepared (its cursor binds values client-side). The key's
  statement names its columns (a prepared `SELECT *` fails once a migration adds a column).
- **Checked, already right**: the API key is a keyed BLAKE2b hash (no slow hash to cache),
  read in one statement per request so that a revoked key or an inactive partner is refused
  on the very next request (the ORM object is rebuilt only when the row changed); the rate
  limit is a counter in Django's cache (no database round trip); the idempotency row is
  written only when the client sends `Idempotency-Key`; sessions, CSRF, authentication,
  messages and htmx middleware are skipped for `/api/`; connections persist
  (`conn_max_age=60`). JSON rendering is ~0.1 ms per request: orjson would not change the
  picture.
- **gunicorn**: sync workers (2, 3 or 4, one thread) against gthread (2 workers × 4
  threads): sync workers close the connection after each request (no keep-alive), and
  `/sante/` costs 2.6 ms of web CPU instead of 1.8; the single POST is no cheaper. gthread
  2 × 4 stays the default; `cordee serve --threads N` lets it be changed (1: sync).
- Left in a single POST (cProfile, no single large item): ninja's validation and the key
  (~1 ms), the customer's resolution, the seasons, the hold, the insert and its audit
  parameters, the stale-mark signal, the response (0.2–0.6 ms each); PostgreSQL's share is
  mostly the commit's WAL flush (`synchronous_commit` left on: a 201 means the activity is
  stored), the insert into seven indexes, its audit row and the stale mark. The look-up
  (~8 ms of server CPU) is two ORM queries through the privacy gate (building them costs
  more than running them), the audit entry of the read and the validation of its ~30
  fields."""


def _bulk_ceiling(pc: dict[str, list[Any]]) -> str:
    """What the CPU of a bulk call allows on 2 cores, server side only, for each version."""
    out = []
    for name, runs in pc.items():
        per = [
            (f["bulk"]["python_ms"] + f["bulk"]["postgresql_ms"]) / f.get("bulk_size", 5000)
            for f in runs
        ]
        best, worst = min(per), max(per)
        out.append(
            f"{name}: {best * 1000:.0f}–{worst * 1000:.0f} µs of CPU per activity "
            f"(Python + PostgreSQL), at most {2000 / worst:,.0f}–{2000 / best:,.0f} activities/s "
            "on 2 cores with nothing else running"
        )
    ceiling = max(
        2000
        / min(
            (f["bulk"]["python_ms"] + f["bulk"]["postgresql_ms"]) / f.get("bulk_size", 5000)
            for f in pc["after"]
        ),
        0,
    )
    verdict = "met" if ceiling >= 50_000 else "not met"
    return (
        "Bulk calls, server CPU only (no HTTP server, no load generator): "
        + "; ".join(out)
        + f". Target ≥ 50,000 activities/s: **{verdict}**."
    )


def _file_table(r: dict[str, Any]) -> str:
    """The activity file import of each version: wall time (with the load average), CPU of
    the command (workers included) and of PostgreSQL per line, and the 10M extrapolation."""
    lines = [
        "**Activity file import, each version on its own database** (`cordee import "
        "--activities`; the command's CPU includes its worker processes', PostgreSQL's is "
        "that of the database's backends, read from `/proc` while it ran; with "
        "`CORDEE_TASKS=immediate` the customers' aggregates are refreshed inside the import "
        "after each batch, and that refresh, which grows with the activities each customer "
        "already has, is in both figures):",
        "",
        "| version | lines | wall | load (start → end) | command CPU | PostgreSQL CPU | CPU per line |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in ("before", "after"):
        f = r.get("file" if name == "after" else f"file_{name}")
        if not isinstance(f, dict):
            continue
        if f.get("timed_out"):
            lines.append(
                f"| {name} | {f['lines']:,} | not finished in {f['seconds']:.0f} s | "
                f"{f['load'][0]:.1f} | — | — | — |"
            )
            continue
        per_line = (f["python_cpu_s"] + f["postgresql_cpu_s"]) / f["lines"] * 1e6
        lines.append(
            f"| {name} | {f['lines']:,} ({f['created']:,} created) | {f['seconds']:.1f} s "
            f"({f['lines'] / f['seconds']:,.0f} lines/s) | {f['load'][0]:.1f} → {f['load'][-1]:.1f} | "
            f"{f['python_cpu_s']:.1f} s | {f['postgresql_cpu_s']:.1f} s | {per_line:.0f} µs |"
        )
    compared = r.get("file_compare")
    if isinstance(compared, dict):
        lines += [
            "",
            "The import alone: the same file into the same empty activity table, each version "
            "on its own database, the aggregates' refresh queued for the task worker "
            f"(`CORDEE_TASKS=huey`, no consumer running; {r.get('file_compare_note', 'one after the other')}):",
            "",
            "| version | lines | wall | load (start → end) | command CPU | PostgreSQL CPU | CPU per line |",
            "|---|---|---|---|---|---|---|",
        ]
        per: dict[str, float] = {}
        for name, f in compared.items():
            if f.get("timed_out"):
                lines.append(
                    f"| {name} | {f['lines']:,} | not finished in {f['seconds']:.0f} s | "
                    f"{f['load'][0]:.1f} | — | — | — |"
                )
                continue
            per[name] = (f["python_cpu_s"] + f["postgresql_cpu_s"]) / f["lines"] * 1e6
            lines.append(
                f"| {name} | {f['lines']:,} ({f['created']:,} created) | {f['seconds']:.1f} s | "
                f"{f['load'][0]:.1f} → {f['load'][-1]:.1f} | {f['python_cpu_s']:.1f} s | "
                f"{f['postgresql_cpu_s']:.1f} s | {per[name]:.0f} µs |"
            )
        if "before" in per and "after" in per:
            lines.append("")
            lines.append(f"CPU per line, after / before: **{per['after'] / per['before']:.2f}**.")
        alone = compared.get("after")
        if isinstance(alone, dict) and not alone.get("timed_out"):
            cpu = alone["python_cpu_s"] + alone["postgresql_cpu_s"]
            lines += [
                "",
                f"10M lines of the import alone, **extrapolated** from {alone['lines']:,} (not run): "
                f"{alone['seconds'] / alone['lines'] * 1e7 / 60:.1f} min at this run's wall rate "
                f"(load {alone['load'][0]:.1f}–{alone['load'][-1]:.1f}); "
                f"{cpu / alone['lines'] * 1e7 / 2 / 60:.1f} min if its CPU "
                f"({alone['python_cpu_s'] / alone['lines'] * 1e6:.0f} µs of Python and "
                f"{alone['postgresql_cpu_s'] / alone['lines'] * 1e6:.0f} µs of PostgreSQL per line) "
                "had both cores to itself. Target 10M in ≤ 5 min: "
                f"**{'met' if cpu / alone['lines'] * 1e7 / 2 <= 300 else 'not met'}**.",
            ]
    f = r.get("file")
    if isinstance(f, dict) and not f.get("timed_out"):
        cpu = f["python_cpu_s"] + f["postgresql_cpu_s"]
        lines += [
            "",
            f"10M lines with the aggregates refreshed inline, **extrapolated** from {f['lines']:,} "
            "(not run): at this run's wall rate "
            f"{f['seconds'] / f['lines'] * 1e7 / 60:.1f} min; from the CPU alone, with both cores "
            f"busy and nothing else running, {cpu / f['lines'] * 1e7 / 2 / 60:.1f} min. Target 10M "
            f"in ≤ 5 min: **{'met' if cpu / f['lines'] * 1e7 / 2 <= 300 else 'not met'}** "
            "(index maintenance on a 10M-row table, deeper than here, was not measured).",
        ]
    return "\n".join(lines)


def _cpu_table(r: dict[str, Any]) -> str:
    """CPU per request under load, by process, and the rate it allows on 2 cores."""
    rows = [
        "CPU per request under load (ms; the ceiling is 2 cores divided by the server's CPU "
        "per request, generator left out):",
        "",
        "| load | web server | task worker | PostgreSQL | server total | ceiling on 2 cores | generator |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, label in (
        ("health", "`GET /sante/`"),
        ("single", "single POST"),
        ("lookup", "look-up"),
    ):
        c = r.get(name, {}).get("cpu_ms")
        if not c:
            continue
        total = c["web"] + c["worker"] + c["postgresql"]
        rows.append(
            f"| {label} | {c['web']:.2f} | {c['worker']:.2f} | {c['postgresql']:.2f} | "
            f"**{total:.2f}** | {2000 / total:,.0f} req/s | {c['generator']:.2f} |"
        )
    return "\n".join(rows) if len(rows) > 4 else ""


def write_report(args: argparse.Namespace, r: dict[str, Any]) -> None:
    h, s, b, lk, f = (r[k] for k in ("health", "single", "bulk", "lookup", "file"))
    assert isinstance(h, dict) and isinstance(s, dict) and isinstance(b, dict)
    assert isinstance(lk, dict) and isinstance(f, dict)
    load1, load5, _load15 = os.getloadavg()
    before = " --before-src PREVIOUS/src" if args.before_src else ""
    pc = r.get("per_call")
    assert isinstance(pc, dict)
    generator = getattr(args, "generator", "python")
    generator_text = (
        f"`wrk` (one thread, the Lua scripts of `bench/wrk/`: a new reference per POST, a random "
        f"customer per look-up; {args.connections} keep-alive connections, "
        f"{args.lookup_connections} for the look-up)"
        if generator == "wrk"
        else "Python threads with one keep-alive connection each (stdlib `http.client`; "
        "`wrk` was not installed), which take CPU the server would otherwise have"
    )
    server_threads = getattr(args, "server_threads", 0) or 4
    threads = f" --threads {server_threads}" if getattr(args, "server_threads", 0) else ""
    server_kind = (
        f"gthread, {server_threads} threads per worker" if server_threads > 1 else "sync workers"
    )
    body = f"""Command: `.venv/bin/python bench/bench_api.py --customers {args.customers} --seconds {args.seconds:g} --threads {args.threads} --bulk-size {args.bulk_size} --file-lines {args.file_lines}{before}`
(also run by `bench/run.py --api`).

Setup: `cordee serve --workers {args.workers}{threads}` (gunicorn, {server_kind}, and the
task worker that refreshes the customers' aggregates in batches after activities change) on
PostgreSQL, {args.customers:,} customers of Hôtel des Alpes imported first; the load generator is
{generator_text}, **on the same 2 cores** as gunicorn and PostgreSQL, and the machine may be
shared with other developers' runs: requests per second and latencies are noisy, the CPU per
request (read from `/proc` for the web server's processes, the task worker, the database's
PostgreSQL backends and the generator) much less so. Load average when the report was written:
{load1:.1f} (1 min), {load5:.1f} (5 min) on 2 cores.

| what | figure | target | ratio to `/sante/` |
|---|---|---|---|
| reference: `GET /sante/` ({h.get("clients", f"{args.threads} clients")}) | {h["per_second"]:,.0f} req/s (p50 {h["p50_ms"]:.1f} ms) | — | 1 |
| `POST /api/v1/activities`, one activity ({s.get("clients", f"{args.threads} clients")}) | **{s["per_second"]:,.0f} req/s** (p50 {s["p50_ms"]:.1f} ms, p99 {s["p99_ms"]:.1f} ms) | ≥ 1,000 req/s | {s["per_second"] / h["per_second"]:.2f} |
| `POST /api/v1/activities/bulk`, {args.bulk_size:,} per call (2 clients) | **{b["activities_per_second"]:,.0f} activities/s** (p50 {b["p50_ms"]:.0f} ms per call) | ≥ 50,000 /s | — |
| `GET /api/v1/customers/lookup?email=` ({lk.get("clients", "4 clients")}) | p99 **{lk["p99_ms"]:.1f} ms** (p50 {lk["p50_ms"]:.1f} ms, {lk["per_second"]:,.0f} req/s) | p99 ≤ 50 ms | {lk["per_second"] / h["per_second"]:.2f} |
| activity file → PostgreSQL (`cordee import --activities`), {f["lines"]:,} lines | **{f["seconds"]:.1f} s** ({f["lines"] / f["seconds"]:,.0f} lines/s, peak {f.get("peak_rss_mib", 0):.0f} MiB) | 10M in ≤ 300 s | — |

{_cpu_table(r)}

{SINGLE_CHANGES}

Status counts: single {s["statuses"]}, bulk {b["statuses"]}, lookup {lk["statuses"]}, health {h["statuses"]}.
After the bulk load the worker had refreshed every customer's aggregates {r.get("catch_up_s", "—")} s later.

**Cost per call, in one process** (`bench/api_per_call.py`, run by this bench against the same
database once the load is over): Django's whole request handler (middleware, URL resolution,
ninja) through Django's test client, one call after another — 1,000 `/sante/`, 300 single
POSTs, 6 bulk calls —, CPU time of the Python process and of its PostgreSQL backend (from
`/proc`), statements counted. No load generator and no scheduling in these figures, so they
hold on a busy machine; each is also given in `/sante/` requests of the same run (the test
client's own cost is in both).{" The previous version ran against its own database (same customers, its own schema), alternating with this one." if args.before_src else ""}

{_per_call_table(pc)}

{_bulk_ceiling(pc)}

{CHANGES}

{_file_table(r)}"""
    write_section("REST API and activity import", body)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
