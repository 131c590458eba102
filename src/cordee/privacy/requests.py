"""The data-subject requests desk (Art. 12-22): requests, their deadlines, their answers.

A request is answered within one month of its receipt (Art. 12(3)); the DPO may extend it by
two more months, once, with a reason that the person is told. The ledger holds no personal
data beyond the customer's number and the free text of the request, which erasure clears.
"""

from __future__ import annotations

import calendar
import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log
from cordee.privacy.models import (
    IDENTITY_CONFIRMED,
    OPEN_REQUEST_STATUSES,
    DataSubjectRequest,
    IdentityStatus,
    RequestChannel,
    RequestKind,
    RequestStatus,
)

TEXT_MAX = 5_000


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, or the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def clean_text(text: str, limit: int = TEXT_MAX) -> str:
    """Free text as typed, minus control characters (newlines and tabs kept), capped."""
    kept = "".join(ch for ch in text or "" if ch.isprintable() or ch in "\n\t")
    return kept.strip()[:limit]


def _choice(value: str, choices: type, label: str) -> str:
    if value not in choices.values:  # type: ignore[attr-defined]
        raise ValidationError(_("%(label)s inconnu : %(value)s") % {"label": label, "value": value})
    return value


def request_create(
    *,
    kind: str,
    channel: str,
    actor: Actor,
    customer_ref: int | None = None,
    received_on: dt.date | None = None,
    message: str = "",
    identity_note: str = "",
    identity: str = IdentityStatus.AWAITING,
) -> DataSubjectRequest:
    """Record a request received today (or on ``received_on``); its deadline is a month on.

    The deadline runs from the receipt (Art. 12(3)), whether or not the identity is already
    confirmed (``identity``: a preference-centre link is; see cordee.privacy.identity)."""
    _choice(kind, RequestKind, _("Type de demande"))
    _choice(channel, RequestChannel, _("Canal"))
    today = timezone.localdate()
    received = received_on or today
    if received > today:
        raise ValidationError(_("La date de réception ne peut pas être dans le futur."))
    if received < today - dt.timedelta(days=3 * 366):
        raise ValidationError(_("La date de réception est trop ancienne."))
    with transaction.atomic():
        request = DataSubjectRequest.objects.create(
            kind=kind,
            channel=channel,
            customer_ref=customer_ref,
            received_on=received,
            due_on=add_months(received, 1),
            message=clean_text(message),
            identity_note=clean_text(identity_note),
            identity=identity,
            identity_confirmed_at=timezone.now() if identity in IDENTITY_CONFIRMED else None,
            created_by_label=actor.label[:150],
        )
        audit_log(
            actor=actor,
            action="request.create",
            obj=request,
            kind=kind,
            channel=channel,
            customer=customer_ref,
        )
    return request


def request_extend(
    *, request: DataSubjectRequest, months: int, reason: str, actor: Actor
) -> DataSubjectRequest:
    """Extend the deadline by one or two months (at most three in all), with a reason."""
    reason = clean_text(reason)
    if not reason:
        raise ValidationError(
            _("Indiquez le motif de la prolongation : la personne en sera informée.")
        )
    if months not in (1, 2):
        raise ValidationError(_("La prolongation est d'un ou deux mois."))
    if not request.is_open:
        raise ValidationError(_("Cette demande est close."))
    new_deadline = add_months(request.deadline, months)
    if new_deadline > add_months(request.received_on, 3):
        raise ValidationError(_("Le délai ne peut pas dépasser trois mois après la réception."))
    with transaction.atomic():
        request.extended_to = new_deadline
        request.extension_reason = reason
        request.save(update_fields=["extended_to", "extension_reason"])
        audit_log(actor=actor, action="request.extend", obj=request, until=str(new_deadline))
    return request


def request_update(
    *,
    request: DataSubjectRequest,
    actor: Actor,
    status: str | None = None,
    identity_note: str | None = None,
    resolution: str | None = None,
) -> DataSubjectRequest:
    """Move a request along: its status, the identity check, the answer given."""
    fields = []
    if status is not None:
        _choice(status, RequestStatus, _("État"))
        request.status = status
        request.closed_at = None if status in OPEN_REQUEST_STATUSES else timezone.now()
        fields += ["status", "closed_at"]
    if identity_note is not None:
        request.identity_note = clean_text(identity_note)
        fields.append("identity_note")
    if resolution is not None:
        request.resolution = clean_text(resolution)
        fields.append("resolution")
    if not fields:
        return request
    with transaction.atomic():
        request.save(update_fields=fields)
        audit_log(
            actor=actor,
            action="request.update",
            obj=request,
            status=request.status,
            changed=[f for f in fields if f != "closed_at"],
        )
    return request


def requests_by_deadline(*, open_only: bool = False) -> QuerySet[DataSubjectRequest]:
    """Requests, the most urgent first (the extended deadline when there is one)."""
    from django.db.models.functions import Coalesce

    qs = DataSubjectRequest.objects.annotate(deadline_on=Coalesce("extended_to", "due_on"))
    if open_only:
        qs = qs.filter(status__in=OPEN_REQUEST_STATUSES)
    return qs.order_by("deadline_on", "id")
