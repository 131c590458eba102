"""Python time of the activity write paths' pure parts, without a database: robust on a busy machine.

.venv/bin/python bench/bench_activity_python.py [--repeat 7]
(run it once per version: PYTHONPATH=PREVIOUS/src for the previous one)

Each measure is the best of ``--repeat`` runs (the least disturbed by other processes),
in µs per activity:

- ``file_prepare``: a batch of 20,000 lines of the activity file bench_api.py imports,
  cleaned as a worker process of ``cordee import --activities`` cleans it
  (``activity_lines_prepare``; where the version can, with each line's COPY text, and
  ``file_prepare_values_only`` without);
- ``api_values``: the values and customer keys of 5,000 items of a bulk API call, as
  ``_submit`` reads them (``_check_item``, ``activity_values``, ``_keys_of``);
- ``copy_rows``: their rows in COPY text as the writer makes them (``_copy_row``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import tempfile
import time
from collections.abc import Callable

from bench_api import activities_file


def best(repeat: int, count: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return min(times) * 1e6 / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    os.environ.setdefault("CORDEE_HOME", tempfile.mkdtemp(prefix="cordee-bench-py-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordee.settings")
    import django

    django.setup()
    import datetime as dt

    from cordee.activities import api, imports, services
    from cordee.activities.columns import recognise_activity_columns
    from cordee.activities.values import activity_values

    out: dict[str, float] = {}
    path = activities_file(20_000, 20_000)
    with path.open(encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter=";")
        headers = next(reader)
        rows = [(n + 2, cells, None) for n, cells in enumerate(reader)]
    plan = recognise_activity_columns(headers)
    context = imports.LineContext(fields=list(plan.fields.items()), default_kind=None)
    if hasattr(context, "copy_text"):  # this version can also make each line's COPY text there
        out["file_prepare_values_only"] = best(
            args.repeat, len(rows), lambda: imports.activity_lines_prepare(context, rows)
        )
        context = imports.LineContext(fields=context.fields, default_kind=None, copy_text=True)
    prepared = imports.activity_lines_prepare(context, rows)
    assert len(prepared.lines) == len(rows), prepared.errors[:3]
    out["file_prepare"] = best(
        args.repeat, len(rows), lambda: imports.activity_lines_prepare(context, rows)
    )

    items = [
        {
            "customer_external_id": f"C{(j * 7919) % 20_000}",
            "kind": "ticket",
            "starts_on": f"2026-01-{1 + j % 28:02}",
            "amount": "42.00",
            "external_id": f"Q-{j}",
        }
        for j in range(5_000)
    ]
    items = json.loads(json.dumps(items))

    def api_values() -> None:
        for raw in items:
            item, errors = api._check_item(raw)
            assert not errors
            activity_values(item)
            api._keys_of(item)

    out["api_values"] = best(args.repeat, len(items), api_values)
    now = dt.datetime.now(dt.UTC)
    rows_out = [
        services._row(
            services.NewActivity(customer_id=7, values=activity_values(item).values),
            partner_id=2,
            channel="api",
            batch_id=None,
            season_id=3,
            now=now,
        )
        for item in items
    ]
    for n, row in enumerate(rows_out):
        row[0] = n + 1
    out["copy_rows"] = best(
        args.repeat, len(rows_out), lambda: [services._copy_row(row) for row in rows_out]
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
