"""Write paths of segments: refreshing the aggregates, saving segments, taking snapshots."""

# SQL here is assembled from table names, fixed fragments and integer keys only; every value
# travels as a query parameter.
# ruff: noqa: S608

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log
from cordee.segments.aggregates import chunks, customer_stats_rebuild, season_stats_rebuild
from cordee.segments.churn import ChurnReport, churn_score, churn_train
from cordee.segments.compiler import definition_q, segment_queryset
from cordee.segments.definition import DefinitionError
from cordee.segments.models import (
    Segment,
    SegmentKind,
    SegmentMember,
    SegmentSnapshot,
    SnapshotMember,
)
from cordee.segments.refresh import refresh_lock
from cordee.segments.typology import typology_rebuild

BULK_WORK_MEM = "1GB"
BULK_TEMP_BUFFERS = "1GB"


@dataclass
class RefreshReport:
    seconds: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # per step, when a clock is given
    churn: ChurnReport | None = None
    scored: int = 0


def stats_refresh(
    *, train: bool = True, cpu_clock: Callable[[], float] | None = None
) -> RefreshReport:
    """Rebuild every aggregate, RFM, the 3F typology and the churn risk, set-based.

    Idempotent: the periodic job and ``cordee segment refresh`` run it; a run that stops half
    way is simply run again. ``cpu_clock`` (CPU seconds so far, e.g. of this process and its
    database backend) times each step's CPU in the report beside its wall time.
    """
    report = RefreshReport()
    builtin_segments_ensure()
    _scratch_in_memory()

    def step(name: str, fn: Any) -> Any:
        start, cpu_start = time.perf_counter(), cpu_clock() if cpu_clock else 0.0
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # Grouping 20M activities into millions of rows and ranking them: with the
                # default work_mem PostgreSQL spills every hash and sort to disk.
                with connection.cursor() as cur:
                    # 1 GB: 4M customer-seasons sort in memory, and group in a hash table
                    # of twice that (hash_mem_multiplier; cordee.segments.aggregates.money_sum).
                    cur.execute("SET LOCAL work_mem = %s", [BULK_WORK_MEM])
            out = fn()
        report.seconds[name] = round(time.perf_counter() - start, 2)
        if cpu_clock:
            report.cpu[name] = round(cpu_clock() - cpu_start, 2)
        return out

    step("season_stats_and_rfm", season_stats_rebuild)
    if connection.vendor == "postgresql":
        step("analyze_season_stats", lambda: _analyze("segments_customerseasonstats"))
    reference = step("typology", typology_rebuild)
    if train:
        report.churn = step("churn_train", churn_train)
    report.scored = step("churn_score", churn_score)
    step("customer_stats_and_rfm", lambda: customer_stats_rebuild(None, reference))
    if connection.vendor == "postgresql":  # the season stats were analysed after their step
        step("analyze", lambda: _analyze("segments_customertypology", "segments_customerstats"))
    return report


def _scratch_in_memory() -> None:
    """Let the rebuild's scratch tables (temporary: per-season and per-customer groups,
    churn risks; 400 MB at a million customers) stay in the backend's memory.

    With the default 8 MB of ``temp_buffers`` every scratch table was written to disk
    while being filled and read back from the file at every scan. The memory is taken
    only as the tables grow and stays with the session (a worker's connection) until it
    ends. It can be set once per session only: PostgreSQL refuses the change after the
    session's first temporary table, in which case the rebuild goes on with what the
    session has."""
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SET temp_buffers = %s", [BULK_TEMP_BUFFERS])
    except DatabaseError:
        pass


def _analyze(*tables: str) -> None:
    with connection.cursor() as cur:
        for table in tables:
            cur.execute(f"ANALYZE {table}")


def stats_refresh_customers(customer_ids: list[int]) -> None:
    """Recompute the aggregates of these customers only, against the last bulk run's RFM
    breakpoints and churn model (what ``activities_changed`` triggers)."""
    ids = sorted({int(i) for i in customer_ids})
    for part in chunks(ids):
        with transaction.atomic():
            refresh_lock()
            stats_refresh_part(part)


def stats_refresh_part(customer_ids: list[int]) -> None:
    """Recompute these customers' aggregates (at most one chunk), inside the caller's
    transaction and refresh lock (cordee.segments.refresh)."""
    season_stats_rebuild(customer_ids)
    reference = typology_rebuild(customer_ids)
    churn_score(customer_ids)
    customer_stats_rebuild(customer_ids, reference)


def segment_save(
    *,
    actor: Actor,
    slug: str,
    name: str,
    definition: dict[str, Any],
    description: str = "",
    segment: Segment | None = None,
) -> Segment:
    """Create or update a dynamic segment; the definition is checked (cycles included) first."""
    definition_q(definition, actor=actor, slug=slug)
    with transaction.atomic():
        if segment is None:
            segment = Segment.objects.create(
                slug=slug,
                name=name,
                description=description,
                definition=definition,
                owner=None if actor.sees_everything else actor.partner,
                created_by=actor.user,
            )
            action = "segment.create"
        else:
            if segment.is_builtin:
                raise DefinitionError([_("les segments prédéfinis ne se modifient pas.")])
            segment.name, segment.description, segment.definition = name, description, definition
            segment.save(update_fields=["name", "description", "definition", "updated_at"])
            action = "segment.update"
        audit_log(actor=actor, action=action, obj=segment)
    return segment


def _insert_members(table: Any, owner_column: str, owner_id: int, members: QuerySet[Any]) -> None:
    sql, params = members.values("id").order_by().query.sql_with_params()
    cols = f"{connection.ops.quote_name(owner_column)}, customer_id"
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {connection.ops.quote_name(table._meta.db_table)} ({cols}) "
            f"SELECT %s, sub.id FROM ({sql}) AS sub",
            [owner_id, *params],
        )


def segment_freeze(*, actor: Actor, segment: Segment, slug: str, name: str) -> Segment:
    """A frozen list holding today's members of ``segment`` (as ``actor`` sees them)."""
    members = segment_queryset(segment, actor)
    with transaction.atomic():
        frozen = Segment.objects.create(
            slug=slug,
            name=name,
            kind=SegmentKind.FROZEN,
            definition={},
            description=_("Liste figée de « %(name)s ».") % {"name": segment.name},
            owner=None if actor.sees_everything else actor.partner,
            created_by=actor.user,
        )
        _insert_members(SegmentMember, "segment_id", frozen.pk, members)
        audit_log(actor=actor, action="segment.freeze", obj=frozen, source=segment.slug)
    return frozen


def segment_snapshot(
    segment: Segment, reason: str, *, actor: Actor | None = None
) -> SegmentSnapshot:
    """Keep who is in ``segment`` now, because an action (a campaign, an export) uses it."""
    actor = actor or Actor.system("segments")
    members = segment_queryset(segment, actor)
    with transaction.atomic():
        snapshot = SegmentSnapshot.objects.create(
            segment=segment,
            reason=reason[:200],
            definition=segment.definition,
            actor_label=actor.label[:150],
        )
        _insert_members(SnapshotMember, "snapshot_id", snapshot.pk, members)
        snapshot.size = SnapshotMember.objects.filter(snapshot=snapshot).count()
        snapshot.save(update_fields=["size"])
        audit_log(
            actor=actor,
            action="segment.snapshot",
            obj=segment,
            reason=reason[:200],
            size=snapshot.size,
        )
    return snapshot


BUILTIN_SEGMENTS = (
    ("fideles", "Fidèles", "fidele", "Reviennent par choix et sont satisfaits (saison de référence)."),
    ("forces", "Forcés", "force", "Reviennent, mais insatisfaits ou contraints (saison de référence)."),
    ("fuyants", "Fuyants", "fuyant", "S’éloignent ou sont partis (saison de référence)."),
)  # fmt: skip


def builtin_segments_ensure() -> None:
    """The three 3F segments exist (the data migration creates them; ``segment refresh``
    puts them back if a database was emptied without its migrations)."""
    for slug, name, group, description in BUILTIN_SEGMENTS:
        Segment.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "description": description,
                "kind": SegmentKind.DYNAMIC,
                "is_builtin": True,
                "definition": {"all": [{"field": "loyalty_group", "op": "eq", "value": group}]},
            },
        )
