"""Reads of activities: a customer's timeline and a sales person's follow-ups.

Who reads what (decided here, once): a hub user reads every partner's activities of the
customers they see; a partner's user reads only the activities its own organisation
recorded — another partner's stays and purchases would tell it who else the customer deals
with. Open follow-ups are shown to their owner and to the owner's organisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from cordee.activities.models import Activity, ActivityKind
from cordee.customers.models import Customer
from cordee.partners.models import User
from cordee.privacy.access import Actor, customers_visible_to


def activities_visible_to(actor: Actor, customer: Customer) -> QuerySet[Activity]:
    """The activities of ``customer`` the actor may read (the caller passed the customer gate)."""
    activities = Activity.objects.filter(customer=customer)
    if actor.sees_everything:
        return activities
    if actor.partner is None:
        return activities.none()
    return activities.filter(partner=actor.partner)


@dataclass
class SeasonGroup:
    label: str
    activities: list[Activity] = field(default_factory=list)


@dataclass
class Timeline:
    groups: list[SeasonGroup]
    follow_ups: list[Activity]
    total: int
    partners: int


TIMELINE_LIMIT = 500


def customer_timeline(customer: Customer, actor: Actor) -> Timeline:
    """The customer's activities newest first, grouped by season, and the follow-ups due."""
    activities = (
        activities_visible_to(actor, customer)
        .select_related("season", "partner", "owner")
        .order_by("-starts_on", "-pk")
    )
    rows = list(activities[:TIMELINE_LIMIT])
    groups: list[SeasonGroup] = []
    for activity in rows:
        label = (
            activity.season.name
            if activity.season
            else _("Hors saison %(year)s") % {"year": activity.starts_on.year}
        )
        if not groups or groups[-1].label != label:
            groups.append(SeasonGroup(label))
        groups[-1].activities.append(activity)
    follow_ups = sorted(
        (a for a in rows if a.kind == ActivityKind.FOLLOW_UP and a.is_open_follow_up),
        key=lambda a: (a.due_on, a.pk),
    )
    return Timeline(
        groups=groups,
        follow_ups=follow_ups,
        total=activities.count() if len(rows) == TIMELINE_LIMIT else len(rows),
        partners=len({a.partner_id for a in rows}),
    )


def follow_ups_of(user: User) -> QuerySet[Activity]:
    """The open follow-ups a sales person owns, on customers they may still see."""
    visible = customers_visible_to(Actor.for_user(user))
    return (
        Activity.objects.filter(owner=user, done_at__isnull=True, due_on__isnull=False)
        .filter(customer__in=visible)
        .select_related("customer", "partner")
        .order_by("due_on", "pk")
    )
