"""The customer page: the golden record, where each value came from, and the source records."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cordee.customers.models import Customer, CustomerLink, SourceRecord
from cordee.privacy.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_the_office_reads_elodie_with_where_each_value_came_from(signed_in, destination, customers):
    elodie = customers["Élodie"]
    response = signed_in(destination.camille).get(f"/clients/{elodie.pk}/")
    assert response.status_code == 200
    text = response.text
    expected = (
        "Élodie", "Martin", "Mme", "elodie.martin@orange.fr", "+33 6 12 34 56 78",
        "3 rue des Lilas", "74400", "Chamonix-Mont-Blanc", "France", "14/03/1985",
    )  # fmt: skip
    for value in expected:
        assert value in text, value
    today = timezone.localdate().strftime("%d/%m/%Y")
    assert f"Hôtel des Alpes · import de fichier · {today}" in text
    # The source record, with its raw values as received.
    assert "hotel.csv · ligne 2" in text
    assert "Elodie.Martin@Orange.fr" in text and "MARTIN" in text


def test_a_country_shows_by_its_french_name(signed_in, destination, customers):
    response = signed_in(destination.camille).get(f"/clients/{customers['Hans'].pk}/")
    assert "Allemagne" in response.text and "Hauptstraße 5" in response.text


def test_helene_reads_a_hotel_customer(signed_in, destination, customers):
    response = signed_in(destination.helene).get(f"/clients/{customers['Élodie'].pk}/")
    assert response.status_code == 200 and "elodie.martin@orange.fr" in response.text


def test_nadia_gets_a_404_on_a_hotel_customer(signed_in, destination, customers):
    client = signed_in(destination.nadia)
    hidden = client.get(f"/clients/{customers['Élodie'].pk}/")
    missing = client.get("/clients/999999/")
    assert hidden.status_code == missing.status_code == 404
    assert "Élodie" not in hidden.text and "Martin" not in hidden.text
    assert not AuditEvent.objects.filter(action="customer.view").exists()


def test_a_shared_customer_shows_each_partner_only_its_own_records(
    signed_in, destination, customers
):
    claire = customers["Claire"]
    assert SourceRecord.objects.filter(customer=claire).count() == 2
    office = signed_in(destination.camille).get(f"/clients/{claire.pk}/")
    assert "Hôtel des Alpes" in office.text and "Camping du Lac" in office.text
    hotel = signed_in(destination.helene).get(f"/clients/{claire.pk}/")
    assert (
        len(hotel.context["sources"]) == 1
        and hotel.context["sources"][0].partner == destination.hotel
    )
    assert "camping.csv" not in hotel.text and "Camping du Lac" not in hotel.text
    # Values the camping brought last are still shown, their origin kept anonymous.
    assert "transmis par un autre partenaire de la destination" in hotel.text


def test_the_link_to_the_import_shows_to_those_who_may_follow_imports(
    signed_in, destination, customers
):
    elodie = customers["Élodie"]
    batch_id = SourceRecord.objects.get(customer=elodie).batch_id
    assert (
        f'href="/imports/{batch_id}/"'
        in signed_in(destination.camille).get(f"/clients/{elodie.pk}/").text
    )
    assert (
        f'href="/imports/{batch_id}/"'
        in signed_in(destination.helene).get(f"/clients/{elodie.pk}/").text
    )


def test_reading_a_customer_is_audited(signed_in, destination, customers):
    elodie = customers["Élodie"]
    signed_in(destination.helene).get(f"/clients/{elodie.pk}/")
    event = AuditEvent.objects.get(action="customer.view")
    assert (event.actor, event.object_type, event.object_id) == (
        destination.helene,
        "customer",
        str(elodie.pk),
    )
    assert "Martin" not in str(event.details)


def test_html_in_a_customer_is_shown_as_text(signed_in, destination):
    now = timezone.now()
    evil = Customer.objects.create(
        first_name="<script>alert(1)</script>", last_name="<img src=x onerror=alert(2)>",
        profession="<svg onload=alert(3)>", interests=["<script>"], attributes={"<b>": "<i>"},
    )  # fmt: skip
    CustomerLink.objects.create(customer=evil, partner=destination.hotel, first_seen=now)
    source = SourceRecord.objects.create(
        customer=evil, partner=destination.hotel, channel="desk", collected_at=now,
        raw={"<script>": "<script>alert(4)</script>"}, data={}, fingerprint="f" * 32,
    )  # fmt: skip
    evil.provenance = {"first_name": source.pk}
    evil.save()
    response = signed_in(destination.helene).get(f"/clients/{evil.pk}/")
    assert response.status_code == 200
    assert "<script>" not in response.text.split("</head>")[1]
    assert (
        "<img src=x" not in response.text
        and "<svg" not in response.text
        and "<b>" not in response.text
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
