"""Bounces, complaints and unsubscribes reported by an e-mail provider (django-anymail).

With ``CORDEE_EMAIL_PROVIDER`` set (mailgun, postmark, brevo, sendgrid, mailjet, sparkpost)
and ``CORDEE_EMAIL_WEBHOOK_SECRET`` ("user:password"), the provider posts its tracking events
to ``/webhooks/email/<provider>/`` with that HTTP basic auth (plus its own signature where
it signs, e.g. Mailgun with ``CORDEE_EMAIL_PROVIDER_KEY``, its webhook signing key).
Anymail reads the provider's payload into normalised events; ``email_event_record`` turns
each into what an SMTP error does today: a hard bounce or a complaint suppresses the address
for every purpose, an unsubscribe withdraws the campaign's purpose, and the ledger row is
marked. Without the secret the endpoint does not exist (404): never an open webhook.

A ledger row is found from the event's ``cordee_delivery`` metadata, else our own
Message-ID (``<cordee.CAMPAIGN.DELIVERY@domain>``, kept by providers that relay SMTP as
is), else the latest mail sent to that address in the last 30 days. The address itself is
suppressed in any case: a bounce is about the address, whichever mail met it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import Counter
from typing import Any

from anymail.exceptions import AnymailError, AnymailWebhookValidationFailure
from anymail.signals import AnymailTrackingEvent, EventType, RejectReason
from anymail.webhooks.base import AnymailCoreWebhookView
from anymail.webhooks.brevo import BrevoTrackingWebhookView
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.mailjet import MailjetTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from anymail.webhooks.sparkpost import SparkPostTrackingWebhookView
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ImproperlyConfigured, RequestDataTooBig
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cordee.campaigns.conf import setting
from cordee.campaigns.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    EventKind,
    SuppressionReason,
    TrackingEvent,
)
from cordee.customers.models import Customer
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log

logger = logging.getLogger(__name__)

PROVIDERS: dict[str, type[AnymailCoreWebhookView]] = {
    "brevo": BrevoTrackingWebhookView,
    "mailgun": MailgunTrackingWebhookView,
    "mailjet": MailjetTrackingWebhookView,
    "postmark": PostmarkTrackingWebhookView,
    "sendgrid": SendGridTrackingWebhookView,
    "sparkpost": SparkPostTrackingWebhookView,
}
# Providers that sign their posts, and the name of the key anymail expects.
SIGNING_KEYS = {"mailgun": "webhook_signing_key"}
MAX_BODY = 1024 * 1024  # a provider's batch is far smaller; anything bigger is refused (413)
MAX_EVENTS = 2000
MATCH_WINDOW = dt.timedelta(days=30)
_MESSAGE_ID = re.compile(r"cordee\.(\d{1,12})\.(\d{1,12})@")
# Bounces a provider reports that are not about the address for good.
_SOFT = {"SoftBounce", "VirusNotification", "Transient", "DnsError"}


def provider() -> str:
    return str(setting("CORDEE_EMAIL_PROVIDER", "")).strip().lower()


def webhook_secret() -> str:
    return str(setting("CORDEE_EMAIL_WEBHOOK_SECRET", "")).strip()


# --- matching an event to the ledger -----------------------------------------------------------


def _address_hash(recipient: str) -> str:
    from cordee.privacy.crypto import email_index

    address = (recipient or "").strip().lower()[:254]
    return email_index(address) if "@" in address else ""


def _delivery_for(event: AnymailTrackingEvent, address_hash: str) -> Delivery | None:
    candidates: list[Delivery | None] = []
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    raw = str(metadata.get("cordee_delivery", ""))[:12]
    if raw.isdigit():
        candidates.append(Delivery.objects.filter(pk=int(raw)).first())
    provider_id = str(event.message_id or "").strip()[:120]
    if provider_id and not provider_id.startswith("<cordee."):
        # Sent through the provider's API: the ledger keeps the id it answered with.
        # The partial index's own condition, repeated so that PostgreSQL can use it.
        by_id = (
            Delivery.objects.filter(message_id=provider_id)
            .exclude(message_id="")
            .exclude(message_id__startswith="<cordee.")
        )
        candidates.append(by_id.first())
    found = _MESSAGE_ID.search(str(event.message_id or "")[:300])
    if found:
        campaign_id, delivery_id = int(found.group(1)), int(found.group(2))
        candidates.append(Delivery.objects.filter(pk=delivery_id, campaign_id=campaign_id).first())
    for delivery in candidates:
        if delivery is None:
            continue
        email_hash = (
            Customer.objects.filter(pk=delivery.customer_id)
            .values_list("email_hash", flat=True)
            .first()
        )
        # An event naming one mail but another address is not trusted with that mail's row.
        if not address_hash or email_hash == address_hash:
            return delivery
    if not address_hash:
        return None
    return (
        Delivery.objects.filter(
            customer__email_hash=address_hash,
            sent_at__gte=timezone.now() - MATCH_WINDOW,
            campaign__channel=Channel.EMAIL,
        )
        .order_by("-sent_at")
        .first()
    )


# --- what an event does ------------------------------------------------------------------------


def _outcome(event: AnymailTrackingEvent) -> str:
    """bounce, complaint, unsubscribe, failed (the ledger only) or ignored."""
    kind, reason = event.event_type, event.reject_reason
    esp = event.esp_event if isinstance(event.esp_event, dict) else {}
    if kind == EventType.BOUNCED:
        return "failed" if esp.get("Type") in _SOFT else "bounce"
    if kind == EventType.COMPLAINED:
        return "complaint"
    if kind == EventType.UNSUBSCRIBED:
        return "unsubscribe"
    if kind == EventType.REJECTED:
        if reason in (RejectReason.BOUNCED, RejectReason.INVALID):
            return "bounce"
        if reason == RejectReason.SPAM:
            return "complaint"
        if reason == RejectReason.UNSUBSCRIBED:
            return "unsubscribe"
        return "failed"
    return "ignored"


def _track_once(delivery: Delivery, kind: str) -> None:
    if not TrackingEvent.objects.filter(delivery=delivery, kind=kind).exists():
        TrackingEvent.objects.create(delivery=delivery, kind=kind)


def _mark(delivery: Delivery, status: str, detail: str) -> None:
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENT).update(
        status=status, error=detail[:200]
    )


def email_event_record(*, provider_name: str, event: AnymailTrackingEvent) -> str:
    """Apply one provider event to the suppressions and the ledger; returns what it did."""
    from cordee.campaigns.sending import suppression_add
    from cordee.campaigns.services import customer_unsubscribe, delivery_unsubscribe

    outcome = _outcome(event)
    if outcome == "ignored":
        return outcome
    address_hash = _address_hash(str(event.recipient or ""))
    delivery = _delivery_for(event, address_hash)
    if not address_hash and delivery is not None:
        address_hash = (
            Customer.objects.filter(pk=delivery.customer_id)
            .values_list("email_hash", flat=True)
            .first()
            or ""
        )
    detail = f"{provider_name}: {event.description or event.mta_response or event.event_type}"
    campaign = delivery.campaign if delivery is not None else None
    with transaction.atomic():
        if outcome in ("bounce", "complaint"):
            suppression_add(
                channel=Channel.EMAIL,
                address_hash=address_hash,
                reason=SuppressionReason.BOUNCE
                if outcome == "bounce"
                else SuppressionReason.COMPLAINT,
                campaign=campaign,
                detail=detail,
            )
        if delivery is not None and outcome == "bounce":
            _mark(delivery, DeliveryStatus.BOUNCED, detail)
            _track_once(delivery, EventKind.BOUNCE)
        elif delivery is not None and outcome == "failed":
            _mark(delivery, DeliveryStatus.FAILED, detail)
        elif delivery is not None and outcome == "complaint":
            _track_once(delivery, EventKind.COMPLAINT)
            customer = Customer.objects.filter(pk=delivery.customer_id).first()
            if customer is not None and campaign is not None:
                customer_unsubscribe(
                    customer=customer, purpose=campaign.purpose, channel=Channel.EMAIL
                )
        elif delivery is not None and outcome == "unsubscribe":
            delivery_unsubscribe(delivery=delivery)
        elif outcome == "unsubscribe":
            # Which purpose is unknown: the address gets no more marketing at all.
            suppression_add(
                channel=Channel.EMAIL,
                address_hash=address_hash,
                reason=SuppressionReason.UNSUBSCRIBE,
                detail=detail,
            )
        audit_log(
            actor=Actor.system(f"webhook-{provider_name}"),
            action="campaign.provider_event",
            obj=campaign,
            event=str(event.event_type)[:20],
            outcome=outcome,
            delivery=delivery.pk if delivery is not None else None,
        )
    return outcome if delivery is not None or address_hash else "unmatched"


# --- the endpoint ------------------------------------------------------------------------------


def _parser(name: str) -> AnymailCoreWebhookView:
    kwargs: dict[str, Any] = {"webhook_secret": webhook_secret()}
    if name in SIGNING_KEYS:
        kwargs[SIGNING_KEYS[name]] = str(setting("CORDEE_EMAIL_PROVIDER_KEY", ""))
    return PROVIDERS[name](**kwargs)


@login_not_required
@csrf_exempt  # a provider posts here; the basic auth (and its signature) is the proof
@require_POST
def email_webhook(request: HttpRequest, name: str) -> HttpResponse:
    if name != provider() or name not in PROVIDERS or not webhook_secret():
        raise Http404
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        return HttpResponse("Corps trop volumineux.", status=413, content_type="text/plain")
    try:
        body = request.body
    except RequestDataTooBig:
        return HttpResponse("Corps trop volumineux.", status=413, content_type="text/plain")
    if len(body) > MAX_BODY:
        return HttpResponse("Corps trop volumineux.", status=413, content_type="text/plain")
    try:
        parser = _parser(name)
    except ImproperlyConfigured:
        logger.error("E-mail webhook %s: the provider's signing key is not configured", name)
        raise Http404 from None
    try:
        parser.run_validators(request)
    except AnymailWebhookValidationFailure:
        response = HttpResponse("Authentification requise.", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Basic realm="cordee-webhooks"'
        return response
    except (ValueError, KeyError, TypeError, AttributeError):
        return HttpResponse("Requête illisible.", status=400, content_type="text/plain")
    try:
        events = parser.parse_events(request)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, AnymailError):
        logger.warning("E-mail webhook %s: a payload that does not parse", name)
        return HttpResponse("Requête illisible.", status=400, content_type="text/plain")
    if len(events) > MAX_EVENTS:
        return HttpResponse("Trop d'événements.", status=413, content_type="text/plain")
    outcomes: Counter[str] = Counter()
    for event in events:
        if isinstance(event, AnymailTrackingEvent):
            outcomes[email_event_record(provider_name=name, event=event)] += 1
    return JsonResponse(dict(outcomes), json_dumps_params={"sort_keys": True})
