"""The audit trail: one function writes every entry (ARCHITECTURE.md, rule 7)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Model
from django.utils import timezone

from cordee.privacy.models import AuditEvent

if TYPE_CHECKING:
    from cordee.privacy.access import Actor

# Keys that must never land in the trail even if a caller passes them by mistake.
_FORBIDDEN_KEYS = frozenset(
    {"email", "phone", "first_name", "last_name", "address", "birth_date", "password", "token"}
)


def audit_log(
    *,
    actor: Actor,
    action: str,
    obj: Model | None = None,
    ip: str | None = None,
    **details: Any,
) -> None:
    """Record who did ``action`` on ``obj``. Call it inside the write's transaction.

    One plain ``INSERT`` (no ORM save: API calls write one entry each, and building the
    ORM's insert cost as much as the rest of the write)."""
    columns, values, params = audit_insert_parts(
        actor=actor, action=action, obj=obj, ip=ip, **details
    )
    with connection.cursor() as cur:
        cur.execute(f"{columns} VALUES ({values})", params)


def audit_insert_parts(
    *,
    actor: Actor,
    action: str,
    obj: Model | None = None,
    ip: str | None = None,
    **details: Any,
) -> tuple[str, str, list[Any]]:
    """One entry as ``INSERT INTO … (columns)``, its value placeholders and their parameters.

    For a write that adds its entry in its own statement — ``{columns} SELECT {values} FROM
    inserted`` in a CTE on PostgreSQL, so that the entry exists exactly when the row does."""
    entry = _entry(actor=actor, action=action, obj=obj, ip=ip, **details)
    ops = connection.ops
    field = AuditEvent._meta.get_field
    names = ("at", "actor", "actor_label", "partner", "action", "object_type", "object_id", "ip")
    actor_user, partner = entry["actor"], entry["partner"]
    params: list[Any] = [
        ops.adapt_datetimefield_value(timezone.now()),
        actor_user.pk if actor_user is not None else None,
        entry["actor_label"],
        partner.pk if partner is not None else None,
        entry["action"],
        entry["object_type"],
        entry["object_id"],
        field("ip").get_db_prep_value(entry["ip"], connection),  # type: ignore[union-attr]
        json.dumps(entry["details"]),
    ]
    quoted = [ops.quote_name(field(name).column) for name in (*names, "details")]  # type: ignore[union-attr,arg-type]
    details_slot = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    ip_slot = "%s::inet" if connection.vendor == "postgresql" else "%s"
    slots = ["%s"] * 7 + [ip_slot, details_slot]
    table = ops.quote_name(AuditEvent._meta.db_table)
    return f"INSERT INTO {table} ({', '.join(quoted)})", ", ".join(slots), params


def audit_insert_select(
    *, actor: Actor, action: str, source: str, details: str
) -> tuple[str, list[Any]]:
    """PostgreSQL: ``INSERT`` one entry per row of ``source`` (a table or CTE name, with its
    alias), whose JSON ``details`` is an SQL expression over that row; with its parameters.

    For a batch that writes its rows and their entries in one statement (the batch erasure's
    tombstones): the entries exist exactly when the rows do, and no row crosses the wire."""
    entry = _entry(actor=actor, action=action)
    ops = connection.ops
    field = AuditEvent._meta.get_field
    names = ("at", "actor", "actor_label", "partner", "action", "object_type", "object_id")
    actor_user, partner = entry["actor"], entry["partner"]
    params: list[Any] = [
        ops.adapt_datetimefield_value(timezone.now()),
        actor_user.pk if actor_user is not None else None,
        entry["actor_label"],
        partner.pk if partner is not None else None,
        entry["action"],
        entry["object_type"],
        entry["object_id"],
    ]
    quoted = [ops.quote_name(field(name).column) for name in (*names, "details")]  # type: ignore[union-attr,arg-type]
    table = ops.quote_name(AuditEvent._meta.db_table)
    slots = ", ".join(["%s"] * len(names))
    sql = f"INSERT INTO {table} ({', '.join(quoted)}) SELECT {slots}, {details} FROM {source}"  # noqa: S608
    return sql, params


def audit_log_many(*, actor: Actor, action: str, details: list[dict[str, Any]]) -> int:
    """One entry per item of ``details`` in one insert (a batch erasure): as ``audit_log`` each."""
    rows = [AuditEvent(**_entry(actor=actor, action=action, **item)) for item in details]
    return len(AuditEvent.objects.bulk_create(rows, batch_size=1000))


def _entry(
    *, actor: Actor, action: str, obj: Model | None = None, ip: str | None = None, **details: Any
) -> dict[str, Any]:
    clean = {k: ("***" if k in _FORBIDDEN_KEYS else v) for k, v in details.items()}
    return dict(
        actor=actor.user,
        actor_label=actor.label[:150],
        partner=actor.partner,
        action=action,
        object_type=(obj._meta.model_name or "") if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        ip=ip,
        details=clean,
    )


def client_ip(request: Any) -> str | None:
    return request.META.get("REMOTE_ADDR") or None
