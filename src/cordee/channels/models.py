"""Public channels: forms on partners' sites, cookie consent and page views, webhooks, feeds."""

from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from cordee.customers.models import Customer, SourceRecord
from cordee.partners.models import Partner
from cordee.privacy.models import ConsentWording


class SiteOrigin(models.Model):
    """A partner's website (scheme://host[:port]): may embed the forms and call the cookie endpoint."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="site_origins")
    origin = models.CharField(_("origine"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("site du partenaire")
        constraints = [
            models.UniqueConstraint(fields=["partner", "origin"], name="site_origin_unique")
        ]

    def __str__(self) -> str:
        return self.origin


class FormKind(models.TextChoices):
    NEWSLETTER = "newsletter", _("Inscription à la lettre d'information")
    CONTEST = "contest", _("Jeu-concours")
    QUESTIONNAIRE = "questionnaire", _("Questionnaire de qualification")


class PublicForm(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="public_forms")
    slug = models.SlugField(_("identifiant"), max_length=60, unique=True)
    kind = models.CharField(_("type"), max_length=20, choices=FormKind.choices)
    title_fr = models.CharField(_("titre"), max_length=200)
    title_en = models.CharField(_("titre (anglais)"), max_length=200, blank=True)
    rules_fr = models.TextField(_("règlement"), blank=True)
    rules_en = models.TextField(_("règlement (anglais)"), blank=True)
    is_active = models.BooleanField(_("ouvert"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("formulaire public")
        ordering = ["partner", "slug"]

    def __str__(self) -> str:
        return self.slug

    def title(self, language: str) -> str:
        return (self.title_en if language == "en" else "") or self.title_fr

    def rules(self, language: str) -> str:
        return (self.rules_en if language == "en" else "") or self.rules_fr


class EntryStatus(models.TextChoices):
    # Waiting for the person to click the link in the confirmation e-mail.
    PENDING = "pending", _("En attente de confirmation")
    CONFIRMED = "confirmed", _("Confirmée")
    # No consent to confirm (a contest entry without marketing boxes, a questionnaire).
    RECEIVED = "received", _("Reçue")
    EXPIRED = "expired", _("Expirée")


class FormEntry(models.Model):
    """One submission. A pending sign-up keeps its fields here until confirmed, then lets them go."""

    form = models.ForeignKey(PublicForm, on_delete=models.PROTECT, related_name="entries")
    status = models.CharField(max_length=10, choices=EntryStatus.choices)
    submitted_at = models.DateTimeField(db_index=True)
    language = models.CharField(max_length=8, default="fr")
    # The page of the partner's site the form was shown on (path and host, no query string).
    page = models.CharField(max_length=500, blank=True)
    # The fields as typed, kept only while the entry waits for confirmation.
    pending_fields = models.JSONField(null=True, blank=True)
    email_hash = models.CharField(max_length=64, blank=True, db_index=True)
    # Purpose slug → id of the ConsentWording shown next to the ticked box.
    consents = models.JSONField(default=dict, blank=True)
    visitor = models.CharField(max_length=36, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    mails_sent = models.PositiveSmallIntegerField(default=0)
    last_mail_at = models.DateTimeField(null=True, blank=True)
    source_record = models.ForeignKey(
        SourceRecord, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Erasing the customer erases their entries (and the keyed hash of their address).
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("réponse à un formulaire")
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["form", "status"], name="entry_form_status_idx")]

    def __str__(self) -> str:
        return f"{self.form_id}:{self.pk} {self.status}"


class WebhookEvent(models.TextChoices):
    SHARED = "customer.shared", _("Client partagé")
    UPDATED = "customer.updated", _("Client mis à jour")
    ERASED = "customer.erased", _("Client effacé")
    CONSENT = "consent.changed", _("Consentement modifié")


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(_("adresse"), max_length=500)
    secret = models.CharField(_("secret"), max_length=80, default=_new_secret)
    events = models.JSONField(_("événements"), default=list)
    is_active = models.BooleanField(_("actif"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook")
        ordering = ["partner", "pk"]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("À envoyer")
    SENDING = "sending", _("En cours d'envoi")
    DELIVERED = "delivered", _("Livré")
    FAILED = "failed", _("Abandonné")


class WebhookDelivery(models.Model):
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(max_length=30, choices=WebhookEvent.choices)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("envoi de webhook")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.event} {self.event_id}"


class CookieChoice(models.Model):
    """A visitor's answer to the cookie banner, anonymous: no IP, no visitor id when refused."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    visitor = models.CharField(max_length=36, blank=True, db_index=True)
    analytics = models.BooleanField()
    wording = models.ForeignKey(ConsentWording, on_delete=models.PROTECT, related_name="+")
    language = models.CharField(max_length=8)
    page = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.partner_id} {'accept' if self.analytics else 'refuse'} {self.at:%Y-%m-%d}"


class VisitorLink(models.Model):
    """The anonymous visitor id a customer used when signing up through a form."""

    visitor = models.CharField(max_length=36, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    linked_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.visitor


class PageView(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    visitor = models.CharField(max_length=36, db_index=True)
    url = models.CharField(max_length=500)
    at = models.DateTimeField()
    # Erasing the customer erases the page views linked to them.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return self.url


class FeedStatus(models.TextChoices):
    IMPORTED = "imported", _("Importé")
    DUPLICATE = "duplicate", _("Déjà reçu")
    QUARANTINED = "quarantined", _("En quarantaine")


class FeedFile(models.Model):
    """A file found in a partner's drop folder, and what became of it."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="feed_files")
    name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    status = models.CharField(max_length=12, choices=FeedStatus.choices)
    reason = models.CharField(max_length=500, blank=True)
    batch = models.ForeignKey(
        "collect.ImportBatch", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["partner", "sha256"], name="feed_file_hash_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"
