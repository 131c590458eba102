"""Erasure (Art. 17): the person goes from every table, a pseudonymous tombstone stays.

``customers_erase`` erases thousands of customers with one statement per table and batch
(the retention purge); ``customer_erase`` is the data-subject request's single erasure, the
same code with one id, so both leave the same database. Each batch is one transaction: a batch
interrupted half-way rolls back whole, and the next run erases what is left (those already
erased are no longer found). What it reaches, for each person:

- the golden record and everything that depends on it (links, activities, loyalty card,
  consent history and states, deliveries and their tracking, form entries, page views,
  segment memberships and aggregates): every relation of the models, followed set-based as
  Django's ``on_delete`` says (cascade, or set to null);
- every source record of the person, and the unattached ones with the same keyed e-mail or
  phone hash;
- the import report rows that hold the person's cells (the warnings on their lines, the
  rejected lines naming their e-mail or phone), and any dry-run file still waiting for
  confirmation that contains their e-mail (the partner uploads it again);
- the API's idempotency rows whose stored response names the customer;
- the merge ledger's snapshots (``merge_ledger_erase_many`` of the customers app);
- the free text of the person's data-subject requests (the requests themselves stay).

The audit trail holds no personal data (only the customer's number): it is kept, and gains
one ``customer.erase`` entry per person. A row claimed by several people of a batch (an
unattached record with the phone of two of them, a merge between two of them) is counted in
the tombstone of the first by number: what erasing them one by one, in that order, counts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.core.bulk import int_array, json_text, select_keys, text_array
from cordee.core.signals import customers_erased
from cordee.customers.merging import merge_ledger_erase_many
from cordee.customers.models import Customer, CustomerLink, SourceRecord
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_insert_select, audit_log_many
from cordee.privacy.models import (
    ConsentEvent,
    DataSubjectRequest,
    ErasureTombstone,
)

REASON_MAX = 300
BATCH_SIZE = 1000
COUNT_KEYS = (
    "consent_events",
    "activities",
    "import_issues",
    "idempotency_rows",
    "merge_ledger_entries",
    "source_records",
    "requests_redacted",
    "pending_files",
)
_ID_IN_BODY = re.compile(r'"(?:id|customer_id)":\s*(\d+)\b')


@dataclass
class ErasureResult:
    customer_ref: int
    tombstone: ErasureTombstone
    counts: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


@dataclass
class BatchErasureResult:
    erased: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    tombstone_ids: list[int] = field(default_factory=list)


@dataclass
class _Person:
    pk: int
    email_hash: str
    phone_hash: str
    needles: list[str]  # the e-mail and phone, lower-cased, searched for in stored text
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))


def _clean_reason(reason: str) -> str:
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in reason or "").split())
    return text[:REASON_MAX]


def _in(values: Iterable[Any], cast: str = "bigint") -> Any:
    """``values`` for an ``__in`` lookup: on PostgreSQL, one array parameter (a list of
    thousands of parameters costs more to send and parse than the statement to run)."""
    values = list(values)
    if connection.vendor == "postgresql":
        # One array literal (text): psycopg would adapt a list element by element, in Python,
        # for each of the batch's ~50 statements. ``cast`` is one of this module's constants.
        literal = text_array(values) if cast == "text" else int_array(values)
        return RawSQL(f"SELECT unnest(%s::{cast}[])", (literal,))  # noqa: S611
    return values


def _first(claimants: Iterable[int]) -> int | None:
    return min(claimants, default=None)


def _claim(people: dict[int, _Person], key: str, owners: dict[Any, int | None]) -> list[Any]:
    """Count each row for its first claimant; return the rows claimed at all."""
    claimed = []
    for row, owner in owners.items():
        if owner is not None:
            people[owner].counts[key] += 1
            claimed.append(row)
    return claimed


class _Needles:
    """Which of a batch's people a stored text names: the first whose e-mail or phone it holds.

    The same answer as testing each needle with ``in``, without testing each: an e-mail
    needle can only lie across one of the text's "@" (its domain right after, its local part
    right before, looked up by their lengths), a phone needle (E.164) only start at one of
    its "+". A text is read in time that grows with its "@" and "+", not with the batch:
    a purge reads every rejected import line and every kept API answer once per batch of a
    thousand people. Any other needle is tested with ``in``.
    """

    def __init__(self, people: Iterable[_Person]) -> None:
        self.emails: dict[str, dict[str, int]] = {}  # domain -> local part -> owner
        self.domain_lengths: set[int] = set()
        self.local_lengths: dict[str, set[int]] = {}
        self.phones: dict[str, int] = {}
        self.phone_lengths: set[int] = set()
        self.others: list[tuple[str, int]] = []
        for person in sorted(people, key=lambda p: p.pk):
            for needle in person.needles:
                local, at, domain = needle.partition("@")
                if at and local and domain and "@" not in domain:
                    self.emails.setdefault(domain, {}).setdefault(local, person.pk)
                    self.domain_lengths.add(len(domain))
                    self.local_lengths.setdefault(domain, set()).add(len(local))
                elif needle.startswith("+") and "@" not in needle and "+" not in needle[1:]:
                    self.phones.setdefault(needle, person.pk)
                    self.phone_lengths.add(len(needle))
                else:
                    self.others.append((needle, person.pk))

    def __bool__(self) -> bool:
        return bool(self.emails or self.phones or self.others)

    def owner(self, text: str) -> int | None:
        """The first person (lowest id) whose needle ``text`` holds; ``text`` is lower-cased."""
        found: set[int] = set()
        if self.emails:
            at = text.find("@")
            while at >= 0:
                for length in self.domain_lengths:
                    locals_ = self.emails.get(text[at + 1 : at + 1 + length])
                    if locals_ is None:
                        continue
                    domain = text[at + 1 : at + 1 + length]
                    for local_length in self.local_lengths[domain]:
                        if local_length <= at:
                            pk = locals_.get(text[at - local_length : at])
                            if pk is not None:
                                found.add(pk)
                at = text.find("@", at + 1)
        if self.phones:
            plus = text.find("+")
            while plus >= 0:
                for length in self.phone_lengths:
                    pk = self.phones.get(text[plus : plus + length])
                    if pk is not None:
                        found.add(pk)
                plus = text.find("+", plus + 1)
        found.update(pk for needle, pk in self.others if needle in text)
        return min(found, default=None)


def _issue_rows(people: dict[int, _Person], record_lines: dict[tuple[int, int], int]) -> None:
    """Delete the import report rows that hold the people's data."""
    from cordee.collect.models import ImportIssue, IssueLevel

    owners: dict[int, int | None] = {}
    if record_lines:
        batches = {b for b, _line in record_lines}
        lines = {line for _b, line in record_lines}
        for pk, batch_id, line in ImportIssue.objects.filter(
            batch_id__in=batches, line__in=lines
        ).values_list("pk", "batch_id", "line"):
            owner = record_lines.get((batch_id, line))
            if owner is not None:
                owners[pk] = owner
    needles = _Needles(people.values())
    if needles:
        for pk, cells in ImportIssue.objects.filter(level=IssueLevel.ERROR).values_list(
            "pk", "cells"
        ):
            # One text per row: a needle holds no NUL, so it cannot match across two cells.
            text = "\x00".join(str(c).lower() for c in cells or [])
            owner = needles.owner(text)
            if owner is not None:
                owners[pk] = min(owner, owners.get(pk) or owner)
    claimed = _claim(people, "import_issues", owners)
    if claimed:
        ImportIssue.objects.filter(pk__in=claimed)._raw_delete(ImportIssue.objects.db)


def _pending_files(people: dict[int, _Person]) -> list[Path]:
    """Dry-run uploads still kept for confirmation that contain the people's e-mail or phone."""
    from cordee.collect.models import ImportBatch

    with_needles = [p for p in people.values() if p.needles]
    if not with_needles:
        return []
    found = []
    for batch_id, stored in ImportBatch.objects.exclude(stored_path="").values_list(
        "pk", "stored_path"
    ):
        path = Path(stored)
        try:
            content = path.read_bytes().lower()
        except OSError:
            continue
        owner = _first(p.pk for p in with_needles if any(n.encode() in content for n in p.needles))
        if owner is not None:
            people[owner].counts["pending_files"] += 1
            ImportBatch.objects.filter(pk=batch_id).update(stored_path="")
            found.append(path)
    return found


def _idempotency_rows(people: dict[int, _Person]) -> None:
    from cordee.api.models import IdempotentRequest

    ids = {str(pk) for pk in people}
    needles = _Needles(people.values())
    owners: dict[int, int | None] = {}
    for pk, body in IdempotentRequest.objects.values_list("pk", "body").iterator():
        named = [int(m) for m in _ID_IN_BODY.findall(body) if m in ids]
        owner = _first(named)
        by_needle = needles.owner(body.lower()) if needles else None
        if by_needle is not None:
            owner = by_needle if owner is None else min(owner, by_needle)
        owners[pk] = owner
    claimed = _claim(people, "idempotency_rows", owners)
    if claimed:
        IdempotentRequest.objects.filter(pk__in=claimed)._raw_delete(IdempotentRequest.objects.db)


def delete_cascade(queryset: QuerySet[Any]) -> int:
    """Delete ``queryset`` and what depends on it, one statement per related table.

    Follows every relation as ``on_delete`` declares it, the way Django's own deletion does,
    but without loading the rows: ``CASCADE`` deletes (recursively), ``SET_NULL`` clears the
    column, ``DO_NOTHING`` leaves it; ``PROTECT``/``RESTRICT`` are not expected on a customer's
    data and stop the erasure. Children go before their parents, while the subquery that
    finds them still sees the parents. No model signals are sent (none is connected to these
    models). Returns how many rows of ``queryset`` went.
    """
    sql, params = queryset.values("pk").query.sql_with_params()
    model = queryset.model
    return _delete_where(model, model._meta.pk.column, f"IN ({sql})", list(params))


def _ids_where(ids: Iterable[int]) -> tuple[str, list[Any]]:
    """A condition on a column (``= ANY`` of one array literal on PostgreSQL: one index scan
    that walks the ids in order, rather than a join with an unnested list), and its parameters."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        return "= ANY(%s::bigint[])", [int_array(ids)]
    return f"IN ({', '.join(['%s'] * len(ids))})", ids


def _dependents(model: type[models.Model]) -> list[Any]:
    return [
        relation
        for relation in model._meta.get_fields(include_hidden=True)
        if relation.auto_created
        and not relation.concrete
        and (relation.one_to_many or relation.one_to_one)
    ]


def _delete_where(model: type[models.Model], column: str, where: str, params: list[Any]) -> int:
    """``delete_cascade`` of the rows of ``model`` whose ``column`` satisfies ``where``.

    A child table is found by its foreign key satisfying the same condition when the key
    points at that column (no join through the parent), else through the parent's rows. A
    child with children of its own is first looked for: when none of its rows is concerned
    (the customers' records already went, nobody received a campaign), its whole subtree is
    skipped rather than asked, statement by statement, for rows that cannot be there."""
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    with connection.cursor() as cur:
        for relation in _dependents(model):
            remote = relation.field
            child = relation.related_model
            child_table = qn(child._meta.db_table)
            target = remote.target_field.column
            if target == column:
                child_where = where
            else:
                child_where = f"IN (SELECT {qn(target)} FROM {table} WHERE {qn(column)} {where})"  # noqa: S608
            on_delete = remote.remote_field.on_delete
            if on_delete is models.CASCADE:
                if _dependents(child):
                    cur.execute(
                        f"SELECT 1 FROM {child_table} WHERE {qn(remote.column)} {child_where} "  # noqa: S608
                        "LIMIT 1",
                        params,
                    )
                    if cur.fetchone() is None:
                        continue
                _delete_where(child, remote.column, child_where, params)
            elif on_delete is models.SET_NULL:
                cur.execute(
                    f"UPDATE {child_table} SET {qn(remote.column)} = NULL "  # noqa: S608
                    f"WHERE {qn(remote.column)} {child_where}",
                    params,
                )
            elif on_delete is not models.DO_NOTHING:
                raise RuntimeError(f"erasure: {remote} has on_delete={on_delete.__name__}")
        # Table and column names come from the models; the values are parameters.
        cur.execute(f"DELETE FROM {table} WHERE {qn(column)} {where}", params)  # noqa: S608
        return int(cur.rowcount)


def _erase_batch(
    ids: Sequence[int],
    *,
    actor: Actor,
    reason: str,
    request: DataSubjectRequest | None,
    restrict: QuerySet[Customer] | None,
) -> tuple[list[tuple[int, int, dict[str, int]]], list[Path]]:
    """Erase the customers ``ids`` still present (and still in ``restrict``), in one transaction.

    Returns (customer number, tombstone id, counts) for each one erased, and the files to
    remove after the commit."""
    with transaction.atomic():
        base = restrict if restrict is not None else Customer.objects.all()
        rows = (
            base.select_for_update()
            .filter(pk__in=_in(ids))
            .order_by("pk")
            .values_list("pk", "email_hash", "phone_hash", "email", "phone")
        )
        people = {
            pk: _Person(
                pk, eh or "", ph or "", [v.lower() for v in (email, phone) if v and len(v) >= 6]
            )
            for pk, eh, ph, email, phone in rows
        }
        if not people:
            return [], []
        present = sorted(people)
        by_email: dict[str, int] = {}
        by_phone: dict[str, int] = {}
        for person in people.values():  # in order of number: the first one claims
            if person.email_hash:
                by_email.setdefault(person.email_hash, person.pk)
            if person.phone_hash:
                by_phone.setdefault(person.phone_hash, person.pk)

        # Three index reads rather than one OR (which PostgreSQL answers by reading the whole
        # table: 1 s per batch at a million records).
        found = [SourceRecord.objects.filter(customer_id__in=_in(present))]
        unattached = SourceRecord.objects.filter(customer__isnull=True)
        if by_email:
            found.append(
                unattached.exclude(email_hash="").filter(email_hash__in=_in(by_email, "text"))
            )
        if by_phone:
            found.append(
                unattached.exclude(phone_hash="").filter(phone_hash__in=_in(by_phone, "text"))
            )
        record_rows = {
            row[0]: row
            for query in found
            for row in query.values_list(
                "pk", "customer_id", "email_hash", "phone_hash", "batch_id", "line"
            )
        }
        record_owner: dict[int, int | None] = {}
        record_lines: dict[tuple[int, int], int] = {}
        for pk, customer_id, eh, ph, batch_id, line in record_rows.values():
            owner = customer_id
            if owner is None:
                owner = _first(o for o in (by_email.get(eh), by_phone.get(ph)) if o is not None)
            record_owner[pk] = owner
            if batch_id is not None and line is not None and owner is not None:
                key = (batch_id, line)
                record_lines[key] = min(owner, record_lines.get(key, owner))
        records = _claim(people, "source_records", record_owner)

        partner_ids: dict[int, list[int]] = {pk: [] for pk in present}
        for customer_id, partner_id in (
            CustomerLink.objects.filter(customer_id__in=_in(present))
            .values_list("customer_id", "partner_id")
            .distinct()
            .order_by("customer_id", "partner_id")
        ):
            partner_ids[customer_id].append(partner_id)
        purposes: dict[int, list[str]] = {pk: [] for pk in present}
        for customer_id, slug in (
            ConsentEvent.objects.filter(customer_id__in=_in(present))
            .values_list("customer_id", "purpose__slug")
            .distinct()
            .order_by("customer_id", "purpose__slug")
        ):
            purposes[customer_id].append(slug)
        counted: tuple[tuple[str, type[models.Model]], ...] = (
            ("consent_events", ConsentEvent),
            ("activities", _activity_model()),
        )
        for count_key, model in counted:
            for customer_id, n in (
                model._base_manager.filter(customer_id__in=_in(present))
                .values_list("customer_id")
                .annotate(n=models.Count("pk"))
                .order_by()
            ):
                people[customer_id].counts[count_key] = n

        _issue_rows(people, record_lines)
        _idempotency_rows(people)
        for customer_id, n in merge_ledger_erase_many(present).items():
            people[customer_id].counts["merge_ledger_entries"] = n
        # Their activities first: the records' set-null below then has nothing to rewrite.
        theirs = _ids_where(present)
        _delete_where(_activity_model(), "customer_id", *theirs)
        if records:
            _delete_where(SourceRecord, "id", *_ids_where(records))
        _delete_where(Customer, "id", *theirs)
        # The free text of their requests and how their identity was checked may name them;
        # the status of the check and its date stay as proof.
        redacted = DataSubjectRequest.objects.filter(customer_ref__in=_in(present)).exclude(
            message="", identity_note=""
        )
        for customer_id, n in (
            redacted.values_list("customer_ref").annotate(n=models.Count("pk")).order_by()
        ):
            people[customer_id].counts["requests_redacted"] = n
        redacted.update(message="", identity_note="")
        files = _pending_files(people)

        written = [
            (ref, tombstone_id, people[ref].counts)
            for ref, tombstone_id in _tombstones_write(
                people=people, purposes=purposes, actor=actor, reason=reason, request=request
            )
        ]
        transaction.on_commit(
            lambda: customers_erased.send(
                sender=Customer, customer_ids=present, partner_ids=partner_ids
            )
        )
    return written, files


def _tombstones_write(
    *,
    people: dict[int, _Person],
    purposes: dict[int, list[str]],
    actor: Actor,
    reason: str,
    request: DataSubjectRequest | None,
) -> list[tuple[int, int]]:
    """The tombstones and their ``customer.erase`` audit entries, in order of customer number.

    Returns (customer number, tombstone id) pairs. On PostgreSQL, one statement writes both
    (a thousand ORM instances of each cost more than the rest of the batch's Python)."""
    now = timezone.now()
    present = sorted(people)
    label = actor.label[:150]
    request_id = request.pk if request is not None else None
    if connection.vendor != "postgresql":
        tombstones = ErasureTombstone.objects.bulk_create(
            [
                ErasureTombstone(
                    erased_at=now,
                    customer_ref=pk,
                    request=request,
                    reason=reason,
                    actor_label=label,
                    email_hash=people[pk].email_hash,
                    phone_hash=people[pk].phone_hash,
                    purposes=purposes[pk],
                    counts=people[pk].counts,
                )
                for pk in present
            ],
            batch_size=BATCH_SIZE,
        )
        audit_log_many(
            actor=actor,
            action="customer.erase",
            details=[
                {
                    "customer": t.customer_ref,
                    "tombstone": t.pk,
                    "request": request_id,
                    "counts": t.counts,
                }
                for t in tombstones
            ],
        )
        return [(t.customer_ref, t.pk) for t in tombstones]
    qn = connection.ops.quote_name
    audit_sql, audit_params = audit_insert_select(
        actor=actor,
        action="customer.erase",
        source="(SELECT * FROM t ORDER BY customer_ref) AS t",
        details=(
            "jsonb_build_object('customer', t.customer_ref, 'tombstone', t.id, "
            "'request', %s::bigint, 'counts', t.counts)"
        ),
    )
    meta = ErasureTombstone._meta
    written = (
        "erased_at", "customer_ref", "request", "reason", "actor_label",
        "email_hash", "phone_hash", "purposes", "counts",
    )  # fmt: skip
    columns = ", ".join(qn(meta.get_field(name).column) for name in written)  # type: ignore[arg-type,union-attr]
    # Table and column names from the models; every value is a parameter (the people as
    # one JSON document).
    insert = f"INSERT INTO {qn(meta.db_table)} ({columns})"
    sql = (
        "WITH v AS (SELECT * FROM jsonb_to_recordset(%s::jsonb) AS v(ref bigint, "  # noqa: S608
        "email_hash text, phone_hash text, purposes jsonb, counts jsonb)), "
        "t AS (" + insert + " SELECT %s, ref, %s, %s, %s, email_hash, phone_hash, purposes, "
        "counts FROM v ORDER BY ref RETURNING id, customer_ref, counts), "
        "a AS (" + audit_sql + ") SELECT customer_ref, id FROM t ORDER BY customer_ref"
    )
    rows = [
        {
            "ref": pk,
            "email_hash": people[pk].email_hash,
            "phone_hash": people[pk].phone_hash,
            "purposes": purposes[pk],
            "counts": people[pk].counts,
        }
        for pk in present
    ]
    params = [
        json_text(rows),
        connection.ops.adapt_datetimefield_value(now),
        request_id,
        reason,
        label,
        *audit_params,
        request_id,
    ]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [(ref, pk) for ref, pk in cur.fetchall()]


def _activity_model() -> type[models.Model]:
    from cordee.activities.models import Activity

    return Activity


def _unlink(files: list[Path]) -> None:
    # Files go after the commit: a rolled-back erasure must not have lost a partner's upload.
    for path in files:
        path.unlink(missing_ok=True)


def customers_erase(
    *,
    customer_ids: Iterable[int],
    actor: Actor,
    reason: str,
    restrict: QuerySet[Customer] | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> BatchErasureResult:
    """Erase these customers, ``batch_size`` per transaction; see the module's docstring.

    Ids no longer present (erased meanwhile) are skipped, as are those no longer in
    ``restrict`` when given (the purge passes its rule: someone who came back since the
    candidates were listed stays). Rerun after an interruption, it erases what is left.
    """
    reason = _clean_reason(reason)
    if not reason:
        from django.core.exceptions import ValidationError

        raise ValidationError(_("Indiquez le motif de l'effacement."))
    ids = sorted({int(i) for i in customer_ids})
    done = BatchErasureResult(counts=dict.fromkeys(COUNT_KEYS, 0))
    for start in range(0, len(ids), max(1, batch_size)):
        written, files = _erase_batch(
            ids[start : start + batch_size],
            actor=actor,
            reason=reason,
            request=None,
            restrict=restrict,
        )
        _unlink(files)
        for ref, tombstone_id, counts in written:
            done.erased.append(ref)
            done.tombstone_ids.append(tombstone_id)
            for key, n in counts.items():
                done.counts[key] = done.counts.get(key, 0) + n
        done.files += [str(p) for p in files]
        if progress is not None:
            progress(len(done.erased))
    return done


def customer_erase(
    *,
    customer: Customer,
    actor: Actor,
    reason: str,
    request: DataSubjectRequest | None = None,
) -> ErasureResult:
    """Erase ``customer`` everywhere and leave a tombstone (a batch of one)."""
    reason = _clean_reason(reason)
    if not reason:
        from django.core.exceptions import ValidationError

        raise ValidationError(_("Indiquez le motif de l'effacement."))
    written, files = _erase_batch(
        [int(customer.pk)], actor=actor, reason=reason, request=request, restrict=None
    )
    if not written:
        raise Customer.DoesNotExist(_("Ce client n'existe plus (déjà effacé ?)."))
    _unlink(files)
    ref, tombstone_id, counts = written[0]
    return ErasureResult(
        customer_ref=ref,
        tombstone=ErasureTombstone.objects.get(pk=tombstone_id),
        counts=counts,
        files=[str(p) for p in files],
    )


def erased_hashes(*, email_hashes: set[str], phone_hashes: set[str]) -> set[str]:
    """Of these keyed hashes, those of erased people (a re-import must not revive their consents)."""
    found: set[str] = set()
    email_hashes.discard("")
    phone_hashes.discard("")
    table = ErasureTombstone._meta.db_table
    for column, values in (("email_hash", email_hashes), ("phone_hash", phone_hashes)):
        # One index probe per key (an import asks for 20,000 at a time, mostly absent), in
        # the words of the partial index's own condition (see customers.services).
        sql = (
            f'SELECT t."{column}" FROM {{keys}} CROSS JOIN "{table}" t '  # noqa: S608
            f'WHERE NOT (t."{column}" = \'\') AND t."{column}" = k.v'
        )
        found.update(row[0] for row in select_keys(sql, [], sorted(values)))
    return found


def tombstone_for(*, email_hash: str = "", phone_hash: str = "") -> ErasureTombstone | None:
    condition = Q(pk__in=[])
    if email_hash:
        condition |= Q(email_hash=email_hash)
    if phone_hash:
        condition |= Q(phone_hash=phone_hash)
    return ErasureTombstone.objects.filter(condition).order_by("-erased_at").first()
