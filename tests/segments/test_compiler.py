"""Definitions compiled to one query: each kind of condition, nesting, and the same answer on
both databases (this file runs on SQLite and on PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cordee.privacy.access import Actor
from cordee.segments.compiler import definition_queryset
from cordee.segments.services import stats_refresh

TODAY = dt.date(2024, 9, 1)


@pytest.fixture
def base(history, destination):
    """A small destination: who came when, from where, and what they agreed to."""
    people = {
        "elodie": history(
            "Élodie",
            {2022: [(9, 300)], 2023: [(8, 250)], 2024: [(9, 400)]},
            gender="F",
            birth_year=1995,
            departement="92",
            postal_code="92100",
            country="FR",
            interests=["surf", "randonnée"],
        ),
        "jean": history(
            "Jean",
            {2023: [(4, 100)], 2024: [(5, 80)]},
            gender="M",
            birth_year=1970,
            departement="73",
            country="FR",
            interests=["ski"],
        ),
        "ines": history(
            "Inès",
            {2020: [(9, 900)], 2021: [(9, 900)]},
            gender="F",
            birth_year=1999,
            departement="77",
            country="FR",
            interests=["surf"],
            partner=destination.camping,
        ),
        "hans": history(
            "Hans",
            {2024: [(7, 120, "lesson")]},
            gender="M",
            birth_year=1988,
            country="DE",
            partner=destination.ski,
        ),
        "zoe": history("Zoé", None, gender="F", birth_year=2001, departement="75", country="FR"),
    }
    from cordee.privacy.services import consent_record

    for name in ("elodie", "ines", "zoe"):
        consent_record(
            customer=people[name],
            purpose="partner_offers",
            status="granted",
            channel="form",
            actor=Actor.system("test"),
            controller=destination.office,
        )
    stats_refresh(train=False)
    return people


# fmt: skip


def names(definition, actor=None) -> set[str]:
    qs = definition_queryset(definition, actor or Actor.system("test"), today=TODAY)
    return set(qs.values_list("first_name", flat=True))


CASES = [
    ({"all": [{"field": "gender", "op": "eq", "value": "F"}]}, {"Élodie", "Inès", "Zoé"}),
    ({"all": [{"field": "age", "op": "between", "value": [18, 35]}]}, {"Élodie", "Inès", "Zoé"}),
    ({"all": [{"field": "zone", "op": "in", "value": ["paris-petite-couronne"]}]}, {"Élodie", "Zoé"}),
    ({"all": [{"field": "zone", "op": "in", "value": ["ile-de-france"]}]}, {"Élodie", "Inès", "Zoé"}),
    ({"all": [{"field": "region", "op": "in", "value": ["auvergne-rhone-alpes"]}]}, {"Jean"}),
    ({"all": [{"field": "country", "op": "ne", "value": "FR"}]}, {"Hans"}),
    ({"all": [{"field": "interests", "op": "contains", "value": "randonnée"}]}, {"Élodie"}),
    ({"all": [{"field": "interests", "op": "contains", "value": "Surf"}]}, {"Élodie", "Inès"}),
    ({"field": "activities", "metric": "seasons", "seasons": {"kind": "summer", "last": 3}, "op": "gte", "value": 2}, {"Élodie", "Jean"}),
    ({"field": "activities", "metric": "seasons", "seasons": {"kind": "summer", "last": 3}, "op": "lt", "value": 2}, {"Inès", "Hans", "Zoé"}),
    ({"field": "activities", "metric": "seasons", "seasons": {"kind": "summer", "last": 3}, "op": "eq", "value": 1}, {"Hans"}),
    ({"field": "activities", "metric": "seasons", "seasons": {"kind": "summer", "last": 5}, "op": "between", "value": [2, 2]}, {"Jean", "Inès"}),
    ({"field": "activities", "metric": "seasons", "season": "ete-2021", "op": "gte", "value": 1}, {"Inès"}),
    ({"field": "activities", "metric": "amount", "op": "gt", "value": 400}, {"Élodie", "Inès"}),
    ({"field": "activities", "metric": "count", "op": "lt", "value": 1}, {"Zoé"}),
    ({"field": "activities", "kind": "lesson", "op": "gte", "value": 1}, {"Hans"}),
    ({"field": "activities", "partner_kind": "campsite", "op": "gte", "value": 1}, {"Inès"}),
    ({"field": "activities", "partner": "ecole-de-ski", "op": "eq", "value": 0}, {"Élodie", "Jean", "Inès", "Zoé"}),
    ({"field": "activities", "metric": "days_since_last", "op": "gte", "value": 365}, {"Inès"}),
    ({"field": "activities", "since_days": 200, "op": "gte", "value": 1}, {"Élodie", "Jean", "Hans"}),
    ({"field": "days_since_last", "op": "lte", "value": 100}, {"Élodie", "Jean", "Hans"}),
    ({"field": "consent", "op": "granted", "purpose": "partner_offers"}, {"Élodie", "Inès", "Zoé"}),
    ({"field": "consent", "op": "not_granted", "purpose": "partner_offers"}, {"Jean", "Hans"}),
    ({"field": "loyalty_group", "op": "in", "value": ["force", "fuyant"]}, {"Jean", "Inès"}),
    ({"field": "loyalty_group", "op": "eq", "value": "prospect", "season": "ete-2024"}, {"Zoé"}),
    ({"field": "satisfaction_avg", "op": "lte", "value": 6}, {"Jean"}),
    ({"field": "rfm_total", "op": "gte", "value": 3}, {"Élodie", "Jean", "Inès", "Hans"}),
    ({"field": "rfm_r", "op": "eq", "value": 0}, {"Zoé"}),
    ({"not": {"any": [{"field": "gender", "op": "eq", "value": "M"}, {"field": "departement", "op": "in", "value": ["75"]}]}}, {"Élodie", "Inès"}),
    ({"all": [{"field": "gender", "op": "eq", "value": "F"}, {"any": [{"field": "departement", "op": "startswith", "value": "9"}, {"not": {"field": "activities", "op": "gte", "value": 1}}]}]}, {"Élodie", "Zoé"}),
    ({}, {"Élodie", "Jean", "Inès", "Hans", "Zoé"}),
]  # fmt: skip


@pytest.mark.parametrize(("definition", "expected"), CASES)
def test_definition_selects_the_expected_customers(base, definition, expected):
    assert names(definition) == expected


def test_seasons_attended_of_a_customer_without_stats_row(base):
    """A customer the aggregates have not seen yet came in no season: « fewer than 2 » holds."""
    from cordee.customers.models import Customer

    Customer.objects.create(first_name="Nouvelle", last_name="Test")
    window = {"field": "activities", "metric": "seasons", "seasons": {"kind": "summer", "last": 3}}
    assert names({**window, "op": "lt", "value": 2}) == {"Inès", "Hans", "Zoé", "Nouvelle"}
    assert names({**window, "op": "gte", "value": 1}) == {"Élodie", "Jean", "Hans"}
    assert "Nouvelle" in names({"not": {**window, "op": "gte", "value": 2}})


def test_marketer_segment_from_the_issue_is_one_query(base):
    definition = {
        "all": [
            {"field": "gender", "op": "eq", "value": "F"},
            {"field": "age", "op": "between", "value": [18, 35]},
            {"field": "zone", "op": "in", "value": ["ile-de-france"]},
            {"field": "interests", "op": "contains", "value": "surf"},
            {"field": "activities", "metric": "seasons", "seasons": {"kind": "summer", "last": 3}, "op": "gte", "value": 2},
            {"field": "activities", "metric": "amount", "op": "gt", "value": 400},
            {"field": "consent", "op": "granted", "purpose": "partner_offers"},
        ]
    }  # fmt: skip
    qs = definition_queryset(definition, Actor.system("test"), today=TODAY)
    with CaptureQueriesContext(connection) as queries:
        assert qs.count() == 1
    assert len(queries) == 1
    assert names(definition) == {"Élodie"}


def test_other_segment_and_frozen_list(base, destination):
    from cordee.segments.models import Segment
    from cordee.segments.services import segment_freeze, segment_save

    actor = Actor.system("test")
    women = segment_save(
        actor=actor, slug="femmes", name="Femmes",
        definition={"field": "gender", "op": "eq", "value": "F"},
    )  # fmt: skip
    assert names({"field": "segment", "op": "in", "value": "femmes"}) == {"Élodie", "Inès", "Zoé"}
    assert names({"field": "segment", "op": "not_in", "value": "femmes"}) == {"Jean", "Hans"}
    frozen = segment_freeze(actor=actor, segment=women, slug="femmes-2024", name="Femmes 2024")
    women.definition = {"field": "gender", "op": "eq", "value": "M"}
    women.save()
    assert frozen.members.count() == 3
    assert names({"field": "segment", "op": "in", "value": "femmes-2024"}) == {
        "Élodie",
        "Inès",
        "Zoé",
    }
    assert Segment.objects.filter(slug__in=["fideles", "forces", "fuyants"]).count() == 3
    assert names({"field": "segment", "op": "in", "value": "forces"}) == {"Jean"}


def test_snapshot_keeps_the_members_of_the_moment(base):
    from cordee.segments.models import Segment
    from cordee.segments.services import segment_snapshot

    fideles = Segment.objects.get(slug="fideles")
    snapshot = segment_snapshot(fideles, "campagne de rentrée")
    assert snapshot.size == 1
    assert set(snapshot.members.values_list("customer__first_name", flat=True)) == {"Élodie"}
