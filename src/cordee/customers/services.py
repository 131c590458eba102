"""Write paths for customers: attaching incoming source records, set-based.

Every channel (file import, and later the API, forms and the desk) hands its normalised
records to :func:`source_records_attach`. In this version a record joins an existing customer
only on an exact key — the partner's own external id, the normalised e-mail or the E.164
phone — or creates a new customer. Identity resolution will replace that step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from cordee.core.bulk import (
    allocate_ids,
    bulk_insert,
    bulk_update_rows,
    chunked,
    insert_ignore,
    select_in,
)
from cordee.customers.golden import apply_record, derived_columns
from cordee.customers.incoming import IncomingRecord
from cordee.customers.models import GOLDEN_FIELDS, Customer, CustomerLink, SourceRecord
from cordee.partners.models import Partner

# Customer columns written by the bulk path, besides the id.
_GOLDEN_COLUMNS = (*GOLDEN_FIELDS, "phone_other")
_DERIVED_COLUMNS = (
    "last_name_key",
    "first_name_key",
    "city_key",
    "email_hash",
    "phone_hash",
    "birth_year",
    "departement",
)
_LOOKUP_CHUNK = 2000


@dataclass
class AttachResult:
    created: int = 0
    matched: int = 0
    unchanged: int = 0
    customer_ids: list[int | None] = field(default_factory=list)


def _existing_fingerprints(partner: Partner, fingerprints: Sequence[str]) -> set[str]:
    table = SourceRecord._meta.db_table
    sql = (
        f'SELECT "fingerprint" FROM "{table}" WHERE "partner_id" = %s AND "fingerprint" {{values}}'  # noqa: S608
    )
    return {row[0] for row in select_in(sql, [partner.pk], list(set(fingerprints)))}


def _existing_keys(partner: Partner, records: Sequence[IncomingRecord]) -> dict[str, int]:
    """The customer already holding each key: any partner's e-mail or phone, this partner's external id."""
    table = SourceRecord._meta.db_table
    found: dict[str, int] = {}
    lookups: tuple[tuple[str, str, list[int], set[str]], ...] = (
        ("e", "email_hash", [], {r.email_hash for r in records if r.email_hash}),
        ("p", "phone_hash", [], {r.phone_hash for r in records if r.phone_hash}),
        ("x", "external_id", [partner.pk], {r.external_id for r in records if r.external_id}),
    )
    for prefix, column, params, values in lookups:
        scope = '"partner_id" = %s AND ' if params else ""
        sql = (
            f'SELECT "{column}", MIN("customer_id") FROM "{table}" '  # noqa: S608
            f'WHERE {scope}"customer_id" IS NOT NULL AND "{column}" {{values}} GROUP BY "{column}"'
        )
        for value, customer_id in select_in(sql, params, sorted(values)):
            found[prefix + value] = customer_id
    return found


def source_records_attach(
    *,
    partner: Partner,
    channel: str,
    records: Sequence[IncomingRecord],
    batch_id: int | None = None,
    dry_run: bool = False,
) -> AttachResult:
    """Store the records and attach each to a customer, creating customers as needed.

    One transaction, a constant number of statements per call whatever the number of records.
    A record already received from this partner (same raw content) is skipped, so importing
    the same file twice changes nothing. With ``dry_run`` nothing is written and the counts
    say what would happen.
    """
    now = timezone.now()
    result = AttachResult(customer_ids=[None] * len(records))
    with transaction.atomic():
        fingerprints = [r.prepare().fingerprint for r in records]
        known = _existing_fingerprints(partner, fingerprints)
        record_keys = [r.keys() for r in records]
        key_owner = _existing_keys(partner, records)

        # Decide, in file order, which customer each new record belongs to. Negative ids
        # stand for customers created by this call.
        seen: set[str] = set()
        owner_of: list[int | None] = []
        new_count = 0
        matched_existing: set[int] = set()
        for i, _record in enumerate(records):
            fp = fingerprints[i]
            if fp in known or fp in seen:
                result.unchanged += 1
                owner_of.append(None)
                continue
            seen.add(fp)
            owner = next((key_owner[k] for k in record_keys[i] if k in key_owner), None)
            if owner is None:
                new_count += 1
                owner = -new_count
            elif owner > 0:
                matched_existing.add(owner)
            for k in record_keys[i]:
                key_owner.setdefault(k, owner)
            owner_of.append(owner)
        result.created = new_count
        # Every stored record either created its customer or joined one (known before, or
        # created by an earlier line of the same batch): stored = created + matched.
        result.matched = sum(1 for o in owner_of if o is not None) - new_count
        if dry_run:
            transaction.set_rollback(True)
            result.customer_ids = [o if o and o > 0 else None for o in owner_of]
            return result

        new_ids = allocate_ids(Customer, new_count)
        real = [None if o is None else (o if o > 0 else new_ids[-o - 1]) for o in owner_of]
        result.customer_ids = real
        pending = [i for i, o in enumerate(real) if o is not None]
        source_ids = allocate_ids(SourceRecord, len(pending))
        source_id_of = dict(zip(pending, source_ids, strict=True))

        _write_source_records(
            partner, channel, records, real, fingerprints, source_id_of, batch_id, now
        )
        _write_golden_records(records, real, source_id_of, new_ids, matched_existing, now)
        _write_links(partner, real, now)
    return result


def _write_source_records(
    partner: Partner,
    channel: str,
    records: Sequence[IncomingRecord],
    owners: Sequence[int | None],
    fingerprints: Sequence[str],
    source_id_of: dict[int, int],
    batch_id: int | None,
    now: dt.datetime,
) -> None:
    fields = (
        "id", "customer", "partner", "channel", "external_id", "batch", "line",
        "collected_at", "raw", "data", "fingerprint", "email_hash", "phone_hash",
    )  # fmt: skip
    rows = (
        (
            source_id_of[i],
            owners[i],
            partner.pk,
            channel,
            records[i].external_id[:100],
            batch_id,
            records[i].line,
            records[i].collected_at or now,
            records[i].raw_json,
            records[i].data_json,
            fingerprints[i],
            records[i].email_hash,
            records[i].phone_hash,
        )
        for i in source_id_of
    )
    bulk_insert(SourceRecord, fields, rows)


def _write_golden_records(
    records: Sequence[IncomingRecord],
    owners: Sequence[int | None],
    source_id_of: dict[int, int],
    new_ids: list[int],
    matched_existing: set[int],
    now: dt.datetime,
) -> None:
    golden: dict[int, dict[str, Any]] = {cid: {} for cid in new_ids}
    provenance: dict[int, dict[str, int]] = {cid: {} for cid in new_ids}
    for chunk in chunked(sorted(matched_existing), _LOOKUP_CHUNK):
        for row in Customer.objects.filter(pk__in=chunk).values(
            "id", "provenance", *_GOLDEN_COLUMNS
        ):
            cid = row.pop("id")
            provenance[cid] = row.pop("provenance") or {}
            if row.get("birth_date"):
                row["birth_date"] = row["birth_date"].isoformat()
            golden[cid] = row
    changed: set[int] = set()
    for i, source_id in source_id_of.items():
        cid = owners[i]
        assert cid is not None
        if apply_record(golden[cid], provenance[cid], records[i].data, source_id):
            changed.add(cid)

    columns = (
        "id",
        *_GOLDEN_COLUMNS,
        *_DERIVED_COLUMNS,
        "attributes",
        "provenance",
        "created_at",
        "updated_at",
    )
    new_rows = (
        _customer_row(cid, golden[cid], provenance[cid], now, created=True) for cid in new_ids
    )
    bulk_insert(Customer, columns, new_rows)
    update_columns = (*_GOLDEN_COLUMNS, *_DERIVED_COLUMNS, "provenance", "updated_at")
    updates = (
        _customer_row(cid, golden[cid], provenance[cid], now, created=False)
        for cid in sorted(changed & matched_existing)
    )
    bulk_update_rows(Customer, update_columns, updates)


def _customer_row(
    cid: int, golden: dict[str, Any], provenance: dict[str, int], now: dt.datetime, *, created: bool
) -> tuple[Any, ...]:
    values = [_golden_value(f, golden.get(f)) for f in _GOLDEN_COLUMNS]
    derived = derived_columns(golden)
    values.extend(derived[c] for c in _DERIVED_COLUMNS)
    if created:
        return (cid, *values, {}, provenance, now, now)
    return (*values, provenance, now, cid)


def _golden_value(field_name: str, value: Any) -> Any:
    if field_name == "interests":
        return value or []
    if field_name in ("birth_date", "children"):
        return value if value not in ("", None) else None
    return value if value is not None else ""


def _write_links(partner: Partner, owners: Sequence[int | None], now: dt.datetime) -> None:
    customer_ids = sorted({o for o in owners if o is not None})
    insert_ignore(
        CustomerLink,
        ("customer", "partner", "first_seen"),
        [(cid, partner.pk, now) for cid in customer_ids],
        conflict=("partner", "customer"),
    )
