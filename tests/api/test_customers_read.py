"""Reading customers: one, a list page by page, a lookup — never outside what the key may see."""

from __future__ import annotations

import pytest

from cordee.privacy.models import AuditEvent


def test_hotel_reads_the_customer_it_brought(hotel, elodie):
    created = hotel.post("/api/v1/customers", elodie).json()["customer"]
    response = hotel.get(f"/api/v1/customers/{created['id']}")
    assert response.status_code == 200
    assert response.json() == created
    assert AuditEvent.objects.filter(action="customer.view", object_id=str(created["id"])).exists()


def test_hotel_cannot_read_the_campings_customers_even_by_guessing_ids(hotel, camping_customers):
    for customer_id in camping_customers.values():
        response = hotel.get(f"/api/v1/customers/{customer_id}")
        assert response.status_code == 404
        assert response.json() == {"detail": "Introuvable.", "errors": []}
    # The same answer as for an id that does not exist.
    assert hotel.get("/api/v1/customers/999999").json() == {"detail": "Introuvable.", "errors": []}
    assert hotel.get("/api/v1/customers/0").status_code == 404
    assert hotel.get(f"/api/v1/customers/{2**63}").status_code in (404, 422)


def test_hotel_cannot_list_look_up_or_count_the_campings_customers(hotel, camping_customers):
    listed = hotel.get("/api/v1/customers").json()
    assert listed == {"results": [], "next": None, "cursor": None}
    assert hotel.get("/api/v1/customers", email="zoe.lambert@example.fr").json()["results"] == []
    assert hotel.get("/api/v1/customers/lookup", email="zoe.lambert@example.fr").json() == {
        "results": []
    }
    assert hotel.get("/api/v1/customers/lookup", phone="06 99 88 77 66").json() == {"results": []}
    assert hotel.get("/api/v1/customers", phone="+33699887766").json()["results"] == []


def test_the_camping_and_the_office_see_the_campings_customers(camping, office, camping_customers):
    for client in (camping, office):
        listed = client.get("/api/v1/customers").json()["results"]
        assert sorted(c["id"] for c in listed) == sorted(camping_customers.values())
        found = client.get("/api/v1/customers/lookup", email=" Zoe.Lambert@Example.FR ").json()
        assert [c["id"] for c in found["results"]] == [camping_customers["zoe"]]
        found = client.get("/api/v1/customers/lookup", phone="+33 6 99 88 77 66").json()
        assert [c["id"] for c in found["results"]] == [camping_customers["paul"]]


def test_a_customer_both_partners_brought_is_visible_to_both(hotel, camping, camping_customers):
    # The hotel's booking system sends Zoé too: now the hotel has its own link with her.
    response = hotel.post(
        "/api/v1/customers", {"last_name": "Lambert", "email": "zoe.lambert@example.fr"}
    )
    assert response.status_code == 200 and response.json()["status"] == "matched"
    assert response.json()["customer"]["id"] == camping_customers["zoe"]
    assert hotel.get(f"/api/v1/customers/{camping_customers['zoe']}").status_code == 200
    assert hotel.get(f"/api/v1/customers/{camping_customers['paul']}").status_code == 404


def test_list_pages_follow_the_cursor_to_the_end(hotel):
    records = [{"last_name": f"Client{i}", "external_id": str(i)} for i in range(25)]
    assert hotel.post("/api/v1/customers/bulk", {"records": records}).status_code == 200
    seen, path, pages = [], "/api/v1/customers?limit=10", 0
    while path:
        page = hotel.client.get(path, headers=hotel.headers()).json()
        seen.extend(c["id"] for c in page["results"])
        path, pages = page["next"], pages + 1
        if path:
            assert "limit=10" in path and page["cursor"] in path
    assert pages == 3 and len(seen) == 25 and seen == sorted(seen)


@pytest.mark.parametrize("cursor", ["nimportequoi", "e30", "eyJhZnRlciI6ICJ4In0", "%00", "🎿"])
def test_a_forged_cursor_is_422(hotel, cursor):
    response = hotel.get("/api/v1/customers", cursor=cursor)
    assert response.status_code == 422
    assert "Curseur" in response.json()["detail"]


def test_limit_is_bounded(hotel):
    assert hotel.get("/api/v1/customers", limit=501).status_code == 422
    assert hotel.get("/api/v1/customers", limit=0).status_code == 422
    assert hotel.get("/api/v1/customers", limit=500).status_code == 200


def test_updated_since_keeps_recent_changes(hotel, elodie):
    hotel.post("/api/v1/customers", elodie)
    assert (
        len(hotel.get("/api/v1/customers", updated_since="2000-01-01T00:00:00Z").json()["results"])
        == 1
    )
    assert (
        hotel.get("/api/v1/customers", updated_since="2999-01-01T00:00:00+01:00").json()["results"]
        == []
    )
    assert hotel.get("/api/v1/customers", updated_since="hier").status_code == 422
    assert hotel.get(
        "/api/v1/customers", updated_since="0001-01-01T00:00:00+05:00"
    ).status_code in (200, 422)


def test_lookup_needs_exactly_one_readable_key(hotel):
    assert hotel.get("/api/v1/customers/lookup").status_code == 422
    assert (
        hotel.get("/api/v1/customers/lookup", email="a@b.fr", phone="0612345678").status_code == 422
    )
    bad = hotel.get("/api/v1/customers/lookup", email="pas un e-mail")
    assert bad.status_code == 422 and "e-mail" in bad.json()["detail"].lower()
    assert hotel.get("/api/v1/customers/lookup", phone="abc").status_code == 422


def test_lookup_is_audited_without_what_was_looked_up(hotel):
    hotel.get("/api/v1/customers/lookup", email="elodie.martin@orange.fr")
    event = AuditEvent.objects.get(action="customer.search")
    assert event.details["kind"] == "email"
    assert "orange" not in str(event.details)
