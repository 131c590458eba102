from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

slug_validator = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    _(
        "Identifiant invalide : lettres minuscules, chiffres et tirets seulement (ex. hotel-des-alpes)."
    ),
)


class PartnerKind(models.TextChoices):
    HUB = "hub", _("Office de tourisme")
    HOTEL = "hotel", _("Hôtel")
    CAMPSITE = "campsite", _("Camping")
    RENTAL = "rental", _("Location")
    SKI_SCHOOL = "ski_school", _("École de ski")
    LIFT_OPERATOR = "lift_operator", _("Remontées mécaniques")
    RESTAURANT = "restaurant", _("Restaurant")
    ACTIVITY = "activity", _("Prestataire d'activités")
    SHOP = "shop", _("Commerce")
    OTHER = "other", _("Autre")


class Partner(models.Model):
    """An organisation of the destination. Exactly one is the hub (the tourist office)."""

    slug = models.SlugField(
        _("identifiant"), max_length=60, unique=True, validators=[slug_validator]
    )
    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("type"), max_length=20, choices=PartnerKind.choices)
    resort = models.CharField(_("station"), max_length=100, blank=True)
    is_active = models.BooleanField(_("actif"), default=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("partenaire")
        verbose_name_plural = _("partenaires")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=models.Q(kind="hub"), name="one_hub_per_destination"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_hub(self) -> bool:
        return self.kind == PartnerKind.HUB


class Role(models.TextChoices):
    HUB_ADMIN = "hub_admin", _("Administrateur de l'office")
    HUB_MARKETER = "hub_marketer", _("Chargé de marketing de l'office")
    DPO = "dpo", _("Délégué à la protection des données")
    PARTNER_MANAGER = "partner_manager", _("Responsable partenaire")
    PARTNER_STAFF = "partner_staff", _("Employé partenaire")


HUB_ROLES = frozenset({Role.HUB_ADMIN, Role.HUB_MARKETER, Role.DPO})


class User(AbstractUser):
    """A person who signs in. Belongs to one organisation with one role."""

    partner = models.ForeignKey(
        Partner,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="users",
        null=True,
        blank=True,
    )
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices, blank=True)

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")

    @property
    def is_hub_user(self) -> bool:
        return self.partner is not None and self.partner.is_hub and self.role in HUB_ROLES

    @property
    def can_manage_partners(self) -> bool:
        return self.is_superuser or (self.is_hub_user and self.role == Role.HUB_ADMIN)

    @property
    def can_read_register(self) -> bool:
        """The register of processing activities: the DPO and the office's administrators."""
        return self.is_superuser or (self.is_hub_user and self.role in {Role.HUB_ADMIN, Role.DPO})

    @property
    def can_import(self) -> bool:
        if self.is_superuser or self.is_hub_user:
            return self.is_superuser or self.role in {Role.HUB_ADMIN, Role.HUB_MARKETER}
        return self.role == Role.PARTNER_MANAGER


class APIKey(models.Model):
    """A partner's key to the REST API. Only a keyed hash of the secret is kept, never the key."""

    partner = models.ForeignKey(
        Partner, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="api_keys"
    )
    name = models.CharField(_("nom"), max_length=100, blank=True)
    # The public part of the key (``cdk_<prefix>_<secret>``): identifies it in lists and logs.
    prefix = models.CharField(_("préfixe"), max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(_("droits"), default=list)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by_label = models.CharField(max_length=150, blank=True)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("révoquée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("clé d'API")
        verbose_name_plural = _("clés d'API")
        ordering = ["partner__name", "-created_at"]

    def __str__(self) -> str:
        return f"cdk_{self.prefix}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.partner.is_active

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
