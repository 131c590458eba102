"""The bulk rebuild and the incremental refresh apply the same rules: on the same data they
write the same aggregates, RFM scores, typology and 3F groups."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from cordee.segments.aggregates import STATS_COLUMNS
from cordee.segments.models import CustomerSeasonStats, CustomerStats, CustomerTypology
from cordee.segments.services import stats_refresh, stats_refresh_customers
from cordee.segments.typology import TYPOLOGY_COLUMNS

SEASON_COLUMNS = (
    "customer_id", "season_id", "activity_count", "amount", "first_on", "last_on",
    "satisfaction_sum", "satisfaction_n", "complaints", "constrained", "rfm_r", "rfm_f", "rfm_m",
)  # fmt: skip
RFM_COLUMNS = {"rfm_r", "rfm_f", "rfm_m"}


def snapshot(*, rfm: bool = True) -> dict[str, list[tuple]]:
    def rows(model, columns):
        names = [c if c != "group" else "group" for c in columns if rfm or c not in RFM_COLUMNS]
        names = [f"{c}_id" if c in ("customer", "season") else c for c in names]
        return sorted(model.objects.values_list(*names))

    stats = [c for c in STATS_COLUMNS if c not in ("updated_at",)]
    return {
        "seasons": rows(CustomerSeasonStats, SEASON_COLUMNS),
        "typology": rows(CustomerTypology, TYPOLOGY_COLUMNS),
        "stats": rows(CustomerStats, stats),
    }


@pytest.fixture
def base(history, destination):
    """Sixty customers with random summers and winters: ties, complaints, business trips,
    activities outside any season, people who never came."""
    from cordee.activities.models import Activity, Season

    winters = [
        Season.objects.create(
            code=f"hiver-{y}-{y + 1}",
            name=f"Hiver {y}-{y + 1}",
            kind="winter",
            starts_on=dt.date(y, 12, 1),
            ends_on=dt.date(y + 1, 4, 15),
        )
        for y in range(2020, 2024)
    ]
    rng = random.Random(7)
    people = []
    for i in range(60):
        visits: dict[int, list[tuple]] = {}
        for year in range(2020, 2025):
            if rng.random() < 0.55:
                visits[year] = [
                    (
                        rng.choice([None, 2, 5, 7, 9, 10]),
                        rng.choice([40, 100, 100, 250, 600]),
                        "complaint" if rng.random() < 0.05 else "stay",
                        "business" if rng.random() < 0.1 else None,
                    )
                    for _ in range(rng.choice([1, 1, 2, 3]))
                ]
        customer = history(f"P{i}", visits)
        for winter in winters:
            if rng.random() < 0.3:
                Activity.objects.create(
                    customer=customer,
                    partner=destination.hotel,
                    kind="ticket",
                    channel="import",
                    starts_on=winter.starts_on + dt.timedelta(days=rng.randrange(100)),
                    season=winter,
                    amount=Decimal(rng.choice([30, 45, 300])),
                    satisfaction=rng.choice([None, 4, 8]),
                )
        if rng.random() < 0.2:
            Activity.objects.create(
                customer=customer,
                partner=destination.hotel,
                kind="purchase",
                channel="import",
                starts_on=dt.date(2022, 3, 3),
                season=None,
                amount=Decimal("12.50"),
            )
        people.append(customer)
    return people


def test_incremental_refresh_of_everyone_equals_the_bulk_rebuild(base):
    stats_refresh(train=False)
    bulk = snapshot()
    assert len(bulk["typology"]) > 100 and len(bulk["stats"]) == 60
    assert {row[2] for row in bulk["typology"]} >= {"fidele", "force", "fuyant", "nouveau"}

    for model in (CustomerSeasonStats, CustomerTypology, CustomerStats):
        model.objects.all().delete()
    stats_refresh_customers([c.pk for c in base])  # against the bulk run's RFM breakpoints
    assert snapshot() == bulk


def test_incremental_refresh_after_new_activities_equals_a_rebuild(base, destination):
    from cordee.activities.models import Activity, Season

    stats_refresh(train=False)
    changed = base[::7]
    summer = Season.objects.get(code="ete-2024")
    for customer in changed:
        Activity.objects.create(
            customer=customer,
            partner=destination.hotel,
            kind="complaint",
            channel="import",
            starts_on=dt.date(2024, 8, 20),
            season=summer,
            amount=Decimal("80"),
            satisfaction=3,
        )
    stats_refresh_customers([c.pk for c in changed])
    incremental = snapshot(rfm=False)  # RFM: scored against the previous run's breakpoints
    stats_refresh(train=False)
    assert snapshot(rfm=False) == incremental
