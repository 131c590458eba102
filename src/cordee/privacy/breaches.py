"""The breach register (Art. 33-34): every personal data breach, notified or not, with its clock."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from cordee.collect.models import ImportBatch
from cordee.customers.exports import neutralise_cell
from cordee.customers.models import Customer, CustomerLink, SourceRecord
from cordee.partners.models import Partner
from cordee.privacy.access import Actor, customers_visible_to
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


# -- the people to inform (Art. 34) --------------------------------------------------------

PEOPLE_COLUMNS = ("first_name", "last_name", "email", "phone", "language")


def breach_affected(breach: Breach, actor: Actor) -> QuerySet[Customer]:
    """The customers the breach touches, as the DPO defined them, through the privacy gate.

    Erased customers are gone from the customers table: they never appear."""
    partners = [p.pk for p in breach.affected_partners.all()]
    batches = [b.pk for b in breach.affected_batches.all()]
    ids = [int(i) for i in breach.affected_customer_ids]
    if not (partners or batches or ids):
        return Customer.objects.none()
    condition = Q(pk__in=ids) if ids else Q(pk__in=[])
    if partners:
        condition |= Q(
            Exists(CustomerLink.objects.filter(customer=OuterRef("pk"), partner__in=partners))
        )
    if batches:
        condition |= Q(
            Exists(SourceRecord.objects.filter(customer=OuterRef("pk"), batch__in=batches))
        )
    return customers_visible_to(actor).filter(condition).order_by("pk")


def breach_scope_set(
    breach: Breach,
    *,
    partners: list[Partner],
    batches: list[ImportBatch],
    customer_ids: list[int],
    actor: Actor,
) -> int:
    """Say who is affected; the computed count becomes the breach's number of people."""
    with transaction.atomic():
        breach.affected_partners.set(partners)
        breach.affected_batches.set(batches)
        breach.affected_customer_ids = sorted(set(customer_ids))
        count = breach_affected(breach, actor).count()
        breach.people_count = count
        breach.save(update_fields=["affected_customer_ids", "people_count"])
        audit_log(
            actor=actor,
            action="breach.scope",
            obj=breach,
            partners=[p.pk for p in partners],
            batches=[b.pk for b in batches],
            customer_ids=len(breach.affected_customer_ids),
            people=count,
        )
    return count


def breach_people_csv(breach: Breach, actor: Actor, *, ip: str | None = None) -> str:
    """The list of the people to inform: only what is needed to reach them. Audited."""
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(["id", *PEOPLE_COLUMNS])
    count = 0
    for customer in breach_affected(breach, actor).only("pk", *PEOPLE_COLUMNS).iterator(2000):
        writer.writerow(
            [customer.pk, *(neutralise_cell(getattr(customer, c) or "") for c in PEOPLE_COLUMNS)]
        )
        count += 1
    audit_log(actor=actor, action="breach.people_export", obj=breach, ip=ip, people=count)
    return "\ufeff" + stream.getvalue()


def breach_people_informed(breach: Breach, *, at: dt.datetime, actor: Actor) -> None:
    with transaction.atomic():
        breach.people_informed_at = at
        breach.save(update_fields=["people_informed_at"])
        audit_log(actor=actor, action="breach.people_informed", obj=breach, at=at.isoformat())


SEND_CHUNK = 200


@dataclass
class NotifyResult:
    sent: int = 0
    without_email: int = 0


def breach_people_notify(breach: Breach, *, subject: str, body: str, actor: Actor) -> NotifyResult:
    """Send the DPO's message to each affected person with an address, one message each.

    The date the people were informed becomes now (when at least one message left); the trail
    keeps the counts. Those without an e-mail address are counted, for the DPO to reach
    otherwise (the CSV has their phone)."""
    result = NotifyResult()
    subject = " ".join(clean_text(subject).split())[:200]
    body = clean_text(body)
    batch: list[EmailMessage] = []
    mailer = mailers.default
    with mailer:  # one SMTP session for the whole list
        for customer in breach_affected(breach, actor).only("pk", "email").iterator(2000):
            if not customer.email:
                result.without_email += 1
                continue
            batch.append(
                EmailMessage(
                    subject=subject,
                    body=body,
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    to=[customer.email],
                )
            )
            if len(batch) >= SEND_CHUNK:
                result.sent += mailer.send_messages(batch) or 0
                batch = []
        if batch:
            result.sent += mailer.send_messages(batch) or 0
    with transaction.atomic():
        if result.sent:
            breach.people_informed_at = timezone.now()
            breach.save(update_fields=["people_informed_at"])
        audit_log(
            actor=actor,
            action="breach.people_notify",
            obj=breach,
            sent=result.sent,
            without_email=result.without_email,
        )
    return result
