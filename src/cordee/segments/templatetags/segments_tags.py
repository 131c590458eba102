from __future__ import annotations

from typing import Any

from django import template

from cordee.customers.models import Customer
from cordee.segments.churn import churn_factors
from cordee.segments.models import CustomerStats
from cordee.segments.typology import group_explain

register = template.Library()


@register.simple_tag
def customer_loyalty(customer: Customer) -> dict[str, Any]:
    """RFM, 3F group with its reasons and churn risk for the customer page (already gated)."""
    stats = CustomerStats.objects.filter(customer=customer).first()
    return {
        "stats": stats,
        "why": group_explain(customer.pk),
        "factors": churn_factors(customer.pk) if stats and stats.churn_risk is not None else [],
    }
