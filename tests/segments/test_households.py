"""Household conditions: belonging, size and « a member matches », within the reader's view."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cordee.privacy.access import Actor
from cordee.segments.compiler import definition_queryset, segment_queryset
from cordee.segments.definition import DefinitionError, definition_check
from cordee.segments.models import Segment
from cordee.segments.services import stats_refresh

IN_HOUSEHOLD = {"field": "household", "op": "member"}
CAME_2022 = {"field": "activities", "season": "ete-2022", "op": "gte", "value": 1}
MEMBER_CAME_2022 = {"field": "household", "op": "member", "where": CAME_2022}
CHILD = {"field": "age", "op": "lt", "value": 18}


@pytest.fixture
def homes(history, destination):
    """Household A: Élodie, Jean (hotel) and Hans (ski school, came in summer 2022 only).
    Household B: Inès and her son Léo (campsite). Paul (hotel) is alone, though two of his
    own records were once linked as a household (before they were merged into him)."""
    from cordee.customers.models import HouseholdLink, SourceRecord

    year = dt.date.today().year
    people = {
        "elodie": history("Élodie", {2024: [(9,)]}, partner=destination.hotel),
        "jean": history("Jean", {2023: [(9,)], 2024: [(9,)]}, partner=destination.hotel),
        "hans": history("Hans", {2022: [(9,)]}, partner=destination.ski),
        "ines": history("Inès", {2024: [(9,)]}, partner=destination.camping),
        "leo": history("Léo", partner=destination.camping, birth_year=year - 8),
        "paul": history("Paul", {2024: [(9,)]}, partner=destination.hotel),
    }
    records = {}
    for key, customer in people.items():
        partner = customer.links.get().partner
        for n in (1, 2) if key == "paul" else (1,):
            records[f"{key}{n}"] = SourceRecord.objects.create(
                customer=customer,
                partner=partner,
                channel="import",
                collected_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
                raw={},
                data={},
                fingerprint=f"{key}{n}",
            )

    def link(a: str, b: str) -> None:
        left, right = sorted((records[a], records[b]), key=lambda r: r.pk)
        HouseholdLink.objects.create(left=left, right=right, reason="address")

    link("elodie1", "jean1")
    link("jean1", "hans1")
    link("elodie1", "hans1")
    link("ines1", "leo1")
    link("paul1", "paul2")
    stats_refresh(train=False)
    return people


def names(definition, actor) -> set[str]:
    return set(definition_queryset(definition, actor).values_list("first_name", flat=True))


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        (IN_HOUSEHOLD, {"Élodie", "Jean", "Hans", "Inès", "Léo"}),
        ({"not": IN_HOUSEHOLD}, {"Paul"}),
        ({"field": "household_size", "op": "gte", "value": 3}, {"Élodie", "Jean", "Hans"}),
        ({"field": "household_size", "op": "eq", "value": 2}, {"Inès", "Léo"}),
        ({"field": "household_size", "op": "eq", "value": 1}, {"Paul"}),
        ({"field": "household_size", "op": "lt", "value": 3}, {"Inès", "Léo", "Paul"}),
        ({"field": "household_size", "op": "between", "value": [1, 2]}, {"Inès", "Léo", "Paul"}),
        ({"field": "household_size", "op": "empty", "value": False}, {"Élodie", "Jean", "Hans", "Inès", "Léo", "Paul"}),
        ({"field": "household", "op": "member", "where": CHILD}, {"Inès"}),
        (MEMBER_CAME_2022, {"Élodie", "Jean"}),
        ({"field": "household", "op": "member", "where": {"not": CAME_2022}}, {"Élodie", "Jean", "Hans", "Inès", "Léo"}),
        ({"field": "household", "op": "member", "where": {}}, {"Élodie", "Jean", "Hans", "Inès", "Léo"}),
        ({"all": [MEMBER_CAME_2022, {"field": "activities", "season": "ete-2023", "op": "gte", "value": 1}]}, {"Jean"}),
    ],
)  # fmt: skip
def test_household_conditions_for_the_office(homes, destination, definition, expected):
    assert names(definition, Actor.for_user(destination.camille)) == expected


def test_household_condition_is_one_query(homes, destination):
    hub = Actor.for_user(destination.camille)
    definition = {"all": [MEMBER_CAME_2022, {"field": "household_size", "op": "gte", "value": 3}]}
    with CaptureQueriesContext(connection) as queries:
        count = definition_queryset(definition, hub).count()
    assert count == 2
    assert len([q for q in queries if "household_pair" in q["sql"]]) == 1


def test_a_partner_never_learns_of_members_it_cannot_see(homes, destination):
    """The hotel sees Élodie, Jean and Paul: Hans (the ski school's) is invisible to it, so
    « a member came in summer 2022 » finds nobody for the hotel, and its household of three
    is, for the hotel, a household of two."""
    helene = Actor.for_user(destination.helene)
    assert names(MEMBER_CAME_2022, Actor.for_user(destination.camille)) == {"Élodie", "Jean"}
    assert names(MEMBER_CAME_2022, helene) == set()
    assert names({"field": "household_size", "op": "gte", "value": 3}, helene) == set()
    assert names({"field": "household_size", "op": "eq", "value": 2}, helene) == {"Élodie", "Jean"}
    assert names(IN_HOUSEHOLD, helene) == {"Élodie", "Jean"}
    # Through a stored segment, read by the hotel: the same.
    segment = Segment.objects.create(
        slug="foyer-2022", name="Foyer 2022", definition=MEMBER_CAME_2022
    )
    assert segment_queryset(segment, helene).count() == 0
    assert segment_queryset(segment, Actor.for_user(destination.marc)).count() == 2
    # The campsite sees Inès and Léo, not the hotel's household.
    nadia = Actor.for_user(destination.nadia)
    assert names({"field": "household", "op": "member", "where": CHILD}, nadia) == {"Inès"}
    assert names(MEMBER_CAME_2022, nadia) == set()


def test_a_member_shared_with_partners_becomes_visible(homes, destination):
    """Once Hans agrees to be shared with the destination's partners, the hotel sees him, and
    the household condition counts him as a member; his stays are not shared with the hotel
    (no purpose shares activities), so a condition on them does not sort by them."""
    from cordee.privacy.services import consent_record

    consent_record(
        customer=homes["hans"],
        purpose="partner_offers",
        status="granted",
        channel="form",
        actor=Actor.system("test"),
        controller=destination.office,
    )
    helene = Actor.for_user(destination.helene)
    assert names(IN_HOUSEHOLD, helene) == {"Élodie", "Jean", "Hans"}
    assert names(MEMBER_CAME_2022, helene) == set()
    assert names(MEMBER_CAME_2022, Actor.for_user(destination.marc)) >= {"Élodie", "Jean"}


def refused(definition) -> str:
    with pytest.raises(DefinitionError) as info:
        definition_check(definition)
    return " | ".join(info.value.errors)


def test_bad_household_conditions_are_explained():
    assert "ne peut pas porter sur le foyer d'un membre" in refused(
        {"field": "household", "op": "member", "where": IN_HOUSEHOLD}
    )
    assert "ne peut pas porter sur le foyer d'un membre" in refused(
        {"field": "household", "op": "member", "where": {"any": [{"field": "household_size", "op": "gt", "value": 1}]}}
    )  # fmt: skip
    assert "« where » attend une condition" in refused(
        {"field": "household", "op": "member", "where": "age < 18"}
    )
    assert "ne prend pas de « value »" in refused(
        {"field": "household", "op": "member", "value": 3}
    )
    assert "opérateur « exists »" in refused({"field": "household", "op": "exists"})
    assert "clé inconnue « who »" in refused({"field": "household", "op": "member", "who": "x"})
    assert "where.all[0] : champ inconnu « salaire »" in refused(
        {"field": "household", "op": "member", "where": {"all": [{"field": "salaire", "op": "eq", "value": 1}]}}
    )  # fmt: skip
    assert "valeur numérique attendue" in refused(
        {"field": "household_size", "op": "gte", "value": "3; DROP TABLE x"}
    )


def test_deep_and_many_member_conditions_are_refused():
    node: dict = CHILD
    for _ in range(1000):
        node = {"not": node}
    assert "trop d'imbrications" in refused({"field": "household", "op": "member", "where": node})
    many = {"any": [{"field": "city", "op": "eq", "value": f"v{i}"} for i in range(1000)]}
    assert "trop de conditions" in refused({"field": "household", "op": "member", "where": many})


def test_a_segment_with_a_household_condition_cannot_be_nested_in_a_member(homes, destination):
    hub = Actor.for_user(destination.camille)
    Segment.objects.create(slug="en-foyer", name="En foyer", definition=IN_HOUSEHOLD)
    member_in_it = {
        "field": "household",
        "op": "member",
        "where": {"field": "segment", "op": "in", "value": "en-foyer"},
    }
    with pytest.raises(DefinitionError, match="foyer d'un membre"):
        definition_queryset(member_in_it, hub).count()
    # A segment without household conditions may be used in a member condition.
    Segment.objects.create(slug="venus-2022", name="Venus 2022", definition=CAME_2022)
    member_came = {**member_in_it, "where": {"field": "segment", "op": "in", "value": "venus-2022"}}
    assert names(member_came, hub) == {"Élodie", "Jean"}
    assert names(member_came, Actor.for_user(destination.helene)) == set()


@pytest.mark.parametrize("value", ["'; DROP TABLE customers_householdlink; --", '" OR 1=1 --'])
def test_sql_in_a_member_condition_is_data(homes, destination, value):
    hub = Actor.for_user(destination.camille)
    where = {"field": "city", "op": "eq", "value": value}
    assert names({"field": "household", "op": "member", "where": where}, hub) == set()
    assert names(IN_HOUSEHOLD, hub) == {"Élodie", "Jean", "Hans", "Inès", "Léo"}


def test_builder_draws_and_posts_a_household_member_group(client, homes, destination):
    """Choosing « appartient à un foyer » in a condition turns it into a group of what another
    member matches; its conditions round-trip, and the count stays within the view."""
    client.force_login(destination.marc)
    data = {"n-0-type": "all", "n-0.0-field": "household", "n-0.0-op": "member"}
    body = client.post("/segments/nouveau/", data, HTTP_HX_REQUEST="true").content.decode()
    assert '<option value="household" selected>' in body
    assert "appartient à un foyer" in body
    assert '<strong id="segment-count">5</strong>' in body
    data = {"n-0-type": "all", "n-0.0-type": "household", "action": "add-leaf:0.0"}
    body = client.post("/segments/nouveau/", data, HTTP_HX_REQUEST="true").content.decode()
    assert 'name="n-0.0.0-field"' in body
    data = {
        "n-0-type": "all",
        "n-0.0-type": "household",
        "n-0.0.0-field": "age",
        "n-0.0.0-op": "lt",
        "n-0.0.0-value": "18",
    }
    body = client.post("/segments/nouveau/", data, HTTP_HX_REQUEST="true").content.decode()
    assert '<strong id="segment-count">1</strong>' in body  # Inès, Léo's mother
    assert "&quot;where&quot;" in body or '"where"' in body  # the JSON definition shows it
    client.logout()
    client.force_login(destination.helene)
    data = {"n-0-type": "all", "n-0.0-type": "household", "n-0.0.0-field": "activities",
            "n-0.0.0-op": "gte", "n-0.0.0-value": "1", "n-0.0.0-season_kind": "summer",
            "n-0.0.0-last": "5"}  # fmt: skip
    body = client.post("/segments/nouveau/", data, HTTP_HX_REQUEST="true").content.decode()
    assert '<strong id="segment-count">2</strong>' in body  # Élodie and Jean: each other
    data["n-0.0.0-field"], data["n-0.0.0-value"] = "household_size", "3"
    body = client.post("/segments/nouveau/", data, HTTP_HX_REQUEST="true").content.decode()
    assert "foyer d&#x27;un membre" in body or "foyer d'un membre" in body
