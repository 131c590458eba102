"""`card_number` in POST /api/v1/customers: the loyalty card joins its holder (issue 3)."""

from __future__ import annotations

import secrets

import pytest

from cordee.activities.cards import luhn_digit
from cordee.activities.models import LoyaltyCard
from cordee.customers.models import Customer


@pytest.fixture
def holder(hotel, elodie) -> tuple[int, str]:
    customer_id = hotel.post("/api/v1/customers", elodie).json()["customer"]["id"]
    body = "40000000000"
    number = body + luhn_digit(body)
    LoyaltyCard.objects.create(
        customer_id=customer_id, number=number, token=secrets.token_urlsafe(32)
    )
    return customer_id, number


def test_a_record_with_the_card_is_matched_to_its_holder(camping, holder):
    customer_id, number = holder
    spaced = " ".join(number[i : i + 4] for i in range(0, 12, 4))
    response = camping.post(
        "/api/v1/customers", {"first_name": "Élodie", "last_name": "Durand", "card_number": spaced}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "matched"
    assert response.json()["customer"]["id"] == customer_id
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(
    "card",
    ["400000000001", "1234", "x" * 40, "' OR 1=1 --", "４０００００００００００", 400000000001],
)
def test_a_wrong_or_hostile_card_joins_nobody(camping, holder, card):
    customer_id, _number = holder
    response = camping.post(
        "/api/v1/customers", {"first_name": "Élodie", "last_name": "Durand", "card_number": card}
    )
    assert response.status_code == 201, response.content
    assert response.json()["customer"]["id"] != customer_id
    assert [w["field"] for w in response.json()["warnings"]] == ["card_number"]


def test_a_huge_card_number_is_refused_by_the_schema(camping, holder):
    response = camping.post("/api/v1/customers", {"last_name": "Durand", "card_number": "1" * 41})
    assert response.status_code in (400, 422)
    assert Customer.objects.count() == 1
