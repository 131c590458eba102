"""On a withdrawal, rows still queued for that purpose are set aside at once.

Send time re-checks consent anyway (``sending._recipients``); this only keeps the follow-up page
honest while a long campaign is under way.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django.utils.translation import gettext as _

from cordee.campaigns.audience import SMS_PURPOSE
from cordee.campaigns.models import Channel, Delivery, DeliveryStatus
from cordee.core.signals import consent_changed


@receiver(consent_changed)
def _skip_queued_on_withdrawal(
    sender: Any, customer_id: int, purpose: str, status: str, **kwargs: Any
) -> None:
    if status != "granted":
        deliveries_skip_withdrawn(customer_id=customer_id, purpose=purpose)


def deliveries_skip_withdrawn(*, customer_id: int, purpose: str) -> int:
    queued = Delivery.objects.filter(
        customer_id=customer_id, status__in=(DeliveryStatus.PENDING, DeliveryStatus.HELD)
    )
    if purpose == SMS_PURPOSE:
        queued = queued.filter(campaign__channel=Channel.SMS)
    else:
        queued = queued.filter(campaign__purpose__slug=purpose)
    return queued.update(status=DeliveryStatus.SKIPPED, error=_("consentement retiré"))
