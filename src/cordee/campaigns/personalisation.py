"""The values a message is personalised with, read for a whole batch in a few queries.

Last stay: the latest stay (the partner's name and the month). Favourite activity: the product
(or else the kind) the customer did most often, stays aside. Loyalty group: the customer's
``attributes["loyalty_group"]`` until the segments' typology is wired in.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count
from django.utils import formats, translation

from cordee.activities.models import Activity, ActivityKind
from cordee.customers.models import Customer

# What a person chooses to do (a request, a complaint or a call is not a favourite activity).
LEISURE = (
    ActivityKind.VISIT,
    ActivityKind.PURCHASE,
    ActivityKind.TICKET,
    ActivityKind.LESSON,
    ActivityKind.RENTAL,
    ActivityKind.MEAL,
)


def personal_values(customers: Iterable[Customer]) -> dict[int, dict[str, str]]:
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
    stays = (
        Activity.objects.filter(customer_id__in=ids, kind=ActivityKind.STAY)
        .order_by("customer_id", "-starts_on", "-id")
        .values_list("customer_id", "starts_on", "partner__name")
    )
    for customer_id, starts_on, partner_name in stays:
        entry = values[customer_id]
        if "last_stay" in entry:
            continue
        entry["last_stay"] = partner_name
        lang = (people[customer_id].language or "fr")[:2]
        with translation.override("en" if lang == "en" else "fr"):
            entry["last_stay_date"] = formats.date_format(starts_on, "F Y")
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
