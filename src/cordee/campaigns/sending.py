"""Sending a campaign: the snapshot, the claim, the batches, the retries.

Each ledger row goes pending → claimed (a conditional UPDATE that names the worker) → sent,
and the "sent" mark is itself conditional on the claim still being this worker's: a worker
whose claim was taken over (it stalled past the lease) cannot send. A crash leaves rows
claimed; after the lease any worker takes them back. See ``mailer`` for the last step.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.campaigns import conf
from cordee.campaigns.abtest import ab_draw
from cordee.campaigns.audience import (
    audience_steps,
    consent_conditions,
    in_control_group,
    received_recently,
    suppressed,
)
from cordee.campaigns.backends import sms_backend
from cordee.campaigns.compose import Composer, Recipient, language_of
from cordee.campaigns.mailer import (
    PermanentError,
    RejectedError,
    SmtpSession,
    TransientError,
    UnreachableError,
)
from cordee.campaigns.models import (
    Campaign,
    CampaignState,
    Channel,
    Delivery,
    DeliveryStatus,
    EventKind,
    Suppression,
    SuppressionReason,
    TrackingEvent,
)
from cordee.campaigns.personalisation import personal_values
from cordee.campaigns.provider import ApiSession, api_provider
from cordee.customers.models import Customer
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log
from cordee.privacy.queries import consent_granted
from cordee.segments.models import Segment
from cordee.segments.services import segment_snapshot

logger = logging.getLogger(__name__)
TRACKING_PURPOSE = "profiling"  # its register entry lists "reactions to campaigns"
# Everything a mail reads (created_at: the preference link's key): a deferred field would
# cost one query per message.
_FIELDS = (
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "language",
    "attributes",
    "created_at",
    "email_hash",
    "phone_hash",
    "restricted_at",
)


Row = tuple[int, int, str, int, int | None]  # id, customer, language, attempts, variant


def worker_name() -> str:
    return f"{socket.gethostname()[:16]}-{os.getpid()}-{secrets.token_hex(3)}"


# --- starting ---------------------------------------------------------------------------------


def campaign_start(*, campaign: Campaign, actor: Actor) -> int:
    """Take the member snapshot and move the campaign to "sending". Returns rows queued.

    Idempotent: a campaign already sending (or sent) is left as it is.
    """
    with transaction.atomic():
        started_at = timezone.now()
        moved = Campaign.objects.filter(
            pk=campaign.pk, state__in=(CampaignState.DRAFT, CampaignState.SCHEDULED)
        ).update(state=CampaignState.SENDING, started_at=started_at)
        if not moved:
            return 0
        campaign.started_at = started_at
        steps, qs = audience_steps(campaign, actor)
        segment = Segment.objects.filter(slug=campaign.segment_slug).first()
        if segment is not None:  # who was in the segment when the campaign used it
            segment_snapshot(segment, f"Campagne n° {campaign.pk} : {campaign.name}", actor=actor)
        queued = held = waiting = 0
        variants = list(campaign.variants.values_list("pk", flat=True))
        ab = campaign.test_percent > 0 and len(variants) >= 2
        rows: list[Delivery] = []
        for pk, language in (
            qs.order_by("pk").values_list("pk", "language").iterator(chunk_size=5000)
        ):
            control = in_control_group(campaign.pk, pk, campaign.control_percent)
            status, variant = DeliveryStatus.CONTROL if control else DeliveryStatus.PENDING, None
            if ab and not control:
                drawn = ab_draw(campaign.pk, pk, campaign.test_percent, len(variants))
                if drawn is None:
                    status = DeliveryStatus.HELD  # the rest: waits for the winner
                    waiting += 1
                else:
                    variant = variants[drawn]
            held += control
            queued += not control
            rows.append(
                Delivery(
                    campaign_id=campaign.pk,
                    customer_id=pk,
                    status=status,
                    variant_id=variant,
                    language="en" if (language or "").lower().startswith("en") else "fr",
                )
            )
            if len(rows) >= 5000:
                Delivery.objects.bulk_create(rows)
                rows.clear()
        Delivery.objects.bulk_create(rows)
        summary = [s.as_dict() for s in steps]
        if campaign.control_percent:
            summary.append(
                {"key": "control", "label": _("… dont groupe témoin (non envoyé)"), "count": held}
            )
        if ab:
            summary.append(
                {
                    "key": "ab_test",
                    "label": _("… dont test A/B (%(n)s variantes)") % {"n": len(variants)},
                    "count": queued - waiting,
                }
            )
            summary.append(
                {"key": "ab_rest", "label": _("… dont reste (variante gagnante)"), "count": waiting}
            )
        Campaign.objects.filter(pk=campaign.pk).update(audience_steps=summary)
        campaign.audience_steps = summary
        campaign.state = CampaignState.SENDING
        audit_log(
            actor=actor,
            action="campaign.start",
            obj=campaign,
            queued=queued,
            control=held,
            ab_rest=waiting,
        )
    return queued


# --- claiming ---------------------------------------------------------------------------------


def deliveries_claim(campaign_id: int, worker: str, limit: int) -> list[int]:
    """Claim up to ``limit`` rows for ``worker``: pending ones, or claims older than the lease."""
    return [row[0] for row in deliveries_claim_rows(campaign_id, worker, limit)]


def deliveries_claim_rows(campaign_id: int, worker: str, limit: int) -> list[Row]:
    """``deliveries_claim`` in ONE statement that returns the rows it claimed, what sending
    needs of them: ``UPDATE … WHERE id IN (SELECT … [FOR UPDATE SKIP LOCKED] LIMIT n)
    RETURNING …``. The outer WHERE repeats the claimable condition: a row another worker took
    in between (PostgreSQL re-reads a row it waited for) is not taken again."""
    ops = connection.ops
    table = ops.quote_name(Delivery._meta.db_table)
    now = timezone.now()
    expired = ops.adapt_datetimefield_value(now - dt.timedelta(seconds=conf.claim_lease()))
    claimable = "(status = %s OR (status = %s AND claimed_at < %s))"
    claimable_params = [DeliveryStatus.PENDING.value, DeliveryStatus.CLAIMED.value, expired]
    lock = (
        " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    )
    sql = (
        f"UPDATE {table} SET status = %s, claimed_by = %s, claimed_at = %s "  # noqa: S608 — names and %s only
        f"WHERE id IN (SELECT id FROM {table} WHERE campaign_id = %s AND {claimable} "
        f"ORDER BY id LIMIT %s{lock}) AND {claimable} "
        "RETURNING id, customer_id, language, attempts, variant_id"
    )
    params = [
        DeliveryStatus.CLAIMED.value,
        worker,
        ops.adapt_datetimefield_value(now),
        campaign_id,
        *claimable_params,
        limit,
        *claimable_params,
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(cursor.fetchall())


def _release(ids: Sequence[int], worker: str, error: str, charged: int | None = None) -> None:
    """Give rows back (pending) after a transient error; the one that met it (``charged``)
    counts an attempt, and fails once it has had them all."""
    mine = Delivery.objects.filter(id__in=ids, status=DeliveryStatus.CLAIMED, claimed_by=worker)
    others = mine if charged is None else mine.exclude(pk=charged)
    others.update(status=DeliveryStatus.PENDING, claimed_by="", claimed_at=None)
    if charged is None:
        return
    attempts = mine.filter(pk=charged).values_list("attempts", flat=True).first()
    if attempts is None:
        return
    status = (
        DeliveryStatus.FAILED if attempts + 1 >= conf.max_attempts() else DeliveryStatus.PENDING
    )
    mine.filter(pk=charged).update(
        status=status, attempts=attempts + 1, error=error[:200], claimed_by="", claimed_at=None
    )


def suppression_add(
    *,
    channel: str,
    address_hash: str,
    reason: str,
    purpose_id: int | None = None,
    campaign: Campaign | None = None,
    detail: str = "",
) -> None:
    if not address_hash:
        return
    Suppression.objects.bulk_create(
        [
            Suppression(
                channel=channel,
                address_hash=address_hash,
                purpose_id=purpose_id,
                reason=reason,
                campaign=campaign,
                detail=detail[:200],
            )
        ],
        ignore_conflicts=True,
    )


# --- one batch --------------------------------------------------------------------------------


@dataclass
class RunReport:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    bounced: int = 0
    retried: int = 0
    deferred_until: dt.datetime | None = None
    errors: list[str] = field(default_factory=list)


class _Throttle:
    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next = time.monotonic()

    def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        if self.next > now:
            time.sleep(self.next - now)
        self.next = max(self.next, now) + self.interval


def _recipients(
    composer: Composer, rows: list[Row], worker: str, report: RunReport
) -> list[Recipient]:
    """The batch's recipients, consent, suppressions and pressure checked again at send time;
    the others are skipped.

    ONE query for the whole batch, driven by the batch's customer ids: each check is a column
    (an indexed probe per customer), so the plan does not depend on the size of the consent
    or ledger tables nor on their statistics (a filter through ``EXISTS`` let PostgreSQL scan
    every granted consent of the purpose for each batch of a fresh campaign).
    """
    campaign = composer.campaign
    customer_ids = [r[1] for r in rows]
    consent = consent_conditions(campaign)
    checks = {f"consent_{i}": condition for i, condition in enumerate(consent)}
    customers = {
        c.pk: c
        for c in Customer.objects.filter(pk__in=customer_ids)
        .only(*_FIELDS)
        .annotate(
            **checks,
            blocked=suppressed(campaign),
            recent=received_recently(campaign),
            tracked=consent_granted(TRACKING_PURPOSE),
        )
    }
    cap = conf.pressure_cap()
    out: dict[str, list[int]] = {}
    for c in customers.values():
        if not all(getattr(c, name) for name in checks):
            reason = _("consentement retiré")
        elif getattr(c, "blocked") or c.restricted_at is not None:  # noqa: B009
            reason = _("adresse exclue")
        elif getattr(c, "recent") >= cap:  # noqa: B009
            reason = _("plafond de pression atteint")
        else:
            continue
        out.setdefault(reason, []).append(c.pk)
    for reason, ids in out.items():
        report.skipped += Delivery.objects.filter(
            campaign_id=campaign.pk,
            customer_id__in=ids,
            claimed_by=worker,
            status=DeliveryStatus.CLAIMED,
        ).update(status=DeliveryStatus.SKIPPED, error=reason, claimed_by="")
        for pk in ids:
            del customers[pk]
    # Customers erased since the snapshot took their ledger rows with them (cascade).
    values = personal_values(customers.values(), survey_links=composer.draws_surveys())
    return [
        Recipient(
            customer=customers[customer_id],
            delivery_id=delivery_id,
            language=language or language_of(customers[customer_id]),
            values=values[customer_id],
            tracked=bool(getattr(customers[customer_id], "tracked")),  # noqa: B009
            variant_id=variant_id,
        )
        for delivery_id, customer_id, language, _attempts, variant_id in rows
        if customer_id in customers
    ]


def _mark_sent(delivery_id: int, worker: str, message_id: str) -> bool:
    return bool(
        Delivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.CLAIMED, claimed_by=worker
        ).update(
            status=DeliveryStatus.SENT,
            sent_at=timezone.now(),
            message_id=message_id[:120],
            error="",
        )
    )


def _undo_sent(delivery_id: int, worker: str, status: str, error: str, attempts: int) -> None:
    Delivery.objects.filter(pk=delivery_id, claimed_by=worker).update(
        status=status,
        sent_at=None,
        message_id="",
        error=error[:200],
        attempts=attempts,
        claimed_by="" if status != DeliveryStatus.CLAIMED else worker,
    )


def _mark_sent_many(ids: list[int], worker: str, composer: Composer) -> set[int]:
    """Mark a group sent in one UPDATE (still claimed by ``worker`` only); the ids it took."""
    if not ids:
        return set()
    # One statement that also says which rows it took (RETURNING: PostgreSQL, SQLite ≥ 3.35),
    # rather than an UPDATE and a SELECT per group of messages.
    table = connection.ops.quote_name(Delivery._meta.db_table)
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, sent_at = %s, error = '', "  # noqa: S608 — names and %s only
            # The same as Composer.message_id, which put it in the mail's header.
            f"message_id = %s || CAST(id AS TEXT) || %s "
            f"WHERE id IN ({marks}) AND status = %s AND claimed_by = %s RETURNING id",
            [
                DeliveryStatus.SENT.value,
                connection.ops.adapt_datetimefield_value(timezone.now()),
                f"<cordee.{composer.campaign.pk}.",
                f"@{composer.domain}>",
                *ids,
                DeliveryStatus.CLAIMED.value,
                worker,
            ],
        )
        return {row[0] for row in cursor.fetchall()}


def _bounce(campaign: Campaign, r: Recipient, exc: Exception, attempts: int, worker: str) -> None:
    _undo_sent(r.delivery_id, worker, DeliveryStatus.BOUNCED, str(exc), attempts + 1)
    suppression_add(
        channel=Channel.EMAIL,
        address_hash=r.customer.email_hash or _email_hash(r.customer),
        reason=SuppressionReason.BOUNCE,
        campaign=campaign,
        detail=str(exc),
    )
    TrackingEvent.objects.create(delivery_id=r.delivery_id, kind=EventKind.BOUNCE)


def _send_email_batch(
    campaign: Campaign,
    composer: Composer,
    recipients: list[Recipient],
    attempts: dict[int, int],
    worker: str,
    sessions: list[SmtpSession],
    throttle: _Throttle,
    report: RunReport,
) -> None:
    """Send in groups, one message per connection: bodies, one UPDATE, then the dots."""
    size = len(sessions)
    for start in range(0, len(recipients), size):
        group = recipients[start : start + size]
        begun: list[tuple[Recipient, SmtpSession]] = []
        trouble: TransientError | None = None
        untried: list[int] = []
        for position, (r, session) in enumerate(zip(group, sessions, strict=False)):
            throttle.wait()
            data, _message_id = composer.email_bytes(r)
            try:
                session.begin(campaign.sender_email, r.customer.email, data)
            except PermanentError as exc:
                _bounce(campaign, r, exc, attempts[r.delivery_id], worker)
                report.bounced += 1
            except RejectedError as exc:
                _undo_sent(
                    r.delivery_id,
                    worker,
                    DeliveryStatus.FAILED,
                    str(exc),
                    attempts[r.delivery_id] + 1,
                )
                report.failed += 1
            except UnreachableError as exc:
                # No connection at all: nobody's fault in particular, no attempt charged.
                trouble = exc
                untried = [x.delivery_id for x in group[position:]]
                break
            except TransientError as exc:
                trouble = exc
                _release([r.delivery_id], worker, str(exc), charged=r.delivery_id)
                report.retried += 1
            else:
                begun.append((r, session))
        marked = _mark_sent_many([r.delivery_id for r, _ in begun], worker, composer)
        finishing: list[tuple[Recipient, SmtpSession]] = []
        for r, session in begun:
            if r.delivery_id not in marked:
                session.abort()  # the claim was taken over: this worker must not deliver it
                continue
            try:
                session.dot()
            except TransientError as exc:
                trouble = exc
                _undo_sent(
                    r.delivery_id, worker, DeliveryStatus.CLAIMED, str(exc), attempts[r.delivery_id]
                )
                _release([r.delivery_id], worker, str(exc), charged=r.delivery_id)
                report.retried += 1
            else:
                finishing.append((r, session))
        for r, session in finishing:
            try:
                answer = session.reply()
            except RejectedError as exc:
                _undo_sent(
                    r.delivery_id,
                    worker,
                    DeliveryStatus.FAILED,
                    str(exc),
                    attempts[r.delivery_id] + 1,
                )
                report.failed += 1
            except TransientError as exc:
                trouble = exc
                _undo_sent(
                    r.delivery_id, worker, DeliveryStatus.CLAIMED, str(exc), attempts[r.delivery_id]
                )
                _release([r.delivery_id], worker, str(exc), charged=r.delivery_id)
                report.retried += 1
            else:
                report.sent += 1
                if answer.startswith("sans réponse"):
                    Delivery.objects.filter(pk=r.delivery_id).update(error=answer[:200])
        if trouble is not None:
            rest = untried + [r.delivery_id for r in recipients[start + size :]]
            _release(rest, worker, str(trouble))
            report.retried += len(rest)
            raise trouble


def _send_api_batch(
    campaign: Campaign,
    composer: Composer,
    recipients: list[Recipient],
    attempts: dict[int, int],
    worker: str,
    api: ApiSession,
    throttle: _Throttle,
    report: RunReport,
) -> None:
    """Through a provider's HTTP API, one call per mail: marked sent first (at most once),
    put back if the provider refuses; the provider's message id kept for its webhooks."""
    sender = str(Address(campaign.sender_name, addr_spec=campaign.sender_email))
    for position, r in enumerate(recipients):
        throttle.wait()
        subject, text, html, headers = composer.api_parts(r)
        if campaign.reply_to:
            headers["Reply-To"] = campaign.reply_to
        if not _mark_sent(r.delivery_id, worker, ""):
            continue  # the claim was taken over
        try:
            provider_id = api.send(
                sender=sender,
                to=r.customer.email,
                subject=subject,
                text=text,
                html=html,
                delivery_id=r.delivery_id,
                headers=headers,
            )
        except PermanentError as exc:
            _bounce(campaign, r, exc, attempts[r.delivery_id], worker)
            report.bounced += 1
            continue
        except RejectedError as exc:
            _undo_sent(
                r.delivery_id, worker, DeliveryStatus.FAILED, str(exc), attempts[r.delivery_id] + 1
            )
            report.failed += 1
            continue
        except TransientError as exc:
            _undo_sent(
                r.delivery_id, worker, DeliveryStatus.CLAIMED, str(exc), attempts[r.delivery_id]
            )
            _release([r.delivery_id], worker, str(exc), charged=r.delivery_id)
            report.retried += 1
            rest = [x.delivery_id for x in recipients[position + 1 :]]
            _release(rest, worker, str(exc))
            report.retried += len(rest)
            raise
        Delivery.objects.filter(pk=r.delivery_id).update(message_id=provider_id)
        report.sent += 1


def _email_hash(customer: Customer) -> str:
    from cordee.privacy.crypto import email_index

    return email_index(customer.email.strip().lower())


def _send_sms_batch(
    campaign: Campaign,
    composer: Composer,
    recipients: list[Recipient],
    worker: str,
    throttle: _Throttle,
    report: RunReport,
) -> None:
    backend = sms_backend()
    for r in recipients:
        throttle.wait()
        # At most once: an SMS gateway has no "final dot" to hold back.
        if not _mark_sent(r.delivery_id, worker, ""):
            continue
        try:
            provider_id = backend.send(
                to=r.customer.phone, text=composer.sms_text(r), sender=campaign.sender_name
            )
        except PermanentError as exc:
            _undo_sent(r.delivery_id, worker, DeliveryStatus.BOUNCED, str(exc), 1)
            suppression_add(
                channel=Channel.SMS,
                address_hash=r.customer.phone_hash,
                reason=SuppressionReason.BOUNCE,
                campaign=campaign,
            )
            report.bounced += 1
            continue
        except TransientError as exc:
            _undo_sent(r.delivery_id, worker, DeliveryStatus.CLAIMED, str(exc), 0)
            _release([r.delivery_id], worker, str(exc), charged=r.delivery_id)
            report.retried += 1
            continue
        Delivery.objects.filter(pk=r.delivery_id).update(message_id=provider_id[:120])
        report.sent += 1


def in_quiet_hours(now: dt.datetime | None = None) -> dt.datetime | None:
    """When quiet hours end if ``now`` is inside them, else None."""
    hours = conf.quiet_hours()
    if hours is None:
        return None
    local = timezone.localtime(now or timezone.now())
    start, end = hours
    hour = local.hour
    quiet = (start <= hour or hour < end) if start > end else (start <= hour < end)
    if not quiet:
        return None
    resume = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if resume <= local:
        resume += dt.timedelta(days=1)
    return resume


# --- the run ----------------------------------------------------------------------------------


def campaign_send_run(
    *, campaign_id: int, worker: str | None = None, backoff: float = 2.0
) -> RunReport:
    """Send what is left of a campaign, batch by batch, until nothing is claimable.

    Safe to run in several workers at once and to run again after a crash.
    """
    worker = worker or worker_name()
    report = RunReport()
    campaign = Campaign.objects.select_related("purpose", "message", "partner").get(pk=campaign_id)
    if campaign.state != CampaignState.SENDING:
        return report
    composer = Composer(campaign)
    throttle = _Throttle(conf.send_rate())
    failures = 0
    if connection.vendor == "postgresql":
        # One commit per message: the worker's crash is what the ledger guards against, not
        # the database server's; skipping the wait for the WAL flush keeps sends fast.
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF")
    provider = api_provider() if campaign.channel == Channel.EMAIL else ""
    api = ApiSession(provider) if provider else None
    sessions = [] if api else [SmtpSession() for _ in range(conf.smtp_connections())]
    try:
        while True:
            if campaign.channel == Channel.SMS:
                report.deferred_until = in_quiet_hours()
                if report.deferred_until:
                    break
            rows = deliveries_claim_rows(campaign.pk, worker, conf.batch_size())
            if not rows:
                break
            recipients = _recipients(composer, rows, worker, report)
            try:
                if campaign.channel == Channel.SMS:
                    _send_sms_batch(campaign, composer, recipients, worker, throttle, report)
                elif api is not None:
                    attempts = {r[0]: r[3] for r in rows}
                    _send_api_batch(
                        campaign, composer, recipients, attempts, worker, api, throttle, report
                    )
                else:
                    attempts = {r[0]: r[3] for r in rows}
                    _send_email_batch(
                        campaign, composer, recipients, attempts, worker, sessions, throttle, report
                    )
                failures = 0
            except TransientError as exc:
                failures += 1
                report.errors.append(str(exc))
                logger.warning("campaign %s: %s (attempt %s)", campaign.pk, exc, failures)
                if failures >= conf.max_attempts():
                    break
                time.sleep(backoff * 2 ** (failures - 1))
    finally:
        for session in sessions:
            session.close()
        if api is not None:
            api.close()
    campaign_finish_if_done(campaign)
    return report


def campaign_finish_if_done(campaign: Campaign) -> bool:
    busy = Delivery.objects.filter(
        campaign_id=campaign.pk,
        status__in=(DeliveryStatus.PENDING, DeliveryStatus.CLAIMED, DeliveryStatus.HELD),
    ).exists()
    if busy:
        return False
    return bool(
        Campaign.objects.filter(pk=campaign.pk, state=CampaignState.SENDING).update(
            state=CampaignState.SENT, finished_at=timezone.now()
        )
    )
