"""How fast the demo generator makes people, partner files and benchmark files.

    .venv/bin/python bench/bench_demo_generator.py [--people 300000] [--lines 300000]
        [--customers 100000] [--repeat 3]

Prints people/s, lines/s for the single benchmark file and lines/s for the whole demo
(one file per partner). CPU time is shown beside wall time: on a shared machine the wall
clock also counts the neighbours. The best of --repeat runs is kept.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cordee.collect.normalise import all_communes
from cordee.demo.files import build_demo_files, write_bench_file
from cordee.demo.people import generate_people


def _best(runs: int, work: Callable[[], int]) -> tuple[int, float, float]:
    """(count, best wall seconds, best CPU seconds) over `runs` runs of `work`."""
    walls, cpus, count = [], [], 0
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        count = work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return count, min(walls), min(cpus)


def _report(label: str, unit: str, count: int, wall: float, cpu: float) -> None:
    print(
        f"{label:<28} {count:>10,} {unit:<7} {count / wall:>10,.0f} {unit}/s wall"
        f"   {count / cpu:>10,.0f} {unit}/s CPU"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=300_000)
    parser.add_argument("--lines", type=int, default=300_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for _ in all_communes():  # load the commune list once, outside the timings
        break

    def people() -> int:
        return sum(1 for _ in generate_people(args.people, seed=1))

    _report("generate_people", "people", *_best(args.repeat, people))

    with tempfile.TemporaryDirectory(prefix="cordee-bench-") as folder:
        directory = Path(folder)

        def bench_file() -> int:
            write_bench_file(directory / "bench.csv", lines=args.lines, seed=1)
            return args.lines

        _report("write_bench_file", "lines", *_best(args.repeat, bench_file))

        def demo() -> int:
            built = build_demo_files(directory / "demo", customers=args.customers, seed=1)
            return sum(file.lines for file in built.files)

        _report(f"build_demo_files ({args.customers:,})", "lines", *_best(1, demo))


if __name__ == "__main__":
    main()
