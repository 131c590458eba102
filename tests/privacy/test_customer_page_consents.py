"""The customer page tells who agreed to what, to whom, when and how — to those who may see it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cordee.customers.models import Customer

CAMPING_FILE = (
    "Prénom;Nom;E-mail;consent_partner_offers\r\n"
    "Zoé;Lambert;zoe.lambert@example.fr;oui\r\n"
    "Élodie;Martin;elodie.martin@example.fr;oui\r\n"
    "Paul;Martinez;paul.martinez@example.fr;non\r\n"
)


@pytest.fixture
def consents(destination, hotel_batch, import_file, record_batch):
    """The hotel's file (see conftest) and the camping's, both recorded."""
    camping = import_file(CAMPING_FILE, partner=destination.camping, name="camping.csv")
    assert camping.status == "done", camping.error
    record_batch(hotel_batch)
    record_batch(camping)
    return {c.first_name: c for c in Customer.objects.all()}


def page(client, user, customer):
    client.force_login(user)
    return client.get(reverse("customers:detail", args=[customer.pk]))


def section(response) -> str:
    html = response.content.decode()
    start = html.index('<section id="consentements">')
    return html[start : html.index("</section>", start)]


def test_helene_sees_the_consents_of_her_customer(client, destination, consents):
    response = page(client, destination.helene, consents["Jean-Luc"])
    assert response.status_code == 200
    consent_section = section(response)
    assert "Lettre d&#x27;information de la destination" in consent_section
    assert "Refusé" in consent_section
    assert "auprès de Office de tourisme de la Vallée" in consent_section
    assert "déclaré par le partenaire" in consent_section
    assert "hotel.csv" in consent_section
    assert "<details" in consent_section


def test_helene_cannot_open_a_customer_she_has_no_business_with(client, destination, consents):
    """Paul told the camping no to sharing: he is the camping's alone."""
    assert page(client, destination.helene, consents["Paul"]).status_code == 404


def test_helene_opens_a_customer_shared_with_the_partners_in_the_shared_view(
    client, destination, consents
):
    """Zoé told the camping yes to sharing: Hélène sees her contact, not the camping's file."""
    response = page(client, destination.helene, consents["Zoé"])
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="shared-view"' in html and "zoe.lambert@example.fr" in html
    assert "camping.csv" not in html and "Camping du Lac" not in html


def test_another_partners_consent_stays_hidden_from_helene(client, destination, consents):
    """Élodie also told the camping yes to partners' offers: Hélène must not learn that."""
    helene_view = section(page(client, destination.helene, consents["Élodie"]))
    assert "Camping du Lac" not in helene_view
    assert "camping.csv" not in helene_view
    assert "auprès de Hôtel des Alpes" in helene_view
    office_view = section(page(client, destination.camille, consents["Élodie"]))
    assert "auprès de Camping du Lac" in office_view
    assert "camping.csv" in office_view


def test_a_purpose_never_asked_says_so(client, destination, consents):
    consent_section = section(page(client, destination.camille, consents["Hans"]))
    assert "Non recueilli" in consent_section
