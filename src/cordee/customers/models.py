from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cordee.partners.models import Partner
from cordee.privacy.fields import (
    EncryptedCharField,
    EncryptedJSONField,
    EncryptedJSONTextField,
    EncryptedKeysJSONField,
)


class Channel(models.TextChoices):
    IMPORT = "import", _("Import de fichier")
    API = "api", _("API")
    FORM = "form", _("Formulaire web")
    DESK = "desk", _("Accueil")
    PHONE = "phone", _("Téléphone")
    EMAIL = "email", _("E-mail")
    CONTEST = "contest", _("Jeu-concours")
    SURVEY = "survey", _("Questionnaire")


class Civility(models.TextChoices):
    M = "M", _("M.")
    MME = "MME", _("Mme")


class Gender(models.TextChoices):
    F = "F", _("Femme")
    M = "M", _("Homme")
    X = "X", _("Autre")


class Season(models.TextChoices):
    WINTER = "winter", _("Hiver")
    SUMMER = "summer", _("Été")
    BOTH = "both", _("Hiver et été")


# The golden-record fields, in the order of the canonical import columns. A source record's
# normalised data uses the same names, and survivorship copies them field by field.
IDENTIFICATION_FIELDS = (
    "civility",
    "first_name",
    "last_name",
    "email",
    "phone",
    "birth_date",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "region",
    "country",
    "language",
)
QUALIFICATION_FIELDS = (
    "gender",
    "profession",
    "family_situation",
    "children",
    "interests",
    "preferred_season",
)
GOLDEN_FIELDS = IDENTIFICATION_FIELDS + QUALIFICATION_FIELDS


class Customer(models.Model):
    """The golden record: derived from the customer's source records, never typed over them."""

    # Identification
    civility = models.CharField(_("civilité"), max_length=3, choices=Civility.choices, blank=True)
    first_name = models.CharField(_("prénom"), max_length=100, blank=True)
    last_name = models.CharField(_("nom"), max_length=100, blank=True)
    email = EncryptedCharField(_("e-mail"), max_length=254, blank=True, lookup_hash="email_hash")
    phone = EncryptedCharField(_("téléphone"), max_length=20, blank=True, lookup_hash="phone_hash")
    phone_other = EncryptedCharField(_("autre téléphone"), max_length=20, blank=True)
    birth_date = models.DateField(_("date de naissance"), null=True, blank=True)
    address_line1 = EncryptedCharField(_("adresse"), max_length=200, blank=True)
    address_line2 = EncryptedCharField(_("complément d'adresse"), max_length=200, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=12, blank=True)
    city = models.CharField(_("ville"), max_length=100, blank=True)
    region = models.CharField(_("région"), max_length=100, blank=True)
    departement = models.CharField(_("département"), max_length=3, blank=True)
    country = models.CharField(_("pays"), max_length=2, blank=True)
    language = models.CharField(_("langue"), max_length=8, blank=True)
    # Qualification
    gender = models.CharField(_("genre"), max_length=1, choices=Gender.choices, blank=True)
    profession = models.CharField(_("profession"), max_length=100, blank=True)
    family_situation = models.CharField(_("situation familiale"), max_length=50, blank=True)
    children = models.PositiveSmallIntegerField(_("nombre d'enfants"), null=True, blank=True)
    interests = models.JSONField(_("centres d'intérêt"), default=list, blank=True)
    preferred_season = models.CharField(
        _("saison préférée"), max_length=10, choices=Season.choices, blank=True
    )
    attributes = models.JSONField(_("attributs personnalisés"), default=dict, blank=True)
    # Where each golden value came from: {field: source_record_id}.
    provenance = models.JSONField(default=dict, blank=True)

    # Search keys. Names and town are folded (lower case, no accents) so that a prefix search
    # is an index range scan; e-mail and phone are found through keyed hashes only.
    last_name_key = models.CharField(max_length=100, blank=True)
    first_name_key = models.CharField(max_length=100, blank=True)
    city_key = models.CharField(max_length=100, blank=True)
    email_hash = models.CharField(max_length=32, blank=True)
    phone_hash = models.CharField(max_length=32, blank=True)
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    # Derived from the consent states (cordee.privacy.sharing): the current partner_offers
    # consent is granted, so every partner of the destination sees the customer. Kept by the
    # consent write paths; the default in the database too, so that bulk inserts naming
    # their columns start unshared.
    shares_with_partners = models.BooleanField(default=False, db_default=False, editable=False)
    # Art. 18: processing restricted at the person's request (cordee.privacy.objection): kept,
    # but out of campaigns, triggers and segments until the DPO lifts it.
    restricted_at = models.DateTimeField(_("traitement limité depuis"), null=True, blank=True)

    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("mis à jour le"), auto_now=True)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        indexes = [
            models.Index(fields=["last_name_key", "first_name_key"], name="customer_name_idx"),
            models.Index(fields=["first_name_key"], name="customer_first_idx"),
            models.Index(fields=["city_key"], name="customer_city_idx"),
            models.Index(fields=["postal_code"], name="customer_postcode_idx"),
            models.Index(fields=["email_hash"], name="customer_email_idx"),
            models.Index(fields=["phone_hash"], name="customer_phone_idx"),
            # The shared customers, for a partner's capped count (an index-only range).
            models.Index(
                fields=["id"],
                name="customer_shared_idx",
                condition=models.Q(shares_with_partners=True),
            ),
            # One incoming record against the base (candidates.py): the same birth date in
            # the same postcode finds a person whose name was mistyped.
            models.Index(
                fields=["birth_date", "postal_code"],
                name="customer_birth_place_idx",
                condition=models.Q(birth_date__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return name or str(_("Client n° %(id)s") % {"id": self.pk})


class SourceRecord(models.Model):
    """What one channel said about one person, kept unchanged, with its provenance.

    Never edited: a correction is a new record. Only erasure deletes one.
    """

    # No single-column indexes on these two: source_customer_idx and the unique constraint
    # lead with them, and every extra index is paid on each of a million imported rows.
    # No database constraint on customer and batch (docs/data-model.md, "Foreign keys without
    # a database constraint"): their writers hold the parent rows (core.bulk.hold_parents).
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="source_records",
        null=True,
        db_index=False,
        db_constraint=False,
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="source_records", db_index=False
    )
    channel = models.CharField(_("canal"), max_length=10, choices=Channel.choices)
    external_id = models.CharField(_("identifiant externe"), max_length=100, blank=True)
    batch = models.ForeignKey(
        "collect.ImportBatch",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="source_records",
        db_constraint=False,
        # No query reads source records by batch (docs/data-model.md): no index to pay.
        db_index=False,
    )
    line = models.PositiveIntegerField(_("ligne"), null=True, blank=True)
    collected_at = models.DateTimeField(_("collecté le"))
    # Exactly what the channel sent: {original header or field: original text}, stored
    # encrypted whole (its keys are the partner's own headers: any may identify), as text:
    # nothing reads inside it in SQL (docs/data-model.md).
    raw = EncryptedJSONTextField()
    # The same, normalised to the canonical field names (dates ISO, phones E.164...); the
    # identifying values (e-mail, phones, address lines) are encrypted inside.
    data = EncryptedKeysJSONField()
    # Hash of (channel, raw content): the same line imported twice is recognised and skipped.
    fingerprint = models.CharField(max_length=32)
    email_hash = models.CharField(max_length=32, blank=True)
    phone_hash = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name = _("enregistrement source")
        verbose_name_plural = _("enregistrements source")
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "fingerprint"], name="source_record_unique_per_partner"
            )
        ]
        indexes = [
            models.Index(fields=["customer", "collected_at"], name="source_customer_idx"),
            models.Index(fields=["partner", "external_id"], name="source_external_idx"),
            # The deterministic identity keys: a new record joins the customer of any earlier
            # record with the same e-mail or phone (found by keyed hash, never in clear).
            models.Index(
                fields=["email_hash"], name="source_email_idx", condition=~models.Q(email_hash="")
            ),
            models.Index(
                fields=["phone_hash"], name="source_phone_idx", condition=~models.Q(phone_hash="")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner_id}:{self.channel}:{self.external_id or self.pk}"


class CustomerLink(models.Model):
    """A partner's relationship with a customer: it brought (at least) one source record."""

    # Covered by link_customer_idx and the unique constraint (partner, customer).
    # No database constraint on customer (docs/data-model.md).
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="links",
        db_index=False,
        db_constraint=False,
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="customer_links", db_index=False
    )
    first_seen = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "customer"], name="customer_link_unique")
        ]
        indexes = [models.Index(fields=["customer"], name="link_customer_idx")]

    def __str__(self) -> str:
        return f"{self.partner_id} → {self.customer_id}"


# -- identity resolution: runs, merge ledger, review queue, households ---------------------


class ResolutionRun(models.Model):
    """One batch resolution (``cordee resolve``): what it looked at and what it did.

    ``high_water`` is the largest source record id the run considered: the next run without
    ``--full`` starts after it.
    """

    started_at = models.DateTimeField(_("commencée le"), auto_now_add=True)
    finished_at = models.DateTimeField(_("terminée le"), null=True, blank=True)
    full = models.BooleanField(_("complète"), default=False)
    retrained = models.BooleanField(_("modèle réentraîné"), default=False)
    high_water = models.BigIntegerField(default=0)
    records = models.PositiveIntegerField(_("enregistrements examinés"), default=0)
    merged = models.PositiveIntegerField(_("fusions"), default=0)
    to_review = models.PositiveIntegerField(_("à revoir"), default=0)
    households = models.PositiveIntegerField(_("foyers"), default=0)
    untouched = models.PositiveIntegerField(_("inchangés"), default=0)
    split = models.PositiveIntegerField(_("séparés"), default=0)

    class Meta:
        verbose_name = _("résolution d'identité")
        verbose_name_plural = _("résolutions d'identité")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.started_at:%Y-%m-%d %H:%M})"


class MergeKind(models.TextChoices):
    MERGE = "merge", _("Fusion")
    UNMERGE = "unmerge", _("Annulation de fusion")
    # Records an exact key had joined (a shared front-desk e-mail) set apart as another person.
    SPLIT = "split", _("Séparation")


class MergeEvent(models.Model):
    """One merge or unmerge in the ledger, with everything an exact undo needs.

    Customer ids are plain integers, not foreign keys: the absorbed customer no longer exists
    after the merge, and the ledger outlives both. ``snapshot`` is the absorbed customer's
    whole row and ``moved`` the ids of the rows that went to the survivor
    (``source_records``, ``activities``, ``consent_events``, ``links``...). Both hold or lead
    to personal data: erasure empties them (``merge_ledger_erase``).
    """

    kind = models.CharField(_("type"), max_length=8, choices=MergeKind.choices)
    at = models.DateTimeField(_("date"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("par"), max_length=150, blank=True)
    run = models.ForeignKey(
        ResolutionRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="merges"
    )
    survivor_id = models.BigIntegerField(_("client conservé"))
    absorbed_id = models.BigIntegerField(_("client absorbé"))
    score = models.FloatField(_("score"), null=True, blank=True)
    # {field: {"verdict": "same" | "close" | "different" | "missing", ...}}
    evidence = models.JSONField(_("éléments de preuve"), default=dict, blank=True)
    # The absorbed golden record, e-mail and address included: encrypted whole.
    snapshot = EncryptedJSONField(default=dict, blank=True)
    moved = models.JSONField(default=dict, blank=True)
    # For a merge: the unmerge that undid it. For an unmerge: the merge it undid.
    undoes = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="undone_by"
    )
    erased = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("fusion")
        verbose_name_plural = _("journal des fusions")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["survivor_id", "at"], name="merge_survivor_idx"),
            models.Index(fields=["absorbed_id", "at"], name="merge_absorbed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.absorbed_id} → {self.survivor_id}"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", _("À revoir")
    MERGED = "merged", _("Fusionnés")
    REJECTED = "rejected", _("Rejeté")
    DIFFERENT = "different", _("Personnes différentes")


class PairDecision(models.Model):
    """A doubtful pair of source records, and what a person decided about it.

    Kept on source records rather than customers: they never change, whatever merges and
    unmerges happen around them, so a pair once rejected is recognised in every later run.
    ``left`` always has the smaller id.
    """

    left = models.ForeignKey(SourceRecord, on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey(SourceRecord, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        _("statut"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    score = models.FloatField(_("score"))
    reason = models.CharField(max_length=100, blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    run = models.ForeignKey(
        ResolutionRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("paire à revoir")
        verbose_name_plural = _("paires à revoir")
        constraints = [
            models.UniqueConstraint(fields=["left", "right"], name="pair_decision_unique"),
            models.CheckConstraint(
                condition=models.Q(left__lt=models.F("right")), name="pair_ordered"
            ),
        ]
        # The review queue's order (score, then newest first), read by keyset pages.
        indexes = [models.Index(fields=["status", "-score", "-id"], name="pair_queue_idx")]

    def __str__(self) -> str:
        return f"{self.left_id}~{self.right_id} {self.status}"


class HouseholdLink(models.Model):
    """Two source records of two people who share an address, e-mail or phone: a household.

    On source records, like :class:`PairDecision`, so it survives merges and unmerges; the
    customer page shows the customers that hold the other records.
    """

    left = models.ForeignKey(SourceRecord, on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey(SourceRecord, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("motif"), max_length=100, blank=True)
    run = models.ForeignKey(
        ResolutionRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("lien de foyer")
        verbose_name_plural = _("liens de foyer")
        constraints = [
            models.UniqueConstraint(fields=["left", "right"], name="household_link_unique"),
            models.CheckConstraint(
                condition=models.Q(left__lt=models.F("right")), name="household_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.left_id}+{self.right_id}"
