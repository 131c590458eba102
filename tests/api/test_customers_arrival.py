"""POST /customers matches the record as it arrives against the whole base (issue 3).

With a trained model a record no exact key attaches joins the customer it surely is, a
doubtful one creates its customer and waits in the review queue, and the partner sending it
learns nothing of a customer it does not see.
"""

from __future__ import annotations

import pytest

from cordee.customers.arrival import ARRIVAL_REASON, arrival_match
from cordee.customers.candidates import customer_candidates
from cordee.customers.models import Customer, PairDecision, ReviewStatus
from cordee.privacy.access import Actor

pytestmark = pytest.mark.slow

ELODIE = {
    "external_id": "H-1001", "first_name": "Élodie", "last_name": "Martin",
    "email": "elodie.martin@orange.fr", "phone": "06 71 82 93 04", "birth_date": "14/03/1985",
    "postal_code": "74400", "address_line1": "12 rue des Lilas", "city": "Chamonix",
}  # fmt: skip
# Typed again elsewhere: a typo in the first name, no e-mail, the same birth date and postcode.
TYPO = {
    "first_name": "Elodei", "last_name": "MARTIN", "birth_date": "1985-03-14",
    "postal_code": "74400",
}  # fmt: skip


def arrival_pairs(status=None):
    pairs = PairDecision.objects.filter(reason=ARRIVAL_REASON)
    return pairs.filter(status=status) if status else pairs


def test_a_known_person_with_a_typo_joins_her_customer(hotel, model_home):
    elodie = hotel.post("/api/v1/customers", ELODIE).json()["customer"]["id"]
    response = hotel.post("/api/v1/customers", TYPO)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "matched" and body["customer"]["id"] == elodie
    assert body["likely_existing"] == []
    assert Customer.objects.count() == 1
    # Her customer keeps what the new record lacks, and the join is kept with its score and
    # evidence.
    assert Customer.objects.get().email == "elodie.martin@orange.fr"
    (pair,) = arrival_pairs()
    assert pair.status == ReviewStatus.MERGED and pair.score >= 0.99
    assert pair.evidence["birth_date"] == "same" and pair.evidence["first_name"] == "close"
    assert pair.left.customer_id == pair.right.customer_id == elodie


def test_without_a_model_only_exact_keys_join(hotel, settings, tmp_path):
    settings.CORDEE_HOME = tmp_path  # no model there
    hotel.post("/api/v1/customers", ELODIE)
    assert hotel.post("/api/v1/customers", TYPO).status_code == 201
    assert Customer.objects.count() == 2 and not arrival_pairs().exists()


def test_her_twin_sharing_the_address_and_phone_is_not_merged(hotel, model_home):
    hotel.post("/api/v1/customers", ELODIE)
    twin = {**ELODIE, "external_id": "H-1002", "first_name": "Éloïse",
            "email": "eloise@free.fr", "birth_date": "1990-07-21"}  # fmt: skip
    del twin["phone"]
    twin["address_line1"] = "12 rue des Lilas"
    response = hotel.post(
        "/api/v1/customers", {k: v for k, v in twin.items() if k != "external_id"}
    )
    assert response.status_code == 201, response.content
    assert Customer.objects.count() == 2
    assert not arrival_pairs().exists()
    # She was a candidate: the household rule, not the score, kept them apart.
    typed = {"first_name": "Éloïse", "last_name": "Martin", "birth_date": "1990-07-21",
             "address_line1": "12 rue des Lilas", "postal_code": "74400"}  # fmt: skip
    created = response.json()["customer"]["id"]
    (seen,) = customer_candidates(
        typed, base=Customer.objects.exclude(pk=created), min_probability=0
    )
    assert seen.household == "shared contact, different first names"


def test_a_doubtful_record_creates_its_customer_and_goes_to_review(
    hotel, model_home, client, destination
):
    elodie = hotel.post("/api/v1/customers", ELODIE).json()["customer"]["id"]
    elsewhere = {"first_name": "Elodie", "last_name": "Martin", "birth_date": "1985-03-14",
                 "postal_code": "69000"}  # fmt: skip
    response = hotel.post("/api/v1/customers", elsewhere)
    assert response.status_code == 201, response.content
    created = response.json()["customer"]["id"]
    assert created != elodie
    (pair,) = arrival_pairs()
    assert pair.status == ReviewStatus.PENDING and 0.8 <= pair.score < 0.99
    assert {pair.left.customer_id, pair.right.customer_id} == {elodie, created}
    # The very queue the batch run fills.
    client.force_login(destination.camille)
    page = client.get("/clients/doublons/")
    assert page.status_code == 200
    assert f"/clients/doublons/{pair.pk}/" in page.content.decode()


def test_a_partner_learns_nothing_of_a_customer_it_does_not_see(hotel, camping, model_home):
    elodie = hotel.post("/api/v1/customers", ELODIE).json()["customer"]["id"]
    response = camping.post("/api/v1/customers", TYPO)
    # The same answer as if the hotel's customer did not exist: a new customer, nothing listed.
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["customer"]["id"] != elodie and body["likely_existing"] == []
    text = response.content.decode()
    for secret in ("orange", "Lilas", "Élodie", "H-1001", "71 82", f'"id": {elodie},'):
        assert secret not in text
    # The camping is not linked to her; the destination reviews the pair.
    assert camping.get(f"/api/v1/customers/{elodie}").status_code == 404
    (pair,) = arrival_pairs()
    assert pair.status == ReviewStatus.PENDING
    assert Customer.objects.get(pk=elodie).first_name == "Élodie"


PLACEHOLDER = {"first_name": "Client", "last_name": "Anonyme", "email": "test@test.com",
               "phone": "0600000000", "birth_date": "1900-01-01", "postal_code": "00000"}  # fmt: skip


def test_placeholders_never_join_anyone(hotel, model_home):
    first = hotel.post("/api/v1/customers", PLACEHOLDER)
    again = hotel.post(
        "/api/v1/customers", {**PLACEHOLDER, "first_name": "Anonyme", "last_name": "Client"}
    )
    assert first.status_code == 201 and again.status_code == 201, again.content
    assert first.json()["customer"]["id"] != again.json()["customer"]["id"]
    # Placeholders around a real name do not carry it to her either.
    hotel.post("/api/v1/customers", ELODIE)
    with_placeholders = {**PLACEHOLDER, "first_name": "Élodie", "last_name": "Martin"}
    response = hotel.post("/api/v1/customers", with_placeholders)
    assert response.status_code == 201, response.content
    assert not arrival_pairs(ReviewStatus.MERGED).exists()


def test_a_name_alone_never_joins(hotel, model_home):
    hotel.post("/api/v1/customers", ELODIE)
    assert arrival_match({"first_name": "Élodie", "last_name": "Martin"}, Actor.system("t")) is None
    assert arrival_match({"first_name": "Client", "last_name": "Anonyme", "email": "test@test.com",
                          "phone": "0600000000"}, Actor.system("t")) is None  # fmt: skip
    sure = arrival_match({**TYPO}, Actor.system("t"))
    assert sure is not None and sure.zone == "merge"


def test_a_sure_score_without_a_strong_field_waits_for_a_person(hotel, model_home):
    elodie = hotel.post("/api/v1/customers", ELODIE).json()["customer"]["id"]
    # The same names and postcode only: a common name in a town is not proof enough.
    same_names = {"first_name": "Élodie", "last_name": "Martin", "postal_code": "74400",
                  "city": "Chamonix"}  # fmt: skip
    # Her first name, birth date and postcode under another surname.
    other_surname = {"first_name": "Élodie", "last_name": "Dupont", "birth_date": "1985-03-14",
                     "postal_code": "74400"}  # fmt: skip
    for record in (same_names, other_surname):
        match = arrival_match(record, Actor.system("t"))
        assert match is not None and match.customer_id == elodie, record
        assert match.score >= 0.99 and match.zone == "review", (record, match)
        assert hotel.post("/api/v1/customers", record).status_code == 201
    assert Customer.objects.count() == 3
    assert arrival_pairs(ReviewStatus.PENDING).count() == 2
    assert not arrival_pairs(ReviewStatus.MERGED).exists()


def test_a_bulk_call_is_left_to_the_batch_run(hotel, model_home):
    hotel.post("/api/v1/customers", ELODIE)
    other = {"first_name": "Paul", "last_name": "Durand", "email": "paul.durand@free.fr"}
    response = hotel.post("/api/v1/customers/bulk", {"records": [TYPO, other]})
    assert response.json()["created"] == 2, response.content
    assert not arrival_pairs().exists()


@pytest.mark.parametrize(
    "name",
    ["'; DROP TABLE customers_customer; --", "<script>alert(1)</script>", "Ma%_rtin", "é" * 100],
)
def test_hostile_names_are_matched_as_text(hotel, model_home, name):
    """Scored like any surname (the first name, birth date and postcode may still make her:
    the model, as in the batch run, forgives a changed surname), stored as text."""
    from cordee.customers.models import SourceRecord

    hotel.post("/api/v1/customers", ELODIE)
    response = hotel.post("/api/v1/customers", {**TYPO, "last_name": name})
    assert response.status_code in (200, 201), response.content
    assert SourceRecord.objects.count() == 2 and Customer.objects.exists()
    # Without the first name and birth date that carried her, the same surname joins no one.
    other = {"first_name": "Zacharie", "last_name": name, "postal_code": "74400"}
    assert hotel.post("/api/v1/customers", other).status_code == 201
