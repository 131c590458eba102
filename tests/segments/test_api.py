"""/api/v1/segments: partners' systems list, count and read segments within their key's view.

The hotel's key must never count or list a customer it cannot see — not directly, not through
a household member, not through another partner's segment.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client

from cordee.privacy.access import Actor
from cordee.segments.models import Segment
from cordee.segments.services import stats_refresh

EVERYONE = {"field": "activity_count", "op": "gte", "value": 0}
CAME_2022 = {"field": "activities", "season": "ete-2022", "op": "gte", "value": 1}


class Key:
    def __init__(self, text: str) -> None:
        self.client, self.text = Client(), text

    def headers(self, extra=None):
        return {"Authorization": f"Bearer {self.text}", **(extra or {})}

    def get(self, path, **params):
        return self.client.get(path, params or None, headers=self.headers())

    def post(self, path, body, headers=None):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.client.post(
            path, data, content_type="application/json", headers=self.headers(headers)
        )

    def put(self, path, body):
        return self.client.put(
            path, json.dumps(body), content_type="application/json", headers=self.headers()
        )


@pytest.fixture(autouse=True)
def _fresh_rate_counters():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def key(destination):
    from cordee.partners.apikeys import SCOPES, api_key_create

    def make(partner, scopes=SCOPES) -> Key:
        _key, text = api_key_create(
            partner=partner, scopes=list(scopes), actor=Actor.system("test"), name="test"
        )
        return Key(text)

    return make


@pytest.fixture
def people(history, destination):
    """The hotel brought Élodie and Jean; the ski school Hans (who came in summer 2022 only,
    and is Élodie's household); the campsite Inès, who agreed to be shared with partners."""
    from cordee.customers.models import HouseholdLink, SourceRecord
    from cordee.privacy.services import consent_record

    out = {
        "elodie": history("Élodie", {2024: [(9,)]}, partner=destination.hotel, gender="F"),
        "jean": history("Jean", {2023: [(9,)], 2024: [(9,)]}, partner=destination.hotel),
        "hans": history("Hans", {2022: [(9,)]}, partner=destination.ski),
        "ines": history("Inès", {2024: [(9,)]}, partner=destination.camping, gender="F"),
    }
    records = [
        SourceRecord.objects.create(
            customer=out[name],
            partner=out[name].links.get().partner,
            channel="import",
            collected_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
            raw={},
            data={},
            fingerprint=name,
        )
        for name in ("elodie", "hans")
    ]
    HouseholdLink.objects.create(left=records[0], right=records[1], reason="address")
    consent_record(
        customer=out["ines"],
        purpose="partner_offers",
        status="granted",
        channel="form",
        actor=Actor.system("test"),
        controller=destination.office,
    )
    stats_refresh(train=False)
    return out


def count(key: Key, definition) -> int:
    response = key.post("/api/v1/segments/count", {"definition": definition})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["milliseconds"] >= 0
    return body["count"]


def test_count_stays_within_the_keys_view(people, destination, key):
    office, hotel, ski = key(destination.office), key(destination.hotel), key(destination.ski)
    assert count(office, EVERYONE) == 4
    # Élodie and Jean: Inès is shared, but no purpose shares her activities (other partners'
    # stays) with the hotel, so a condition on them does not sort her.
    assert count(hotel, EVERYONE) == 2
    assert count(hotel, {}) == 3  # Élodie, Jean, and Inès (shared)
    assert count(ski, {}) == 2  # Hans, and Inès (shared)
    member_came = {"field": "household", "op": "member", "where": CAME_2022}
    assert count(office, member_came) == 1  # Élodie, through Hans
    assert count(hotel, member_came) == 0  # Hans is not the hotel's to see
    assert count(hotel, {"field": "household", "op": "member"}) == 0
    assert count(ski, {"field": "household", "op": "member"}) == 0  # Élodie is the hotel's


def test_list_read_and_members_through_the_gate(people, destination, key):
    office, hotel, camping = (
        key(destination.office),
        key(destination.hotel),
        key(destination.camping),
    )
    Segment.objects.create(slug="hotel-femmes", name="Femmes", owner=destination.hotel,
                           definition={"field": "gender", "op": "eq", "value": "F"})  # fmt: skip
    Segment.objects.create(slug="hotel-tous", name="Tous", owner=destination.hotel,
                           definition={})  # fmt: skip
    Segment.objects.create(slug="camping-tous", name="Tous", owner=destination.camping,
                           definition=EVERYONE)  # fmt: skip
    slugs = [s["slug"] for s in hotel.get("/api/v1/segments").json()["results"]]
    assert slugs == ["fideles", "forces", "fuyants", "hotel-femmes", "hotel-tous"]
    listed = {s["slug"]: s for s in hotel.get("/api/v1/segments", size="true").json()["results"]}
    # Élodie only: Inès is shared, and no purpose shares her gender with the hotel, so it does
    # not sort her into the hotel's segment (the count would tell it).
    assert listed["hotel-femmes"]["size"] == 1 and listed["hotel-femmes"]["mine"] is True
    assert listed["fideles"]["mine"] is False and listed["fideles"]["builtin"] is True
    assert hotel.get("/api/v1/segments/camping-tous").status_code == 404
    assert hotel.get("/api/v1/segments/camping-tous/members").status_code == 404
    assert office.get("/api/v1/segments/camping-tous").json()["size"] == 4
    assert camping.get("/api/v1/segments/camping-tous").json()["size"] == 1
    # Another partner's segment is unknown in a definition too, not a way round the gate.
    response = hotel.post(
        "/api/v1/segments/count",
        {"definition": {"field": "segment", "op": "in", "value": "camping-tous"}},
    )
    assert response.status_code == 422 and "segment inconnu" in response.json()["detail"]

    women = hotel.get("/api/v1/segments/hotel-femmes/members").json()
    assert [r["first_name"] for r in women["results"]] == ["Élodie"] and women["next"] is None

    # Members, page by page; a shared customer the hotel did not bring: shared fields only.
    first = hotel.get("/api/v1/segments/hotel-tous/members", limit=2).json()
    assert [r["first_name"] for r in first["results"]] == ["Élodie", "Jean"]
    assert first["results"][0]["gender"] == "F"  # brought by the hotel: seen in full
    assert first["next"].startswith("/api/v1/segments/hotel-tous/members?")
    second = hotel.get("/api/v1/segments/hotel-tous/members", limit=2, cursor=first["cursor"])
    assert [r["first_name"] for r in second.json()["results"]] == ["Inès"]
    shared = second.json()["results"][0]
    assert shared["gender"] is None and "gender" in shared["hidden"]  # shared: no gender
    assert second.json()["next"] is None
    assert (
        hotel.get("/api/v1/segments/hotel-femmes/members", cursor="pas-un-curseur").status_code
        == 422
    )


def test_create_update_and_what_a_key_may_not_change(people, destination, key):
    hotel = key(destination.hotel)
    response = hotel.post(
        "/api/v1/segments",
        {"name": "Venus en 2024", "definition": {"field": "activities", "season": "ete-2024", "op": "gte", "value": 1}},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    created = response.json()
    # Élodie and Jean; not Inès: shared, but her stays elsewhere are not the hotel's to sort by.
    assert created["slug"] == "venus-en-2024" and created["size"] == 2 and created["mine"]
    assert Segment.objects.get(slug="venus-en-2024").owner == destination.hotel
    again = hotel.post("/api/v1/segments", {"name": "Venus en 2024", "definition": {}})
    assert again.status_code == 409
    updated = hotel.put(
        "/api/v1/segments/venus-en-2024",
        {"name": "Venus en 2023", "definition": {"field": "activities", "season": "ete-2023", "op": "gte", "value": 1}},
    )  # fmt: skip
    assert updated.status_code == 200 and updated.json()["size"] == 1
    assert hotel.put("/api/v1/segments/fideles", {"name": "x", "definition": {}}).status_code == 403
    office_segment = Segment.objects.create(slug="office-seg", name="Office", definition={})
    assert (
        hotel.put("/api/v1/segments/office-seg", {"name": "x", "definition": {}}).status_code == 403
    )
    assert hotel.put("/api/v1/segments/inconnu", {"name": "x", "definition": {}}).status_code == 404
    office_segment.refresh_from_db()
    assert office_segment.name == "Office"
    # Without the scopes: 403, whatever the body.
    reader = key(destination.hotel, scopes=["segments:read"])
    assert reader.post("/api/v1/segments", {"name": "x", "definition": {}}).status_code == 403
    nobody = key(destination.hotel, scopes=["customers:read"])
    assert nobody.get("/api/v1/segments").status_code == 403
    assert nobody.post("/api/v1/segments/count", {"definition": {}}).status_code == 403


def test_count_is_a_path_not_a_segment(people, destination, key):
    hotel = key(destination.hotel)
    refused = hotel.post("/api/v1/segments", {"name": "Count", "definition": {}})
    assert refused.status_code == 422 and "réservé" in refused.json()["detail"]
    assert not Segment.objects.filter(slug="count").exists()
    # The counting path answers 405 to a read or an update, as the schema says.
    assert hotel.get("/api/v1/segments/count").status_code == 405
    assert hotel.put("/api/v1/segments/count", {"name": "x", "definition": {}}).status_code == 405


def test_create_is_idempotent(people, destination, key):
    hotel = key(destination.hotel)
    body = {"slug": "tous-hotel", "name": "Tous", "definition": {}}
    first = hotel.post("/api/v1/segments", body, headers={"Idempotency-Key": "k-1"})
    second = hotel.post("/api/v1/segments", body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true" and first.json() == second.json()
    assert Segment.objects.filter(slug="tous-hotel").count() == 1


def test_a_segment_that_includes_itself_is_refused(people, destination, key):
    office = key(destination.office)
    selfish = {
        "slug": "moi",
        "name": "Moi",
        "definition": {"field": "segment", "op": "in", "value": "moi"},
    }
    response = office.post("/api/v1/segments", selfish)
    assert response.status_code == 422 and "s'inclut lui-même" in response.json()["detail"]
    assert (
        office.post("/api/v1/segments", {"slug": "a", "name": "A", "definition": {}}).status_code
        == 201
    )
    b = {"slug": "b", "name": "B", "definition": {"field": "segment", "op": "in", "value": "a"}}
    assert office.post("/api/v1/segments", b).status_code == 201
    cycle = office.put(
        "/api/v1/segments/a",
        {"name": "A", "definition": {"field": "segment", "op": "in", "value": "b"}},
    )
    assert cycle.status_code == 422 and "s'inclut lui-même" in cycle.json()["detail"]
    assert Segment.objects.get(slug="a").definition == {}


@pytest.mark.parametrize(
    ("definition", "status", "message"),
    [
        ({"field": "salaire", "op": "eq", "value": 1}, 422, "champ inconnu « salaire »"),
        ({"field": "children", "op": "gt", "value": "deux"}, 422, "valeur numérique attendue"),
        ({"any": [{"field": "city", "op": "eq", "value": f"v{i}"} for i in range(1000)]}, 422, "trop de conditions"),
        ({"field": "household", "op": "member", "where": {"field": "household", "op": "member"}}, 422, "foyer d'un membre"),
        ({"field": "city", "op": "eq", "value": "x" * 250_000}, 422, "trop longue"),
        ({"all": {"field": "gender"}}, 422, "« all » attend une liste"),
    ],
)  # fmt: skip
def test_malformed_definitions_are_refused_in_french(
    people, destination, key, definition, status, message
):
    response = key(destination.office).post("/api/v1/segments/count", {"definition": definition})
    assert response.status_code == status, response.content
    body = response.json()
    assert message in body["detail"] or any(message in e["msg"] for e in body["errors"])


def test_hostile_bodies(people, destination, key):
    office = key(destination.office)
    node: dict = {"field": "gender", "op": "eq", "value": "F"}
    for _ in range(1000):
        node = {"not": node}
    response = office.post("/api/v1/segments/count", {"definition": node})
    assert response.status_code == 400 and "imbriqué" in response.json()["detail"]
    deep_ok: dict = {"field": "gender", "op": "eq", "value": "F"}
    for _ in range(9):
        deep_ok = {"not": deep_ok}
    response = office.post("/api/v1/segments/count", {"definition": deep_ok})
    assert response.status_code == 422 and "trop d'imbrications" in response.json()["detail"]
    nested_groups = {
        "all": [{"any": [{"all": [{"any": [{"field": "gender", "op": "eq", "value": "F"}]}]}]}]
    }
    assert count(office, nested_groups) == 2  # six JSON levels of groups: accepted
    for value in ("'; DROP TABLE customers_customer; --", '" OR 1=1 --', "%' OR '1'='1"):
        assert count(office, {"field": "city", "op": "eq", "value": value}) == 0
    assert count(office, {}) == 4  # the table is still there
    assert office.post("/api/v1/segments/count", {"definition": []}).status_code == 422
    assert office.post("/api/v1/segments/count", {"definition": {}, "sql": "x"}).status_code == 422
    assert office.post("/api/v1/segments/count", "not json").status_code == 400
    huge = json.dumps({"definition": {"field": "city", "op": "eq", "value": "x" * 2_000_000}})
    assert office.post("/api/v1/segments/count", huge).status_code == 413
