"""The one gate through which every read of customer data passes (ARCHITECTURE.md, rule 1).

Pages, exports, the CLI and (later) the API and segments obtain customers here and nowhere
else. For now the hub sees every customer and a partner sees the customers it brought; the
consent-based sharing between partners will be decided here too.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from cordee.customers.models import Customer, CustomerLink
from cordee.partners.models import Partner, User


@dataclass(frozen=True)
class Actor:
    """Who is reading: a signed-in user, or the system itself (CLI run by an operator, tasks)."""

    user: User | None
    partner: Partner | None
    sees_everything: bool
    label: str

    @classmethod
    def for_user(cls, user: User) -> Actor:
        everything = bool(user.is_superuser or user.is_hub_user)
        return cls(user=user, partner=user.partner, sees_everything=everything, label=user.username)

    @classmethod
    def system(cls, label: str = "cli") -> Actor:
        return cls(user=None, partner=None, sees_everything=True, label=label)

    @classmethod
    def for_partner(cls, partner: Partner, label: str) -> Actor:
        return cls(user=None, partner=partner, sees_everything=partner.is_hub, label=label)


def customers_visible_to(actor: Actor, purpose: str | None = None) -> QuerySet[Customer]:
    """Every customer the actor may see. ``purpose`` is where consent rules will plug in."""
    qs = Customer.objects.all()
    if actor.sees_everything:
        return qs
    if actor.partner is None:
        return qs.none()
    brought = CustomerLink.objects.filter(customer=OuterRef("pk"), partner=actor.partner)
    return qs.filter(Exists(brought))


def customer_for(actor: Actor, customer_id: int | str, purpose: str | None = None) -> Customer:
    """The customer if the actor may see it, else 404 — the same answer as for one that does not exist."""
    try:
        pk = int(customer_id)
    except (TypeError, ValueError):
        raise Http404 from None
    try:
        return customers_visible_to(actor, purpose).get(pk=pk)
    except Customer.DoesNotExist:
        raise Http404 from None


def partners_visible_to(actor: Actor) -> QuerySet[Partner]:
    if actor.sees_everything:
        return Partner.objects.all()
    if actor.partner is None:
        return Partner.objects.none()
    return Partner.objects.filter(pk=actor.partner.pk)
