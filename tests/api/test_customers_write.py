"""Pushing customers: create, upsert, the same body twice, bulk, idempotency keys."""

from __future__ import annotations

from cordee.customers.models import Customer, SourceRecord
from cordee.privacy.models import AuditEvent


def test_hotel_creates_a_customer_through_the_intake(elodie, hotel, destination):
    response = hotel.post("/api/v1/customers", elodie)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] is True and body["status"] == "created" and body["warnings"] == []
    customer = body["customer"]
    assert customer["first_name"] == "Élodie" and customer["last_name"] == "Martin"
    assert customer["email"] == "elodie.martin@orange.fr"
    assert customer["phone"] == "+33612345678"
    assert customer["birth_date"] == "1985-03-14"
    assert customer["city"] == "Chamonix-Mont-Blanc"
    assert customer["interests"] == ["ski", "randonnée"]
    assert customer["preferred_season"] == "winter"
    record = SourceRecord.objects.get(customer_id=customer["id"])
    assert record.channel == "api" and record.partner == destination.hotel
    assert record.external_id == "H-1001"
    assert record.data["consents"] == {"newsletter": True, "partner_offers": False}
    assert record.raw["consent_newsletter"] == "oui"
    event = AuditEvent.objects.get(action="customer.api_submit")
    assert event.object_id == str(customer["id"]) and event.actor_label.startswith("api:")
    assert event.partner == destination.hotel and event.details["created"] == 1
    assert "orange" not in str(event.details).lower()


def test_the_same_body_twice_is_the_same_customer(elodie, hotel):
    first = hotel.post("/api/v1/customers", elodie).json()
    reordered = dict(reversed(list(elodie.items())))
    again = hotel.post("/api/v1/customers", reordered)
    assert again.status_code == 200
    assert again.json()["status"] == "unchanged" and again.json()["created"] is False
    assert again.json()["customer"]["id"] == first["customer"]["id"]
    assert Customer.objects.count() == 1 and SourceRecord.objects.count() == 1


def test_a_changed_record_with_the_same_external_id_updates_the_customer(elodie, hotel):
    first = hotel.post("/api/v1/customers", elodie).json()["customer"]
    moved = {
        "external_id": "H-1001",
        "last_name": "Martin",
        "city": "Annecy",
        "postal_code": "74000",
    }
    response = hotel.post("/api/v1/customers", moved)
    assert response.status_code == 200
    assert response.json()["status"] == "matched"
    assert response.json()["customer"]["id"] == first["id"]
    assert Customer.objects.count() == 1 and SourceRecord.objects.count() == 2


def test_unreadable_values_are_dropped_with_a_warning(hotel):
    body = {
        "last_name": "Durand",
        "email": "pas-un-email",
        "birth_date": "32/13/1990",
        "children": "beaucoup",
    }
    response = hotel.post("/api/v1/customers", body)
    assert response.status_code == 201
    warned = {w["field"] for w in response.json()["warnings"]}
    assert warned == {"email", "birth_date", "children"}
    assert response.json()["customer"]["email"] == ""


def test_nothing_that_identifies_the_person_is_422(hotel):
    response = hotel.post("/api/v1/customers", {"first_name": "Élodie", "email": "faux"})
    assert response.status_code == 422
    assert "rien ne permet d'identifier" in response.json()["detail"]
    assert response.json()["errors"][0]["loc"] == ["body", "email"]
    assert Customer.objects.count() == 0
    assert hotel.post("/api/v1/customers", {}).status_code == 422


def test_bulk_reports_each_record_and_keeps_the_good_ones(elodie, hotel):
    records = [
        elodie,
        {"first_name": "Sans", "email": "illisible"},
        {"last_name": "Dupont", "email": "jl.dupont@example.com"},
        {"last_name": "Martin", "email": "elodie.martin@orange.fr", "city": "Annecy"},
        elodie,
    ]
    response = hotel.post("/api/v1/customers/bulk", {"records": records})
    assert response.status_code == 200, response.content
    body = response.json()
    statuses = [r["status"] for r in body["results"]]
    assert statuses == ["created", "rejected", "created", "matched", "unchanged"]
    assert [r["index"] for r in body["results"]] == [0, 1, 2, 3, 4]
    assert body["results"][1]["errors"] and body["results"][1]["customer_id"] is None
    ids = [r["customer_id"] for r in body["results"]]
    assert ids[0] == ids[3] == ids[4] and ids[2] != ids[0]
    assert (body["created"], body["matched"], body["unchanged"], body["rejected"]) == (2, 1, 1, 1)
    assert Customer.objects.count() == 2


def test_bulk_over_the_limit_is_refused(hotel):
    records = [{"last_name": f"N{i}"} for i in range(1001)]
    response = hotel.post("/api/v1/customers/bulk", {"records": records})
    assert response.status_code == 422
    assert "1000" in response.json()["detail"]
    assert Customer.objects.count() == 0


def test_bulk_of_a_thousand_goes_in_one_call(hotel):
    records = [{"last_name": f"Client{i}", "external_id": str(i)} for i in range(1000)]
    response = hotel.post("/api/v1/customers/bulk", {"records": records})
    assert response.status_code == 200
    assert response.json()["created"] == 1000
    assert Customer.objects.count() == 1000


def test_a_malformed_record_refuses_the_whole_bulk_call_with_its_position(hotel):
    records = [{"last_name": "Bon"}, {"last_name": ["pas", "un", "texte"]}]
    response = hotel.post("/api/v1/customers/bulk", {"records": records})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "records", 1, "last_name"]
    assert Customer.objects.count() == 0


def test_idempotency_key_replays_the_first_answer(elodie, hotel):
    headers = {"Idempotency-Key": "commande-42"}
    first = hotel.post("/api/v1/customers", elodie, headers=headers)
    again = hotel.post("/api/v1/customers", elodie, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert SourceRecord.objects.count() == 1


def test_idempotency_key_reused_for_another_body_is_409(elodie, hotel):
    headers = {"Idempotency-Key": "commande-43"}
    assert hotel.post("/api/v1/customers", elodie, headers=headers).status_code == 201
    other = hotel.post("/api/v1/customers", {"last_name": "Autre"}, headers=headers)
    assert other.status_code == 409
    assert "idempotence" in other.json()["detail"]
    assert (
        hotel.post("/api/v1/customers/bulk", {"records": [elodie]}, headers=headers).status_code
        == 409
    )
    assert Customer.objects.count() == 1


def test_idempotency_keys_belong_to_one_api_key(elodie, hotel, camping):
    headers = {"Idempotency-Key": "k1"}
    assert hotel.post("/api/v1/customers", elodie, headers=headers).status_code == 201
    response = camping.post("/api/v1/customers", {"last_name": "Lambert"}, headers=headers)
    assert response.status_code == 201
    assert response.json()["customer"]["last_name"] == "Lambert"


def test_expired_idempotency_answers_are_forgotten(elodie, hotel):
    import datetime as dt

    from cordee.api.idempotency import purge_expired
    from cordee.api.models import IdempotentRequest

    hotel.post("/api/v1/customers", elodie, headers={"Idempotency-Key": "vieux"})
    IdempotentRequest.objects.update(
        created_at=IdempotentRequest.objects.get().created_at - dt.timedelta(hours=25)
    )
    assert purge_expired() == 1


def test_invalid_idempotency_key_is_refused(elodie, hotel):
    response = hotel.post("/api/v1/customers", elodie, headers={"Idempotency-Key": "é" * 3})
    assert response.status_code == 422
    response = hotel.post("/api/v1/customers", elodie, headers={"Idempotency-Key": "x" * 256})
    assert response.status_code == 422
