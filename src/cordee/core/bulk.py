"""Set-based writes for the bulk paths (ARCHITECTURE.md, rule 5).

Ids are allocated up front so that rows referring to each other (a customer and the source
record its provenance points at) can be written in one pass, with PostgreSQL's COPY where it
runs and a plain ``executemany`` on SQLite.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, connection, models

from cordee.core.prepared import prepared_cursor


def _with_json(
    row: Sequence[Any], positions: Sequence[int], stored: Sequence[tuple[int, Any]] = ()
) -> list[Any]:
    """JSON columns as text, encrypted columns as stored (cordee.privacy.fields).

    A str given for a JSON column is taken as the column's text already (serialised, and
    encrypted if the column is, e.g. by a worker process).
    """
    out = list(row)
    for i, store in stored:
        out[i] = store(out[i])
    for i in positions:
        if not isinstance(out[i], str):
            out[i] = json.dumps(out[i], ensure_ascii=False, default=str)
    return out


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def needs_copy_escape(text: str) -> bool:
    """Whether ``text`` has a character that COPY's text format escapes.

    Four substring searches rather than one regular expression (a class of the four): on the long
    texts of a bulk write (ciphertexts, JSON) the expression engine, testing a character
    class one character at a time, cost ~15 times more (~30 µs for a 1,000-character text
    on a loaded machine, against ~2).
    """
    return "\\" in text or "\t" in text or "\n" in text or "\r" in text


COPY_NULL = "\\N"
# json.dumps(value, ensure_ascii=False) builds an encoder per call; this one is made once.
json_text = json.JSONEncoder(ensure_ascii=False, default=str).encode


def copy_value(value: Any) -> str:
    """One value in PostgreSQL's COPY text format (lists and dicts as JSON)."""
    if value is None:
        return COPY_NULL
    # The exact types first (a million rows have a few dozen values each); subclasses
    # (bool, str's) take the general path below.
    cls = value.__class__
    if cls is int or cls is float:
        return str(value)
    if cls is list and not value:
        return "[]"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.translate(_COPY_ESCAPES)
        return value
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dt.date):  # and datetime
        return value.isoformat()
    if value == []:
        return "[]"
    return copy_value(json_text(value))


def copy_line(values: Sequence[Any]) -> str:
    """A row in COPY text format, without its final newline (so that pieces can be joined)."""
    # One scan over all the text values: few rows have one that needs escaping.
    if not needs_copy_escape("".join([v for v in values if v.__class__ is str])):
        return "\t".join([v if v.__class__ is str else copy_value(v) for v in values])
    return "\t".join([copy_value(v) for v in values])


def copy_lines(model: type[models.Model], fields: Sequence[str], lines: Iterable[str]) -> int:
    """PostgreSQL only: COPY rows already formatted by :func:`copy_line` (each ending in a newline).

    Formatting can then happen anywhere (in worker processes); this only streams text.
    """
    assert connection.vendor == "postgresql"
    table = connection.ops.quote_name(model._meta.db_table)
    quoted = ", ".join(connection.ops.quote_name(_column_name(model, f)) for f in fields)
    count = 0
    block: list[str] = []
    with (
        connection.cursor() as cur,
        cur.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy,
    ):
        for line in lines:
            block.append(line)
            if len(block) >= 2_000:
                copy.write("".join(block))
                count += len(block)
                block.clear()
        if block:
            copy.write("".join(block))
            count += len(block)
    return count


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """Reserve ``count`` primary keys for ``model``. Call inside the write transaction."""
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # The values are taken one by one (nextval is the only allocation that is safe
            # against every other writer), but only their range crosses the wire when, as
            # nearly always, nobody else took a value in between.
            # The sequence is named once: pg_get_serial_sequence in the select list ran for
            # every value (a third of the cost of 5,000 ids).
            cur.execute(
                "SELECT min(v), max(v) FROM (SELECT nextval(seq) AS v FROM "
                "(SELECT pg_get_serial_sequence(%s, 'id')::regclass AS seq OFFSET 0) AS q, "
                "generate_series(1, %s)) AS s",
                [table, count],
            )
            low, high = cur.fetchone()
            if high - low + 1 == count:
                return list(range(low, high + 1))
            cur.execute(
                "SELECT nextval(seq) FROM (SELECT pg_get_serial_sequence(%s, 'id')::regclass "
                "AS seq OFFSET 0) AS q, generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cur.fetchall()]
        # SQLite: the transaction began IMMEDIATE, so we hold the write lock and nobody
        # else can take the same ids between this read and our insert.
        cur.execute(f'SELECT COALESCE(MAX("id"), 0) FROM "{table}"')  # noqa: S608
        top = cur.fetchone()[0]
        cur.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cur.fetchone()
        if row and row[0] and row[0] > top:
            top = row[0]
    return list(range(top + 1, top + 1 + count))


def hold_parents(model: type[models.Model], ids: Iterable[int]) -> None:
    """Keep the rows ``ids`` of ``model`` from being deleted until the transaction ends.

    What a foreign key's check does for each inserted row (``FOR KEY SHARE`` on its parent),
    once per call for the bulk-written tables whose foreign keys have no database constraint
    (docs/data-model.md). A row already deleted by another transaction (an erasure, a merge
    that committed first) makes the write fail, as the constraint would have.
    """
    hold_rows({model: ids})


def hold_rows(
    wanted: Mapping[type[models.Model], Iterable[int | None]], *, prepared: bool = False
) -> None:
    """:func:`hold_parents` for the parents of several tables, in one statement on PostgreSQL.

    ``None`` ids (a nullable key left empty) are skipped. ``prepared``: a statement the
    caller runs on every call with a few ids (cordee.core.prepared).
    """
    asked = {model: sorted({i for i in ids if i is not None}) for model, ids in wanted.items()}
    asked = {model: ids for model, ids in asked.items() if ids}
    if not asked:
        return
    found: dict[type[models.Model], set[int]] = {model: set() for model in asked}
    qn = connection.ops.quote_name
    with prepared_cursor() if prepared else connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # One CTE per table (FOR KEY SHARE cannot go under a UNION); the ids come back
            # tagged with their table's position.
            models_in = list(asked)
            parts = [
                f'h{n} AS (SELECT "id" FROM {qn(m._meta.db_table)} WHERE "id" = ANY(%s::bigint[]) '  # noqa: S608
                'ORDER BY "id" FOR KEY SHARE)'
                for n, m in enumerate(models_in)
            ]
            union = " UNION ALL ".join(f"SELECT {n}, id FROM h{n}" for n in range(len(models_in)))  # noqa: S608
            cur.execute(
                f"WITH {', '.join(parts)} {union}", [int_array(asked[m]) for m in models_in]
            )
            for n, row_id in cur.fetchall():
                found[models_in[n]].add(row_id)
        else:
            # SQLite: the transaction began IMMEDIATE and holds the database's write lock.
            for model, ids in asked.items():
                table = qn(model._meta.db_table)
                for part in chunked(ids, 10_000):
                    cur.execute(
                        f'SELECT "id" FROM {table} WHERE "id" IN ({", ".join(["%s"] * len(part))})',  # noqa: S608
                        list(part),
                    )
                    found[model].update(row[0] for row in cur.fetchall())
    for model, ids in asked.items():
        missing = [i for i in ids if i not in found[model]]
        if missing:
            raise IntegrityError(
                f"{model._meta.label}: rows {missing[:10]} do not exist "
                "(deleted by another transaction, or never written)"
            )


def _column(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    return model._meta.get_field(name)  # type: ignore[return-value]


def _stored(model: type[models.Model], fields: Sequence[str]) -> list[tuple[int, Any]]:
    """(position, field.stored) of the encrypted columns among ``fields``."""
    return [
        (i, store)
        for i, f in enumerate(fields)
        if (store := getattr(_column(model, f), "stored", None)) is not None
    ]


def _column_name(model: type[models.Model], name: str) -> str:
    column = _column(model, name).column
    assert column is not None
    return column


def bulk_insert(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert plain value tuples (JSON fields given as Python objects) without ORM instances."""
    columns = [_column_name(model, f) for f in fields]
    json_positions = [
        i for i, f in enumerate(fields) if isinstance(_column(model, f), models.JSONField)
    ]
    stored = _stored(model, fields)
    table = connection.ops.quote_name(model._meta.db_table)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    count = 0
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            raw = cur.cursor  # the psycopg cursor underneath Django's wrapper
            with raw.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    if json_positions or stored:
                        row = _with_json(row, json_positions, stored)
                    copy.write_row(row)
                    count += 1
            return count
        placeholders = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({quoted}) VALUES ({placeholders})"  # noqa: S608
        prepared = []
        for row in rows:
            prepared.append(
                _with_json(row, json_positions, stored) if json_positions or stored else row
            )
        if prepared:
            cur.executemany(sql, prepared)
        return len(prepared)


def chunked[T](items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def bulk_update_rows(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """UPDATE ... WHERE id = last value of each row, for many rows at once.

    PostgreSQL gets one statement joining arrays of values (one per column); SQLite an
    ``executemany``.
    """
    columns = [_column_name(model, f) for f in fields]
    json_positions = [
        i for i, f in enumerate(fields) if isinstance(_column(model, f), models.JSONField)
    ]
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    stored = _stored(model, fields)
    prepared = [_with_json(row, json_positions, stored) for row in rows]
    if not prepared:
        return 0
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            types = [_column(model, f).db_type(connection) for f in fields]
            types.append(model._meta.pk.db_type(connection))
            names = [f"c{i}" for i in range(len(types))]
            arrays = ", ".join(f"%s::{t}[]" for t in types)
            assignments = ", ".join(
                f"{qn(c)} = v.{n}" for c, n in zip(columns, names, strict=False)
            )
            sql = (
                f"UPDATE {table} SET {assignments} FROM unnest({arrays}) "  # noqa: S608
                f'AS v({", ".join(names)}) WHERE {table}."id" = v.{names[-1]}'
            )
            cur.execute(sql, [list(column) for column in zip(*prepared, strict=True)])
        else:
            assignments = ", ".join(f"{qn(c)} = %s" for c in columns)
            sql = f'UPDATE {table} SET {assignments} WHERE "id" = %s'  # noqa: S608
            cur.executemany(sql, prepared)
    return len(prepared)


_ARRAY_SAFE = re.compile(r"[0-9A-Za-z_.@+-]+")


_ARRAY_ALL_SAFE = re.compile(r"[0-9A-Za-z_.@+-]+(?:,[0-9A-Za-z_.@+-]+)*")


def text_array(values: Iterable[str]) -> str:
    """A PostgreSQL text[] literal; every element quoted unless plainly safe."""
    values = list(values)
    joined = ",".join(values)
    # One scan for the usual list (references, ids: all plainly safe, none the word NULL).
    if _ARRAY_ALL_SAFE.fullmatch(joined) and "NULL" not in joined.upper():
        return "{" + joined + "}"
    items = []
    for value in values:
        if _ARRAY_SAFE.fullmatch(value) and value.upper() != "NULL":
            items.append(value)
        else:
            items.append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(items) + "}"


def int_array(values: Iterable[int]) -> str:
    """A PostgreSQL integer array literal: one text parameter, where psycopg would adapt a list
    of thousands of numbers one by one, in Python."""
    # int() first: a stray text can never become part of the literal.
    return "{" + ",".join(map(str, map(int, values))) + "}"


def select_in(
    sql: str,
    params: Sequence[Any],
    values: Sequence[Any],
    chunk: int = 5_000,
    *,
    prepared: bool = False,
) -> list[tuple[Any, ...]]:
    """Run ``sql`` (with a ``{values}`` slot after a column) for many values, without ORM overhead.

    PostgreSQL gets one array parameter (``= ANY(%s)``); SQLite gets chunks of placeholders.
    ``prepared``: a statement run on every call with a few text values (cordee.core.prepared).
    """
    rows: list[tuple[Any, ...]] = []
    if not values:
        return rows
    prepared = prepared and all(value.__class__ is str for value in values)
    with prepared_cursor() if prepared else connection.cursor() as cur:
        if connection.vendor == "postgresql":
            if all(value.__class__ is str for value in values):
                # One array literal: psycopg adapts a list element by element, in Python.
                cur.execute(sql.format(values="= ANY(%s::text[])"), [*params, text_array(values)])
            else:
                cur.execute(sql.format(values="= ANY(%s)"), [*params, list(values)])
            return list(cur.fetchall())
        for start in range(0, len(values), chunk):
            part = values[start : start + chunk]
            slot = "IN (" + ", ".join(["%s"] * len(part)) + ")"
            cur.execute(sql.format(values=slot), [*params, *part])
            rows.extend(cur.fetchall())
    return rows


# Each value found through the index, one probe per value (a nested loop over the list).
_PROBE_PLANS = ("enable_seqscan", "enable_bitmapscan", "enable_hashjoin", "enable_mergejoin")
_PROBE_SET = "SELECT " + ", ".join(f"set_config('{name}', %s, true)" for name in _PROBE_PLANS)


def select_keys(
    sql: str, params: Sequence[Any], values: Sequence[str], chunk: int = 5_000
) -> list[tuple[Any, ...]]:
    """Look many text keys up through an index: ``sql`` joins a one-column table ``k(v)`` of them.

    ``sql`` has a ``{keys}`` slot where that table goes (``FROM {keys} JOIN t ON t.col = k.v``).
    On PostgreSQL the keys are an ``unnest`` of one array, and the plan is forced to probe
    the index once per key: left to itself the planner often reads the whole table for a
    long list (its estimate is poor, and a table an import is filling has no statistics
    yet), and every batch would take longer as the table grows. ``values`` best sorted:
    the probes then walk the index in order. SQLite gets chunks of VALUES.
    """
    rows: list[tuple[Any, ...]] = []
    if not values:
        return rows
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(_PROBE_SET, ["off"] * len(_PROBE_PLANS))
            cur.execute(
                sql.format(keys="unnest(%s::text[]) AS k(v)"), [text_array(values), *params]
            )
            rows = list(cur.fetchall())
            cur.execute(_PROBE_SET, ["on"] * len(_PROBE_PLANS))
            return rows
        for start in range(0, len(values), chunk):
            part = values[start : start + chunk]
            slot = (
                "(SELECT column1 AS v FROM (VALUES " + ", ".join(["(%s)"] * len(part)) + ")) AS k"  # noqa: S608
            )
            cur.execute(sql.format(keys=slot), [*part, *params])
            rows.extend(cur.fetchall())
    return rows


def insert_ignore(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    conflict: Sequence[str],
    update: Sequence[str] = (),
    chunk: int = 5_000,
) -> None:
    """INSERT many rows, skipping (or, for ``update`` columns, refreshing) those that already exist."""
    if not rows:
        return
    columns = [_column_name(model, f) for f in fields]
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    target = ", ".join(qn(_column_name(model, f)) for f in conflict)
    if update:
        sets = ", ".join(
            f"{qn(_column_name(model, f))} = excluded.{qn(_column_name(model, f))}" for f in update
        )
        action = f"DO UPDATE SET {sets}"
    else:
        action = "DO NOTHING"
    quoted = ", ".join(qn(c) for c in columns)
    if stored := _stored(model, fields):
        rows = [_with_json(row, (), stored) for row in rows]
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # One array per column: the statement stays small whatever the number of rows.
            types = [_column(model, f).db_type(connection) for f in fields]
            arrays = ", ".join(f"%s::{t}[]" for t in types)
            sql = f"INSERT INTO {table} ({quoted}) SELECT * FROM unnest({arrays}) ON CONFLICT ({target}) {action}"  # noqa: S608
            cur.execute(sql, [list(column) for column in zip(*rows, strict=True)])
            return
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(part))
            sql = f"INSERT INTO {table} ({quoted}) VALUES {values} ON CONFLICT ({target}) {action}"  # noqa: S608
            cur.execute(sql, [v for row in part for v in row])


_GC_LOCK = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = True


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector held off while a bulk write builds its objects.

    A call of 5,000 activities makes tens of thousands of dicts, lists and tuples, all alive
    until it returns: each 700 of them started a collection, and the older generations'
    collections walked the whole process (Django and all its modules) again and again, about
    a fifth of the call's Python time. Reference counting still frees what the call drops;
    only cycles wait until the end, when the collector is switched back on (by the last of
    the threads that paused it: gunicorn's threads share one collector).
    """
    global _gc_pauses, _gc_was_enabled
    with _GC_LOCK:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()
