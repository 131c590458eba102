"""Hand-built histories: summers 2020–2024 in the valley, and the people who came (or not)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest


@pytest.fixture
def summers(db):
    from cordee.activities.models import Season

    return [
        Season.objects.create(
            code=f"ete-{year}",
            name=f"Été {year}",
            kind="summer",
            starts_on=dt.date(year, 6, 1),
            ends_on=dt.date(year, 9, 30),
        )
        for year in range(2020, 2025)
    ]


@pytest.fixture
def history(destination, summers):
    """``history(name, partner, {year: [(satisfaction, amount, kind, motive)...]}, **fields)``."""
    from cordee.activities.models import Activity
    from cordee.customers.models import Customer, CustomerLink

    by_year = {s.starts_on.year: s for s in summers}

    def make(first_name: str, visits=None, partner=None, **fields):
        partner = partner or destination.hotel
        customer = Customer.objects.create(first_name=first_name, last_name="Test", **fields)
        CustomerLink.objects.create(
            customer=customer, partner=partner, first_seen=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        )
        for year, entries in (visits or {}).items():
            for i, entry in enumerate(entries):
                sat, amount, kind, motive = (list(entry) + [None, None, None, None])[:4]
                Activity.objects.create(
                    customer=customer,
                    partner=partner,
                    kind=kind or "stay",
                    channel="import",
                    starts_on=dt.date(year, 7, 1 + i),
                    season=by_year.get(year),
                    amount=Decimal(str(amount if amount is not None else 100)),
                    satisfaction=sat,
                    details={"motive": motive} if motive else {},
                )
        return customer

    return make
