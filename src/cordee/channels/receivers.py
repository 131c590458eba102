"""Turn the events of cordee.core.signals into webhook deliveries for the partners concerned."""

from __future__ import annotations

from typing import Any

from cordee.channels.models import WebhookEndpoint, WebhookEvent
from cordee.channels.webhooks import events_queue, visible_by_partner
from cordee.core import signals
from cordee.partners.models import Partner, PartnerKind


def _any_endpoint() -> bool:
    return WebhookEndpoint.objects.filter(is_active=True).exists()


def on_customers_changed(
    sender: Any,
    *,
    customer_ids: list[int],
    created: bool = False,
    partner_id: int | None = None,
    **kwargs: Any,
) -> None:
    if not _any_endpoint():
        return
    visible = visible_by_partner(customer_ids, WebhookEvent.UPDATED)
    if created:
        # A new customer is "shared" with every partner that now sees it, the one that brought
        # it included; later changes are "updated".
        events_queue(event=WebhookEvent.SHARED, partner_customers=visible)
    else:
        events_queue(event=WebhookEvent.UPDATED, partner_customers=visible)


def on_consent_changed(sender: Any, *, customer_id: int, **kwargs: Any) -> None:
    if not _any_endpoint():
        return
    visible = visible_by_partner([customer_id], WebhookEvent.CONSENT)
    events_queue(event=WebhookEvent.CONSENT, partner_customers=visible)


def on_customers_erased(
    sender: Any,
    *,
    customer_ids: list[int],
    partner_ids: dict[int, list[int]] | None = None,
    **kwargs: Any,
) -> None:
    """The customers are gone, so the gate cannot be asked: those that knew them, and the hub."""
    if not customer_ids or not _any_endpoint():
        return
    hubs = list(Partner.objects.filter(kind=PartnerKind.HUB).values_list("pk", flat=True))
    known = partner_ids or {}
    partner_customers: dict[int, list[int]] = {}
    for customer_id in customer_ids:
        for partner_id in sorted(set(known.get(customer_id, [])) | set(hubs)):
            partner_customers.setdefault(partner_id, []).append(customer_id)
    events_queue(event=WebhookEvent.ERASED, partner_customers=partner_customers)


def on_customers_merged(
    sender: Any, *, customer_ids: list[int], survivor_id: int, **kwargs: Any
) -> None:
    # The merged-away records no longer exist: their partners hear that the survivor changed.
    on_customers_changed(sender, customer_ids=[survivor_id])


def connect() -> None:
    signals.customers_changed.connect(
        on_customers_changed, dispatch_uid="channels-webhooks-changed"
    )
    signals.consent_changed.connect(on_consent_changed, dispatch_uid="channels-webhooks-consent")
    signals.customers_erased.connect(on_customers_erased, dispatch_uid="channels-webhooks-erased")
    signals.customers_merged.connect(on_customers_merged, dispatch_uid="channels-webhooks-merged")
