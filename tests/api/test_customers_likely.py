"""POST /customers warns of likely existing customers, within what the key may see."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

HOTEL_ELODIE = {
    "external_id": "H-1001", "first_name": "Élodie", "last_name": "Martin",
    "email": "elodie.martin@orange.fr", "birth_date": "14/03/1985", "postal_code": "74400",
}  # fmt: skip
# The office's desk types her again, with another e-mail and another postcode: doubtful, so
# created and listed (a sure match joins her customer: test_customers_arrival.py).
DESK_ELODIE = {
    "first_name": "Elodie", "last_name": "MARTIN", "email": "e.martin@gmail.com",
    "birth_date": "1985-03-14", "postal_code": "74000",
}  # fmt: skip


def test_a_new_customer_comes_back_with_the_likely_existing_ones(hotel, office, model_home):
    existing = hotel.post("/api/v1/customers", HOTEL_ELODIE).json()["customer"]["id"]
    response = office.post("/api/v1/customers", DESK_ELODIE)
    assert response.status_code == 201, response.content
    body = response.json()
    (likely,) = body["likely_existing"]
    assert likely["id"] == existing and likely["probability"] > 0.5
    assert likely["evidence"]["birth_date"] == "same"
    assert likely["evidence"]["email"] == "different"
    assert "orange" not in str(likely)


def test_a_partner_is_not_told_of_another_partners_customer(hotel, camping, model_home):
    hotel.post("/api/v1/customers", HOTEL_ELODIE)
    response = camping.post("/api/v1/customers", DESK_ELODIE)
    assert response.status_code == 201
    assert response.json()["likely_existing"] == []


def test_a_matched_record_lists_nothing(hotel, model_home):
    hotel.post("/api/v1/customers", HOTEL_ELODIE)
    again = hotel.post("/api/v1/customers", {**HOTEL_ELODIE, "phone": "06 55 44 33 22"})
    assert again.status_code == 200 and again.json()["likely_existing"] == []
