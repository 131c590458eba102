"""The bulk rebuild's figures, checked against their definitions computed here in Python:
spend summed to the cent, RFM scores as quintiles of the cumulative distribution (ties
sharing a score), churn features as the rows hold them. On PostgreSQL the rebuild takes
other roads to them (sums in whole cents, scores by histogram)."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from decimal import Decimal

import numpy as np
import pytest

from cordee.segments.models import CustomerSeasonStats, CustomerStats, CustomerTypology
from cordee.segments.services import stats_refresh

# Values chosen for ties across quintile boundaries and cents that binary floats do not
# hold exactly (0.10, 0.20, 0.70).
AMOUNTS = ["0.10", "0.20", "0.70", "19.99", "100.00", "100.00", "250.05", "1234567.89"]


@pytest.fixture
def crowd(history):
    people = []
    for i in range(40):
        visits = {
            year: [
                ((i * year) % 11 or None, AMOUNTS[(i + k + year) % len(AMOUNTS)])
                for k in range(1 + (i + year) % 3)
            ]
            for year in range(2020, 2025)
            if (i + year) % 4
        }
        people.append(history(f"P{i}", visits))
    return people


def cume_score(value, values) -> int:
    """The score a value gets: 1 + its cumulative distribution among ``values`` in fifths."""
    cume = float(sum(1 for v in values if v <= value)) / float(len(values))
    return 1 + int(cume * 5 - 0.000001)


def test_season_figures_and_scores_follow_their_definitions(crowd):
    from cordee.activities.models import Activity

    stats_refresh(train=False)
    expected: dict[tuple[int, int], list[Decimal]] = defaultdict(list)
    for a in Activity.objects.filter(season__isnull=False):
        expected[(a.customer_id, a.season_id)].append(a.amount)
    rows = list(CustomerSeasonStats.objects.all())
    assert len(rows) == len(expected)
    by_season = defaultdict(list)
    for row in rows:
        assert row.amount == sum(expected[(row.customer_id, row.season_id)])
        assert row.activity_count == len(expected[(row.customer_id, row.season_id)])
        by_season[row.season_id].append(row)
    for season_rows in by_season.values():
        last = [r.last_on for r in season_rows]
        count = [r.activity_count for r in season_rows]
        spend = [r.amount for r in season_rows]
        for r in season_rows:
            assert (r.rfm_r, r.rfm_f, r.rfm_m) == (
                cume_score(r.last_on, last),
                cume_score(r.activity_count, count),
                cume_score(r.amount, spend),
            )
    assert {r.rfm_m for r in rows} >= {1, 5}


def test_customer_scores_follow_their_definition(crowd, history):
    never = history("Sans-activité")
    stats_refresh(train=False)
    rows = [r for r in CustomerStats.objects.all() if r.activity_count]
    assert CustomerStats.objects.get(customer=never).rfm_r == 0
    last = [r.last_on for r in rows]
    count = [r.activity_count for r in rows]
    spend = [r.amount_total for r in rows]
    for r in rows:
        assert (r.rfm_r, r.rfm_f, r.rfm_m) == (
            cume_score(r.last_on, last),
            cume_score(r.activity_count, count),
            cume_score(r.amount_total, spend),
        )


def test_typology_spend_is_summed_to_the_cent(crowd):
    stats_refresh(train=False)
    seasons = {s.season_id: s for s in CustomerSeasonStats.objects.all()}
    assert seasons
    window = defaultdict(Decimal)
    for s in CustomerSeasonStats.objects.all():
        window[s.customer_id] += s.amount
    reference = CustomerTypology.objects.filter(season__code="ete-2024")
    assert reference.exists()
    for t in reference:
        recent = CustomerSeasonStats.objects.filter(
            customer_id=t.customer_id,
            season__code__in=["ete-2022", "ete-2023", "ete-2024"],
        )
        assert t.amount == sum((s.amount for s in recent), Decimal("0"))


def test_churn_features_are_the_typology_facts(crowd):
    from cordee.activities.models import Season
    from cordee.segments.churn import _features

    stats_refresh(train=False)
    season = Season.objects.get(code="ete-2023")
    ids, x, came = _features(season)
    rows = list(CustomerTypology.objects.filter(season=season).order_by("customer_id"))
    assert ids.tolist() == [t.customer_id for t in rows]
    came_next = set(
        CustomerSeasonStats.objects.filter(season__code="ete-2024").values_list(
            "customer_id", flat=True
        )
    )
    for i, t in enumerate(rows):
        sat = t.satisfaction_avg
        assert x[i].tolist() == [
            t.came_recent,
            t.came_before,
            t.seasons_total,
            t.seasons_since_last or 0,
            math.log1p(t.activities),
            math.log1p(max(float(t.amount), 0)),
            7.0 if sat is None else sat,
            1.0 if sat is None else 0.0,
            t.complaints,
            t.constrained,
        ]
        assert came[i] == (1.0 if t.customer_id in came_next else 0.0)
    none, empty, _labels = _features(season, [-1])
    assert len(none) == 0 and empty.shape == (0, 10)
    assert np.isfinite(x).all()
    assert dt.date(2023, 6, 1) == season.starts_on


def _risks_in_python() -> dict[int, float]:
    """Each typed customer's risk as the Python scoring computes it: the stored model on
    the features of the reference season, rounded to 4 decimals."""
    from cordee.segments.churn import _features, _model, _probabilities
    from cordee.segments.typology import reference_season

    ids, x, _came = _features(reference_season())
    risks = _probabilities(_model(), x)
    return {int(i): round(float(r), 4) for i, r in zip(ids, risks, strict=True)}


def test_bulk_churn_risk_is_the_python_scoring(crowd):
    """On PostgreSQL the bulk run computes the risks in SQL: the same numbers."""
    report = stats_refresh(train=True)
    assert report.churn is not None and report.scored > 0
    expected = _risks_in_python()
    got = dict(
        CustomerStats.objects.filter(churn_risk__isnull=False).values_list(
            "customer_id", "churn_risk"
        )
    )
    assert got == expected
    assert len(set(got.values())) > 3


def test_bulk_churn_risk_with_an_extreme_model(crowd):
    """A model whose logits overflow a double's exponential scores 0 or 1, as in Python,
    instead of failing the rebuild."""
    from django.db import transaction

    from cordee.segments.churn import churn_score
    from cordee.segments.models import ScoringState

    stats_refresh(train=True)
    state = ScoringState.objects.get(key="churn")
    state.value = {**state.value, "coef": [1e6, -1e6] + [0.0] * 8, "intercept": 0.0}
    state.save()
    with transaction.atomic():
        churn_score()
        from cordee.segments.aggregates import customer_stats_rebuild
        from cordee.segments.typology import reference_season

        customer_stats_rebuild(None, reference_season())
    expected = _risks_in_python()
    assert set(expected.values()) <= {0.0, 0.5, 1.0} and {0.0, 1.0} <= set(expected.values())
    got = dict(
        CustomerStats.objects.filter(churn_risk__isnull=False).values_list(
            "customer_id", "churn_risk"
        )
    )
    assert got == expected
