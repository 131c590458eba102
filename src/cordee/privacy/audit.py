"""The audit trail: one function writes every entry (ARCHITECTURE.md, rule 7)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Model

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
) -> AuditEvent:
    """Record who did ``action`` on ``obj``. Call it inside the write's transaction."""
    return AuditEvent.objects.create(
        **_entry(actor=actor, action=action, obj=obj, ip=ip, **details)
    )


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
