"""Shared plumbing for the benchmarks: fresh databases, subprocess runs with peak memory, the report."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
REPORT = ROOT / "docs" / "BENCHMARKS.md"
PG_ADMIN_URL = os.environ.get("CORDEE_BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return f"{platform.node()} — {os.cpu_count()} cores, {cpu}, {mem:.0f} GiB RAM, Python {platform.python_version()}"


@dataclass
class Run:
    seconds: float
    peak_rss_mib: float
    stdout: str


def run_measured(args: list[str], env: dict[str, str], timeout: float | None = None) -> Run:
    """Run a child process; return its wall time and its peak resident memory.

    Past ``timeout`` seconds the process is killed and ``subprocess.TimeoutExpired`` raised."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run(
        args,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"benchmark step failed: {' '.join(args)}")
    # ru_maxrss of children is the maximum over all children so far: only trust a rise.
    return Run(seconds=seconds, peak_rss_mib=max(peak, before) / 1024, stdout=proc.stdout)


def pg_fresh_database(name: str) -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def cordee(*args: str) -> list[str]:
    return [sys.executable, "-m", "cordee", *args]


def write_section(title: str, body: str) -> None:
    """Replace (or append) one section of docs/BENCHMARKS.md, keeping the others."""
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    text = (
        REPORT.read_text()
        if REPORT.exists()
        else "# Benchmarks\n\nWritten by `bench/run.py`; each section by its own benchmark.\n"
    )
    marker_start, marker_end = f"<!-- {title} -->", f"<!-- /{title} -->"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = f"{marker_start}\n## {title}\n\n_Run {stamp} on {machine()}._\n\n{body.strip()}\n{marker_end}"
    if marker_start in text and marker_end in text:
        before, rest = text.split(marker_start, 1)
        _, after = rest.split(marker_end, 1)
        text = before + section + after
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    REPORT.write_text(text)


def dump(obj: object) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, default=str)
