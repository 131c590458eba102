"""Partner offers and joint actions: a partner proposes, the office approves and sends.

A partner manager writes an offer (blocks like a campaign message, validity, link, code) for
a segment the office exposes to partners, or for every customer shared with partners. The
office approves it — alone or together with other partners' offers — into a joint campaign
(``Campaign.is_joint``) that goes through the ordinary sending machinery: the
``partner_offers`` consent, the suppressions and the weekly pressure cap, all senders
together. The audience is only the customers every co-signing partner may see through the
privacy gate. A refused offer never becomes a campaign; its partner reads the reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cordee.campaigns.models import (
    Campaign,
    DeliveryStatus,
    ExposedSegment,
    Message,
    OfferState,
    PartnerOffer,
)
from cordee.campaigns.rendering import check_text, check_url
from cordee.partners.models import Partner, PartnerKind, Role
from cordee.privacy.access import SHARING_PURPOSE, Actor
from cordee.privacy.audit import audit_log
from cordee.segments.models import Segment

MAX_VALIDITY = dt.timedelta(days=366)
HUB_OFFER_ROLES = frozenset({Role.HUB_ADMIN, Role.HUB_MARKETER})


# --- who may do what ---------------------------------------------------------------------------


def can_review_offers(actor: Actor) -> bool:
    """The office's administrators and marketers (not its DPO, not partners)."""
    user = actor.user
    if user is None:
        return actor.sees_everything
    return bool(user.is_superuser or (user.is_hub_user and user.role in HUB_OFFER_ROLES))


def can_propose_offers(actor: Actor) -> bool:
    """A partner's manager (the office sends its own campaigns, it does not propose)."""
    user = actor.user
    return bool(
        user is not None
        and actor.partner is not None
        and not actor.partner.is_hub
        and user.role == Role.PARTNER_MANAGER
    )


def offers_visible_to(actor: Actor) -> QuerySet[PartnerOffer]:
    qs = PartnerOffer.objects.select_related("partner", "segment", "campaign", "message")
    if can_review_offers(actor):
        return qs
    if actor.partner is None or actor.partner.is_hub:
        return qs.none()
    return qs.filter(partner=actor.partner)


def offer_for(actor: Actor, pk: int) -> PartnerOffer:
    """The offer if the actor may see it, else 404 (another partner's offer does not exist)."""
    try:
        return offers_visible_to(actor).get(pk=pk)
    except (PartnerOffer.DoesNotExist, OverflowError):
        raise Http404 from None


def offer_targets() -> QuerySet[Segment]:
    """The office's segments exposed to partners as targets of their offers."""
    return Segment.objects.filter(
        owner__isnull=True, pk__in=ExposedSegment.objects.values("segment_id")
    ).order_by("name")


def segment_expose(*, actor: Actor, segment: Segment, exposed: bool) -> None:
    if not can_review_offers(actor):
        raise PermissionDenied
    if segment.owner_id is not None:
        raise ValidationError(_("Seuls les segments de l'office peuvent être proposés."))
    with transaction.atomic():
        if exposed:
            ExposedSegment.objects.get_or_create(
                segment=segment, defaults={"exposed_by": actor.user}
            )
        else:
            ExposedSegment.objects.filter(segment=segment).delete()
        audit_log(actor=actor, action="offer.segment_expose", obj=segment, exposed=exposed)


# --- the partner writes ------------------------------------------------------------------------


def _check_dates(valid_from: Any, valid_until: Any) -> list[str]:
    if not isinstance(valid_from, dt.date) or not isinstance(valid_until, dt.date):
        return [_("Les dates de validité sont obligatoires.")]
    if valid_until < valid_from:
        return [_("La fin de validité précède son début.")]
    if valid_until < timezone.localdate():
        return [_("L'offre est déjà expirée.")]
    if valid_until - valid_from > MAX_VALIDITY:
        return [_("Une offre est valable un an au plus.")]
    return []


def offer_save(
    *,
    actor: Actor,
    offer: PartnerOffer | None = None,
    title: str,
    valid_from: dt.date | None,
    valid_until: dt.date | None,
    link: str = "",
    code: str = "",
    segment_slug: str = "",
    subject_fr: str,
    subject_en: str = "",
    blocks_fr: Any,
    blocks_en: Any = (),
) -> PartnerOffer:
    """A partner manager writes (or corrects, while pending) an offer; everything checked."""
    from cordee.campaigns.services import message_check

    if not can_propose_offers(actor) or (offer is not None and offer.partner != actor.partner):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    try:
        check_text(title, _("Titre"), limit=150)
        if not title.strip() or "\n" in title or "\r" in title:
            raise ValidationError(_("Titre : un titre sur une ligne est obligatoire."))
    except ValidationError as exc:
        errors["title"] = exc.messages
    if dates := _check_dates(valid_from, valid_until):
        errors["valid_until"] = dates
    if link:
        try:
            link = check_url(link, _("Lien"))
        except ValidationError as exc:
            errors["link"] = exc.messages
    try:
        check_text(code, _("Code"), limit=40)
        if any(c in code for c in "{}\r\n"):
            raise ValidationError(_("Code : accolades et retours à la ligne interdits."))
    except ValidationError as exc:
        errors["code"] = exc.messages
    segment = None
    if segment_slug:
        segment = offer_targets().filter(slug=segment_slug).first()
        if segment is None:
            errors["segment"] = [_("Cible inconnue ou non proposée aux partenaires.")]
    try:
        clean = message_check(
            channel="email",
            subject_fr=subject_fr,
            subject_en=subject_en,
            blocks_fr=blocks_fr,
            blocks_en=list(blocks_en),
            sms_fr="",
            sms_en="",
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if offer is not None and offer.state != OfferState.PENDING:
        errors["__all__"] = [_("Une offre déjà décidée ne se modifie plus.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if offer is None:
            offer = PartnerOffer(
                partner=actor.partner,
                message=Message.objects.create(**clean),
                created_by=actor.user,
            )
        else:
            Message.objects.filter(pk=offer.message_id).update(**clean, updated_at=timezone.now())
        offer.title = title.strip()
        offer.valid_from, offer.valid_until = valid_from, valid_until  # type: ignore[assignment]
        offer.link, offer.code, offer.segment = link, code.strip(), segment
        offer.save()
        audit_log(actor=actor, action="offer.save", obj=offer)
    return offer


# --- the office decides ------------------------------------------------------------------------


def offer_refuse(*, offer: PartnerOffer, actor: Actor, reason: str) -> None:
    """Refused with a reason its partner reads. Nothing is sent, nothing is created."""
    if not can_review_offers(actor):
        raise PermissionDenied
    # Plain text, shown escaped: markup is harmless here, only the length is bounded.
    reason = (reason or "").replace("\x00", "").strip()
    if len(reason) > 1000:
        raise ValidationError(_("Motif : 1000 caractères au plus."))
    if not reason:
        raise ValidationError(_("Dites au partenaire pourquoi l'offre est refusée."))
    with transaction.atomic():
        moved = PartnerOffer.objects.filter(pk=offer.pk, state=OfferState.PENDING).update(
            state=OfferState.REFUSED,
            refusal_reason=reason,
            decided_by=actor.user,
            decided_at=timezone.now(),
        )
        if not moved:
            raise ValidationError(_("Cette offre a déjà été décidée."))
        audit_log(actor=actor, action="offer.refuse", obj=offer)
    offer.refresh_from_db()


def _offer_line(offer: PartnerOffer, language: str) -> dict[str, str]:
    """The offer block that closes every offer: its code, its validity, its link."""
    fmt = "d/m/Y" if language == "fr" else "Y-m-d"
    start, end = date_format(offer.valid_from, fmt), date_format(offer.valid_until, fmt)
    if language == "en":
        text = f"Valid from {start} to {end}"
        if offer.code:
            text = f"Code {offer.code} · " + text
    else:
        text = f"Valable du {start} au {end}"
        if offer.code:
            text = f"Code {offer.code} · " + text
    block = {"type": "offer", "text": text}
    if offer.link:
        block["url"] = offer.link
    return block


def _joint_blocks(offers: list[PartnerOffer], language: str) -> list[dict[str, str]]:
    blocks: list[dict[str, str]] = []
    for offer in offers:
        own = offer.message.blocks_en if language == "en" and offer.message.blocks_en else None
        own = own or offer.message.blocks_fr
        if len(offers) > 1:
            blocks.append({"type": "title", "text": f"{offer.partner.name} — {offer.title}"})
        blocks += own
        blocks.append(_offer_line(offer, language))
    return blocks


def offers_approve(
    *,
    offers: list[PartnerOffer],
    actor: Actor,
    sender_email: str,
    subject_fr: str = "",
    subject_en: str = "",
    send_now: bool = False,
) -> Campaign:
    """One joint campaign from pending offers (one partner's, or several partners' together).

    The office sends it, the partners co-sign it (in the sender name and the footer); the
    offers must aim at the same target, so that every co-signer may see every recipient.
    """
    from cordee.campaigns.services import campaign_save, campaign_schedule

    if not can_review_offers(actor):
        raise PermissionDenied
    if not offers:
        raise ValidationError(_("Choisissez au moins une offre."))
    if any(o.state != OfferState.PENDING for o in offers):
        raise ValidationError(_("Seules les offres en attente peuvent être approuvées."))
    if len({o.segment_id for o in offers}) > 1:
        raise ValidationError(_("Des offres réunies doivent viser la même cible."))
    if any(o.valid_until < timezone.localdate() for o in offers):
        raise ValidationError(_("Une offre expirée ne s'envoie plus."))
    hub = Partner.objects.get(kind=PartnerKind.HUB)
    partners = sorted({o.partner.name for o in offers})
    sender_name = (
        _("%(hub)s avec %(partners)s")
        % {
            "hub": hub.name,
            "partners": ", ".join(partners),
        }
    )[:100]
    single = offers[0] if len(offers) == 1 else None
    has_en = any(o.message.blocks_en for o in offers)
    subject_fr = subject_fr.strip() or (
        single.message.subject_fr if single else _("Les offres de nos partenaires")
    )
    subject_en = subject_en.strip() or (
        single.message.subject_en if single else ("Offers from our partners" if has_en else "")
    )
    target = offers[0].segment
    with transaction.atomic():
        campaign = campaign_save(
            actor=actor,
            name=(
                _("Action commune : %(title)s") % {"title": single.title}
                if single
                else _("Action commune : %(partners)s") % {"partners": ", ".join(partners)}
            )[:150],
            purpose=SHARING_PURPOSE,
            channel="email",
            segment_slug=target.slug if target else "",
            sender_name=sender_name,
            sender_email=sender_email,
            subject_fr=subject_fr,
            subject_en=subject_en,
            blocks_fr=_joint_blocks(offers, "fr"),
            blocks_en=_joint_blocks(offers, "en") if has_en else [],
            sms_fr="",
            sms_en="",
            partner=hub,
        )
        Campaign.objects.filter(pk=campaign.pk).update(is_joint=True)
        campaign.is_joint = True
        ids = [o.pk for o in offers]
        moved = PartnerOffer.objects.filter(pk__in=ids, state=OfferState.PENDING).update(
            state=OfferState.APPROVED,
            campaign=campaign,
            decided_by=actor.user,
            decided_at=timezone.now(),
        )
        if moved != len(ids):  # decided meanwhile by someone else: nothing of this stays
            raise ValidationError(_("Une de ces offres a déjà été décidée."))
        for offer in offers:
            audit_log(actor=actor, action="offer.approve", obj=offer, campaign=campaign.pk)
        if send_now:
            campaign_schedule(campaign=campaign, at=None, actor=actor)
    for offer in offers:
        offer.refresh_from_db()
    return campaign


def joint_partners(campaign: Campaign) -> list[Partner]:
    """The partners who co-sign a joint action (their approved offers are in it)."""
    return list(
        Partner.objects.filter(offers__campaign=campaign, offers__state=OfferState.APPROVED)
        .distinct()
        .order_by("name")
    )


# --- what the partner learns -------------------------------------------------------------------


@dataclass
class OfferReport:
    """Counts only: a partner never gets the list of recipients."""

    sent: int = 0
    waiting: int = 0
    bounced: int = 0
    skipped: int = 0
    opens: int = 0
    clicks: int = 0
    unsubscribes: int = 0
    converted: int = 0
    revenue: Decimal = Decimal(0)
    window_end: dt.datetime | None = None


def offer_report(offer: PartnerOffer) -> OfferReport | None:
    """Delivery of the joint action and what it returned *at this partner*."""
    from cordee.activities.models import Activity
    from cordee.campaigns.models import Delivery
    from cordee.campaigns.queries import CONVERSION_KINDS, campaign_report

    campaign = offer.campaign
    if campaign is None or campaign.started_at is None:
        return None
    full = campaign_report(campaign)
    report = OfferReport(
        sent=full.sent,
        waiting=full.waiting,
        bounced=full.bounced,
        skipped=full.skipped,
        opens=full.opens,
        clicks=full.clicks,
        unsubscribes=full.unsubscribes,
    )
    start = campaign.started_at
    end = start + dt.timedelta(days=campaign.conversion_days)
    report.window_end = end
    recipients = Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.SENT).values(
        "customer_id"
    )
    agg = Activity.objects.filter(
        partner=offer.partner,
        customer_id__in=recipients,
        kind__in=CONVERSION_KINDS,
        created_at__gte=start,
        created_at__lt=end,
        starts_on__gte=timezone.localdate(start),
    ).aggregate(people=Count("customer_id", distinct=True), revenue=Sum("amount"))
    report.converted = agg["people"] or 0
    report.revenue = agg["revenue"] or Decimal(0)
    return report
