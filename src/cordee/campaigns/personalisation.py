"""The values a message is personalised with, read for a whole batch in a few queries.

Last stay: the latest stay (the partner's name and the month), and the link to that stay's
satisfaction survey (``survey_url``, drawn by a "survey" block). Favourite activity: the product
(or else the kind) the customer did most often, stays aside. Loyalty group: the customer's 3F
group as the typology last computed it (fidèle, forcé, fuyant, nouveau; nothing for a
prospect), in the customer's language, or else ``attributes["loyalty_group"]`` as imported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache

from django.db.models import Count
from django.utils import formats, translation

from cordee.activities.models import Activity, ActivityKind
from cordee.channels.surveys import survey_token_for, survey_url_base
from cordee.customers.models import Customer
from cordee.segments.models import CustomerStats, LoyaltyGroup

# What a person chooses to do (a request, a complaint or a call is not a favourite activity).
LEISURE = (
    ActivityKind.VISIT,
    ActivityKind.PURCHASE,
    ActivityKind.TICKET,
    ActivityKind.LESSON,
    ActivityKind.RENTAL,
    ActivityKind.MEAL,
)


@lru_cache(maxsize=1024)
def _month(language: str, year: int, month: int) -> str:
    """ "février 2025": formatted once per language and month, not once per customer."""
    with translation.override(language):
        return str(formats.date_format(dt.date(year, month, 1), "F Y"))


def personal_values(
    customers: Iterable[Customer], *, survey_links: bool = True
) -> dict[int, dict[str, str]]:
    """The placeholders' values per customer. ``survey_links``: sign each customer's survey
    link (a token per stay), which only a message with a survey block draws."""
    people = {int(c.pk): c for c in customers}
    ids = list(people)
    values: dict[int, dict[str, str]] = {
        pk: {
            "first_name": c.first_name,
            "last_name": c.last_name,
            "loyalty_group": str((c.attributes or {}).get("loyalty_group") or ""),
        }
        for pk, c in people.items()
    }
    if not ids:
        return values
    groups = CustomerStats.objects.filter(customer_id__in=ids).exclude(
        loyalty_group=LoyaltyGroup.PROSPECT
    )
    labels_of = dict(LoyaltyGroup.choices)
    for customer_id, group in groups.values_list("customer_id", "loyalty_group"):
        lang = (people[customer_id].language or "fr")[:2]
        with translation.override("en" if lang == "en" else "fr"):
            values[customer_id]["loyalty_group"] = str(labels_of.get(group, ""))
    stays = (
        Activity.objects.filter(customer_id__in=ids, kind=ActivityKind.STAY)
        .order_by("customer_id", "-starts_on", "-id")
        .values_list("customer_id", "starts_on", "partner__name", "id")
    )
    base = survey_url_base()
    for customer_id, starts_on, partner_name, stay_id in stays:
        entry = values[customer_id]
        if "last_stay" in entry:
            continue
        entry["last_stay"] = partner_name
        customer = people[customer_id]
        lang = "en" if (customer.language or "fr")[:2] == "en" else "fr"
        entry["last_stay_date"] = _month(lang, starts_on.year, starts_on.month)
        if survey_links and customer.created_at is not None:
            entry["survey_url"] = base + survey_token_for(stay_id, customer_id, customer.created_at)
    counts = (
        Activity.objects.filter(customer_id__in=ids, kind__in=LEISURE)
        .values_list("customer_id", "kind", "product")
        .annotate(n=Count("id"))
        .order_by("customer_id", "-n", "kind", "product")
    )
    labels = dict(ActivityKind.choices)
    for customer_id, kind, product, _n in counts:
        entry = values[customer_id]
        if "favourite_activity" not in entry:
            entry["favourite_activity"] = product or str(labels.get(kind, "")).lower()
    return values
