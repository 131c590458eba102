"""Objection (Art. 21) and restriction (Art. 18) carried out, not only recorded.

An objection withdraws the person's consents to the purposes objected to, through the consent
service (the proof of the withdrawal is kept and the partners' sharing flag follows), and puts
their address and phone on the campaigns' suppression list for those purposes: no campaign and
no trigger reaches them again, even if a later import brings back a "yes" from a partner's file.

A restriction marks the customer (``Customer.restricted_at``): the data are kept, but the
campaigns' audiences, the triggers and the segments (their counts, exports and audiences) leave
the person out, and the partners that did not bring the person stop seeing them (the sharing
flag turns off), until the DPO lifts it. Both write an audit row.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.customers.models import Customer
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log
from cordee.privacy.models import ConsentChannel, DataSubjectRequest, LegalBasis, Purpose
from cordee.privacy.sharing import customers_sharing_sync

# What a person may object to: processing founded on consent or on legitimate interest
# (marketing, profiling, surveys); not a contract or a legal obligation.
OBJECTABLE_BASES = (LegalBasis.CONSENT, LegalBasis.LEGITIMATE_INTEREST)


def objectable_purposes() -> QuerySet[Purpose]:
    return Purpose.objects.filter(is_active=True, legal_basis__in=OBJECTABLE_BASES)


def objection_apply(
    *,
    customer: Customer,
    purposes: list[str],
    actor: Actor,
    request: DataSubjectRequest | None = None,
) -> list[str]:
    """Withdraw the consents to ``purposes`` and suppress the person's addresses for them."""
    from cordee.campaigns.models import Channel, SuppressionReason
    from cordee.campaigns.sending import suppression_add
    from cordee.privacy.services import consent_withdraw

    chosen = list(objectable_purposes().filter(slug__in=purposes))
    if not chosen:
        raise ValidationError(_("Choisissez au moins une finalité."))
    detail = f"DSR {request.pk}" if request is not None else "DPO"
    with transaction.atomic():
        for purpose in chosen:
            if purpose.legal_basis == LegalBasis.CONSENT:
                consent_withdraw(
                    customer=customer,
                    purpose=purpose,
                    channel=ConsentChannel.EMAIL
                    if request is not None and request.channel == "email"
                    else ConsentChannel.DESK,
                    actor=actor,
                )
            for channel, address_hash in (
                (Channel.EMAIL, customer.email_hash),
                (Channel.SMS, customer.phone_hash),
            ):
                suppression_add(
                    channel=channel,
                    address_hash=address_hash,
                    reason=SuppressionReason.OBJECTION,
                    purpose_id=purpose.pk,
                    detail=detail,
                )
        slugs = [p.slug for p in chosen]
        audit_log(
            actor=actor,
            action="customer.objection",
            obj=customer,
            purposes=slugs,
            request=request.pk if request is not None else None,
        )
    return slugs


def restriction_apply(
    *, customer: Customer, actor: Actor, request: DataSubjectRequest | None = None
) -> None:
    """Restrict the processing of the customer's data until the DPO lifts it."""
    with transaction.atomic():
        updated = Customer.objects.filter(pk=customer.pk, restricted_at__isnull=True).update(
            restricted_at=timezone.now()
        )
        customer.refresh_from_db(fields=["restricted_at"])
        customers_sharing_sync([customer.pk])  # other partners no longer see the person
        audit_log(
            actor=actor,
            action="customer.restrict",
            obj=customer,
            request=request.pk if request is not None else None,
            already=not updated,
        )


def restriction_lift(*, customer: Customer, actor: Actor, reason: str) -> None:
    """Lift the restriction: the person is back in campaigns and segments."""
    from cordee.privacy.requests import clean_text

    reason = clean_text(reason, 300)
    if not reason:
        raise ValidationError(_("Indiquez pourquoi la limitation est levée."))
    if customer.restricted_at is None:
        raise ValidationError(_("Le traitement de ce client n'est pas limité."))
    with transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(restricted_at=None)
        customer.restricted_at = None
        customers_sharing_sync([customer.pk])
        audit_log(actor=actor, action="customer.restriction_lifted", obj=customer, reason=reason)
