"""Partners' systems push activities: Hôtel des Alpes its bookings, the Camping du Lac its own.

Élodie is the hotel's customer (H-1001); Zoé and Paul are the camping's (see conftest)."""

from __future__ import annotations

import pytest

from cordee.activities.models import Activity


@pytest.fixture
def elodie_id(hotel, elodie):
    response = hotel.post("/api/v1/customers", elodie)
    assert response.status_code == 201
    return response.json()["customer"]["id"]


STAY = {
    "customer_external_id": "H-1001",
    "kind": "séjour",
    "starts_on": "14/02/2026",
    "ends_on": "2026-02-21",
    "amount": 1234.5,
    "quantity": 2,
    "product": "Chambre double",
    "external_id": "R-2026-001",
}


def test_a_booking_system_posts_a_stay(hotel, elodie_id):
    response = hotel.post("/api/v1/activities", STAY)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "created"
    activity = body["activity"]
    assert activity["customer_id"] == elodie_id
    assert activity["kind"] == "stay"
    assert activity["season"] == "hiver-2025-2026"
    assert activity["amount"] == "1234.50"
    assert activity["partner"] == "hotel-des-alpes"
    again = hotel.post("/api/v1/activities", STAY)
    assert again.status_code == 200 and again.json()["status"] == "unchanged"
    moved = hotel.post("/api/v1/activities", {**STAY, "starts_on": "2026-02-15"})
    assert moved.json()["status"] == "updated"
    assert Activity.objects.count() == 1


def test_customer_found_by_email_phone_or_id(hotel, elodie_id):
    for key in (
        {"email": "ELODIE.MARTIN@orange.fr"},
        {"phone": "+33 6 12 34 56 78"},
        {"customer_id": elodie_id},
    ):
        response = hotel.post(
            "/api/v1/activities", {**key, "kind": "visit", "starts_on": "2026-03-01"}
        )
        assert response.status_code == 201, (key, response.content)
        assert response.json()["activity"]["customer_id"] == elodie_id


def test_a_key_never_reaches_another_partners_customer(hotel, camping_customers):
    for key in (
        {"customer_id": camping_customers["zoe"]},
        {"email": "zoe.lambert@example.fr"},
        {"phone": "06 99 88 77 66"},
    ):
        response = hotel.post(
            "/api/v1/activities", {**key, "kind": "visit", "starts_on": "2026-03-01"}
        )
        assert response.status_code == 422, key
        assert "client introuvable" in response.json()["detail"]
    assert hotel.get(f"/api/v1/customers/{camping_customers['zoe']}/activities").status_code == 404
    assert Activity.objects.count() == 0


def test_reading_activities_sees_only_the_keys_partner_unless_hub(
    hotel, office, camping, elodie_id
):
    hotel.post("/api/v1/activities", STAY)
    # Élodie shows her card at the camping: the camping records a visit.
    from cordee.activities.cards import loyalty_card_issue
    from cordee.customers.models import Customer
    from cordee.privacy.access import Actor

    card = loyalty_card_issue(customer=Customer.objects.get(pk=elodie_id), actor=Actor.system("t"))
    visit = camping.post(
        "/api/v1/activities",
        {"card_number": card.display_number, "kind": "visit", "starts_on": "2026-07-03"},
    )
    assert visit.status_code == 201, visit.content
    own = hotel.get(f"/api/v1/customers/{elodie_id}/activities").json()
    assert [a["kind"] for a in own["results"]] == ["stay"]
    everything = office.get(f"/api/v1/customers/{elodie_id}/activities").json()
    assert sorted(a["partner"] for a in everything["results"]) == [
        "camping-du-lac",
        "hotel-des-alpes",
    ]


def test_activities_pages_follow_the_cursor(hotel, elodie_id):
    for day in range(1, 8):
        hotel.post(
            "/api/v1/activities",
            {"customer_id": elodie_id, "kind": "meal", "starts_on": f"2026-01-{day:02}"},
        )
    seen = []
    page = hotel.get(f"/api/v1/customers/{elodie_id}/activities", limit=3).json()
    seen += page["results"]
    while page["next"]:
        page = hotel.client.get(page["next"], headers=hotel.headers()).json()
        seen += page["results"]
    assert len(seen) == 7 and len({a["id"] for a in seen}) == 7
    bad = hotel.get(f"/api/v1/customers/{elodie_id}/activities", cursor="pas-un-curseur")
    assert bad.status_code == 422


def test_bulk_accepts_the_good_items_and_says_why_the_others_are_refused(hotel, elodie_id):
    items = [
        {**STAY, "external_id": "B1"},
        {**STAY, "external_id": "B1"},  # the same reference twice in one call
        {**STAY, "external_id": "B2", "starts_on": "32/13/2026"},
        {"customer_external_id": "INCONNU", "kind": "stay", "starts_on": "2026-01-01"},
        {"kind": "stay", "starts_on": "2026-01-01", "emial": "x@y.fr"},
        "pas un objet",
        {**STAY, "external_id": "B3", "kind": "<img src=x onerror=alert(1)>"},
        {**STAY, "external_id": "B4", "customer_id": "1 OR 1=1"},
    ]
    response = hotel.post("/api/v1/activities/bulk", {"activities": items})
    assert response.status_code == 200, response.content
    body = response.json()
    statuses = [r["status"] for r in body["results"]]
    assert statuses == [
        "created",
        "duplicate",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
    ]
    errors = [" ".join(r["errors"]) for r in body["results"]]
    assert "Date" in errors[2]
    assert "client introuvable" in errors[3]
    assert "champ inconnu : emial" in errors[4]
    assert "objet JSON attendu" in errors[5]
    assert "type inconnu" in errors[6]
    assert "customer_id" in errors[7]
    assert (body["created"], body["rejected"], body["duplicate"]) == (1, 6, 1)


def test_bulk_limits(hotel, elodie_id, settings):
    too_many = {
        "activities": [{"customer_id": elodie_id, "kind": "visit", "starts_on": "2026-01-01"}]
        * 10_001
    }
    response = hotel.post("/api/v1/activities/bulk", too_many)
    assert response.status_code == 422
    assert hotel.post("/api/v1/activities/bulk", {"activities": []}).status_code == 422
    settings.CORDEE_API_MAX_BULK_BODY = 1000
    big = {
        "activities": [
            {
                "customer_id": elodie_id,
                "kind": "visit",
                "starts_on": "2026-01-01",
                "product": "x" * 2000,
            }
        ]
    }
    assert hotel.post("/api/v1/activities/bulk", big).status_code == 413


@pytest.mark.slow
def test_bulk_of_ten_thousand(hotel, elodie_id):
    items = [
        {
            "customer_id": elodie_id,
            "kind": "ticket",
            "starts_on": f"2026-01-{1 + i % 28:02}",
            "external_id": f"T{i}",
            "amount": "42,00",
        }
        for i in range(10_000)
    ]
    response = hotel.post("/api/v1/activities/bulk", {"activities": items})
    assert response.status_code == 200
    assert response.json()["created"] == 10_000
    again = hotel.post("/api/v1/activities/bulk", {"activities": items})
    assert again.json()["unchanged"] == 10_000
    assert Activity.objects.count() == 10_000


def test_scopes_are_enforced(make_key, destination, elodie_id):
    reader = make_key(destination.hotel, scopes=["customers:read"])
    response = reader.post("/api/v1/activities", STAY)
    assert response.status_code == 403
    assert "activities:write" in response.json()["detail"]
    assert reader.get(f"/api/v1/customers/{elodie_id}/activities").status_code == 403


def test_idempotency_key_replays_the_first_answer(hotel, elodie_id):
    first = hotel.post(
        "/api/v1/activities",
        {"customer_id": elodie_id, "kind": "visit", "starts_on": "2026-01-01"},
        headers={"Idempotency-Key": "k-1"},
    )
    again = hotel.post(
        "/api/v1/activities",
        {"customer_id": elodie_id, "kind": "visit", "starts_on": "2026-01-01"},
        headers={"Idempotency-Key": "k-1"},
    )
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert Activity.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "visit"},
        {"kind": "visit", "starts_on": "2026-01-01", "customer_id": True},
        {"kind": "visit", "starts_on": "2026-01-01", "email": "a\x00@b.fr"},
        {
            "kind": "visit",
            "starts_on": "2026-01-01",
            "details": {"a": "b" * 20000},
            "customer_id": 1,
        },
        {"kind": "visit" * 100, "starts_on": "2026-01-01"},
        {"kind": "visit", "starts_on": "2026-01-01", "satisfaction": 11},
    ],
)
def test_hostile_single_bodies_get_422(hotel, elodie_id, body):
    response = hotel.post("/api/v1/activities", body)
    assert response.status_code == 422, response.content
    assert response.json()["detail"]
    assert Activity.objects.count() == 0


def test_bulk_keys_with_nul_or_lone_surrogates_are_refused_item_by_item(hotel, elodie_id):
    items = [
        {"customer_external_id": "H-1001\x00", "kind": "visit", "starts_on": "2026-01-01"},
        {"card_number": "1234\x00", "kind": "visit", "starts_on": "2026-01-01"},
        {"card_number": "12ab", "kind": "visit", "starts_on": "2026-01-01"},
        {"email": "a\x00@b.fr", "kind": "visit", "starts_on": "2026-01-01"},
        {"customer_external_id": "H-1001", "kind": "visit", "starts_on": "2026-01-01"},
    ]
    response = hotel.post("/api/v1/activities/bulk", {"activities": items})
    assert response.status_code == 200, response.content
    assert [r["status"] for r in response.json()["results"]] == ["rejected"] * 4 + ["created"]


def test_details_with_nul_are_refused(hotel, elodie_id):
    body = {
        "customer_id": elodie_id,
        "kind": "visit",
        "starts_on": "2026-01-01",
        "details": {"note\u0000": "x\u0000"},
    }
    response = hotel.post("/api/v1/activities", body)
    assert response.status_code == 422
    assert "interdit" in response.json()["detail"]
