"""Write paths for customers: attaching incoming source records, set-based.

Every channel (file import, and later the API, forms and the desk) hands its normalised
records to :func:`source_records_attach`. In this version a record joins an existing customer
only on an exact key — the partner's own external id, the normalised e-mail or the E.164
phone — or creates a new customer. Identity resolution will replace that step.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone

from cordee.core.bulk import (
    allocate_ids,
    bulk_insert,
    bulk_update_rows,
    chunked,
    copy_line,
    copy_lines,
    copy_value,
    hold_parents,
    insert_ignore,
    select_keys,
)
from cordee.core.signals import customers_changed
from cordee.customers.arrival import ArrivalMatch, arrival_match, arrival_pairs_write
from cordee.customers.golden import (
    DERIVED_COLUMNS,
    GOLDEN_COLUMNS,
    apply_record,
    customer_values,
    stored_values,
)
from cordee.customers.incoming import IncomingRecord
from cordee.customers.matching.features import (
    DEFAULT_MAX_SHARING,
    clean_birth_date,
    clean_name,
)
from cordee.customers.matching.resolve import birth_dates_compatible, first_names_compatible
from cordee.customers.models import Customer, CustomerLink, SourceRecord
from cordee.partners.models import Partner
from cordee.privacy.access import Actor

_LOOKUP_CHUNK = 2000


@dataclass
class AttachResult:
    created: int = 0
    matched: int = 0
    unchanged: int = 0
    customer_ids: list[int | None] = field(default_factory=list)
    # The source records this call stored (empty in a dry run), for what follows them
    # in the same transaction (e.g. the consents they carry).
    source_record_ids: list[int] = field(default_factory=list)
    # The index in ``records`` of each of those, and when they were received (the
    # collection date of the records that have none).
    source_record_indexes: list[int] = field(default_factory=list)
    received_at: dt.datetime | None = None
    # The customers this call created.
    new_customer_ids: list[int] = field(default_factory=list)


def _existing_fingerprints(partner: Partner, fingerprints: Sequence[str]) -> set[str]:
    table = SourceRecord._meta.db_table
    # CROSS JOIN: SQLite then loops over the keys (it keeps the written order), probing
    # the table's index for each; PostgreSQL reads it as a plain join.
    sql = (
        f'SELECT s."fingerprint" FROM {{keys}} CROSS JOIN "{table}" s '  # noqa: S608
        'WHERE s."partner_id" = %s AND s."fingerprint" = k.v'
    )
    return {row[0] for row in select_keys(sql, [partner.pk], sorted(set(fingerprints)))}


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
        # The e-mail and phone indexes leave out empty values: the condition says so, in
        # the very words of the index's own condition (SQLite matches it literally; in
        # another form it builds a temporary index over the whole table for each batch).
        scope = 's."partner_id" = %s' if params else f"NOT (s.\"{column}\" = '')"
        sql = (
            f'SELECT s."{column}", MIN(s."customer_id") FROM {{keys}} CROSS JOIN "{table}" s '  # noqa: S608
            f'WHERE {scope} AND s."{column}" = k.v GROUP BY s."{column}"'
        )
        for value, customer_id in select_keys(sql, params, sorted(values)):
            if customer_id is not None:
                found[prefix + value] = customer_id
    return found


# A card number carried by more records than this in one call is no key there: a file
# where every line carries the same card (the desk's own card, a default value) would
# otherwise attach them all to its holder.
CARD_SHARING_LIMIT = DEFAULT_MAX_SHARING


def _card_holders(
    records: Sequence[IncomingRecord], record_keys: list[list[str]]
) -> dict[str, Any]:
    """The customer of each issued card the records carry, with the first name and birth
    date the record must not contradict: ``{"c<number>": (customer id, first, birth)}``."""
    carried = Counter(k for keys in record_keys for k in keys if k.startswith("c"))
    numbers = sorted(k[1:] for k, n in carried.items() if n <= CARD_SHARING_LIMIT)
    if not numbers:
        return {}
    card = apps.get_model("activities", "LoyaltyCard")
    customer = Customer._meta.db_table
    sql = (
        f'SELECT c."number", c."customer_id", u."first_name", u."birth_date" '  # noqa: S608
        f'FROM {{keys}} CROSS JOIN "{card._meta.db_table}" c '
        f'JOIN "{customer}" u ON u."id" = c."customer_id" WHERE c."number" = k.v'
    )
    holders: dict[str, Any] = {}
    for number, customer_id, first, birth in select_keys(sql, [], numbers):
        if isinstance(birth, dt.date):
            birth = birth.isoformat()
        holders["c" + number] = (customer_id, clean_name(first), clean_birth_date(birth))
    return holders


def _holder_fits(record: IncomingRecord, holder: tuple[int, str | None, str | None]) -> bool:
    """Whether the record can be the card holder's: neither its first name nor its birth
    date contradicts theirs (a card lent to a relative, a number typed wrong)."""
    _customer, first, birth = holder
    data = record.data
    return first_names_compatible(
        clean_name(data.get("first_name")), first
    ) and birth_dates_compatible(clean_birth_date(data.get("birth_date")), birth)


def _usable_keys(
    records: Sequence[IncomingRecord], record_keys: list[list[str]], key_owner: dict[str, int]
) -> list[list[str]]:
    """Each record's keys, its card kept only when the card was issued and fits the record."""
    if not any(k.startswith("c") for keys in record_keys for k in keys):
        return record_keys
    holders = _card_holders(records, record_keys)
    usable = []
    for record, keys in zip(records, record_keys, strict=True):
        kept = []
        for key in keys:
            if key.startswith("c"):
                holder = holders.get(key)
                if holder is None or not _holder_fits(record, holder):
                    continue
                key_owner[key] = holder[0]
            kept.append(key)
        usable.append(kept)
    return usable


def source_records_attach(
    *,
    partner: Partner,
    channel: str,
    records: Sequence[IncomingRecord],
    batch_id: int | None = None,
    dry_run: bool = False,
    arrival: Actor | None = None,
) -> AttachResult:
    """Store the records and attach each to a customer, creating customers as needed.

    One transaction, a constant number of statements per call whatever the number of records.
    A record already received from this partner (same raw content) is skipped, so importing
    the same file twice changes nothing. With ``dry_run`` nothing is written and the counts
    say what would happen.

    With ``arrival`` (who sends the record: the single-record channels), a record no exact
    key attaches is matched against the whole base before it creates a customer
    (:mod:`cordee.customers.arrival`); files leave that to the batch run that follows them.
    """
    now = timezone.now()
    result = AttachResult(customer_ids=[None] * len(records))
    with transaction.atomic():
        fingerprints = [r.prepare().fingerprint for r in records]
        known = _existing_fingerprints(partner, fingerprints)
        record_keys = [r.keys() for r in records]
        key_owner = _existing_keys(partner, records)
        record_keys = _usable_keys(records, record_keys, key_owner)

        # Decide, in file order, which customer each new record belongs to. Negative ids
        # stand for customers created by this call.
        seen: set[str] = set()
        owner_of: list[int | None] = []
        new_count = 0
        matched_existing: set[int] = set()
        arrived: list[tuple[int, ArrivalMatch]] = []
        for i, record in enumerate(records):
            fp = fingerprints[i]
            if fp in known or fp in seen:
                result.unchanged += 1
                owner_of.append(None)
                continue
            seen.add(fp)
            owner = next((key_owner[k] for k in record_keys[i] if k in key_owner), None)
            if owner is None and arrival is not None and not dry_run:
                match = arrival_match(record.data, arrival)
                if match is not None:
                    arrived.append((i, match))
                    if match.zone == "merge":
                        owner = match.customer_id
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

        # The customers the records join stay until this transaction commits (their source
        # records and links have no database constraint to refuse an erasure in between).
        hold_parents(Customer, matched_existing)
        new_ids = allocate_ids(Customer, new_count)
        real = [None if o is None else (o if o > 0 else new_ids[-o - 1]) for o in owner_of]
        result.customer_ids = real
        pending = [i for i, o in enumerate(real) if o is not None]
        source_ids = allocate_ids(SourceRecord, len(pending))
        source_id_of = dict(zip(pending, source_ids, strict=True))
        result.source_record_ids = list(source_ids)
        result.source_record_indexes = pending
        result.received_at = now
        result.new_customer_ids = new_ids

        copy = connection.vendor == "postgresql"
        _write_source_records(
            partner, channel, records, real, source_id_of, batch_id, now, copy=copy
        )
        _write_golden_records(
            records, real, source_id_of, new_ids, matched_existing, now, copy=copy
        )
        _write_links(partner, new_ids, matched_existing, now, copy=copy)
        arrival_pairs_write([(source_id_of[i], match) for i, match in arrived])
        _announce(partner.pk, list(new_ids), sorted(matched_existing))
    return result


def _announce(partner_id: int, created: list[int], changed: list[int]) -> None:
    """Tell the rest of Cordée (aggregates, webhooks) once the transaction has committed."""

    def send() -> None:
        if created:
            customers_changed.send(
                sender=Customer, customer_ids=created, partner_id=partner_id, created=True
            )
        if changed:
            customers_changed.send(
                sender=Customer, customer_ids=changed, partner_id=partner_id, created=False
            )

    if created or changed:
        transaction.on_commit(send)


# Source record columns: those the call decides, then those a record formats itself
# (IncomingRecord.copy_tail, in this order).
_SOURCE_HEAD = ("id", "customer", "partner", "channel", "batch", "collected_at")
SOURCE_TAIL = ("external_id", "line", "raw", "data", "fingerprint", "email_hash", "phone_hash")
_CUSTOMER_COLUMNS = (
    "id",
    *GOLDEN_COLUMNS,
    *DERIVED_COLUMNS,
    "attributes",
    "provenance",
    "created_at",
    "updated_at",
)


def _write_source_records(
    partner: Partner,
    channel: str,
    records: Sequence[IncomingRecord],
    owners: Sequence[int | None],
    source_id_of: dict[int, int],
    batch_id: int | None,
    now: dt.datetime,
    *,
    copy: bool,
) -> None:
    fields = (*_SOURCE_HEAD, *SOURCE_TAIL)
    if copy:
        now_text = copy_value(now)
        middle = f"\t{partner.pk}\t{copy_value(channel)}\t{copy_value(batch_id)}\t"
        lines = []
        for i, source_id in source_id_of.items():
            record = records[i]
            if not record.copy_tail:
                record.prepare(copy_text=True)
            collected = now_text if record.collected_at is None else copy_value(record.collected_at)
            lines.append(f"{source_id}\t{owners[i]}{middle}{collected}\t{record.copy_tail}\n")
        copy_lines(SourceRecord, fields, lines)
        return
    rows = (
        (
            source_id,
            owners[i],
            partner.pk,
            channel,
            batch_id,
            records[i].collected_at or now,
            records[i].external_id[:100],
            records[i].line,
            records[i].raw_json,
            records[i].data_json,
            records[i].fingerprint,
            records[i].email_hash,
            records[i].phone_hash,
        )
        for i, source_id in source_id_of.items()
    )
    bulk_insert(SourceRecord, fields, rows)


def _provenance_json(fields: Sequence[str], source_id: int) -> str:
    return "{" + ", ".join(f'"{f}": {source_id}' for f in fields) + "}"


def _write_golden_records(
    records: Sequence[IncomingRecord],
    owners: Sequence[int | None],
    source_id_of: dict[int, int],
    new_ids: list[int],
    matched_existing: set[int],
    now: dt.datetime,
    *,
    copy: bool,
) -> None:
    # The batch's records of each customer, in file order.
    records_of: dict[int, list[int]] = defaultdict(list)
    for i in source_id_of:
        owner = owners[i]
        assert owner is not None
        records_of[owner].append(i)

    # Existing customers and those with several records in the batch go through
    # survivorship here; a new customer with one record takes the row its record computed.
    golden: dict[int, dict[str, Any]] = {}
    provenance: dict[int, dict[str, int]] = {}
    for chunk in chunked(sorted(matched_existing), _LOOKUP_CHUNK):
        for row in Customer.objects.filter(pk__in=chunk).values(
            "id", "provenance", *GOLDEN_COLUMNS
        ):
            cid = row.pop("id")
            provenance[cid] = row.pop("provenance") or {}
            if row.get("birth_date"):
                row["birth_date"] = row["birth_date"].isoformat()
            golden[cid] = row
    changed: set[int] = set()
    for cid in new_ids:
        if len(records_of[cid]) > 1:
            golden[cid], provenance[cid] = {}, {}
    for cid in golden:
        for i in records_of[cid]:
            if apply_record(golden[cid], provenance[cid], records[i].data, source_id_of[i]):
                changed.add(cid)

    now_text = copy_value(now)
    new_lines: list[str] = []
    new_rows: list[tuple[Any, ...]] = []
    for cid in new_ids:
        if cid in golden:
            values = customer_values(golden[cid])
            prov = json.dumps(provenance[cid])
        else:
            i = records_of[cid][0]
            record = records[i]
            if record.golden is None or (copy and not record.golden_copy):
                record.prepare(golden=True, copy_text=copy)
            assert record.golden is not None
            values = record.golden
            prov = _provenance_json(record.golden_fields, source_id_of[i])
            if copy:
                new_lines.append(
                    f"{cid}\t{record.golden_copy}\t{{}}\t{prov}\t{now_text}\t{now_text}\n"
                )
                continue
        if copy:
            new_lines.append(
                f"{cid}\t{copy_line(stored_values(values))}\t{{}}\t{prov}\t{now_text}\t{now_text}\n"
            )
        else:
            new_rows.append((cid, *values, "{}", prov, now, now))
    if copy:
        copy_lines(Customer, _CUSTOMER_COLUMNS, new_lines)
    else:
        bulk_insert(Customer, _CUSTOMER_COLUMNS, new_rows)
    update_columns = (*GOLDEN_COLUMNS, *DERIVED_COLUMNS, "provenance", "updated_at")
    updates = (
        (*customer_values(golden[cid]), provenance[cid], now, cid)
        for cid in sorted(changed & matched_existing)
    )
    bulk_update_rows(Customer, update_columns, updates)


def _write_links(
    partner: Partner,
    new_ids: Sequence[int],
    matched_existing: set[int],
    now: dt.datetime,
    *,
    copy: bool,
) -> None:
    fields = ("customer", "partner", "first_seen")
    # A customer created by this call has no link yet: plain insert. Others may have one.
    if copy:
        tail = f"\t{partner.pk}\t{copy_value(now)}\n"
        copy_lines(CustomerLink, fields, [f"{cid}{tail}" for cid in new_ids])
    else:
        bulk_insert(CustomerLink, fields, [(cid, partner.pk, now) for cid in new_ids])
    insert_ignore(
        CustomerLink,
        fields,
        [(cid, partner.pk, now) for cid in sorted(matched_existing)],
        conflict=("partner", "customer"),
    )
