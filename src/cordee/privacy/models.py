from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cordee.privacy.fields import EncryptedCharField


class AuditEvent(models.Model):
    """Who did what, when, from where. Holds identifiers only, never the personal data itself."""

    at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    # "web", "cli", "api", "task": with the actor's name kept even if the account goes.
    actor_label = models.CharField(max_length=150, blank=True)
    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.SET_NULL, null=True, blank=True
    )
    action = models.CharField(_("action"), max_length=60, db_index=True)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("événement d'audit")
        verbose_name_plural = _("journal d'audit")
        ordering = ["-at"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


class LegalBasis(models.TextChoices):
    CONSENT = "consent", _("Consentement")
    CONTRACT = "contract", _("Exécution d'un contrat")
    LEGITIMATE_INTEREST = "legitimate_interest", _("Intérêt légitime")
    LEGAL_OBLIGATION = "legal_obligation", _("Obligation légale")


class ControllerKind(models.TextChoices):
    HUB = "hub", _("L'office de tourisme")
    PARTNER = "partner", _("Le partenaire qui collecte")
    JOINT = "joint", _("L'office et ses partenaires (responsables conjoints)")


def _localised(fr: str, en: str) -> str:
    return en if (get_language() or "fr").startswith("en") and en else fr


class RiskLevel(models.TextChoices):
    LOW = "low", _("faible")
    MEDIUM = "medium", _("moyen")
    HIGH = "high", _("élevé")


class Purpose(models.Model):
    """A purpose (finalité) of processing: why data is kept, on which legal basis, for how long.

    The slug is stable: import columns (``consent_<slug>``), the API and the CLI name purposes
    by it. The register of processing activities (Art. 30) is generated from these rows.
    """

    slug = models.SlugField(_("identifiant"), max_length=40, unique=True)
    name_fr = models.CharField(_("nom"), max_length=120)
    name_en = models.CharField(_("nom (anglais)"), max_length=120, blank=True)
    # In the words a visitor understands: shown next to the consent switch.
    description_fr = models.TextField(_("description"))
    description_en = models.TextField(_("description (anglais)"), blank=True)
    legal_basis = models.CharField(_("base légale"), max_length=20, choices=LegalBasis.choices)
    controller = models.CharField(
        _("responsable de traitement"), max_length=10, choices=ControllerKind.choices
    )
    # Text lists, in French: the register shows them as written.
    data_categories = models.JSONField(_("catégories de données"), default=list, blank=True)
    data_subjects = models.JSONField(_("catégories de personnes"), default=list, blank=True)
    recipients = models.JSONField(_("destinataires"), default=list, blank=True)
    processors = models.JSONField(_("sous-traitants"), default=list, blank=True)
    transfers = models.CharField(_("transferts hors UE"), max_length=300, blank=True)
    retention_months = models.PositiveSmallIntegerField(
        _("durée de conservation (mois après le dernier contact)")
    )
    retention_scope = models.TextField(_("ce à quoi la durée s'applique"), blank=True)
    # What the DPO writes about each processing's risks for the people (the register's risk notes).
    risk_level = models.CharField(
        _("niveau de risque"), max_length=10, choices=RiskLevel.choices, blank=True
    )
    risk_notes = models.TextField(_("risques pour les personnes et mesures prises"), blank=True)
    dpia_required = models.BooleanField(_("AIPD requise"), default=False)
    dpia_done_on = models.DateField(_("AIPD réalisée le"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("mise à jour le"), auto_now=True)

    class Meta:
        verbose_name = _("finalité")
        verbose_name_plural = _("finalités")
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return _localised(self.name_fr, self.name_en)

    @property
    def description(self) -> str:
        return _localised(self.description_fr, self.description_en)

    @property
    def needs_consent(self) -> bool:
        return self.legal_basis == LegalBasis.CONSENT


class ImmutableRecord(Exception):
    """Raised when code tries to change a row that is proof (a consent event, a wording)."""


class WordingKind(models.TextChoices):
    SHOWN = "shown", _("Texte présenté à la personne")
    # A partner's file says "yes" or "no": Cordée never saw what the partner showed the person.
    DECLARATION = "declaration", _("Déclaration du partenaire")


class ConsentWording(models.Model):
    """The exact text a person was shown (or a partner's declaration), versioned. Never edited."""

    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="wordings")
    kind = models.CharField(
        _("nature"), max_length=12, choices=WordingKind.choices, default=WordingKind.SHOWN
    )
    version = models.PositiveSmallIntegerField(_("version"))
    language = models.CharField(_("langue"), max_length=8)
    text = models.TextField(_("texte"))
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("texte de consentement")
        verbose_name_plural = _("textes de consentement")
        ordering = ["purpose", "kind", "-version", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["purpose", "kind", "version", "language"], name="consent_wording_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose_id} {self.kind} v{self.version} {self.language}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A new wording is a new version: changing a text would falsify every proof citing it.
        if not self._state.adding:
            raise ImmutableRecord("A consent wording is never edited: create a new version.")
        super().save(*args, **kwargs)


class ConsentStatus(models.TextChoices):
    GRANTED = "granted", _("Accordé")
    REFUSED = "refused", _("Refusé")
    WITHDRAWN = "withdrawn", _("Retiré")


class ConsentChannel(models.TextChoices):
    IMPORT = "import", _("Import de fichier")
    API = "api", _("API")
    FORM = "form", _("Formulaire web")
    DESK = "desk", _("Accueil")
    PHONE = "phone", _("Téléphone")
    EMAIL = "email", _("E-mail")
    CONTEST = "contest", _("Jeu-concours")
    SURVEY = "survey", _("Questionnaire")
    PREFERENCES = "preferences", _("Centre de préférences")
    UNSUBSCRIBE = "unsubscribe", _("Lien de désinscription")
    COOKIE_BANNER = "cookie_banner", _("Bandeau cookies")


class ConsentEventQuerySet(models.QuerySet["ConsentEvent"]):
    def update(self, **kwargs: Any) -> int:
        # The one update allowed: Django's SET_NULL when the account that recorded an event is
        # deleted. The proof keeps the account's name in ``actor_label``.
        if kwargs == {"recorded_by": None}:
            return super().update(**kwargs)
        raise ImmutableRecord("Consent events are append-only: record a new event instead.")


class ConsentEvent(models.Model):
    """One thing a person said about one purpose, to one controller: the proof. Append-only.

    Nothing updates or deletes a row through the ORM's instance or queryset methods; a change
    of mind is a new event, and the current state is the latest event (see ``queries``). The
    only deletion is erasure of the person (ARCHITECTURE.md rule 4), which goes through the
    database cascade from the customer or the source record. A merge of customers moves an
    event to the survivor with its source record, never onto another record, and the merge
    ledger sends it back on an unmerge (``cordee.customers.merging``).
    """

    # No database constraint on customer and source_record (docs/data-model.md): the services
    # that write events hold the customer (core.bulk.hold_parents) or create it alongside.
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="consent_events",
        db_index=False,  # the (customer, purpose, controller, at) index leads with it
        db_constraint=False,
    )
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="consent_events")
    # Who the consent is given to: the tourist office or one partner.
    controller = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="consents_controlled"
    )
    # The organisation through which it came (the partner that imported the file, the desk...).
    collected_by = models.ForeignKey(
        "partners.Partner",
        on_delete=models.PROTECT,
        related_name="consents_collected",
        null=True,
        blank=True,
    )
    status = models.CharField(_("statut"), max_length=10, choices=ConsentStatus.choices)
    at = models.DateTimeField(_("date"))
    channel = models.CharField(_("canal"), max_length=20, choices=ConsentChannel.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    actor_label = models.CharField(_("enregistré par"), max_length=150, blank=True)
    wording = models.ForeignKey(
        ConsentWording, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    page = models.URLField(_("page"), max_length=500, blank=True)
    source_record = models.ForeignKey(
        "customers.SourceRecord",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="consent_events",
        db_constraint=False,
    )

    objects = ConsentEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("événement de consentement")
        verbose_name_plural = _("historique des consentements")
        ordering = ["at", "id"]
        indexes = [
            models.Index(
                fields=["customer", "purpose", "controller", "at"], name="consent_event_latest_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.purpose_id}@{self.controller_id} {self.status}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableRecord("Consent events are append-only: record a new event instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableRecord("Consent events go only with the erasure of the person.")

    @property
    def is_declared(self) -> bool:
        """Declared by a partner (its file said yes or no) rather than seen by Cordée."""
        return self.wording is not None and self.wording.kind == WordingKind.DECLARATION


class ConsentState(models.Model):
    """The latest event per customer × purpose × controller, kept by the consent services.

    Derived data: ``consent_states_rebuild()`` recomputes it from the events. It exists so that
    a segment or a campaign audience filters a million customers through one indexed semi-join
    instead of finding, customer by customer, the latest of its events.
    """

    # No database constraint on customer and event (docs/data-model.md): written with them.
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    purpose = models.ForeignKey(Purpose, on_delete=models.CASCADE, related_name="+")
    controller = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=ConsentStatus.choices)
    at = models.DateTimeField()
    event = models.ForeignKey(
        ConsentEvent, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "purpose", "controller"], name="consent_state_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["purpose", "status", "customer"], name="consent_state_audience_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.purpose_id}@{self.controller_id} {self.status}"


class RequestKind(models.TextChoices):
    ACCESS = "access", _("Accès")
    RECTIFICATION = "rectification", _("Rectification")
    ERASURE = "erasure", _("Effacement")
    OBJECTION = "objection", _("Opposition")
    PORTABILITY = "portability", _("Portabilité")
    RESTRICTION = "restriction", _("Limitation")


class RequestStatus(models.TextChoices):
    RECEIVED = "received", _("Reçue")
    VERIFYING = "verifying", _("Vérification d'identité")
    IN_PROGRESS = "in_progress", _("En cours")
    DONE = "done", _("Traitée")
    REFUSED = "refused", _("Refusée")


class RequestChannel(models.TextChoices):
    PREFERENCES = "preferences", _("Centre de préférences")
    EMAIL = "email", _("E-mail")
    POST = "post", _("Courrier")
    DESK = "desk", _("Accueil")
    PHONE = "phone", _("Téléphone")


class IdentityStatus(models.TextChoices):
    """How the requester was shown to be the person whose data it is (Art. 12(6))."""

    AWAITING = "awaiting", _("En attente de confirmation")
    EMAIL = "email", _("Confirmée par e-mail")
    LINK = "link", _("Lien signé du centre de préférences")
    OTHER = "other", _("Vérifiée autrement")


IDENTITY_CONFIRMED = (IdentityStatus.EMAIL, IdentityStatus.LINK, IdentityStatus.OTHER)


OPEN_REQUEST_STATUSES = (RequestStatus.RECEIVED, RequestStatus.VERIFYING, RequestStatus.IN_PROGRESS)


class DataSubjectRequest(models.Model):
    """A person's request to exercise a right (Art. 15-22), with its one-month deadline.

    The ledger outlives the person: it names the customer by number only, and erasure clears
    ``message`` (the free text may hold a new address or a name) but keeps the row as proof
    that the request was answered in time.
    """

    kind = models.CharField(_("droit exercé"), max_length=15, choices=RequestKind.choices)
    status = models.CharField(
        _("état"), max_length=12, choices=RequestStatus.choices, default=RequestStatus.RECEIVED
    )
    channel = models.CharField(_("reçue par"), max_length=12, choices=RequestChannel.choices)
    customer_ref = models.BigIntegerField(_("client n°"), null=True, blank=True, db_index=True)
    received_on = models.DateField(_("reçue le"))
    due_on = models.DateField(_("échéance"))
    # Art. 12(3): two more months when the request is complex or requests are many.
    extended_to = models.DateField(_("prolongée jusqu'au"), null=True, blank=True)
    extension_reason = models.TextField(_("motif de la prolongation"), blank=True)
    identity_note = models.TextField(_("vérification d'identité"), blank=True)
    # The identity check: confirmed by the person from a signed link sent to their address,
    # or recorded by the DPO (ID shown at the desk...) with a note that says how.
    identity = models.CharField(
        _("identité"),
        max_length=8,
        choices=IdentityStatus.choices,
        default=IdentityStatus.AWAITING,
    )
    identity_confirmed_at = models.DateTimeField(_("identité confirmée le"), null=True, blank=True)
    # A random value in the confirmation link: a new link, or the confirmation, retires the
    # old ones (no replay). Not personal data.
    identity_nonce = models.CharField(max_length=32, blank=True)
    message = models.TextField(_("demande"), blank=True)
    resolution = models.TextField(_("réponse apportée"), blank=True)
    created_at = models.DateTimeField(_("enregistrée le"), auto_now_add=True)
    created_by_label = models.CharField(max_length=150, blank=True)
    closed_at = models.DateTimeField(_("close le"), null=True, blank=True)

    class Meta:
        verbose_name = _("demande d'exercice de droits")
        verbose_name_plural = _("demandes d'exercice de droits")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["status", "due_on"], name="dsr_status_due_idx")]

    def __str__(self) -> str:
        return f"DSR {self.pk} {self.kind} {self.status}"

    @property
    def deadline(self) -> Any:
        return self.extended_to or self.due_on

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REQUEST_STATUSES

    def is_overdue(self, today: Any = None) -> bool:
        from django.utils import timezone

        return self.is_open and self.deadline < (today or timezone.localdate())

    @property
    def identity_confirmed(self) -> bool:
        return self.identity in IDENTITY_CONFIRMED


class ErasureTombstone(models.Model):
    """What is left of an erased person: the proof that the erasure happened, nothing else.

    ``email_hash``/``phone_hash`` are the same keyed hashes the customers' look-ups use
    (cordee.privacy.crypto): without the key, nobody can tell whose they were; with it, a later
    import of the same e-mail is recognised and its partner-declared consents are not recorded
    (the person must consent again, directly).
    """

    erased_at = models.DateTimeField(_("effacé le"), db_index=True)
    customer_ref = models.BigIntegerField(_("ancien n° de client"))
    request = models.ForeignKey(
        DataSubjectRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tombstones",
    )
    reason = models.CharField(_("motif"), max_length=300)
    actor_label = models.CharField(_("effacé par"), max_length=150, blank=True)
    email_hash = models.CharField(max_length=32, blank=True)
    phone_hash = models.CharField(max_length=32, blank=True)
    # Slugs of the purposes whose consent proofs went with the person.
    purposes = models.JSONField(_("preuves détruites"), default=list, blank=True)
    counts = models.JSONField(_("ce qui a été effacé"), default=dict, blank=True)

    class Meta:
        verbose_name = _("trace d'effacement")
        verbose_name_plural = _("traces d'effacement")
        ordering = ["-erased_at"]
        indexes = [
            models.Index(
                fields=["email_hash"],
                name="tombstone_email_idx",
                condition=~models.Q(email_hash=""),
            ),
            models.Index(
                fields=["phone_hash"],
                name="tombstone_phone_idx",
                condition=~models.Q(phone_hash=""),
            ),
        ]

    def __str__(self) -> str:
        return f"erased {self.customer_ref} {self.erased_at:%Y-%m-%d}"


class Breach(models.Model):
    """A personal data breach (Art. 33-34): the CNIL must hear of it within 72 hours."""

    discovered_at = models.DateTimeField(_("découverte le"))
    occurred_at = models.DateTimeField(_("survenue le"), null=True, blank=True)
    nature = models.TextField(_("nature de la violation"))
    data_categories = models.TextField(_("catégories de données concernées"))
    people_count = models.PositiveIntegerField(_("nombre approximatif de personnes"))
    consequences = models.TextField(_("conséquences probables"))
    measures = models.TextField(_("mesures prises ou envisagées"))
    cnil_notified_at = models.DateTimeField(_("notifiée à la CNIL le"), null=True, blank=True)
    late_reason = models.TextField(_("motif du retard de notification"), blank=True)
    people_informed_at = models.DateTimeField(_("personnes informées le"), null=True, blank=True)
    # Who is affected (Art. 34), as the DPO defines it: the customers these partners brought,
    # those of these import batches, and these customer numbers. Cordée computes the list.
    affected_partners = models.ManyToManyField(
        "partners.Partner", blank=True, related_name="+", verbose_name=_("partenaires touchés")
    )
    affected_batches = models.ManyToManyField(
        "collect.ImportBatch", blank=True, related_name="+", verbose_name=_("imports touchés")
    )
    affected_customer_ids = models.JSONField(_("n° de clients touchés"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by_label = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = _("violation de données")
        verbose_name_plural = _("registre des violations")
        ordering = ["-discovered_at"]

    def __str__(self) -> str:
        return f"{self.discovered_at:%Y-%m-%d} {self.nature[:40]}"

    @property
    def notify_before(self) -> Any:
        import datetime as dt

        return self.discovered_at + dt.timedelta(hours=72)


class StaffTOTP(models.Model):
    """A staff member's authenticator app (RFC 6238 TOTP, 30 s, 6 digits).

    ``last_step`` is the time step of the last code accepted: a code is good once (a code seen
    over a shoulder or replayed from a proxy log is refused).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp"
    )
    secret = EncryptedCharField(max_length=64)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("application d'authentification")
        verbose_name_plural = _("applications d'authentification")

    def __str__(self) -> str:
        return f"TOTP {self.user_id}"
