"""Write paths of campaigns: create and edit, schedule, test send, unsubscribe, STOP, tracking."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from email.headerregistry import Address
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.tasks import default_task_backend
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.campaigns.abtest import LABELS
from cordee.campaigns.audience import SMS_PURPOSE
from cordee.campaigns.compose import Composer, Recipient, language_of
from cordee.campaigns.mailer import SmtpSession
from cordee.campaigns.models import (
    Campaign,
    CampaignState,
    Channel,
    Delivery,
    DeliveryStatus,
    EventKind,
    Message,
    SuppressionReason,
    TrackingEvent,
    Variant,
    WinnerMetric,
)
from cordee.campaigns.personalisation import personal_values
from cordee.campaigns.provider import ApiSession, api_provider
from cordee.campaigns.receivers import deliveries_skip_withdrawn
from cordee.campaigns.rendering import (
    Rendered,
    check_blocks,
    check_sms,
    check_subject,
    check_text,
)
from cordee.campaigns.sending import suppression_add
from cordee.customers.models import Customer
from cordee.partners.models import Partner
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log
from cordee.privacy.models import ConsentChannel, Purpose
from cordee.privacy.services import consent_withdraw
from cordee.segments.models import Segment


def message_check(
    *,
    channel: str,
    subject_fr: str,
    subject_en: str,
    blocks_fr: Any,
    blocks_en: Any,
    sms_fr: str,
    sms_en: str,
) -> dict[str, Any]:
    """The message's fields, checked; a ValidationError says which field and why."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    checks = {
        "subject_fr": lambda: check_subject(subject_fr, required=channel == Channel.EMAIL),
        "subject_en": lambda: check_subject(subject_en, required=False),
        "blocks_fr": lambda: check_blocks(blocks_fr),
        "blocks_en": lambda: check_blocks(blocks_en),
        "sms_fr": lambda: check_sms(sms_fr),
        "sms_en": lambda: check_sms(sms_en),
    }
    for name, check in checks.items():
        try:
            clean[name] = check()
        except ValidationError as exc:
            errors[name] = exc.messages
    if not errors:
        if channel == Channel.EMAIL and not clean["blocks_fr"]:
            errors["blocks_fr"] = [_("Le message en français n'a aucun bloc.")]
        if channel == Channel.SMS and not clean["sms_fr"].strip():
            errors["sms_fr"] = [_("Le texte du SMS est vide.")]
    if errors:
        raise ValidationError(errors)
    return clean


def campaign_save(
    *,
    actor: Actor,
    campaign: Campaign | None = None,
    name: str,
    purpose: Purpose | str,
    channel: str,
    segment_slug: str = "",
    sender_name: str,
    sender_email: str,
    reply_to: str = "",
    cost: Decimal | str | int = 0,
    control_percent: int = 0,
    partner: Partner | None = None,
    test_percent: int = 0,
    winner_metric: str = WinnerMetric.CLICKS,
    winner_delay: int = 4,
    winner_auto: bool = True,
    variants: list[dict[str, Any]] | None = None,
    **message: Any,
) -> Campaign:
    """Create a campaign (or edit a draft) with its message; everything checked first.

    ``variants``: an A/B test's other versions (B, C…), each a dict of message fields; a
    field left out is variant A's (so a variant may change only the subject). With
    ``test_percent`` > 0 that share of the audience is split between A and the others.
    ``variants=None`` keeps a draft's variants as they are; ``[]`` removes them.
    """
    errors: dict[str, list[str]] = {}
    try:
        check_text(name, _("Nom"), limit=150)
        if not name.strip():
            raise ValidationError(_("Nom : il est obligatoire."))
    except ValidationError as exc:
        errors["name"] = exc.messages
    if channel not in Channel.values:
        errors["channel"] = [_("Canal inconnu.")]
    if isinstance(purpose, str):
        found = Purpose.objects.filter(slug=purpose, is_active=True).first()
        if found is None:
            errors["purpose"] = [_("Finalité inconnue : %(slug)s") % {"slug": purpose[:40]}]
        purpose = found  # type: ignore[assignment]
    try:
        check_text(sender_name, _("Expéditeur"), limit=100)
        if not sender_name.strip() or "\r" in sender_name or "\n" in sender_name:
            raise ValidationError(_("Expéditeur : un nom sur une ligne est obligatoire."))
    except ValidationError as exc:
        errors["sender_name"] = exc.messages
    for field, value in (("sender_email", sender_email), ("reply_to", reply_to)):
        if value or field == "sender_email":
            try:
                validate_email(value)
            except ValidationError:
                errors[field] = [_("Adresse e-mail invalide.")]
    try:
        cost = Decimal(str(cost or 0))
        if cost < 0 or cost >= Decimal("1e8"):
            raise ValueError
    except (ArithmeticError, ValueError):
        errors["cost"] = [_("Coût invalide.")]
    if not isinstance(control_percent, int) or not 0 <= control_percent <= 50:
        errors["control_percent"] = [_("Le groupe témoin va de 0 à 50 %.")]
    if not isinstance(test_percent, int) or not 0 <= test_percent <= 90:
        errors["test_percent"] = [_("La part testée va de 0 à 90 %.")]
    if winner_metric not in WinnerMetric.values:
        errors["winner_metric"] = [_("Critère du gagnant inconnu.")]
    if not isinstance(winner_delay, int) or not 0 <= winner_delay <= 24 * 14:
        errors["winner_delay"] = [_("Le délai va de 0 à 336 heures (14 jours).")]
    clean: dict[str, Any] = {}
    try:
        clean = message_check(channel=channel, **message)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    others: list[dict[str, Any]] = []
    for number, fields in enumerate(variants or [], start=1):
        label = LABELS[number] if number < len(LABELS) else "?"
        if number >= len(LABELS):
            errors["variants"] = [_("Huit variantes au plus.")]
            break
        try:
            others.append(message_check(channel=channel, **{**message, **fields}))
        except ValidationError as exc:
            errors[f"variant_{label}"] = [
                _("Variante %(label)s : %(error)s") % {"label": label, "error": " ".join(m)}
                for m in exc.message_dict.values()
            ]
    if test_percent and variants is not None and not others:
        errors["test_percent"] = [_("Un test A/B demande au moins une seconde variante.")]
    if segment_slug and not Segment.objects.filter(slug=segment_slug).exists():
        errors["segment_slug"] = [_("Segment inconnu : %(slug)s") % {"slug": segment_slug[:60]}]
    if campaign is not None and campaign.state != CampaignState.DRAFT:
        errors["__all__"] = [_("Une campagne programmée ou envoyée ne se modifie plus.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if campaign is None:
            msg = Message.objects.create(**clean)
            campaign = Campaign(message=msg, created_by=actor.user)
        else:
            Message.objects.filter(pk=campaign.message_id).update(
                **clean, updated_at=timezone.now()
            )
            campaign.message.refresh_from_db()
        campaign.name = name.strip()
        campaign.purpose = purpose  # type: ignore[assignment]
        campaign.channel = channel
        campaign.segment_slug = segment_slug
        campaign.sender_name = sender_name.strip()
        campaign.sender_email = sender_email
        campaign.reply_to = reply_to
        campaign.cost = cost  # type: ignore[assignment,unused-ignore]
        campaign.control_percent = control_percent
        campaign.partner = partner or actor.partner or _hub()
        campaign.test_percent = test_percent
        campaign.winner_metric = winner_metric
        campaign.winner_delay = winner_delay
        campaign.winner_auto = winner_auto
        campaign.save()
        if variants is not None:
            _variants_save(campaign, others)
        audit_log(actor=actor, action="campaign.save", obj=campaign)
    return campaign


def _variants_save(campaign: Campaign, others: list[dict[str, Any]]) -> None:
    """Variant A is the campaign's message; B, C… their own (replaced on each save)."""
    old = list(campaign.variants.exclude(label="A").values_list("message_id", flat=True))
    campaign.variants.all().delete()
    Message.objects.filter(pk__in=old).exclude(pk=campaign.message_id).delete()
    if not others:
        return
    Variant.objects.create(campaign=campaign, label="A", message=campaign.message)
    for label, fields in zip(LABELS[1:], others, strict=False):
        Variant.objects.create(
            campaign=campaign, label=label, message=Message.objects.create(**fields)
        )


def _hub() -> Partner:
    from cordee.privacy.services import hub_partner

    return hub_partner()


def campaign_schedule(*, campaign: Campaign, at: dt.datetime | None, actor: Actor) -> None:
    """Send now (``at`` None or past) or at ``at``; the snapshot is taken when sending starts."""
    from cordee.campaigns.sending import campaign_start
    from cordee.campaigns.tasks import campaign_send, campaign_start_scheduled

    if campaign.state not in (CampaignState.DRAFT, CampaignState.SCHEDULED):
        raise ValidationError(_("Cette campagne est déjà partie."))
    now = timezone.now()
    if at is not None and at > now:
        Campaign.objects.filter(pk=campaign.pk).update(
            state=CampaignState.SCHEDULED, scheduled_at=at
        )
        campaign.state, campaign.scheduled_at = CampaignState.SCHEDULED, at
        audit_log(actor=actor, action="campaign.schedule", obj=campaign, at=at.isoformat())
        if default_task_backend.supports_defer:
            transaction.on_commit(
                lambda: campaign_start_scheduled.using(run_after=at).enqueue(campaign.pk)
            )
        return
    campaign_start(campaign=campaign, actor=actor)
    transaction.on_commit(lambda: campaign_send.enqueue(campaign.pk))
    winner_schedule(campaign)


def winner_schedule(campaign: Campaign) -> None:
    """An automatic A/B winner: a task at the end of the delay (``cordee campaign dispatch``
    picks it too, for a task backend that cannot defer)."""
    from cordee.campaigns.abtest import campaign_is_ab, winner_due_at
    from cordee.campaigns.tasks import campaign_winner_auto

    campaign.refresh_from_db(fields=["started_at", "state"])
    due = winner_due_at(campaign)
    if not campaign.winner_auto or due is None or not campaign_is_ab(campaign):
        return
    if default_task_backend.supports_defer:
        transaction.on_commit(
            lambda: campaign_winner_auto.using(run_after=due).enqueue(campaign.pk)
        )


def campaigns_dispatch_due(*, actor: Actor) -> list[int]:
    """Start every scheduled campaign whose time has come (cron-able, idempotent)."""
    from cordee.campaigns.sending import campaign_start
    from cordee.campaigns.tasks import campaign_send

    started = []
    for campaign in Campaign.objects.filter(
        state=CampaignState.SCHEDULED, scheduled_at__lte=timezone.now()
    ).select_related("purpose"):
        if campaign_start(campaign=campaign, actor=actor):
            campaign_send.enqueue(campaign.pk)
            winner_schedule(campaign)
        started.append(campaign.pk)
    return started


def campaign_cancel(*, campaign: Campaign, actor: Actor) -> None:
    with transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).exclude(state=CampaignState.SENT).update(
            state=CampaignState.CANCELLED
        )
        Delivery.objects.filter(
            campaign=campaign, status__in=(DeliveryStatus.PENDING, DeliveryStatus.HELD)
        ).update(status=DeliveryStatus.SKIPPED, error=_("campagne annulée"))
        audit_log(actor=actor, action="campaign.cancel", obj=campaign)


def campaign_preview(
    *, campaign: Campaign, customer: Customer, language: str | None = None
) -> Rendered:
    """The message as ``customer`` would get it (links not tracked). Caller passed the gate."""
    composer = Composer(campaign)
    lang = language if language in ("fr", "en") else language_of(customer)
    values = personal_values([customer])[customer.pk]
    return composer.render(
        Recipient(customer=customer, delivery_id=0, language=lang, values=values)
    )


def campaign_test_send(
    *, campaign: Campaign, customer: Customer, to: str, actor: Actor, language: str | None = None
) -> str:
    """Send ``customer``'s version to ``to`` (a team address), marked [TEST]. Not in the ledger."""
    try:
        validate_email(to)
    except ValidationError:
        raise ValidationError(_("Adresse de test invalide.")) from None
    if "\r" in to or "\n" in to:
        raise ValidationError(_("Adresse de test invalide."))
    composer = Composer(campaign)
    lang = language if language in ("fr", "en") else language_of(customer)
    values = personal_values([customer])[customer.pk]
    recipient = Recipient(customer=customer, delivery_id=0, language=lang, values=values)
    provider = api_provider()
    if provider:
        subject, text, html, headers = composer.api_parts(recipient)
        api = ApiSession(provider)
        try:
            message_id = api.send(
                sender=str(Address(campaign.sender_name, addr_spec=campaign.sender_email)),
                to=to,
                subject="[TEST] " + subject,
                text=text,
                html=html,
                delivery_id=0,
                headers=headers,
            )
        finally:
            api.close()
    else:
        data, message_id = composer.email_bytes(recipient, subject_prefix="[TEST] ", to=to)
        with SmtpSession() as session:
            session.send(campaign.sender_email, to, data, lambda: True)
    audit_log(actor=actor, action="campaign.test_send", obj=campaign, customer=customer.pk)
    return message_id


# --- what recipients do -----------------------------------------------------------------------


def delivery_unsubscribe(*, delivery: Delivery, ip: str | None = None) -> None:
    """One click: the campaign's purpose is withdrawn and the address excluded for it."""
    campaign = delivery.campaign
    customer = Customer.objects.filter(pk=delivery.customer_id).first()
    actor = Actor.system("désinscription")
    with transaction.atomic():
        if customer is not None:
            customer_unsubscribe(
                customer=customer, purpose=campaign.purpose, channel=campaign.channel
            )
        if not TrackingEvent.objects.filter(delivery=delivery, kind=EventKind.UNSUBSCRIBE).exists():
            TrackingEvent.objects.create(delivery=delivery, kind=EventKind.UNSUBSCRIBE)
        audit_log(
            actor=actor, action="campaign.unsubscribe", obj=campaign, delivery=delivery.pk, ip=ip
        )


def customer_unsubscribe(*, customer: Customer, purpose: Purpose, channel: str) -> None:
    consent_withdraw(
        customer=customer,
        purpose=purpose,
        channel=ConsentChannel.UNSUBSCRIBE,
        actor=Actor.system("désinscription"),
    )
    address = customer.phone_hash if channel == Channel.SMS else customer.email_hash
    suppression_add(
        channel=channel,
        address_hash=address,
        reason=SuppressionReason.UNSUBSCRIBE,
        purpose_id=purpose.pk,
    )
    deliveries_skip_withdrawn(customer_id=customer.pk, purpose=purpose.slug)


STOP_WORDS = frozenset({"STOP", "ARRET", "ARRÊT", "UNSUBSCRIBE", "STOPALL", "END", "QUIT"})


def sms_inbound(*, phone: str, text: str) -> bool:
    """An SMS a customer sent back. STOP withdraws SMS consent and excludes the number."""
    from cordee.privacy.crypto import phone_index

    word = (text or "").strip().upper().split(" ")[0][:20]
    if word not in STOP_WORDS:
        return False
    number = "".join(c for c in phone if c.isdigit() or c == "+")[:20]
    address = phone_index(number)
    suppression_add(channel=Channel.SMS, address_hash=address, reason=SuppressionReason.STOP)
    actor = Actor.system("sms-stop")
    for customer in Customer.objects.filter(phone_hash=address):
        consent_withdraw(
            customer=customer, purpose=SMS_PURPOSE, channel=ConsentChannel.UNSUBSCRIBE, actor=actor
        )
        deliveries_skip_withdrawn(customer_id=customer.pk, purpose=SMS_PURPOSE)
    audit_log(actor=actor, action="campaign.sms_stop")
    return True


def tracking_record(*, delivery_id: int, kind: str, link: int | None = None) -> bool:
    """An open or a click, kept only if the person agreed to tracking (checked again now)."""
    from cordee.campaigns.sending import TRACKING_PURPOSE
    from cordee.privacy.queries import customers_with_consent

    delivery = Delivery.objects.filter(pk=delivery_id).only("customer_id").first()
    if delivery is None:
        return False
    agreed = customers_with_consent(
        Customer.objects.filter(pk=delivery.customer_id), TRACKING_PURPOSE
    ).exists()
    if agreed:
        TrackingEvent.objects.create(delivery_id=delivery_id, kind=kind, link=link)
    return agreed
