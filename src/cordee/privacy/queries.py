"""Reads of consent: the current state derived from the history, and the set-based filter."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from cordee.customers.models import Customer, SourceRecord
from cordee.partners.models import Partner, PartnerKind
from cordee.privacy.access import Actor
from cordee.privacy.models import AuditEvent, ConsentEvent, ConsentState, ConsentStatus, Purpose


def latest_events(events: Iterable[ConsentEvent]) -> dict[tuple[int, int], ConsentEvent]:
    """The latest event per (purpose, controller); ties on ``at`` go to the later id."""
    latest: dict[tuple[int, int], ConsentEvent] = {}
    for event in events:
        key = (event.purpose_id, event.controller_id)
        current = latest.get(key)
        if current is None or (event.at, event.pk) > (current.at, current.pk):
            latest[key] = event
    return latest


def consent_history(customer: Customer) -> QuerySet[ConsentEvent]:
    return (
        ConsentEvent.objects.filter(customer=customer)
        .select_related("purpose", "controller", "collected_by", "wording", "source_record")
        .order_by("at", "id")
    )


def consent_state(customer: Customer) -> dict[str, dict[int, ConsentEvent]]:
    """``{purpose slug: {controller id: latest event}}``, derived from the history itself.

    One customer has a handful of events: reading them all is cheaper than trusting anything
    else, and it is the proof a DPO would show.
    """
    state: dict[str, dict[int, ConsentEvent]] = {}
    for (_purpose, controller_id), event in latest_events(consent_history(customer)).items():
        state.setdefault(event.purpose.slug, {})[controller_id] = event
    return state


def customers_with_consent(
    qs: QuerySet[Customer], purpose: Purpose | str, controller: Partner | None = None
) -> QuerySet[Customer]:
    """The customers of ``qs`` whose current state for ``purpose`` is granted.

    With ``controller``, granted to that controller; without, granted to at least one. Reads
    the ConsentState table the consent services keep: one indexed semi-join, whatever the size.
    """
    return qs.filter(consent_granted(purpose, controller))


def consent_granted(purpose: Purpose | str, controller: Partner | None = None) -> Exists:
    """The condition ``customers_with_consent`` filters on, as an expression of the outer
    customer (``OuterRef("pk")``): a query can also read it as a column, one indexed probe
    per customer it returns (the send-time check of a batch does)."""
    granted = ConsentState.objects.filter(customer=OuterRef("pk"), status=ConsentStatus.GRANTED)
    if isinstance(purpose, Purpose):
        granted = granted.filter(purpose_id=purpose.pk)
    else:
        granted = granted.filter(purpose__slug=purpose)
    if controller is not None:
        granted = granted.filter(controller_id=controller.pk)
    return Exists(granted)


@dataclass
class ConsentLine:
    """One event as a reader may see it: another partner's name and files stay hidden."""

    event: ConsentEvent
    collected_by: str
    recorded_by: str
    source: SourceRecord | None


@dataclass
class PurposeConsents:
    """What the customer page shows for one purpose."""

    purpose: Purpose
    current: list[ConsentLine] = field(default_factory=list)
    history: list[ConsentLine] = field(default_factory=list)


def _line(event: ConsentEvent, actor: Actor) -> ConsentLine:
    collector = event.collected_by
    own = actor.sees_everything or (
        collector is not None and actor.partner is not None and collector.pk == actor.partner.pk
    )
    if collector is None:
        collected = ""
    elif own or collector.is_hub:
        collected = collector.name
    else:
        collected = str(_("un autre partenaire"))
    return ConsentLine(
        event=event,
        collected_by=collected,
        recorded_by=event.actor_label if own else "",
        source=event.source_record if own else None,
    )


def consent_overview(customer: Customer, actor: Actor) -> list[PurposeConsents]:
    """Per purpose, the current states and the history (newest first) the actor may read.

    A partner reads consents given to itself or to the tourist office, never those given to
    another partner: that would tell it who else knows the customer; and of a consent another
    partner collected for the office, it learns neither the partner nor its file. The caller
    has already passed the visibility gate for ``customer``.
    """
    events = consent_history(customer).select_related("source_record__batch")
    if not actor.sees_everything:
        own = actor.partner.pk if actor.partner is not None else None
        events = events.filter(Q(controller_id=own) | Q(controller__kind=PartnerKind.HUB))
    by_purpose: dict[int, PurposeConsents] = {
        p.pk: PurposeConsents(purpose=p) for p in Purpose.objects.filter(is_active=True)
    }
    history = list(events)
    for event in reversed(history):
        entry = by_purpose.get(event.purpose_id)
        if entry is None:  # an inactive purpose that still has a history
            entry = by_purpose[event.purpose_id] = PurposeConsents(purpose=event.purpose)
        entry.history.append(_line(event, actor))
    current = sorted(
        latest_events(history).values(),
        key=lambda e: (not e.controller.is_hub, e.controller.name),
    )
    for event in current:
        by_purpose[event.purpose_id].current.append(_line(event, actor))
    return sorted(by_purpose.values(), key=lambda e: (e.purpose.position, e.purpose.slug))


def audit_search(
    *,
    user: str = "",
    customer: int | None = None,
    action: str = "",
    since: Any = None,
    until: Any = None,
) -> QuerySet[AuditEvent]:
    """The audit trail filtered as the DPO asks: who, which customer, which action, when.

    A customer's events are those naming it as their object, plus the erasure (which names it
    in its details, the object being gone).
    """
    import datetime as dt

    qs = AuditEvent.objects.all()
    if user:
        qs = qs.filter(actor_label=user.strip())
    if customer is not None:
        qs = qs.filter(
            Q(object_type="customer", object_id=str(customer)) | Q(details__customer=customer)
        )
    if action:
        qs = qs.filter(action__startswith=action.strip())
    if since:
        qs = qs.filter(at__date__gte=since)
    if until:
        qs = qs.filter(at__date__lt=until + dt.timedelta(days=1))
    return qs.order_by("-at", "-id")


def audit_csv(events: Iterable[AuditEvent]) -> Iterable[str]:
    """The trail as CSV lines (streamed); details as JSON, cells neutralised for spreadsheets."""
    import csv
    import io
    import json

    from cordee.customers.exports import neutralise_cell

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([neutralise_cell(c) for c in cells])
        return buffer.getvalue()

    yield "\ufeff" + line(
        ["date", "utilisateur", "organisation", "action", "objet", "n°", "ip", "détails"]
    )
    for e in events:
        yield line(
            [
                e.at.isoformat(),
                e.actor_label,
                str(e.partner_id or ""),
                e.action,
                e.object_type,
                e.object_id,
                e.ip or "",
                json.dumps(e.details, ensure_ascii=False, default=str),
            ]
        )
