from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cordee.partners.models import Partner, PartnerKind, Role, User
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log


def partner_create(*, slug: str, name: str, kind: str, actor: Actor, resort: str = "") -> Partner:
    """Add an organisation to the destination. Raises ValidationError with French messages."""
    if kind not in PartnerKind.values:
        raise ValidationError(
            _("Type inconnu : « %(kind)s ». Types possibles : %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(PartnerKind.values)}
        )
    partner = Partner(slug=slug.strip(), name=name.strip(), kind=kind, resort=resort.strip())
    partner.full_clean()
    if kind == PartnerKind.HUB and Partner.objects.filter(kind=PartnerKind.HUB).exists():
        raise ValidationError(_("La destination a déjà un office de tourisme."))
    with transaction.atomic():
        partner.save()
        audit_log(actor=actor, action="partner.create", obj=partner, slug=partner.slug, kind=kind)
    return partner


def partner_update(
    *, partner: Partner, name: str, kind: str, resort: str, is_active: bool, actor: Actor
) -> Partner:
    partner.name, partner.kind, partner.resort, partner.is_active = (
        name.strip(),
        kind,
        resort.strip(),
        is_active,
    )
    partner.full_clean()
    with transaction.atomic():
        partner.save()
        audit_log(actor=actor, action="partner.update", obj=partner, kind=kind, active=is_active)
    return partner


def user_create(
    *,
    username: str,
    partner: Partner,
    role: str,
    actor: Actor,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> User:
    hub_roles = {Role.HUB_ADMIN, Role.HUB_MARKETER, Role.DPO}
    if role not in Role.values:
        raise ValidationError(_("Rôle inconnu : « %(role)s ».") % {"role": role})
    if partner.is_hub != (role in hub_roles):
        raise ValidationError(
            _("Le rôle « %(role)s » ne convient pas à l'organisation « %(partner)s ».")
            % {"role": Role(role).label, "partner": partner.name}
        )
    user = User(
        username=username.strip(),
        partner=partner,
        role=role,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email.strip(),
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    with transaction.atomic():
        user.save()
        audit_log(actor=actor, action="user.create", obj=user, partner=partner.slug, role=role)
    return user
