"""The breach register (Art. 33-34): every personal data breach, notified or not, with its clock."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django.db import transaction
from django.utils import timezone

from cordee.customers.exports import neutralise_cell
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log
from cordee.privacy.models import Breach
from cordee.privacy.requests import clean_text

NOTIFY_WITHIN = dt.timedelta(hours=72)
FIELDS = (
    "discovered_at",
    "occurred_at",
    "nature",
    "data_categories",
    "people_count",
    "consequences",
    "measures",
    "cnil_notified_at",
    "late_reason",
    "people_informed_at",
)


def breach_record(*, values: dict[str, Any], actor: Actor) -> Breach:
    """Record a breach as the DPO knows it today (the form has checked the values)."""
    data = {k: values.get(k) for k in FIELDS}
    for key in ("nature", "data_categories", "consequences", "measures", "late_reason"):
        data[key] = clean_text(data.get(key) or "")
    with transaction.atomic():
        breach = Breach.objects.create(created_by_label=actor.label[:150], **data)
        audit_log(actor=actor, action="breach.record", obj=breach, people=breach.people_count)
    return breach


def breach_clock(breach: Breach, now: dt.datetime | None = None) -> dict[str, Any]:
    """Where the 72-hour clock stands: hours left (negative when late), notified in time or not."""
    now = now or timezone.now()
    deadline = breach.discovered_at + NOTIFY_WITHIN
    if breach.cnil_notified_at is not None:
        return {
            "deadline": deadline,
            "notified": True,
            "late": breach.cnil_notified_at > deadline,
            "hours_left": None,
        }
    left = (deadline - now).total_seconds() / 3600
    return {"deadline": deadline, "notified": False, "late": left < 0, "hours_left": round(left)}


def breaches_csv() -> str:
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(["id", *FIELDS])
    for breach in Breach.objects.order_by("discovered_at", "pk"):
        cells = [str(breach.pk)]
        for name in FIELDS:
            value = getattr(breach, name)
            cells.append(neutralise_cell("" if value is None else str(value)))
        writer.writerow(cells)
    return "\ufeff" + stream.getvalue()
