"""The visitor's preference centre: a signed, expiring link per customer, no account.

The token carries the customer's number, the second its record was created (so that a
number reused after an erasure does not open someone else's page) and an expiry date, signed
with the site's secret (``django.core.signing``, its own salt). Tampered tokens fail the
signature; expired ones fail the date. A link is reusable until it expires: it sits in every
message the person receives.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cordee.core import signing as fast_signing
from cordee.customers.models import Customer
from cordee.privacy.access import Actor
from cordee.privacy.models import (
    ConsentChannel,
    ConsentStatus,
    DataSubjectRequest,
    IdentityStatus,
    LegalBasis,
    Purpose,
    RequestChannel,
)
from cordee.privacy.queries import consent_state
from cordee.privacy.services import consent_record, consent_withdraw, current_wording

SALT = "cordee.privacy.preferences"
DEFAULT_DAYS = 90
TOKEN_MAX = 300


class TokenInvalid(Exception):
    """The token was not signed by us (tampered, truncated, garbage)."""


class TokenExpired(Exception):
    """A genuine token past its date."""


def link_days() -> int:
    return int(getattr(settings, "CORDEE_PREFERENCES_LINK_DAYS", DEFAULT_DAYS))


def preference_token(customer: Customer, *, days: int | None = None) -> str:
    expires = int(time.time()) + 86_400 * (days or link_days())
    payload = {"c": customer.pk, "k": int(customer.created_at.timestamp()), "e": expires}
    return fast_signing.dumps(payload, salt=SALT, compress=True)


def preference_link(customer: Customer, *, days: int | None = None) -> str:
    base = (
        getattr(settings, "CORDEE_PUBLIC_URL", "") or os.environ.get("CORDEE_PUBLIC_URL", "")
    ).rstrip("/") or "http://localhost:8000"
    return f"{base}{reverse('preferences')}?t={preference_token(customer, days=days)}"


def customer_from_token(token: str) -> Customer:
    """The customer a token opens; TokenInvalid or TokenExpired otherwise."""
    if not token or len(token) > TOKEN_MAX:
        raise TokenInvalid
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise TokenInvalid from None
    if not isinstance(payload, dict):
        raise TokenInvalid
    customer_id, created, expires = payload.get("c"), payload.get("k"), payload.get("e")
    if not all(
        isinstance(v, int) and not isinstance(v, bool) for v in (customer_id, created, expires)
    ):
        raise TokenInvalid
    assert isinstance(expires, int) and isinstance(customer_id, int)
    if expires < time.time():
        raise TokenExpired
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None or int(customer.created_at.timestamp()) != created:
        # Erased (or the number reused): the link no longer opens anything.
        raise TokenExpired
    return customer


@dataclass
class Choice:
    purpose: Purpose
    granted: bool
    since: dt.datetime | None


def preference_choices(customer: Customer) -> list[Choice]:
    """Each purpose that needs consent, on when it is currently granted to anyone."""
    state = consent_state(customer)
    choices = []
    for purpose in Purpose.objects.filter(is_active=True, legal_basis=LegalBasis.CONSENT):
        events = list(state.get(purpose.slug, {}).values())
        granted = [e for e in events if e.status == ConsentStatus.GRANTED]
        latest = max((e.at for e in events), default=None)
        choices.append(Choice(purpose=purpose, granted=bool(granted), since=latest))
    return choices


def preference_set(
    *, customer: Customer, purpose: Purpose, granted: bool, language: str, page: str
) -> None:
    """Record what the visitor chose, with the wording they were shown and the page."""
    actor = Actor.system("preferences")
    wording = current_wording(purpose, language)
    if granted:
        consent_record(
            customer=customer,
            purpose=purpose,
            status=ConsentStatus.GRANTED,
            channel=ConsentChannel.PREFERENCES,
            actor=actor,
            wording=wording,
            page=page,
        )
    else:
        consent_withdraw(
            customer=customer,
            purpose=purpose,
            channel=ConsentChannel.PREFERENCES,
            actor=actor,
            wording=wording,
            page=page,
        )


def preference_request(*, customer: Customer, kind: str, message: str) -> DataSubjectRequest:
    """A correction or erasure asked from the preference centre: one open request per kind.

    The signed link, sent to the person's own address, is the identity check; asking twice
    (a double tap, a replayed form) returns the request already open.
    """
    from cordee.privacy.models import OPEN_REQUEST_STATUSES
    from cordee.privacy.requests import request_create

    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        existing = DataSubjectRequest.objects.filter(
            customer_ref=customer.pk, kind=kind, status__in=OPEN_REQUEST_STATUSES
        ).first()
        if existing is not None:
            return existing
        return request_create(
            kind=kind,
            channel=RequestChannel.PREFERENCES,
            customer_ref=customer.pk,
            received_on=timezone.localdate(),
            message=message,
            identity_note="Lien signé du centre de préférences, envoyé à l'adresse du client.",
            identity=IdentityStatus.LINK,
            actor=Actor.system("preferences"),
        )
