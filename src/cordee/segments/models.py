"""Segments, and the per-customer aggregates they read.

The three aggregate tables are derived data, rebuilt in bulk: their foreign keys carry no
database constraint (PostgreSQL would check millions of deferred triggers at commit; that
took minutes at a million customers), and Django's ``on_delete`` still removes a customer's
rows when the customer is erased.

Segment rules never scan the activity table for what can be kept per customer: counts, sums,
last dates, seasons attended, RFM scores, the 3F group and the churn risk live in
``CustomerStats`` (one row per customer) and ``CustomerSeasonStats`` (one row per customer and
season attended), kept current when activities change and rebuilt in bulk by set-based SQL.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cordee.activities.models import Season
from cordee.customers.models import Customer
from cordee.partners.models import Partner


class LoyaltyGroup(models.TextChoices):
    FIDELE = "fidele", _("Fidèle")
    FORCE = "force", _("Forcé")
    FUYANT = "fuyant", _("Fuyant")
    NOUVEAU = "nouveau", _("Nouveau")
    PROSPECT = "prospect", _("Prospect")


class CustomerStats(models.Model):
    """Everything segments need to know about one customer's behaviour, in one row."""

    # Recomputed from the customer's activities: a merge drops the absorbed customer's rows.
    DERIVED_FROM_CUSTOMER = True

    customer = models.OneToOneField(
        Customer,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="stats",
        db_constraint=False,
    )
    activity_count = models.PositiveIntegerField(default=0)
    amount_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    first_on = models.DateField(null=True)
    last_on = models.DateField(null=True)
    winter_count = models.PositiveIntegerField(default=0)
    winter_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    winter_last_on = models.DateField(null=True)
    winter_seasons = models.PositiveSmallIntegerField(default=0)
    summer_count = models.PositiveIntegerField(default=0)
    summer_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    summer_last_on = models.DateField(null=True)
    summer_seasons = models.PositiveSmallIntegerField(default=0)
    # The seasons attended, as their ids between spaces (" 3 5 12 "): « came in ≥ 2 of the
    # last 3 summers » is then a test on this row, not a grouping of the per-season rows.
    seasons_attended = models.TextField(default="", blank=True)
    satisfaction_avg = models.FloatField(null=True)
    complaints = models.PositiveIntegerField(default=0)
    # RFM over all time, quintiles 1 (weakest) to 5 (best); 0 for a customer with no activity.
    rfm_r = models.PositiveSmallIntegerField(default=0)
    rfm_f = models.PositiveSmallIntegerField(default=0)
    rfm_m = models.PositiveSmallIntegerField(default=0)
    # The 3F group in the reference season (see typology.py), with the facts behind it.
    loyalty_group = models.CharField(
        max_length=10, choices=LoyaltyGroup.choices, default=LoyaltyGroup.PROSPECT
    )
    loyalty_season = models.ForeignKey(
        Season,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # Probability (0–1) of not coming back next season of the reference kind; None if unknown.
    # (Its factors are derived on demand from the stored model and the customer's facts.)
    churn_risk = models.FloatField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["loyalty_group"], name="stats_group_idx"),
            models.Index(fields=["last_on"], name="stats_last_idx"),
        ]

    def __str__(self) -> str:
        return f"stats {self.customer_id}"


class CustomerSeasonStats(models.Model):
    """One customer's behaviour in one season they came in (a missing row: did not come)."""

    # Recomputed from the customer's activities: a merge drops the absorbed customer's rows.
    DERIVED_FROM_CUSTOMER = True

    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="season_stats",
        db_index=False,
        db_constraint=False,
    )
    season = models.ForeignKey(
        Season, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    activity_count = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    first_on = models.DateField(null=True)
    last_on = models.DateField(null=True)
    satisfaction_sum = models.PositiveIntegerField(default=0)
    satisfaction_n = models.PositiveIntegerField(default=0)
    complaints = models.PositiveIntegerField(default=0)
    # Activities marked as constrained (details.motive in the configured list: group, business...).
    constrained = models.PositiveIntegerField(default=0)
    rfm_r = models.PositiveSmallIntegerField(default=0)
    rfm_f = models.PositiveSmallIntegerField(default=0)
    rfm_m = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "season"], name="season_stats_unique")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} @ {self.season_id}"


class CustomerTypology(models.Model):
    """The 3F group of one customer in one season, with the facts that decided it."""

    # Recomputed from the customer's activities: a merge drops the absorbed customer's rows.
    DERIVED_FROM_CUSTOMER = True

    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="typologies",
        db_index=False,
        db_constraint=False,
    )
    # No index of its own: typology_group_idx (season, group) serves a season's rows, and one
    # index fewer to build at each bulk rebuild (4M rows at a million customers).
    season = models.ForeignKey(
        Season, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    group = models.CharField(max_length=10, choices=LoyaltyGroup.choices)
    reason = models.CharField(max_length=30)
    came_recent = models.PositiveSmallIntegerField(default=0)  # seasons attended in the window
    came_before = models.PositiveSmallIntegerField(default=0)  # in the window before it
    seasons_total = models.PositiveSmallIntegerField(default=0)
    seasons_since_last = models.PositiveSmallIntegerField(null=True)
    activities = models.PositiveIntegerField(default=0)  # in the window
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)  # in the window
    satisfaction_avg = models.FloatField(null=True)  # in the window
    complaints = models.PositiveIntegerField(default=0)  # in the window
    constrained = models.PositiveIntegerField(default=0)  # in the window

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "season"], name="typology_unique")
        ]
        indexes = [models.Index(fields=["season", "group"], name="typology_group_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} @ {self.season_id}: {self.group}"


class ScoringState(models.Model):
    """The last bulk computation: RFM breakpoints and the churn model, reused incrementally."""

    key = models.CharField(max_length=30, unique=True)
    value = models.JSONField(default=dict)
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.key


class StaleStats(models.Model):
    """A customer whose aggregates wait for the next batched refresh (cordee.segments.refresh).

    One row per mark, not per customer: marking never waits on another transaction (no
    unique key to check), and a flush deletes exactly the marks it read. No foreign key,
    like the aggregate tables: a mark for a customer erased meanwhile refreshes nothing."""

    id = models.BigAutoField(primary_key=True)
    customer_id = models.BigIntegerField()

    def __str__(self) -> str:
        return str(self.customer_id)


class SegmentKind(models.TextChoices):
    DYNAMIC = "dynamic", _("Dynamique")
    FROZEN = "frozen", _("Liste figée")


class Segment(models.Model):
    slug = models.SlugField(_("identifiant"), max_length=60, unique=True)
    name = models.CharField(_("nom"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(
        _("type"), max_length=10, choices=SegmentKind.choices, default=SegmentKind.DYNAMIC
    )
    definition = models.JSONField(_("définition"), default=dict, blank=True)
    # None: the tourist office's; else the partner's own segment (it only ever counts within
    # what that partner may see, like any segment).
    owner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, null=True, blank=True, related_name="segments"
    )
    is_builtin = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SegmentMember(models.Model):
    """A member of a frozen list."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "customer"], name="segment_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.segment_id} ∋ {self.customer_id}"


class SegmentSnapshot(models.Model):
    """Who was in a segment when an action used it (a campaign sent, an export made)."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="snapshots")
    reason = models.CharField(_("motif"), max_length=200)
    definition = models.JSONField(default=dict)
    size = models.PositiveIntegerField(default=0)
    actor_label = models.CharField(max_length=150, blank=True)
    taken_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.segment_id} @ {self.taken_at:%Y-%m-%d %H:%M}"


class SnapshotMember(models.Model):
    snapshot = models.ForeignKey(SegmentSnapshot, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "customer"], name="snapshot_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.snapshot_id} ∋ {self.customer_id}"


class HouseholdPair(models.Model):
    """A read-only view: ``customer`` and ``member`` are two customers linked as a household.

    Identity resolution links households on source records (``customers.HouseholdLink``), so
    that they survive merges; segments need them between customers, in both directions. The
    SQL view (migration 0003) joins each link to the customers holding its two records and
    keeps both directions, without a customer paired with itself (two of its records linked
    before a merge). Nothing is copied: an erased customer's records, hence pairs, are gone.
    Plain integers, not foreign keys, so that no deletion ever tries to cascade into a view.
    """

    customer_id = models.BigIntegerField(primary_key=True)
    member_id = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "segments_household_pair"

    def __str__(self) -> str:
        return f"{self.customer_id} ~ {self.member_id}"
