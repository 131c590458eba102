"""Merging two customers, and undoing it exactly: the merge ledger (issue 3).

A merge moves everything the absorbed customer holds to the survivor — source records,
activities, consent events, partner links, and any other row pointing at the customer —
records the ids of what moved and a snapshot of the absorbed row in a :class:`MergeEvent`,
then deletes the absorbed row. An unmerge recreates that row with the same id and sends
back exactly what moved, plus what arrived since through one of the moved source records.

Consents are never transferred to another person: a consent event keeps its source record
and is counted for the survivor only while both are one customer; the consent states of
both customers are derived again from their events after a merge and after an unmerge.

Concurrency: both customers' rows are locked (``select_for_update``, in id order) before
anything moves, moves are ``UPDATE ... WHERE customer_id = <from>`` (they take what is
there at that moment, read back with ``RETURNING``), and the absorbed row is deleted by a
plain ``DELETE`` that the foreign keys refuse while anything still points at it. A merge
racing an unmerge, or an import attaching a record meanwhile, therefore either waits or
fails and rolls back: no source record is lost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.core.bulk import int_array
from cordee.core.signals import activities_changed, customers_merged, customers_unmerged
from cordee.customers.golden import customers_golden_recompute
from cordee.customers.models import (
    Customer,
    CustomerLink,
    MergeEvent,
    MergeKind,
    PairDecision,
    ResolutionRun,
    ReviewStatus,
    SourceRecord,
)
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log
from cordee.privacy.crypto import email_index, phone_index
from cordee.privacy.sharing import customers_sharing_sync

__all__ = [
    "customer_correct",
    "customers_merge",
    "merge_ledger_erase",
    "merge_ledger_erase_many",
    "merge_undo",
    "pair_decide",
]

_encoder = DjangoJSONEncoder()


def _customer_id(customer: Customer | int) -> int:
    return customer if isinstance(customer, int) else int(customer.pk)


def _lock(ids: Iterable[int]) -> set[int]:
    """Lock the customer rows (in id order, so two merges never deadlock); those that exist."""
    return set(
        Customer.objects.select_for_update()
        .filter(pk__in=sorted(set(ids)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _move(
    model: type[models.Model],
    column: str,
    source: int,
    target: int,
    only_ids: Iterable[int] | None = None,
) -> list[int]:
    """``UPDATE model SET column = target WHERE column = source [AND id IN only_ids]``, ids back."""
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    pk = qn(model._meta.pk.column or "id")
    sql = f"UPDATE {table} SET {qn(column)} = %s WHERE {qn(column)} = %s"  # noqa: S608
    params: list[Any] = [target, source]
    if only_ids is not None:
        ids = sorted(set(only_ids))
        if not ids:
            return []
        sql += f" AND {pk} IN ({', '.join(['%s'] * len(ids))})"
        params.extend(ids)
    sql += f" RETURNING {pk}"
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return sorted(row[0] for row in cur.fetchall())


def _other_relations() -> list[tuple[type[models.Model], str, bool]]:
    """Rows of other apps pointing at a customer, beyond those this module knows.

    ``(model, column, one_to_one)``. Derived data (the consent states) is left out: it is
    recomputed.
    """
    from cordee.activities.models import Activity
    from cordee.privacy.models import ConsentEvent, ConsentState

    known = {SourceRecord, CustomerLink, Activity, ConsentEvent, ConsentState}
    found = []
    for relation in Customer._meta.get_fields(include_hidden=True):
        if not relation.auto_created or relation.concrete:
            continue
        model = relation.related_model
        if not isinstance(model, type) or model in known or model is Customer:
            continue
        column = relation.field.column  # type: ignore[union-attr]
        if column is not None:
            found.append((model, column, bool(relation.one_to_one)))
    return found


def _delete_rows(model: type[models.Model], column: str, customer_id: int) -> None:
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.execute(
            f"DELETE FROM {qn(model._meta.db_table)} WHERE {qn(column)} = %s",  # noqa: S608
            [customer_id],
        )


def _move_or_keep(
    model: type[models.Model], column: str, source: int, target: int
) -> tuple[list[int], list[dict[str, Any]]]:
    """Move a customer's rows of ``model``; a row the survivor already has (a unique
    constraint: one loyalty card, one membership of a list) is kept in the ledger instead,
    deleted, and recreated by the undo."""
    try:
        with transaction.atomic():
            return _move(model, column, source, target), []
    except IntegrityError:
        pass
    qn = connection.ops.quote_name
    pk = model._meta.pk
    assert pk is not None and pk.column is not None
    pk_column = qn(pk.column)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT {pk_column} FROM {qn(model._meta.db_table)} "  # noqa: S608
            f"WHERE {qn(column)} = %s",
            [source],
        )
        row_ids = [row[0] for row in cur.fetchall()]
    moved: list[int] = []
    kept: list[dict[str, Any]] = []
    for row_id in row_ids:
        try:
            with transaction.atomic():
                moved += _move(model, column, source, target, [row_id])
        except IntegrityError:
            row = model._default_manager.get(pk=row_id)
            values = {f.attname: f.value_from_object(row) for f in model._meta.concrete_fields}
            kept.append(json.loads(json.dumps(values, default=_json_value)))
            with connection.cursor() as cur:
                cur.execute(
                    f"DELETE FROM {qn(model._meta.db_table)} WHERE {pk_column} = %s",  # noqa: S608
                    [row_id],
                )
    return moved, kept


def _rows_restore(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    for values in rows:
        fields = {
            f.attname: f.to_python(values[f.attname])
            for f in model._meta.concrete_fields
            if f.attname in values
        }
        model._default_manager.bulk_create([model(**fields)])


def _json_value(value: Any) -> Any:
    # Not DjangoJSONEncoder: it cuts datetimes to the millisecond, and the undo is exact.
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return _encoder.default(value)


def _snapshot(customer: Customer) -> dict[str, Any]:
    values = {f.attname: f.value_from_object(customer) for f in Customer._meta.concrete_fields}
    # Through JSON once, so the ledger holds exactly what it will give back.
    snapshot: dict[str, Any] = json.loads(json.dumps(values, default=_json_value))
    return snapshot


def _restore(snapshot: dict[str, Any]) -> Customer:
    values = {}
    for f in Customer._meta.concrete_fields:
        if f.attname in snapshot:
            values[f.attname] = f.to_python(snapshot[f.attname])
    customer = Customer(**values)
    customer.save(force_insert=True)
    # auto_now_add and auto_now stamped the insert: put the original dates back.
    Customer.objects.filter(pk=customer.pk).update(
        created_at=values.get("created_at", customer.created_at),
        updated_at=values.get("updated_at", customer.updated_at),
    )
    return customer


def _delete_customer(customer_id: int) -> None:
    # Not Model.delete(): its cascade would take along whatever arrived since the moves.
    # A plain DELETE is refused by the foreign keys instead, and the merge rolls back; the
    # tables whose foreign key has no database constraint are checked here, the same way.
    for model, attname in _unconstrained_children():
        if model._base_manager.filter(**{attname: customer_id}).exists():
            raise IntegrityError(f"{model._meta.label} rows still point at customer {customer_id}")
    with connection.cursor() as cur:
        cur.execute(
            f"DELETE FROM {connection.ops.quote_name(Customer._meta.db_table)} WHERE id = %s",  # noqa: S608
            [customer_id],
        )


def _unconstrained_children() -> list[tuple[type[models.Model], str]]:
    """The models (and columns) pointing at a customer through a foreign key without a
    database constraint."""
    return [
        (relation.related_model, relation.field.attname)  # type: ignore[union-attr]
        for relation in Customer._meta.get_fields(include_hidden=True)
        if relation.auto_created
        and not relation.concrete
        and isinstance(relation.related_model, type)
        and not getattr(getattr(relation, "field", None), "db_constraint", True)
    ]


def consent_states_recompute(customer_ids: Iterable[int]) -> None:
    """Derive again the consent states of these customers from their events.

    The same rule as ``privacy.services.consent_states_rebuild`` (the latest event per
    purpose and controller), for a few customers; their sharing flag follows.
    """
    from cordee.privacy.models import ConsentEvent, ConsentState

    ids = sorted(set(customer_ids))
    if not ids:
        return
    ConsentState.objects.filter(customer_id__in=ids).delete()
    events = ConsentEvent._meta.db_table
    states = ConsentState._meta.db_table
    slots = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cur:
        cur.execute(
            f'INSERT INTO "{states}" ("customer_id", "purpose_id", "controller_id", "status", '  # noqa: S608
            '"at", "event_id") '
            'SELECT e."customer_id", e."purpose_id", e."controller_id", e."status", e."at", e."id" '
            f'FROM "{events}" e WHERE e."customer_id" IN ({slots}) AND NOT EXISTS (SELECT 1 '
            f'FROM "{events}" l WHERE l."customer_id" = e."customer_id" '
            'AND l."purpose_id" = e."purpose_id" AND l."controller_id" = e."controller_id" '
            'AND (l."at" > e."at" OR (l."at" = e."at" AND l."id" > e."id")))',
            ids,
        )
    customers_sharing_sync(ids)


def _iso(value: dt.datetime) -> str:
    return value.isoformat()


def _merge_links(survivor: int, absorbed: int) -> dict[str, Any]:
    """Move the absorbed customer's partner links; a partner both had keeps one link."""
    own = {
        partner: (pk, first_seen)
        for pk, partner, first_seen in CustomerLink.objects.filter(
            customer_id=survivor
        ).values_list("pk", "partner_id", "first_seen")
    }
    moved: list[int] = []
    shared: list[dict[str, Any]] = []
    for pk, partner, first_seen in CustomerLink.objects.filter(customer_id=absorbed).values_list(
        "pk", "partner_id", "first_seen"
    ):
        if partner not in own:
            moved.append(pk)
            continue
        survivor_pk, survivor_first = own[partner]
        shared.append(
            {
                "partner": partner,
                "first_seen": _iso(first_seen),
                "survivor_first_seen": _iso(survivor_first),
            }
        )
        if first_seen < survivor_first:
            CustomerLink.objects.filter(pk=survivor_pk).update(first_seen=first_seen)
    CustomerLink.objects.filter(customer_id=absorbed).exclude(pk__in=moved).delete()
    moved = _move(CustomerLink, "customer_id", absorbed, survivor, only_ids=moved)
    return {"links": moved, "shared_links": shared}


def customers_merge(
    survivor: Customer | int,
    absorbed: Customer | int,
    *,
    actor: Actor | None = None,
    run: ResolutionRun | None = None,
    score: float | None = None,
    evidence: dict[str, Any] | None = None,
) -> MergeEvent:
    """Merge ``absorbed`` into ``survivor``: one customer, everything recorded for an undo.

    Raises ``ValidationError`` (in French) when the two are one, or one no longer exists.
    """
    from cordee.activities.models import Activity
    from cordee.privacy.models import ConsentEvent, ConsentState

    survivor_id, absorbed_id = _customer_id(survivor), _customer_id(absorbed)
    if survivor_id == absorbed_id:
        raise ValidationError(_("Un client ne peut pas être fusionné avec lui-même."))
    actor = actor or Actor.system("resolve")
    with transaction.atomic():
        present = _lock((survivor_id, absorbed_id))
        for customer_id in (survivor_id, absorbed_id):
            if customer_id not in present:
                raise ValidationError(
                    _("Le client n° %(id)s n'existe plus (déjà fusionné ou effacé).")
                    % {"id": customer_id}
                )
        snapshot = _snapshot(Customer.objects.get(pk=absorbed_id))
        moved: dict[str, Any] = {
            "source_records": _move(SourceRecord, "customer_id", absorbed_id, survivor_id),
            "activities": _move(Activity, "customer_id", absorbed_id, survivor_id),
            "consent_events": _move(ConsentEvent, "customer_id", absorbed_id, survivor_id),
            **_merge_links(survivor_id, absorbed_id),
            "other": {},
        }
        kept: dict[str, list[dict[str, Any]]] = {}
        for model, column, _one_to_one in _other_relations():
            label = f"{model._meta.label_lower}.{column}"
            if getattr(model, "DERIVED_FROM_CUSTOMER", False):
                # Per-customer aggregates: recomputed for the survivor once this commits.
                _delete_rows(model, column, absorbed_id)
                continue
            ids, rows = _move_or_keep(model, column, absorbed_id, survivor_id)
            if ids:
                moved["other"][label] = ids
            if rows:
                kept[label] = rows
        moved["kept"] = kept
        ConsentState.objects.filter(customer_id=absorbed_id).delete()
        _delete_customer(absorbed_id)
        consent_states_recompute([survivor_id])
        customers_golden_recompute([survivor_id])
        event = MergeEvent.objects.create(
            kind=MergeKind.MERGE,
            actor=actor.user,
            actor_label=actor.label[:150],
            run=run,
            survivor_id=survivor_id,
            absorbed_id=absorbed_id,
            score=score,
            evidence=evidence or {},
            snapshot=snapshot,
            moved=moved,
        )
        audit_log(
            actor=actor,
            action="customer.merge",
            obj=event,
            survivor=survivor_id,
            absorbed=absorbed_id,
            run=run.pk if run else None,
            score=score,
            source_records=len(moved["source_records"]),
        )
        transaction.on_commit(
            lambda: (
                customers_merged.send(
                    sender=Customer, customer_ids=[absorbed_id], survivor_id=survivor_id
                ),
                activities_changed.send(sender=Customer, customer_ids=[survivor_id]),
            )
        )
    return event


def merge_undo(event: MergeEvent | int, *, actor: Actor) -> MergeEvent:
    """Undo a merge exactly: the absorbed customer comes back with the same id and its rows.

    Also sent back: what reached the survivor since through one of the moved source records
    (an activity, a consent). Refused (``ValidationError``, in French) when the merge was
    already undone, its data erased, or the survivor itself merged since into another
    customer (undo that one first).
    """
    from cordee.activities.models import Activity
    from cordee.privacy.models import ConsentEvent

    event_id = event if isinstance(event, int) else event.pk
    with transaction.atomic():
        try:
            merge = MergeEvent.objects.select_for_update().get(pk=event_id, kind=MergeKind.MERGE)
        except MergeEvent.DoesNotExist:
            raise ValidationError(_("Cette fusion n'existe pas.")) from None
        if MergeEvent.objects.filter(undoes=merge).exists():
            raise ValidationError(_("Cette fusion a déjà été annulée."))
        if merge.erased:
            raise ValidationError(
                _(
                    "Cette fusion ne peut plus être annulée : les données de la personne ont été effacées."
                )
            )
        survivor_id, absorbed_id = merge.survivor_id, merge.absorbed_id
        if not _lock([survivor_id]):
            later = (
                MergeEvent.objects.filter(kind=MergeKind.MERGE, absorbed_id=survivor_id)
                .order_by("-at", "-id")
                .first()
            )
            if later is not None:
                raise ValidationError(
                    _(
                        "Le client n° %(id)s a depuis été fusionné dans le client n° %(into)s : "
                        "annulez d'abord cette fusion-là."
                    )
                    % {"id": survivor_id, "into": later.survivor_id}
                )
            raise ValidationError(_("Le client n° %(id)s n'existe plus.") % {"id": survivor_id})
        if Customer.objects.filter(pk=absorbed_id).exists():
            raise ValidationError(_("Le client n° %(id)s existe déjà.") % {"id": absorbed_id})
        _restore(merge.snapshot)
        moved: dict[str, Any] = merge.moved
        back: dict[str, Any] = {}
        sources = _move(
            SourceRecord, "customer_id", survivor_id, absorbed_id, moved.get("source_records", [])
        )
        back["source_records"] = sources
        for name, model in (("activities", Activity), ("consent_events", ConsentEvent)):
            # Those that moved, and those that came since through a record going back.
            ids = set(moved.get(name, []))
            ids.update(
                model._default_manager.filter(
                    customer_id=survivor_id, source_record_id__in=sources
                ).values_list("pk", flat=True)
            )
            back[name] = _move(model, "customer_id", survivor_id, absorbed_id, ids)
        back.update(_undo_links(merge, survivor_id, absorbed_id))
        back["other"] = {}
        relations = {f"{m._meta.label_lower}.{c}": (m, c) for m, c, _one in _other_relations()}
        for label, ids in moved.get("other", {}).items():
            if label in relations:
                other, column = relations[label]
                back["other"][label] = _move(other, column, survivor_id, absorbed_id, ids)
        for label, rows in moved.get("kept", {}).items():
            if label in relations:
                _rows_restore(relations[label][0], rows)
        consent_states_recompute([survivor_id, absorbed_id])
        customers_golden_recompute([survivor_id, absorbed_id])
        _remember_apart(survivor_id, sources, actor, merge.score)
        undo = MergeEvent.objects.create(
            kind=MergeKind.UNMERGE,
            actor=actor.user,
            actor_label=actor.label[:150],
            survivor_id=survivor_id,
            absorbed_id=absorbed_id,
            score=merge.score,
            moved=back,
            undoes=merge,
        )
        audit_log(
            actor=actor,
            action="customer.unmerge",
            obj=undo,
            merge=merge.pk,
            survivor=survivor_id,
            absorbed=absorbed_id,
            source_records=len(sources),
        )
        transaction.on_commit(
            lambda: (
                customers_unmerged.send(
                    sender=Customer, customer_ids=[absorbed_id], survivor_id=survivor_id
                ),
                activities_changed.send(sender=Customer, customer_ids=[survivor_id, absorbed_id]),
            )
        )
    return undo


def _remember_apart(
    survivor_id: int, sources: Sequence[int], actor: Actor, score: float | None
) -> None:
    """A person undid this merge: the two must never be merged again automatically."""
    other = (
        SourceRecord.objects.filter(customer_id=survivor_id)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if other is None or not sources:
        return
    left, right = sorted((other, sources[0]))
    decided = {
        "status": ReviewStatus.DIFFERENT,
        "decided_at": timezone.now(),
        "decided_by": actor.user,
    }
    updated = PairDecision.objects.filter(left_id=left, right_id=right).update(**decided)
    if not updated:
        PairDecision.objects.create(
            left_id=left, right_id=right, score=score or 0.0, reason="unmerge", **decided
        )


def _undo_links(merge: MergeEvent, survivor_id: int, absorbed_id: int) -> dict[str, Any]:
    moved: dict[str, Any] = merge.moved
    links = _move(CustomerLink, "customer_id", survivor_id, absorbed_id, moved.get("links", []))
    for shared in moved.get("shared_links", []):
        partner = shared["partner"]
        CustomerLink.objects.get_or_create(
            customer_id=absorbed_id,
            partner_id=partner,
            defaults={"first_seen": dt.datetime.fromisoformat(shared["first_seen"])},
        )
        CustomerLink.objects.filter(customer_id=survivor_id, partner_id=partner).update(
            first_seen=dt.datetime.fromisoformat(shared["survivor_first_seen"])
        )
    # A partner whose link went back but who brought the survivor a record since the merge
    # keeps a link to the survivor too.
    moved_partners = CustomerLink.objects.filter(pk__in=links).values_list("partner_id", flat=True)
    for partner in moved_partners:
        first = (
            SourceRecord.objects.filter(customer_id=survivor_id, partner_id=partner)
            .order_by("collected_at")
            .values_list("collected_at", flat=True)
            .first()
        )
        if first is not None:
            CustomerLink.objects.get_or_create(
                customer_id=survivor_id, partner_id=partner, defaults={"first_seen": first}
            )
    return {"links": links}


def merge_ledger_erase(customer_id: int) -> int:
    """Remove the personal data the ledger holds about a customer (erasure, rule 4).

    Empties the snapshot and the evidence of every merge or unmerge where the customer was
    the survivor or the absorbed one; the entries stay, without the person, so the history of
    the other customer still reads. Such a merge can no longer be undone. Returns how many
    entries were cleared.
    """
    return merge_ledger_erase_many([customer_id]).get(customer_id, 0)


def merge_ledger_erase_many(customer_ids: list[int]) -> dict[int, int]:
    """``merge_ledger_erase`` for a batch of erased customers, in one update.

    Returns, per customer, how many entries were cleared for them; an entry between two of
    them counts for the first by number (what erasing them one by one in that order counts).
    """
    ids = set(customer_ids)
    if not ids:
        return {}
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # One array literal, twice: a list of thousands of parameters costs more to adapt
            # than the two index reads it asks for (``= ANY`` keeps both index scans).
            array = int_array(sorted(ids))
            table = connection.ops.quote_name(MergeEvent._meta.db_table)
            with connection.cursor() as cur:
                cur.execute(
                    f'SELECT "id", "survivor_id", "absorbed_id" FROM {table} '  # noqa: S608
                    'WHERE NOT "erased" AND ("survivor_id" = ANY(%s::bigint[]) '
                    'OR "absorbed_id" = ANY(%s::bigint[]))',
                    [array, array],
                )
                entries = list(cur.fetchall())
        else:
            entries = list(
                MergeEvent.objects.filter(
                    models.Q(survivor_id__in=ids) | models.Q(absorbed_id__in=ids)
                )
                .exclude(erased=True)
                .values_list("pk", "survivor_id", "absorbed_id")
            )
        counts: dict[int, int] = {}
        for _pk, survivor, absorbed in entries:
            first = min(c for c in (survivor, absorbed) if c in ids)
            counts[first] = counts.get(first, 0) + 1
        if entries:
            MergeEvent.objects.filter(pk__in=[e[0] for e in entries]).update(
                snapshot={}, evidence={}, moved={}, erased=True
            )
        return counts


def customer_correct(
    *, customer: Customer, values: dict[str, Any], actor: Actor, partner: Any
) -> SourceRecord:
    """Record a manual correction of golden values: a new source record that wins survivorship.

    The customer's own records are never edited (rule 2): the correction is one more record,
    of the desk channel, marked ``"correction": true``; the golden record is recomputed.
    """
    from cordee.customers.models import GOLDEN_FIELDS

    unknown = sorted(set(values) - set(GOLDEN_FIELDS))
    if unknown:
        raise ValidationError(_("Champs inconnus : %(names)s") % {"names": ", ".join(unknown)})
    now = timezone.now()
    data = {**values, "correction": True}
    raw = {k: "" if v is None else str(v) for k, v in values.items()}
    fingerprint = hashlib.blake2b(
        json.dumps([now.isoformat(), customer.pk, raw], sort_keys=True).encode(), digest_size=16
    ).hexdigest()
    with transaction.atomic():
        record = SourceRecord.objects.create(
            customer=customer,
            partner=partner,
            channel="desk",
            collected_at=now,
            raw=raw,
            data=data,
            fingerprint=fingerprint,
            email_hash=email_index(str(values.get("email") or "")),
            phone_hash=phone_index(str(values.get("phone") or "")),
        )
        customers_golden_recompute([customer.pk])
        audit_log(actor=actor, action="customer.correct", obj=customer, fields=sorted(values))
    return record


def pair_decide(*, decision_id: int, status: str, actor: Actor) -> PairDecision:
    """A person's answer on a pair to review: merge it, reject it, or "different people".

    Claimed with a conditional update, so two people answering at once decide once. A
    rejected or "different people" pair is never proposed again, nor merged by a run.
    """
    if status not in (ReviewStatus.MERGED, ReviewStatus.REJECTED, ReviewStatus.DIFFERENT):
        raise ValidationError(_("Réponse inconnue : %(status)s") % {"status": status})
    with transaction.atomic():
        claimed = PairDecision.objects.filter(pk=decision_id, status=ReviewStatus.PENDING).update(
            status=status, decided_at=timezone.now(), decided_by=actor.user
        )
        if not claimed:
            raise ValidationError(_("Cette paire a déjà été traitée."))
        decision = PairDecision.objects.select_related("left", "right").get(pk=decision_id)
        left, right = decision.left.customer_id, decision.right.customer_id
        # The other pending pairs between the same two customers get the same answer.
        same = Q(left__customer_id=left, right__customer_id=right) | Q(
            left__customer_id=right, right__customer_id=left
        )
        PairDecision.objects.filter(same, status=ReviewStatus.PENDING).update(
            status=status, decided_at=timezone.now(), decided_by=actor.user
        )
        if (
            status == ReviewStatus.MERGED
            and left is not None
            and right is not None
            and left != right
        ):
            customers_merge(
                min(left, right),
                max(left, right),
                actor=actor,
                score=decision.score,
                evidence=decision.evidence,
            )
        audit_log(actor=actor, action="customer.review", obj=decision, status=status)
    return decision
