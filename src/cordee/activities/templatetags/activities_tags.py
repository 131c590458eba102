from __future__ import annotations

from typing import Any

from django import template

from cordee.activities.forms import ActivityLogForm, FollowUpForm
from cordee.activities.models import LoyaltyCard
from cordee.activities.queries import Timeline, customer_timeline
from cordee.customers.models import Customer
from cordee.privacy.access import Actor

register = template.Library()


@register.simple_tag(takes_context=True)
def customer_timeline_for(context: dict[str, Any], customer: Customer) -> dict[str, Any]:
    """What the timeline section needs; the view already passed the customer through the gate."""
    user = context["request"].user
    actor = Actor.for_user(user)
    timeline: Timeline = customer_timeline(customer, actor)
    return {
        "timeline": timeline,
        "log_form": ActivityLogForm(prefix="log"),
        "follow_up_form": FollowUpForm(prefix="fu", partner=user.partner, user=user),
        "card": LoyaltyCard.objects.filter(customer=customer).first(),
        "sees_everything": actor.sees_everything,
    }
