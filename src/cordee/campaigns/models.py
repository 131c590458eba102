"""Campaigns: the message, who gets it, and a slim ledger of what was sent.

The ledger (``Delivery``) holds one row per recipient and never a copy of the mail: the mail
is rendered again from the campaign's message when needed. Its rows are the member snapshot
of the campaign (the control group included, with its own status) and the counter of the
marketing pressure: the messages a person received in the last seven days, all senders
together, are the ``sent`` rows of every campaign.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cordee.customers.models import Customer
from cordee.partners.models import Partner


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class Message(models.Model):
    """What is said: a subject and structured blocks, in French and in English.

    Blocks are ``{"type": "title"|"paragraph"|"button"|"image"|"offer", "text": ..., "url":
    ...}``; no raw HTML is ever stored or accepted (see ``rendering``).
    """

    subject_fr = models.CharField(_("objet"), max_length=200, blank=True)
    subject_en = models.CharField(_("objet (anglais)"), max_length=200, blank=True)
    blocks_fr = models.JSONField(_("blocs"), default=list, blank=True)
    blocks_en = models.JSONField(_("blocs (anglais)"), default=list, blank=True)
    sms_fr = models.TextField(_("texte du SMS"), blank=True)
    sms_en = models.TextField(_("texte du SMS (anglais)"), blank=True)
    updated_at = models.DateTimeField(_("mis à jour le"), auto_now=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return self.subject_fr or self.sms_fr[:40] or f"#{self.pk}"

    def variant(self, language: str) -> tuple[str, list[dict[str, str]], str]:
        """(subject, blocks, sms) in ``language``, French where the English is missing."""
        if language.startswith("en") and (self.blocks_en or self.sms_en):
            return (self.subject_en or self.subject_fr, self.blocks_en, self.sms_en or self.sms_fr)
        return (self.subject_fr, self.blocks_fr, self.sms_fr)


class CampaignState(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SCHEDULED = "scheduled", _("Programmée")
    SENDING = "sending", _("En cours d'envoi")
    SENT = "sent", _("Envoyée")
    CANCELLED = "cancelled", _("Annulée")


class WinnerMetric(models.TextChoices):
    OPENS = "opens", _("Ouvertures")
    CLICKS = "clicks", _("Clics")
    CONVERSIONS = "conversions", _("Conversions")


class Campaign(models.Model):
    name = models.CharField(_("nom"), max_length=150)
    # The organisation that sends (the office, or a partner in a joint action it approved).
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="campaigns")
    purpose = models.ForeignKey(
        "privacy.Purpose", on_delete=models.PROTECT, related_name="campaigns"
    )
    channel = models.CharField(_("canal"), max_length=5, choices=Channel.choices)
    segment_slug = models.SlugField(_("segment"), max_length=60, blank=True)
    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="campaigns")
    trigger = models.ForeignKey(
        "campaigns.TriggerRule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="campaigns",
    )
    run_date = models.DateField(null=True, blank=True)  # a trigger's day
    sender_name = models.CharField(_("nom de l'expéditeur"), max_length=100)
    sender_email = models.EmailField(_("adresse de l'expéditeur"))
    reply_to = models.EmailField(_("adresse de réponse"), blank=True)
    scheduled_at = models.DateTimeField(_("envoi prévu le"), null=True, blank=True)
    cost = models.DecimalField(_("coût"), max_digits=10, decimal_places=2, default=0)
    # Per cent of the audience held out (not sent) to measure what the campaign changed.
    control_percent = models.PositiveSmallIntegerField(_("groupe témoin (%)"), default=0)
    conversion_days = models.PositiveSmallIntegerField(
        _("fenêtre d'attribution (jours)"), default=14
    )
    state = models.CharField(
        _("état"), max_length=10, choices=CampaignState.choices, default=CampaignState.DRAFT
    )
    # A/B test (with two variants or more): this per cent of the audience is split at random
    # between the variants; the rest waits (``held``) and gets the winner, chosen by
    # ``winner_metric`` ``winner_delay`` hours after sending started (automatically with
    # ``winner_auto``, else by the marketer).
    test_percent = models.PositiveSmallIntegerField(_("part de l'audience testée (%)"), default=0)
    winner_metric = models.CharField(
        _("critère du gagnant"),
        max_length=12,
        choices=WinnerMetric.choices,
        default=WinnerMetric.CLICKS,
    )
    winner_delay = models.PositiveSmallIntegerField(
        _("délai avant le choix du gagnant (heures)"), default=4
    )
    winner_auto = models.BooleanField(_("choix automatique du gagnant"), default=True)
    winner = models.ForeignKey(
        "campaigns.Variant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    winner_at = models.DateTimeField(_("gagnant choisi le"), null=True, blank=True)
    # A joint action: the office sends partners' offers (``PartnerOffer.campaign``); its
    # audience is only the customers every co-signing partner may see through the gate.
    is_joint = models.BooleanField(_("action commune"), default=False)
    # The audience as counted when the snapshot was taken: [{"key", "label", "count"}].
    audience_steps = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    started_at = models.DateTimeField(_("envoi commencé le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("envoi terminé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("campagne")
        verbose_name_plural = _("campagnes")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["trigger", "run_date"],
                condition=models.Q(trigger__isnull=False),
                name="campaign_one_per_trigger_day",
            ),
            models.CheckConstraint(
                condition=models.Q(control_percent__lte=50), name="campaign_control_percent"
            ),
            models.CheckConstraint(
                condition=models.Q(test_percent__lte=90), name="campaign_test_percent"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Variant(models.Model):
    """One version of an A/B-tested campaign: its own message (subject and/or content).

    Variant A's message is the campaign's own. A test row of the ledger names its variant; the
    rest of the audience (``variant`` empty) gets the campaign's ``winner``.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="variants")
    label = models.CharField(_("variante"), max_length=1)
    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="variants")

    class Meta:
        verbose_name = _("variante")
        verbose_name_plural = _("variantes")
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "label"], name="variant_unique_label")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.label}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("À envoyer")
    CLAIMED = "claimed", _("En cours")
    SENT = "sent", _("Envoyé")
    FAILED = "failed", _("Échec")
    BOUNCED = "bounced", _("Rejeté")
    SKIPPED = "skipped", _("Écarté")
    CONTROL = "control", _("Groupe témoin")
    HELD = "held", _("Attend la variante gagnante")


class Delivery(models.Model):
    """One recipient of one campaign: slim on purpose (millions of rows)."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices)
    language = models.CharField(max_length=2, default="fr")
    # The A/B test's variant this recipient was drawn for; empty for the rest (the winner).
    variant = models.ForeignKey(
        Variant, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    claimed_by = models.CharField(max_length=40, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Ours (``<cordee.CAMPAIGN.DELIVERY@domain>``) over SMTP; the provider's through its API.
    message_id = models.CharField(max_length=120, blank=True)
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="delivery_unique")
        ]
        indexes = [
            models.Index(fields=["campaign", "status"], name="delivery_status_idx"),
            # The pressure cap: messages sent to a person in the last seven days.
            models.Index(
                fields=["customer", "sent_at"],
                name="delivery_pressure_idx",
                condition=models.Q(sent_at__isnull=False),
            ),
            # A provider's webhook names its own message id: found without a scan.
            models.Index(
                fields=["message_id"],
                name="delivery_provider_id_idx",
                condition=~models.Q(message_id="") & ~models.Q(message_id__startswith="<cordee."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}→{self.customer_id} {self.status}"


class SuppressionReason(models.TextChoices):
    BOUNCE = "bounce", _("Adresse en échec définitif")
    COMPLAINT = "complaint", _("Plainte pour spam")
    OBJECTION = "objection", _("Opposition")
    UNSUBSCRIBE = "unsubscribe", _("Désinscription")
    STOP = "stop", _("STOP par SMS")


class Suppression(models.Model):
    """An address never to write to again on a channel (for one purpose, or for all).

    Kept by keyed hash of the address, not the address: it stays effective if the customer
    record is merged or rebuilt, and holds no contact detail in clear.
    """

    channel = models.CharField(max_length=5, choices=Channel.choices)
    address_hash = models.CharField(max_length=32)
    # None: every purpose (a bounce, a complaint, an objection, a STOP).
    purpose = models.ForeignKey(
        "privacy.Purpose", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("motif"), max_length=12, choices=SuppressionReason.choices)
    detail = models.CharField(max_length=200, blank=True)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("adresse exclue")
        verbose_name_plural = _("liste d'exclusion")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "address_hash", "purpose"],
                condition=models.Q(purpose__isnull=False),
                name="suppression_unique_purpose",
            ),
            models.UniqueConstraint(
                fields=["channel", "address_hash"],
                condition=models.Q(purpose__isnull=True),
                name="suppression_unique_all",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.reason}"


class EventKind(models.TextChoices):
    OPEN = "open", _("Ouverture")
    CLICK = "click", _("Clic")
    UNSUBSCRIBE = "unsubscribe", _("Désinscription")
    BOUNCE = "bounce", _("Rejet")
    COMPLAINT = "complaint", _("Plainte")


class TrackingEvent(models.Model):
    """What a recipient did with a message. Opens and clicks only with their consent."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    link = models.PositiveSmallIntegerField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "delivery"], name="tracking_kind_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.delivery_id}"


class TriggerKind(models.TextChoices):
    BIRTHDAY = "birthday", _("Anniversaire")
    STAY_ANNIVERSARY = "stay_anniversary", _("Anniversaire d'un séjour")
    SEASON_OPENING = "season_opening", _("Ouverture de la saison préférée")
    POST_STAY = "post_stay", _("Après un séjour (questionnaire)")
    WINBACK = "winback", _("Reconquête d'un client qui s'éloigne")


class TriggerRule(models.Model):
    """A message sent by itself every day to the customers whose occasion it is."""

    name = models.CharField(_("nom"), max_length=150)
    kind = models.CharField(_("déclencheur"), max_length=20, choices=TriggerKind.choices)
    # Days before (anniversary, season opening) or after (post-stay), or of absence (win-back).
    days = models.PositiveSmallIntegerField(_("jours"), default=0)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    purpose = models.ForeignKey("privacy.Purpose", on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("canal"), max_length=5, choices=Channel.choices)
    segment_slug = models.SlugField(_("segment"), max_length=60, blank=True)
    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="triggers")
    sender_name = models.CharField(_("nom de l'expéditeur"), max_length=100)
    sender_email = models.EmailField(_("adresse de l'expéditeur"))
    is_active = models.BooleanField(_("actif"), default=True)

    class Meta:
        verbose_name = _("déclencheur")
        verbose_name_plural = _("déclencheurs")

    def __str__(self) -> str:
        return self.name


class TriggerOccasion(models.Model):
    """One occasion sent to one customer: the unique key makes each occasion happen once."""

    trigger = models.ForeignKey(TriggerRule, on_delete=models.CASCADE, related_name="occasions")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    occasion = models.CharField(max_length=60)  # e.g. "birthday-2027", "stay-412-2027"
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["trigger", "customer", "occasion"], name="trigger_occasion_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.trigger_id} {self.customer_id} {self.occasion}"


class OfferState(models.TextChoices):
    PENDING = "pending", _("En attente de l'office")
    APPROVED = "approved", _("Approuvée")
    REFUSED = "refused", _("Refusée")


class PartnerOffer(models.Model):
    """An offer a partner proposes to the destination's shared customers.

    The office approves it (it becomes, alone or with other partners' offers, a joint
    campaign the office sends) or refuses it with a reason the partner reads. The partner
    never chooses recipients: only a segment the office exposes to partners, or everyone
    shared with partners, always within the ``partner_offers`` consent and the gate.
    """

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="offers")
    title = models.CharField(_("titre"), max_length=150)
    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="offers")
    valid_from = models.DateField(_("valable à partir du"))
    valid_until = models.DateField(_("valable jusqu'au"))
    link = models.URLField(_("lien"), max_length=500, blank=True)
    code = models.CharField(_("code promotionnel"), max_length=40, blank=True)
    # None: every customer shared with the destination's partners.
    segment = models.ForeignKey(
        "segments.Segment", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    state = models.CharField(
        _("état"), max_length=10, choices=OfferState.choices, default=OfferState.PENDING
    )
    refusal_reason = models.TextField(_("motif du refus"), blank=True)
    # The joint action that carries it, once approved.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="offers"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("proposée le"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("décidée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("offre partenaire")
        verbose_name_plural = _("offres partenaires")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "created_at"], name="offer_state_idx")]

    def __str__(self) -> str:
        return self.title


class ExposedSegment(models.Model):
    """A segment of the office that partners may target with their offers."""

    segment = models.OneToOneField("segments.Segment", on_delete=models.CASCADE, related_name="+")
    exposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("segment proposé aux partenaires")
        verbose_name_plural = _("segments proposés aux partenaires")

    def __str__(self) -> str:
        return str(self.segment_id)
