"""The API as partners' systems use it: Hôtel des Alpes and the Camping du Lac each have a key.

The camping's customers (Zoé, Paul) came through its own key; Hôtel des Alpes has no business
with them and its key must not learn they exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client


@dataclass
class KeyClient:
    """A partner's system: a test client that sends its key on every call."""

    client: Client
    key: str

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", **(extra or {})}

    def get(self, path: str, **params: Any):
        return self.client.get(path, params or None, headers=self.headers())

    def post(self, path: str, body: Any, *, headers: dict[str, str] | None = None):
        return self.client.post(
            path, body, content_type="application/json", headers=self.headers(headers)
        )


@pytest.fixture(autouse=True)
def _fresh_rate_counters():
    """Rate counters live in the cache, and key ids come back after a test's rollback."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_key(destination):
    from cordee.partners.apikeys import SCOPES, api_key_create
    from cordee.privacy.access import Actor

    def make(partner, scopes=SCOPES) -> KeyClient:
        _key, text = api_key_create(
            partner=partner, scopes=list(scopes), actor=Actor.system("test"), name="test"
        )
        return KeyClient(Client(), text)

    return make


@pytest.fixture
def hotel(make_key, destination) -> KeyClient:
    return make_key(destination.hotel)


@pytest.fixture
def camping(make_key, destination) -> KeyClient:
    return make_key(destination.camping)


@pytest.fixture
def office(make_key, destination) -> KeyClient:
    return make_key(destination.office)


ELODIE = {
    "external_id": "H-1001",
    "civility": "Mme",
    "first_name": "élodie",
    "last_name": "MARTIN",
    "email": "Elodie.Martin@Orange.fr",
    "phone": "06 12 34 56 78",
    "birth_date": "14/03/1985",
    "postal_code": "74400",
    "city": "chamonix",
    "interests": "ski, randonnée",
    "preferred_season": "hiver",
    "consents": {"newsletter": True, "partner_offers": False},
}
ZOE = {"first_name": "Zoé", "last_name": "Lambert", "email": "zoe.lambert@example.fr"}
PAUL = {"first_name": "Paul", "last_name": "Martinez", "phone": "06 99 88 77 66"}


@pytest.fixture
def camping_customers(camping) -> dict[str, int]:
    ids = {}
    for name, body in (("zoe", ZOE), ("paul", PAUL)):
        response = camping.post("/api/v1/customers", body)
        assert response.status_code == 201, response.content
        ids[name] = response.json()["customer"]["id"]
    return ids


@pytest.fixture
def elodie() -> dict[str, Any]:
    """Élodie as the hotel's booking system sends her."""
    return dict(ELODIE)
