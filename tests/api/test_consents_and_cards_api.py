from __future__ import annotations

import pytest

from cordee.privacy.models import ConsentEvent


@pytest.fixture
def elodie_id(hotel, elodie):
    return hotel.post("/api/v1/customers", elodie).json()["customer"]["id"]


def test_reading_consents_shows_the_states_the_key_may_see(
    hotel, camping, elodie_id, camping_customers
):
    recorded = hotel.post(
        f"/api/v1/customers/{elodie_id}/consents", {"purpose": "newsletter", "status": "granted"}
    )
    assert recorded.status_code == 201, recorded.content
    response = hotel.get(f"/api/v1/customers/{elodie_id}/consents")
    assert response.status_code == 200, response.content
    states = {(c["purpose"], c["status"]) for c in response.json()["results"]}
    assert ("newsletter", "granted") in states
    assert camping.get(f"/api/v1/customers/{elodie_id}/consents").status_code == 404


def test_recording_a_consent_with_its_proof(hotel, elodie_id):
    response = hotel.post(
        f"/api/v1/customers/{elodie_id}/consents",
        {
            "purpose": "newsletter",
            "status": "withdrawn",
            "channel": "form",
            "page": "https://hotel.example/desinscription",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "withdrawn" and body["channel"] == "form"
    event = ConsentEvent.objects.get(pk=body["id"])
    assert event.page == "https://hotel.example/desinscription"
    assert event.collected_by.slug == "hotel-des-alpes"


@pytest.mark.parametrize(
    "body, status",
    [
        ({"purpose": "inconnue", "status": "granted"}, 422),
        ({"purpose": "newsletter", "status": "peut-être"}, 422),
        ({"purpose": "newsletter", "status": "granted", "wording_version": 99}, 422),
        ({"purpose": "<script>", "status": "granted"}, 422),
        ({"purpose": "newsletter", "status": "granted", "page": "javascript:alert(1)"}, 422),
        ({"purpose": "newsletter", "status": "granted", "extra": 1}, 422),
    ],
)
def test_bad_consents_are_refused(hotel, elodie_id, body, status):
    before = ConsentEvent.objects.count()
    response = hotel.post(f"/api/v1/customers/{elodie_id}/consents", body)
    assert response.status_code == status, response.content
    assert ConsentEvent.objects.count() == before


def test_another_partner_cannot_record_a_consent(camping, elodie_id):
    response = camping.post(
        f"/api/v1/customers/{elodie_id}/consents", {"purpose": "newsletter", "status": "granted"}
    )
    assert response.status_code == 404


def test_card_lookup(hotel, camping, elodie_id):
    from cordee.activities.cards import loyalty_card_issue
    from cordee.customers.models import Customer
    from cordee.privacy.access import Actor

    card = loyalty_card_issue(customer=Customer.objects.get(pk=elodie_id), actor=Actor.system("t"))
    found = hotel.get(f"/api/v1/cards/{card.number}").json()
    assert found["customer_id"] == elodie_id and found["customer"]["first_name"] == "Élodie"
    # The camping may check the card is real, not learn who holds it.
    other = camping.get(f"/api/v1/cards/{card.number}").json()
    assert other == {"number": card.number, "customer_id": None, "customer": None}
    wrong_digit = card.number[:-1] + str((int(card.number[-1]) + 1) % 10)
    # Well formed but no card can bear it (a typing mistake): not found, and why.
    response = hotel.get(f"/api/v1/cards/{wrong_digit}")
    assert response.status_code == 404 and "chiffre de contrôle" in response.json()["detail"]
    grouped = f"{card.number[:4]} {card.number[4:8]}-{card.number[8:]}"
    assert hotel.get(f"/api/v1/cards/{grouped}").json()["customer_id"] == elodie_id
    for malformed in ("abc", "0", "1234567890123", "１２３４５６７８９０１２"):
        assert hotel.get(f"/api/v1/cards/{malformed}").status_code == 422, malformed
    unknown = "123456789012"
    from cordee.activities.cards import luhn_digit

    unknown = unknown[:-1] + luhn_digit(unknown[:-1])
    if unknown != card.number:
        assert hotel.get(f"/api/v1/cards/{unknown}").status_code == 404


def test_a_sharing_consent_through_the_api_moves_the_sharing_flag(hotel, camping, elodie_id):
    from cordee.customers.models import Customer

    def shared() -> bool:
        return Customer.objects.values_list("shares_with_partners", flat=True).get(pk=elodie_id)

    assert not shared()
    assert camping.get(f"/api/v1/customers/{elodie_id}").status_code == 404
    path = f"/api/v1/customers/{elodie_id}/consents"
    assert hotel.post(path, {"purpose": "partner_offers", "status": "granted"}).status_code == 201
    assert shared()
    assert camping.get(f"/api/v1/customers/{elodie_id}").status_code == 200
    assert hotel.post(path, {"purpose": "partner_offers", "status": "withdrawn"}).status_code == 201
    assert not shared()
    assert camping.get(f"/api/v1/customers/{elodie_id}").status_code == 404
