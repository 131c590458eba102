"""Write paths for activities: one, or many at once (API bulk, file import), the same rules.

An activity with a reference (``external_id``) is recognised when it comes again from the
same partner for the same kind: unchanged, it is left alone; changed (a booking moved), it
is updated. Its season is set on write. Each call is one transaction with one audit row,
and ``activities_changed`` is sent once it has committed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.activities.models import Activity, Season
from cordee.activities.seasons import SeasonFinder
from cordee.activities.values import activity_values
from cordee.collect.models import ImportBatch
from cordee.core.bulk import (
    allocate_ids,
    bulk_update_rows,
    copy_line,
    copy_lines,
    copy_value,
    hold_rows,
    json_text,
    needs_copy_escape,
    select_in,
    text_array,
)
from cordee.core.prepared import prepared_cursor
from cordee.core.signals import activities_changed, activities_written
from cordee.customers.models import Channel, Customer, SourceRecord
from cordee.partners.models import Partner, User
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_insert_parts, audit_log

# The columns a write sets, in this order (created_at is added on insert).
COLUMNS = (
    "id", "customer", "partner", "source_record", "kind", "channel", "external_id",
    "starts_on", "ends_on", "season", "amount", "currency", "quantity", "payment_means",
    "product", "satisfaction", "details", "due_on", "owner", "done_at", "batch", "created_at",
)  # fmt: skip
# What is compared to tell an unchanged activity from a changed one, and updated.
COMPARED = (
    "customer", "starts_on", "ends_on", "season", "amount", "currency", "quantity",
    "payment_means", "product", "satisfaction", "details", "due_on",
)  # fmt: skip
_SQLITE_CHUNK = 400  # rows per INSERT: SQLite allows 32,766 parameters per statement


@dataclass
class NewActivity:
    """One activity to write, already cleaned (see ``values.activity_values``)."""

    customer_id: int
    values: dict[str, Any]
    source_record_id: int | None = None
    owner_id: int | None = None
    # ``values`` in COPY text, the MIDDLE columns only (see copy_middle): made where the
    # values were cleaned (a worker process of the file import), so the writer only adds
    # the ids. None: the writer formats the row itself.
    copy_text: str | None = None


@dataclass
class Written:
    status: str  # created, updated, unchanged, duplicate
    activity_id: int | None
    row: list[Any] | None = None  # a created activity's row, in COLUMNS order


# Each result starts as this one and is replaced (never changed in place) once known.
_PENDING = Written("created", None)


@dataclass
class BulkWritten:
    results: list[Written] = field(default_factory=list)
    customer_ids: set[int] = field(default_factory=set)
    season_codes: dict[int, str] = field(default_factory=dict)

    def activity(self, index: int) -> Activity | None:
        """The activity item ``index`` created, as written (no query), or None."""
        row = self.results[index].row
        if row is None:
            return None
        values = {_ATTNAMES[name]: value for name, value in zip(COLUMNS, row, strict=True)}
        if isinstance(values["details"], str):  # serialised for SQLite's INSERT
            values["details"] = json.loads(values["details"])
        return Activity(**values)

    def count(self, status: str) -> int:
        return self.counts()[status]

    def counts(self) -> Counter[str]:
        """How many results have each status, in one pass."""
        return Counter([r.status for r in self.results])


def _row(
    item: NewActivity,
    *,
    partner_id: int,
    channel: str,
    batch_id: int | None,
    season_id: int | None,
    now: dt.datetime,
) -> list[Any]:
    v = item.values
    get = v.get
    return [
        None, item.customer_id, partner_id, item.source_record_id, v["kind"], channel,
        get("external_id", ""), v["starts_on"], get("ends_on"), season_id, get("amount"),
        get("currency", "EUR"), get("quantity"), get("payment_means", ""),
        get("product", ""), get("satisfaction"), get("details") or {}, get("due_on"),
        item.owner_id, None, batch_id, now,
    ]  # fmt: skip


_POS = {name: i for i, name in enumerate(COLUMNS)}
_ATTNAMES = {name: Activity._meta.get_field(name).attname for name in COLUMNS}  # type: ignore[union-attr]


def activities_record_bulk(
    *,
    partner: Partner,
    items: Sequence[NewActivity],
    actor: Actor,
    channel: str = Channel.API,
    batch_id: int | None = None,
    ip: str | None = None,
    audit: bool = True,
) -> BulkWritten:
    """Write many cleaned activities for ``partner``; one result per item, in order.

    The caller has resolved each item's customer (and checked that the actor may write for
    it). Within one call, a second item with the same kind and reference as an earlier one
    is a ``duplicate`` and is not written.
    """
    out = BulkWritten(results=[_PENDING] * len(items))
    if not items:
        return out
    channel = str(channel)  # the value, not the TextChoices member: rows are formatted by type
    # Read per call (two tiny queries): a cached copy could outlive a rolled-back season.
    finder = SeasonFinder()
    now = timezone.now()
    rows: list[list[Any]] = []
    positions: list[int] = []
    seen: dict[tuple[str, str], int] = {}
    partner_id, season_of = partner.pk, finder.season_id
    kind_at, reference_at = _POS["kind"], _POS["external_id"]
    texts: dict[int, str] = {}
    for i, item in enumerate(items):
        row = _row(
            item,
            partner_id=partner_id,
            channel=channel,
            batch_id=batch_id,
            season_id=season_of(item.values["starts_on"]),
            now=now,
        )
        kind, reference = row[kind_at], row[reference_at]
        if reference:
            key = (kind, reference)
            if key in seen:
                out.results[i] = Written("duplicate", None)
                continue
            seen[key] = i
        rows.append(row)
        positions.append(i)
        if item.copy_text is not None and item.owner_id is None:
            texts[i] = item.copy_text
    audit_details: dict[str, Any] = {
        "partner": partner.slug,
        "channel": channel,
        "records": len(items),
    }
    with transaction.atomic():
        if len(rows) == 1 and len(items) == 1 and connection.vendor == "postgresql":
            # One activity (the API's single POST): inserted first, with its audit entry in
            # the same statement; only a reference already known goes the way below.
            _hold_parents(partner.pk, rows, batch_id, prepared=True)
            new_id = _insert_one(rows[0], audit=(actor, ip, audit_details) if audit else None)
            if new_id is not None:
                rows[0][0] = new_id
                out.results[0] = Written("created", new_id, rows[0])
                out.customer_ids.add(rows[0][_POS["customer"]])
                _changed(out)
                out.season_codes = {s.pk: s.code for s in finder.seasons}
                return out
        existing = _existing(partner.pk, set(seen))
        inserts: list[tuple[int, list[Any]]] = []
        updates: list[list[Any]] = []
        for position, row in zip(positions, rows, strict=True):
            known = existing.get((row[_POS["kind"]], row[_POS["external_id"]]))
            if known is None:
                inserts.append((position, row))
                continue
            activity_id, stored = known
            fresh = [row[_POS[name]] for name in COMPARED]
            if _same(stored, fresh):
                out.results[position] = Written("unchanged", activity_id)
            else:
                updates.append([*fresh, activity_id])
                out.results[position] = Written("updated", activity_id)
                out.customer_ids.add(stored[0])
            out.customer_ids.add(row[_POS["customer"]])
        _hold_parents(partner.pk, [row for _p, row in inserts], batch_id, updates)
        _insert(inserts, out, texts)
        if updates:
            bulk_update_rows(Activity, COMPARED, updates)
        if audit:
            audit_log(actor=actor, action="activity.record", ip=ip, **audit_details, **_counts(out))
        _changed(out)
    out.season_codes = {s.pk: s.code for s in finder.seasons}
    return out


def _hold_parents(
    partner_id: int,
    rows: list[list[Any]],
    batch_id: int | None,
    updates: list[list[Any]] | None = None,
    *,
    prepared: bool = False,
) -> None:
    """The foreign keys of activities have no database constraint (docs/data-model.md): the
    rows that the new rows (and the updated ones, ``COMPARED`` values) name are held here,
    one statement per call; one deleted meanwhile, or that never existed, fails the call as
    the constraint would have."""
    if not rows and not updates:
        return
    customer, season, source = _POS["customer"], _POS["season"], _POS["source_record"]
    customers = {row[customer] for row in rows}
    seasons = {row[season] for row in rows}
    for update in updates or ():
        customers.add(update[_UPDATED_CUSTOMER])
        seasons.add(update[_UPDATED_SEASON])
    hold_rows(
        {
            Partner: [partner_id],
            Customer: customers,
            Season: seasons,
            SourceRecord: {row[source] for row in rows},
            ImportBatch: [batch_id] if rows else [],
        },
        prepared=prepared,
    )


_UPDATED_CUSTOMER = COMPARED.index("customer")
_UPDATED_SEASON = COMPARED.index("season")


def _counts(out: BulkWritten) -> dict[str, Any]:
    counts = out.counts()
    return {s: counts[s] for s in ("created", "updated", "unchanged", "duplicate")}


def _changed(out: BulkWritten) -> None:
    """Inside the write's transaction: tell the aggregates which customers changed."""
    changed = sorted(out.customer_ids)
    if changed:
        activities_written.send(sender=Activity, customer_ids=changed)
        transaction.on_commit(
            lambda: activities_changed.send(
                sender=Activity, customer_ids=changed, stale_marked=True
            )
        )


def _same(stored: Sequence[Any], fresh: Sequence[Any]) -> bool:
    for a, b in zip(stored, fresh, strict=True):
        if a != b and not (a in (None, {}) and b in (None, {})):
            return False
    return True


def _existing(
    partner_id: int, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, list[Any]]]:
    if not keys:
        return {}
    qn = connection.ops.quote_name
    columns = ", ".join(qn(_column(n)) for n in COMPARED)
    table = qn(Activity._meta.db_table)
    kinds = sorted({kind for kind, _ref in keys})
    kind_in = f"kind IN ({', '.join(['%s'] * len(kinds))})"
    found: dict[tuple[str, str], tuple[int, list[Any]]] = {}
    details = COMPARED.index("details")
    references = sorted({ref for _kind, ref in keys})
    if connection.vendor == "postgresql":
        # One probe of the unique index (partner, kind, reference, and its predicate) per
        # reference, whatever the statistics say: a plain ``= ANY`` read every activity of
        # the partner's kinds (180 ms for a bulk call on a table of 340,000 rows, growing
        # with it), and a join let the planner, misled by a freshly filled table, do as bad
        # (OFFSET 0 keeps the subquery from being flattened into such a join).
        sql = (
            f"SELECT a.* FROM unnest(%s::text[]) AS k(v) CROSS JOIN LATERAL ("  # noqa: S608
            f"SELECT id, kind, external_id, {columns} FROM {table} WHERE partner_id = %s "
            f"AND {kind_in} AND external_id = k.v AND external_id <> '' OFFSET 0) a"
        )
        with connection.cursor() as cur:
            cur.execute(sql, [text_array(references), partner_id, *kinds])
            rows = cur.fetchall()
    else:
        sql = (
            f"SELECT id, kind, external_id, {columns} FROM {table} "  # noqa: S608
            f"WHERE partner_id = %s AND external_id <> '' AND {kind_in} AND external_id {{values}}"
        )
        rows = select_in(sql, [partner_id, *kinds], references)
    for activity_id, kind, reference, *stored in rows:
        if isinstance(stored[details], str):  # SQLite returns JSON as text
            stored[details] = json.loads(stored[details])
        found[(kind, reference)] = (activity_id, stored)
    return found


def _insert(
    inserts: list[tuple[int, list[Any]]], out: BulkWritten, texts: dict[int, str] | None = None
) -> None:
    """INSERT the new rows; one that lost a race to a concurrent write is counted unchanged.

    ``texts``: the rows' COPY text made in advance (``NewActivity.copy_text``), by position."""
    if not inserts:
        return
    if len(inserts) == 1:  # the API's single POST: one statement, the id from the sequence
        position, row = inserts[0]
        new_id = _insert_one(row)
        if new_id is None:
            out.results[position] = Written("unchanged", None)
        else:
            row[0] = new_id
            out.results[position] = Written("created", new_id, row)
            out.customer_ids.add(row[_POS["customer"]])
        return
    ids = allocate_ids(Activity, len(inserts))
    for new_id, (_position, row) in zip(ids, inserts, strict=True):
        row[0] = new_id
    made: list[str] | None = None
    if texts and all(p in texts for p, _row in inserts):
        made = [texts[p] for p, _row in inserts]
    inserted = _insert_rows([row for _p, row in inserts], made)
    for position, row in inserts:
        if row[0] in inserted:
            out.results[position] = Written("created", row[0], row)
            out.customer_ids.add(row[_POS["customer"]])
        else:
            out.results[position] = Written("unchanged", None)


def _insert_one(
    row: list[Any], audit: tuple[Actor, str | None, dict[str, Any]] | None = None
) -> int | None:
    """INSERT one row without its id; the new id, or None when its reference is already
    known (or a concurrent write of the same reference got there first).

    With ``audit`` (PostgreSQL), the statement also writes the call's audit entry, counted
    as one created activity, when — and only when — the row is inserted."""
    values = list(row[1:])
    details = _POS["details"] - 1
    values[details] = json.dumps(values[details], ensure_ascii=False, default=str)
    if connection.vendor != "postgresql":
        values = [_sqlite_value(v) for v in values]
    sql = _INSERT_ONE_SQL.get(connection.vendor)
    if sql is None:
        qn = connection.ops.quote_name
        names = COLUMNS[1:]
        sql = _INSERT_ONE_SQL[connection.vendor] = (
            f"INSERT INTO {qn(Activity._meta.db_table)} ({', '.join(qn(_column(n)) for n in names)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(names))}) ON CONFLICT DO NOTHING RETURNING id"
        )
    if audit is not None:
        actor, ip, audit_details = audit
        columns, slots, params = audit_insert_parts(
            actor=actor,
            action="activity.record",
            ip=ip,
            **audit_details,
            created=1,
            updated=0,
            unchanged=0,
            duplicate=0,
        )
        sql = (
            f"WITH inserted AS ({sql}), "  # noqa: S608
            f"audited AS ({columns} SELECT {slots} FROM inserted) "
            "SELECT id FROM inserted"
        )
        values += params
    with prepared_cursor() as cur:  # the single POST's statement, on every call
        cur.execute(sql, values)
        found = cur.fetchone()
    return int(found[0]) if found else None


_INSERT_ONE_SQL: dict[str, str] = {}


def _column(name: str) -> str:
    column = Activity._meta.get_field(name).column  # type: ignore[union-attr]
    assert column is not None
    return column


_AMOUNT = _POS["amount"]
_NULL = "\\N"


def _copy_row_generic(row: list[Any]) -> str:
    values = list(row)
    if values[_AMOUNT] is not None:
        values[_AMOUNT] = str(values[_AMOUNT])
    return copy_line(values) + "\n"


def _copy_row(row: list[Any]) -> str:
    """One activity row in COPY text format: what ``copy_line`` gives, column types known
    in advance (a bulk call formats tens of thousands of them)."""
    (
        id_, customer, partner, source, kind, channel, reference, starts, ends, season, amount,
        currency, quantity, payment, product, satisfaction, details, due, owner, done, batch,
        created,
    ) = row  # fmt: skip
    if (
        kind.__class__ is not str
        or channel.__class__ is not str
        or reference.__class__ is not str
        or currency.__class__ is not str
        or payment.__class__ is not str
        or product.__class__ is not str
        or starts.__class__ is not dt.date
        or (ends is not None and ends.__class__ is not dt.date)
        or (due is not None and due.__class__ is not dt.date)
        or needs_copy_escape(kind + channel + reference + currency + payment + product)
    ):
        return _copy_row_generic(row)
    return "\t".join(
        (
            str(id_), str(customer), str(partner), _NULL if source is None else str(source),
            kind, channel, reference, starts.isoformat(),
            _NULL if ends is None else ends.isoformat(), _NULL if season is None else str(season),
            _NULL if amount is None else str(amount), currency,
            _NULL if quantity is None else str(quantity), payment, product,
            _NULL if satisfaction is None else str(satisfaction),
            copy_value(json_text(details)) if details else "{}",
            _NULL if due is None else due.isoformat(), _NULL if owner is None else str(owner),
            _NULL if done is None else done.isoformat(), _NULL if batch is None else str(batch),
            created.isoformat(),
        )
    ) + "\n"  # fmt: skip


# The columns of copy_middle's text, and the order in which the writer sends a row made
# with it: the ids first, that text, then what is the same for the whole call.
MIDDLE = (
    "kind", "external_id", "starts_on", "ends_on", "amount", "currency", "quantity",
    "payment_means", "product", "satisfaction", "details", "due_on",
)  # fmt: skip
_BY_PARTS = ("id", "customer", "source_record", "season", *MIDDLE, "partner", "channel", "batch",
             "created_at")  # fmt: skip


def copy_middle(values: dict[str, Any]) -> str:
    """The MIDDLE columns of a row of cleaned ``values`` in COPY text (as ``_copy_row``)."""
    get = values.get
    kind, reference, starts = values["kind"], get("external_id", ""), values["starts_on"]
    ends, amount, currency = get("ends_on"), get("amount"), get("currency", "EUR")
    quantity, payment, product = get("quantity"), get("payment_means", ""), get("product", "")
    satisfaction, details, due = get("satisfaction"), get("details"), get("due_on")
    if (
        kind.__class__ is not str
        or reference.__class__ is not str
        or currency.__class__ is not str
        or payment.__class__ is not str
        or product.__class__ is not str
        or starts.__class__ is not dt.date
        or (ends is not None and ends.__class__ is not dt.date)
        or (due is not None and due.__class__ is not dt.date)
        or (amount is not None and amount.__class__ is not Decimal)
        or (quantity is not None and quantity.__class__ is not int)
        or (satisfaction is not None and satisfaction.__class__ is not int)
        or needs_copy_escape(kind + reference + currency + payment + product)
    ):
        middle = (
            kind, reference, starts, ends, amount, currency, quantity, payment, product,
            satisfaction, details or {}, due,
        )  # fmt: skip
        return "\t".join([str(v) if v.__class__ is Decimal else copy_value(v) for v in middle])
    return "\t".join(
        (
            kind, reference, starts.isoformat(), _NULL if ends is None else ends.isoformat(),
            _NULL if amount is None else str(amount), currency,
            _NULL if quantity is None else str(quantity), payment, product,
            _NULL if satisfaction is None else str(satisfaction),
            copy_value(json_text(details)) if details else "{}",
            _NULL if due is None else due.isoformat(),
        )
    )  # fmt: skip


def _insert_rows(rows: list[list[Any]], texts: list[str] | None = None) -> set[int]:
    qn = connection.ops.quote_name
    table = qn(Activity._meta.db_table)
    fields = [Activity._meta.get_field(name) for name in COLUMNS]
    quoted = ", ".join(qn(_column(name)) for name in COLUMNS)
    details = _POS["details"]
    if connection.vendor == "postgresql":
        from psycopg.errors import UniqueViolation  # COPY runs on psycopg's own cursor

        # COPY first: the references were checked in this transaction, so a conflict only
        # comes from a concurrent write of the same reference, and then the rows go the slow
        # way, one INSERT that skips the rows already there.
        try:
            with transaction.atomic():
                if texts is not None:
                    copy_lines(Activity, _BY_PARTS, _lines_from_parts(rows, texts))
                else:
                    copy_lines(Activity, COLUMNS, (_copy_row(row) for row in rows))
            return {row[0] for row in rows}
        except (IntegrityError, UniqueViolation):
            pass
    for row in rows:
        row[details] = json.dumps(row[details], ensure_ascii=False, default=str)
    inserted: set[int] = set()
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            types = [f.db_type(connection) for f in fields]
            arrays = ", ".join(f"%s::{t}[]" for t in types)
            # No conflict target: the reference's unique index is partial, and a row that
            # collides with a concurrent write is simply not inserted.
            cur.execute(
                f"INSERT INTO {table} ({quoted}) SELECT * FROM unnest({arrays}) "  # noqa: S608
                "ON CONFLICT DO NOTHING RETURNING id",
                [list(column) for column in zip(*rows, strict=True)],
            )
            inserted.update(r[0] for r in cur.fetchall())
            return inserted
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
        for start in range(0, len(rows), _SQLITE_CHUNK):
            part = rows[start : start + _SQLITE_CHUNK]
            cur.execute(
                f"INSERT INTO {table} ({quoted}) VALUES {', '.join([one] * len(part))} "  # noqa: S608
                "ON CONFLICT DO NOTHING RETURNING id",
                [_sqlite_value(v) for row in part for v in row],
            )
            inserted.update(r[0] for r in cur.fetchall())
    return inserted


def _lines_from_parts(rows: list[list[Any]], texts: list[str]) -> list[str]:
    """COPY lines in ``_BY_PARTS`` order: each row's ids, its text made in advance, and the
    columns every row of the call shares (partner, channel, batch, time)."""
    first = rows[0]
    shared = "\t".join(
        copy_value(first[_POS[name]]) for name in ("partner", "channel", "batch", "created_at")
    )
    customer, source, season = _POS["customer"], _POS["source_record"], _POS["season"]
    return [
        f"{row[0]}\t{row[customer]}\t{_NULL if row[source] is None else row[source]}\t"
        f"{_NULL if row[season] is None else row[season]}\t{text}\t{shared}\n"
        for row, text in zip(rows, texts, strict=True)
    ]


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if value.__class__.__name__ == "Decimal":
        return str(value)
    return value


def activity_record(
    *,
    customer: Customer,
    partner: Partner,
    actor: Actor,
    channel: str,
    fields: dict[str, Any],
    owner: User | None = None,
    source_record_id: int | None = None,
    default_kind: str | None = None,
    ip: str | None = None,
) -> tuple[Activity, str]:
    """Record one activity from raw fields (as typed in a form or sent to the API).

    Returns the activity and what happened (``created``, ``updated``, ``unchanged``);
    raises ValidationError with the French reasons when a field cannot be read.
    """
    cleaned = activity_values(fields, default_kind=default_kind)
    if not cleaned.ok:
        raise ValidationError(cleaned.message())
    if channel not in Channel.values:
        raise ValidationError(_("Canal inconnu : %(channel)s") % {"channel": channel})
    item = NewActivity(
        customer_id=customer.pk,
        values=cleaned.values,
        source_record_id=source_record_id,
        owner_id=owner.pk if owner is not None else None,
    )
    written = activities_record_bulk(
        partner=partner, items=[item], actor=actor, channel=channel, ip=ip
    ).results[0]
    found = Activity.objects.select_related("season", "partner")
    if written.activity_id is not None:
        activity = found.get(pk=written.activity_id)
    else:  # written meanwhile by a concurrent request with the same reference
        activity = found.get(
            partner=partner, kind=cleaned.values["kind"], external_id=cleaned.values["external_id"]
        )
    return activity, written.status


def follow_up_done(*, activity: Activity, actor: Actor) -> bool:
    """Mark a follow-up done; False when it already was (a double click changes nothing)."""
    with transaction.atomic():
        changed = Activity.objects.filter(pk=activity.pk, done_at__isnull=True).update(
            done_at=timezone.now()
        )
        if changed:
            audit_log(actor=actor, action="activity.follow_up_done", obj=activity)
            customer_ids = [activity.customer_id]
            transaction.on_commit(
                lambda: activities_changed.send(sender=Activity, customer_ids=customer_ids)
            )
    return bool(changed)


def season_name(season_id: int | None) -> str:
    if season_id is None:
        return ""
    season = Season.objects.filter(pk=season_id).first()
    return season.name if season else ""
