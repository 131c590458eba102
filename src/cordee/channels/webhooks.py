"""Outbound webhooks: tell a partner's system what changed about the customers it may see.

Each event becomes one delivery per subscribed endpoint, sent by a background task, signed
with the endpoint's secret, retried with exponential backoff. A delivery's body is thin (ids,
never personal data): the receiver reads what it needs through the API, with its key.

Signature header (like Stripe's): ``Cordee-Signature: t=<unix seconds>,v1=<hex>`` where the hex
is HMAC-SHA256(secret, f"{t}.{body}"). Receivers recompute it and reject a timestamp older
than a few minutes, which makes a captured delivery useless to replay (docs/channels.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.channels.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from cordee.partners.models import Partner
from cordee.privacy.access import Actor, customers_visible_to

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "Cordee-Signature"
TOLERANCE_SECONDS = 300
MAX_ATTEMPTS = 8
TIMEOUT_SECONDS = 10
_CHUNK = 2000
_ONE_BY_ONE = 50


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, 4 min... capped at 6 h: a receiver down for a night catches up."""
    base = float(getattr(settings, "CORDEE_WEBHOOK_BACKOFF_SECONDS", 30))
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


def url_check(url: str) -> str:
    """https everywhere; plain http only to this machine (a receiver under test)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname:
        try:
            loopback = ipaddress.ip_address(parts.hostname).is_loopback
        except ValueError:
            loopback = parts.hostname == "localhost"
        if loopback:
            return url
    raise ValidationError(_("Adresse de webhook invalide : https:// est exigé."))


def sign(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    moment = int(time.time()) if timestamp is None else timestamp
    return f"t={moment},v1={sign(secret, moment, body)}"


def signature_verify(
    *,
    secret: str,
    header: str,
    body: bytes,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """What a receiver does (the reference for docs/channels.md): signature right and recent."""
    fields: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _sep, value = item.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return any(hmac.compare_digest(expected, given) for given in fields.get("v1", []))


def events_queue(*, event: str, partner_customers: dict[int, list[int]]) -> list[int]:
    """One delivery per active endpoint subscribed to ``event``, for its partner's customers."""
    now = timezone.now()
    endpoints = WebhookEndpoint.objects.filter(
        is_active=True, partner_id__in=partner_customers, partner__is_active=True
    )
    rows = [
        WebhookDelivery(
            endpoint=endpoint, event=event, payload={"customer_id": cid}, next_attempt_at=now
        )
        for endpoint in endpoints
        if event in endpoint.events
        for cid in partner_customers[endpoint.partner_id]
    ]
    with transaction.atomic():
        created = [d.pk for d in WebhookDelivery.objects.bulk_create(rows, batch_size=_CHUNK)]
    if created:
        transaction.on_commit(lambda: deliveries_enqueue(created))
    return created


def visible_by_partner(customer_ids: Iterable[int], event: str) -> dict[int, list[int]]:
    """Which subscribed partner may see which of these customers (the access gate decides)."""
    ids = sorted(set(customer_ids))
    partners = Partner.objects.filter(
        pk__in=WebhookEndpoint.objects.filter(is_active=True).values("partner_id"), is_active=True
    )
    found: dict[int, list[int]] = {}
    for partner in partners:
        visible = customers_visible_to(Actor.for_partner(partner, label="webhooks"))
        seen: list[int] = []
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            seen += visible.filter(pk__in=chunk).order_by("pk").values_list("pk", flat=True)
        if seen:
            found[partner.pk] = seen
    return found


def deliveries_enqueue(ids: list[int]) -> None:
    """A task per delivery; a big batch (an import) is one sweep task instead of thousands."""
    from cordee.channels.tasks import webhook_deliver, webhooks_sweep

    if len(ids) > _ONE_BY_ONE:
        webhooks_sweep.enqueue()
        return
    for delivery_id in ids:
        webhook_deliver.enqueue(delivery_id)


def body_of(delivery: WebhookDelivery) -> bytes:
    document = {
        "id": str(delivery.event_id),
        "type": delivery.event,
        "created": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """Send one due delivery. Claimed by a conditional UPDATE: a retried task sends nothing twice."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(status=DeliveryStatus.SENDING)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    body = body_of(delivery)
    code: int | None = None
    error = ""
    try:
        url_check(endpoint.url)
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked just above
            endpoint.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Cordee-Webhooks/1",
                "Cordee-Event": delivery.event,
                "Cordee-Delivery": str(delivery.event_id),
                SIGNATURE_HEADER: signature_header(endpoint.secret, body),
            },
        )
        with _opener().open(request, timeout=TIMEOUT_SECONDS) as answer:
            code = answer.status
    except urllib.error.HTTPError as exc:
        code = exc.code
        error = f"HTTP {exc.code}"
    except (OSError, ValueError, ValidationError) as exc:
        error = str(exc)[:300] or exc.__class__.__name__
    attempts = delivery.attempts + 1
    update: dict[str, object] = {
        "attempts": attempts,
        "last_status_code": code,
        "last_error": error,
    }
    if code is not None and 200 <= code < 300:
        update |= {
            "status": DeliveryStatus.DELIVERED,
            "delivered_at": timezone.now(),
            "last_error": "",
        }
    elif attempts >= MAX_ATTEMPTS:
        update |= {"status": DeliveryStatus.FAILED}
    else:
        update |= {
            "status": DeliveryStatus.PENDING,
            "next_attempt_at": timezone.now() + backoff(attempts),
        }
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**update)
    delivery.refresh_from_db()
    if delivery.status == DeliveryStatus.PENDING:
        _schedule_retry(delivery)
    return delivery


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect is an answer, not a delivery: following it could send the body elsewhere.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_NoRedirect)


def _schedule_retry(delivery: WebhookDelivery) -> None:
    """Ask the worker to retry at the due time when it can defer; else the periodic job will."""
    from django.tasks import default_task_backend

    from cordee.channels.tasks import webhook_deliver

    if getattr(default_task_backend, "supports_defer", False):
        webhook_deliver.using(run_after=delivery.next_attempt_at).enqueue(delivery.pk)


def deliveries_retry_due(*, now: dt.datetime | None = None) -> int:
    """Send every delivery whose retry is due (the periodic job; also after a worker restart)."""
    moment = now or timezone.now()
    # A delivery left "sending" by a crashed worker for ten minutes is due again.
    WebhookDelivery.objects.filter(
        status=DeliveryStatus.SENDING, next_attempt_at__lt=moment - dt.timedelta(minutes=10)
    ).update(status=DeliveryStatus.PENDING)
    sent = 0
    while True:
        due = list(
            WebhookDelivery.objects.filter(
                status=DeliveryStatus.PENDING, next_attempt_at__lte=moment
            )
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:500]
        )
        claimed = [d for d in due if delivery_attempt(delivery_id=d) is not None]
        sent += len(claimed)
        # A failed attempt moves its due time past ``moment``, so each round finds fewer;
        # a round that could claim nothing (another worker has them) ends the sweep.
        if len(due) < 500 or not claimed:
            return sent


EVENTS = [e.value for e in WebhookEvent]
