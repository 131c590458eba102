"""The review queue and the merge history on the customer page.

Claire Fontaine stayed at the hotel and at the campsite with two phones; identity
resolution hesitates and asks the office. Zoé Lambert (campsite) shares an address with
Élodie (hotel) in these stories: a household.
"""

from __future__ import annotations

import pytest

from cordee.customers.merging import customers_merge
from cordee.customers.models import (
    Customer,
    HouseholdLink,
    MergeEvent,
    PairDecision,
    ReviewStatus,
    SourceRecord,
)
from cordee.privacy.models import AuditEvent

pytestmark = pytest.mark.django_db

EVIDENCE = {"first_name": "same", "last_name": "same", "phone": "different", "email": "same"}


@pytest.fixture
def claire_pair(destination, import_file):
    import_file(
        "Prénom;Nom;Téléphone;CP;Ville\r\nClaire;Fontaine;06 55 44 33 22;38000;Grenoble\r\n",
        partner=destination.hotel,
        name="hotel.csv",
    )
    import_file(
        "Prénom;Nom;Téléphone;CP;Ville\r\nClaire;Fontaine;07 81 22 33 44;38000;Grenoble\r\n",
        partner=destination.camping,
        name="camping.csv",
    )
    left, right = SourceRecord.objects.order_by("pk")
    return PairDecision.objects.create(
        left=left, right=right, score=0.91, reason="score", evidence=EVIDENCE
    )


def test_the_office_reads_the_pair_side_by_side(signed_in, destination, claire_pair):
    response = signed_in(destination.camille).get("/clients/doublons/")
    assert response.status_code == 200
    text = response.text
    assert "Score 0,910" in text and "score intermédiaire" in text
    assert text.count("Claire Fontaine") >= 2
    assert "+33655443322" in text and "+33781223344" in text
    assert "verdict-different" in text and "Personnes différentes" in text


@pytest.mark.parametrize("who", ["helene", "lucas", "nadia"])
def test_partners_have_no_review_queue(signed_in, destination, claire_pair, who):
    response = signed_in(getattr(destination, who)).get("/clients/doublons/")
    assert response.status_code == 403
    response = signed_in(getattr(destination, who)).post(
        f"/clients/doublons/{claire_pair.pk}/", {"action": "merge"}
    )
    assert response.status_code == 403
    assert Customer.objects.count() == 2


def test_accepting_a_pair_merges_it_and_the_ledger_says_who(signed_in, destination, claire_pair):
    client = signed_in(destination.camille)
    response = client.post(
        f"/clients/doublons/{claire_pair.pk}/", {"action": "merge"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "Fusionnés" in response.text
    assert Customer.objects.count() == 1
    merge = MergeEvent.objects.get()
    assert merge.actor == destination.camille and merge.score == 0.91
    assert merge.evidence == EVIDENCE
    claire_pair.refresh_from_db()
    assert (
        claire_pair.status == ReviewStatus.MERGED and claire_pair.decided_by == destination.camille
    )
    assert AuditEvent.objects.filter(action="customer.review", actor=destination.camille).exists()
    # The pair has left the queue.
    assert "Claire Fontaine" not in client.get("/clients/doublons/").text
    assert AuditEvent.objects.filter(action="customer.review_list").exists()


def test_different_people_is_recorded_once(signed_in, destination, claire_pair):
    client = signed_in(destination.camille)
    client.post(f"/clients/doublons/{claire_pair.pk}/", {"action": "different"})
    claire_pair.refresh_from_db()
    assert claire_pair.status == ReviewStatus.DIFFERENT
    again = client.post(
        f"/clients/doublons/{claire_pair.pk}/", {"action": "merge"}, HTTP_HX_REQUEST="true"
    )
    assert "déjà été traitée" in again.text
    assert Customer.objects.count() == 2


@pytest.mark.parametrize(
    "action",
    ["", "<script>alert(1)</script>", "merge'; DROP TABLE x;--", "\x00\x1f", "m" * 100_000],
)
def test_a_hostile_action_is_a_clear_refusal(signed_in, destination, claire_pair, action):
    response = signed_in(destination.camille).post(
        f"/clients/doublons/{claire_pair.pk}/", {"action": action}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "Action inconnue" in response.text
    assert "<script>alert" not in response.text
    assert PairDecision.objects.get().status == ReviewStatus.PENDING


def test_an_unknown_pair_is_a_clear_refusal(signed_in, destination, claire_pair):
    response = signed_in(destination.camille).post("/clients/doublons/999999/", {"action": "merge"})
    assert response.status_code == 302
    assert Customer.objects.count() == 2


def test_the_customer_page_shows_why_and_lets_an_admin_undo(signed_in, destination, claire_pair):
    left, right = Customer.objects.order_by("pk")
    merge = customers_merge(left, right, score=0.97, evidence=EVIDENCE)
    page = signed_in(destination.camille).get(f"/clients/{left.pk}/").text
    assert "Pourquoi ?" in page and "score 0,970" in page and "Annuler cette fusion" in page
    # Marc (marketing) reads the history but may not undo.
    marc = signed_in(destination.marc)
    assert "Annuler cette fusion" not in marc.get(f"/clients/{left.pk}/").text
    assert marc.post(f"/clients/fusions/{merge.pk}/annuler/").status_code == 403
    assert not Customer.objects.filter(pk=right.pk).exists()
    response = signed_in(destination.camille).post(f"/clients/fusions/{merge.pk}/annuler/")
    assert response.status_code == 302
    assert Customer.objects.filter(pk=right.pk).exists()
    page = signed_in(destination.camille).get(f"/clients/{left.pk}/").text
    assert "Annulation de fusion" in page and "annulée depuis" in page
    assert AuditEvent.objects.filter(action="customer.unmerge").exists()


def test_households_show_only_people_the_reader_may_see(signed_in, destination, customers):
    elodie, zoe = customers["Élodie"], customers["Zoé"]
    HouseholdLink.objects.create(
        left=elodie.source_records.get(),
        right=zoe.source_records.get(),
        reason="shared contact, different first names",
    )
    page = signed_in(destination.camille).get(f"/clients/{elodie.pk}/").text
    assert "Zoé Lambert" in page and "prénoms différents" in page
    # Hélène (hotel) sees Élodie, not the campsite's Zoé.
    page = signed_in(destination.helene).get(f"/clients/{elodie.pk}/").text
    assert "Zoé" not in page and "Aucune autre personne" in page


def test_two_record_pairs_of_the_same_customers_are_one_entry_and_one_answer(
    signed_in, destination, claire_pair, import_file
):
    # Claire's second hotel record (another line) joins her hotel customer by phone.
    import_file(
        "Prénom;Nom;Téléphone;CP;Ville;Chambre\r\nClaire;Fontaine;06 55 44 33 22;38000;Grenoble;12\r\n",
        partner=destination.hotel,
        name="hotel-2.csv",
    )
    extra = SourceRecord.objects.order_by("-pk").first()
    assert extra.customer_id == claire_pair.left.customer_id
    second = PairDecision.objects.create(
        left=claire_pair.right, right=extra, score=0.85, reason="score", evidence=EVIDENCE
    )
    client = signed_in(destination.camille)
    assert client.get("/clients/doublons/").text.count("review-pair") == 1
    client.post(f"/clients/doublons/{claire_pair.pk}/", {"action": "different"})
    second.refresh_from_db()
    assert second.status == ReviewStatus.DIFFERENT
