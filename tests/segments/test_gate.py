"""A segment never reveals customers outside its reader's view, not even through its count."""

from __future__ import annotations

import pytest

from cordee.privacy.access import Actor
from cordee.segments.compiler import definition_queryset, segment_queryset
from cordee.segments.models import Segment
from cordee.segments.services import stats_refresh

EVERYONE = {"field": "activity_count", "op": "gte", "value": 0}


@pytest.fixture
def people(history, destination):
    out = {
        "elodie": history("Élodie", {2024: [(9,)]}, partner=destination.hotel),
        "jean": history("Jean", {2023: [(9,)], 2024: [(9,)]}, partner=destination.hotel),
        "ines": history("Inès", {2023: [(9,)], 2024: [(9,)]}, partner=destination.camping),
        "hans": history("Hans", {2022: [(9,)]}, partner=destination.ski),
    }
    stats_refresh(train=False)
    return out


@pytest.mark.parametrize(
    ("who", "expected"),
    [("camille", 4), ("marc", 4), ("helene", 2), ("nadia", 1), ("lucas", 1)],
)
def test_count_stays_within_the_readers_view(people, destination, who, expected):
    actor = Actor.for_user(getattr(destination, who))
    assert definition_queryset(EVERYONE, actor).count() == expected
    assert definition_queryset({}, actor).count() == expected


def test_partner_ready_made_segment_counts_only_its_customers(people, destination):
    fideles = Segment.objects.get(slug="fideles")
    hub = segment_queryset(fideles, Actor.for_user(destination.camille))
    hotel = segment_queryset(fideles, Actor.for_user(destination.helene))
    camping = segment_queryset(fideles, Actor.for_user(destination.nadia))
    assert set(hub.values_list("first_name", flat=True)) == {"Jean", "Inès"}
    assert list(hotel.values_list("first_name", flat=True)) == ["Jean"]
    assert list(camping.values_list("first_name", flat=True)) == ["Inès"]


def test_partner_cannot_reach_others_through_a_segment_reference(people, destination):
    from cordee.segments.services import segment_freeze

    hub = Actor.for_user(destination.camille)
    everyone = Segment.objects.create(slug="tous", name="Tous", definition=EVERYONE)
    segment_freeze(actor=hub, segment=everyone, slug="tous-fige", name="Tous (figé)")
    helene = Actor.for_user(destination.helene)
    for ref in ("tous", "tous-fige"):
        qs = definition_queryset({"field": "segment", "op": "in", "value": ref}, helene)
        assert set(qs.values_list("first_name", flat=True)) == {"Élodie", "Jean"}
