"""What customers do: stays, visits, purchases, lift passes, lessons... and the relationship's
history (requests, complaints, calls, meetings, follow-ups), in one model.

An activity belongs to one customer and to the partner that reported it. It keeps the source
record through which it was joined to the customer, so that undoing a merge gives each person
back their own activities. Its season is derived from its start date and the destination's
configured seasons when it is written, so that "came in the last three summers" is an indexed
look-up, not a date computation per row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cordee.customers.models import Channel, Customer, SourceRecord
from cordee.partners.models import Partner


class SeasonKind(models.TextChoices):
    WINTER = "winter", _("Hiver")
    SUMMER = "summer", _("Été")


class SeasonRule(models.Model):
    """The usual dates of a kind of season, from which each year's season is created as needed.

    Without a row, the defaults apply (winter 1 December–30 April, summer 1 June–30 September).
    A winter whose end comes before its start in the calendar runs over the new year.
    """

    kind = models.CharField(_("type"), max_length=6, choices=SeasonKind.choices, unique=True)
    start_month = models.PositiveSmallIntegerField(_("mois de début"))
    start_day = models.PositiveSmallIntegerField(_("jour de début"))
    end_month = models.PositiveSmallIntegerField(_("mois de fin"))
    end_day = models.PositiveSmallIntegerField(_("jour de fin"))

    class Meta:
        verbose_name = _("dates habituelles de saison")
        verbose_name_plural = _("dates habituelles des saisons")

    def __str__(self) -> str:
        return f"{self.kind} {self.start_day:02}/{self.start_month:02}–{self.end_day:02}/{self.end_month:02}"


class Season(models.Model):
    """One season of the destination, with its own dates (configurable, never overlapping)."""

    code = models.SlugField(_("code"), max_length=30, unique=True)  # e.g. "hiver-2025-2026"
    name = models.CharField(_("nom"), max_length=60)  # e.g. "Hiver 2025-2026"
    kind = models.CharField(_("type"), max_length=6, choices=SeasonKind.choices)
    starts_on = models.DateField(_("début"))
    ends_on = models.DateField(_("fin"))  # inclusive

    class Meta:
        verbose_name = _("saison")
        verbose_name_plural = _("saisons")
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="season_dates_ordered"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ActivityKind(models.TextChoices):
    STAY = "stay", _("Séjour")
    VISIT = "visit", _("Visite")
    PURCHASE = "purchase", _("Achat")
    TICKET = "ticket", _("Billet ou forfait")
    LESSON = "lesson", _("Cours")
    RENTAL = "rental", _("Location")
    MEAL = "meal", _("Repas")
    REQUEST = "request", _("Demande d'information")
    COMPLAINT = "complaint", _("Réclamation")
    RECOMMENDATION = "recommendation", _("Recommandation")
    CALL = "call", _("Appel")
    MEETING = "meeting", _("Rendez-vous")
    FOLLOW_UP = "follow_up", _("Relance")
    SURVEY = "survey", _("Réponse à un questionnaire")


class Activity(models.Model):
    # The foreign keys a bulk write sets (customer, partner, source record, season, import
    # batch) have no database constraint: the writer holds their rows instead, once per call
    # (docs/data-model.md).
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="activities",
        db_index=False,
        db_constraint=False,
    )
    partner = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        related_name="activities",
        db_index=False,
        db_constraint=False,
    )
    # The source record through which the activity reached this customer (None when it was
    # entered on the customer's page): an unmerge sends the activity with its source record.
    source_record = models.ForeignKey(
        SourceRecord,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activities",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(_("type"), max_length=16, choices=ActivityKind.choices)
    channel = models.CharField(_("canal"), max_length=10, choices=Channel.choices)
    # The partner's own reference (booking number, ticket id): the same activity sent twice is
    # recognised by it and not counted twice.
    external_id = models.CharField(_("référence"), max_length=100, blank=True)
    starts_on = models.DateField(_("date"))
    ends_on = models.DateField(_("fin"), null=True, blank=True)
    # No index of its own: (season, kind) below serves every look-up by season.
    season = models.ForeignKey(
        Season,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activities",
        db_index=False,
        db_constraint=False,
    )
    amount = models.DecimalField(
        _("montant"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("devise"), max_length=3, default="EUR")
    quantity = models.PositiveIntegerField(_("quantité"), null=True, blank=True)
    payment_means = models.CharField(_("moyen de paiement"), max_length=30, blank=True)
    product = models.CharField(_("produit"), max_length=200, blank=True)
    # 0–10, from a satisfaction survey (or a complaint's outcome); None when not asked.
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)
    details = models.JSONField(_("détails"), default=dict, blank=True)
    # Follow-ups (and any activity that asks for one): due date, owner, done.
    due_on = models.DateField(_("échéance"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        db_index=False,
    )
    done_at = models.DateTimeField(_("faite le"), null=True, blank=True)
    batch = models.ForeignKey(
        "collect.ImportBatch",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activities",
        db_index=False,
        db_constraint=False,
    )
    created_at = models.DateTimeField(_("enregistrée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("activité")
        verbose_name_plural = _("activités")
        constraints = [
            # The reference before the kind: a look-up of many references (a bulk call, a
            # batch of a file) probes (partner, reference) exactly, whatever the planner
            # makes of the list of kinds; with the kind second, it could read every activity
            # of the partner for each reference (minutes per batch of 20,000).
            models.UniqueConstraint(
                fields=["partner", "external_id", "kind"],
                condition=~models.Q(external_id=""),
                name="activity_unique_reference",
            ),
            models.CheckConstraint(
                condition=models.Q(satisfaction__isnull=True) | models.Q(satisfaction__lte=10),
                name="activity_satisfaction_range",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "starts_on"], name="activity_customer_idx"),
            models.Index(fields=["season", "kind"], name="activity_season_idx"),
            models.Index(fields=["partner", "starts_on"], name="activity_partner_idx"),
            # Erasing source records: PostgreSQL checks the foreign key of every deleted record
            # here, and the set-null of the erasure finds the activities it points at; without
            # it, each deleted record read the whole table (9 s per 1,000 erased at 20k).
            models.Index(
                fields=["source_record"],
                name="activity_source_idx",
                condition=models.Q(source_record__isnull=False),
            ),
            # A sales person's follow-ups, and deleting an account (its activities' owner is set
            # to null). Few activities have an owner: the index leaves out the others, so the
            # rows of a bulk write cost it nothing.
            models.Index(
                fields=["owner", "due_on"],
                name="activity_owner_idx",
                condition=models.Q(owner__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts_on}"

    @property
    def is_open_follow_up(self) -> bool:
        return self.due_on is not None and self.done_at is None


class LoyaltyCard(models.Model):
    """The destination's loyalty card of one customer: a number with a check digit, and a
    secret token for the public card page (the link the customer keeps on their phone).

    The number is what a desk types or scans; it identifies the card, not the person, and
    gives a partner no access to the customer's record.
    """

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="loyalty_card")
    number = models.CharField(_("numéro"), max_length=12, unique=True)
    token = models.CharField(max_length=43, unique=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("carte de fidélité")
        verbose_name_plural = _("cartes de fidélité")

    def __str__(self) -> str:
        return self.display_number

    @property
    def display_number(self) -> str:
        return " ".join(self.number[i : i + 4] for i in range(0, len(self.number), 4))


class ActivityImport(models.Model):
    """Marks an import batch as a file of activities (bookings, ticketing) rather than customers."""

    batch = models.OneToOneField(
        "collect.ImportBatch", on_delete=models.CASCADE, related_name="activity_import"
    )
    # The kind of every line when the file has no Type column (a hotel's bookings are stays).
    default_kind = models.CharField(max_length=16, choices=ActivityKind.choices, blank=True)
    # Lines whose customer could not be found (also counted in the batch's rejected lines).
    unmatched = models.PositiveIntegerField(_("lignes sans client"), default=0)
    updated = models.PositiveIntegerField(_("activités mises à jour"), default=0)

    def __str__(self) -> str:
        return f"activités:{self.batch_id}"
