"""The timeline on the customer page, logging and follow-ups, the loyalty card and the seasons page.

Claire stayed at the hotel and at the camping: the office sees both stays, each partner its own."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from cordee.activities.models import Activity, LoyaltyCard, Season
from cordee.activities.services import activity_record
from cordee.privacy.access import Actor

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


@pytest.fixture
def claire_stays(destination, customers):
    claire = customers["Claire"]
    for partner, day, product in (
        (destination.hotel, "2026-02-14", "Chambre vue lac"),
        (destination.camping, "2026-07-20", "Emplacement 12"),
    ):
        activity_record(
            customer=claire, partner=partner, actor=SYSTEM, channel="import",
            fields={"kind": "stay", "starts_on": day, "product": product},
        )  # fmt: skip
    return claire


def test_the_office_sees_every_partners_activities_grouped_by_season(
    signed_in, destination, claire_stays
):
    text = signed_in(destination.camille).get(f"/clients/{claire_stays.pk}/").text
    assert "Chronologie" in text
    assert "Été 2026" in text and "Hiver 2025-2026" in text
    assert "Chambre vue lac" in text and "Emplacement 12" in text
    assert text.index("Été 2026") < text.index("Hiver 2025-2026")  # newest first


def test_a_partner_sees_only_its_own_activities(signed_in, destination, claire_stays):
    text = signed_in(destination.helene).get(f"/clients/{claire_stays.pk}/").text
    assert "Chambre vue lac" in text
    assert "Emplacement 12" not in text and "Camping du Lac" not in text


def test_logging_a_call_and_a_follow_up_then_marking_it_done(signed_in, destination, customers):
    elodie = customers["Élodie"]
    client = signed_in(destination.helene)
    response = client.post(
        f"/activites/clients/{elodie.pk}/noter/",
        {
            "log-kind": "call",
            "log-starts_on": "2026-01-10",
            "log-product": "Demande de tarifs",
            "log-note": "<script>alert(1)</script>",
        },
    )
    assert response.status_code == 302
    call = Activity.objects.get(kind="call")
    assert (
        call.channel == "phone"
        and call.partner == destination.hotel
        and call.owner == destination.helene
    )
    page = client.get(f"/clients/{elodie.pk}/").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page

    due = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    client.post(
        f"/activites/clients/{elodie.pk}/relance/",
        {
            "fu-due_on": due,
            "fu-owner": destination.helene.pk,
            "fu-product": "Rappeler pour l'hiver",
        },
    )
    follow_up = Activity.objects.get(kind="follow_up")
    assert follow_up.due_on.isoformat() == due and follow_up.owner == destination.helene
    mine = client.get("/activites/relances/").text
    assert "Rappeler pour l&#x27;hiver" in mine and "Élodie" in mine
    client.post(f"/activites/relances/{follow_up.pk}/faite/")
    follow_up.refresh_from_db()
    assert follow_up.done_at is not None
    assert "Aucune relance en attente" in client.get("/activites/relances/").text


def test_bad_forms_lose_nothing_and_say_why(signed_in, destination, customers):
    elodie = customers["Élodie"]
    client = signed_in(destination.helene)
    response = client.post(
        f"/activites/clients/{elodie.pk}/noter/",
        {"log-kind": "hack", "log-starts_on": "not-a-date", "log-product": "x" * 10_000},
        follow=True,
    )
    assert "Sélectionnez un choix valide" in response.text or "choix valide" in response.text
    response = client.post(
        f"/activites/clients/{elodie.pk}/relance/",
        {"fu-due_on": "2000-01-01", "fu-owner": destination.lucas.pk, "fu-product": "x"},
        follow=True,
    )
    assert "L&#x27;échéance est passée" in response.text or "choix valide" in response.text
    assert Activity.objects.count() == 0


def test_a_partner_cannot_log_on_a_customer_it_does_not_see(signed_in, destination, customers):
    client = signed_in(destination.nadia)
    response = client.post(
        f"/activites/clients/{customers['Élodie'].pk}/noter/",
        {"log-kind": "call", "log-starts_on": "2026-01-10"},
    )
    assert response.status_code == 404
    assert Activity.objects.count() == 0


def test_loyalty_card_from_the_page_to_the_phone_to_another_desk(
    signed_in, destination, customers, client
):
    elodie = customers["Élodie"]
    signed_in(destination.helene).post(f"/activites/clients/{elodie.pk}/carte/")
    card = LoyaltyCard.objects.get(customer=elodie)
    client.logout()
    public = client.get(f"/activites/carte/{card.token}/")
    assert public.status_code == 200
    assert card.display_number in public.text and "<svg" in public.text
    assert public["Referrer-Policy"] == "no-referrer"
    assert client.get("/activites/carte/pas-le-bon-jeton/").status_code == 404
    # The card leads to the visitor's own preference centre, without a password.
    link = re.search(r'href="(/[^"]*\?t=[^"]+)"', public.text)
    assert link is not None and "Mes données et mes choix" in public.text
    centre = client.get(html.unescape(link.group(1)))
    assert centre.status_code == 200
    assert elodie.first_name in centre.text

    # Nadia's camping does not know Élodie, but she shows her card at its desk.
    desk = signed_in(destination.nadia)
    wrong = desk.post(
        "/activites/carte/",
        {"number": card.number[:-1] + str((int(card.number[-1]) + 1) % 10), "kind": "visit"},
    )
    assert "chiffre de contrôle" in wrong.text
    assert (
        desk.post("/activites/carte/", {"number": "<script>", "kind": "visit"}).status_code == 200
    )
    ok = desk.post(
        "/activites/carte/",
        {"number": card.display_number, "kind": "purchase", "amount": "12.50", "product": "Glace"},
    )
    assert ok.status_code == 302
    visit = Activity.objects.get(partner=destination.camping)
    assert visit.customer == elodie and visit.kind == "purchase"
    # The office sees the cross-partner use on the timeline; the camping still cannot open her page.
    assert "Glace" in signed_in(destination.camille).get(f"/clients/{elodie.pk}/").text
    assert signed_in(destination.nadia).get(f"/clients/{elodie.pk}/").status_code == 404


def test_seasons_page_is_for_the_office_admins(signed_in, destination):
    assert signed_in(destination.helene).get("/activites/saisons/").status_code == 403
    client = signed_in(destination.camille)
    client.post(
        "/activites/saisons/",
        {
            "form": "season",
            "season-kind": "winter",
            "season-starts_on": "2025-12-13",
            "season-ends_on": "2026-04-20",
        },
    )
    season = Season.objects.get()
    assert season.code == "hiver-2025-2026"
    response = client.post(
        "/activites/saisons/",
        {
            "form": "season",
            "season_id": season.pk,
            "season-kind": "summer",
            "season-starts_on": "2026-04-01",
            "season-ends_on": "2026-03-01",
        },
        follow=True,
    )
    assert "précède" in response.text
    client.post(
        "/activites/saisons/",
        {"form": "rule", "rule-kind": "summer", "rule-start": "15/05", "rule-end": "15/10"},
    )
    assert "15/05 – 15/10" in client.get("/activites/saisons/").text


def test_import_page_takes_an_activity_file(signed_in, destination, customers, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cordee.collect.models import ImportBatch, ImportIssue

    text = (
        "N° de réservation;E-mail;Date d'arrivée;Date de départ;Montant\n"
        "R-9;elodie.martin@orange.fr;14/02/2026;16/02/2026;250\n"
        "R-10;personne@example.fr;14/02/2026;;\n"
    )
    client = signed_in(destination.helene)
    response = client.post(
        "/imports/nouveau/",
        {
            "content": "activities",
            "activity_kind": "stay",
            "file": SimpleUploadedFile("resa.csv", text.encode(), content_type="text/csv"),
        },
    )
    assert response.status_code == 302, response.text
    batch = ImportBatch.objects.latest("pk")
    assert (batch.status, batch.accepted, batch.rejected) == ("done", 1, 1)
    assert Activity.objects.get().external_id == "R-9"
    assert "client introuvable" in ImportIssue.objects.get(batch=batch).message
    detail = client.get(f"/imports/{batch.pk}/").text
    assert (
        "Référence de l&#x27;activité" in detail or "référence de l&#x27;activité" in detail.lower()
    )


def test_import_page_refuses_an_activity_file_it_cannot_join(signed_in, destination):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = signed_in(destination.helene).post(
        "/imports/nouveau/",
        {
            "content": "activities",
            "file": SimpleUploadedFile("x.csv", b"Produit;Montant\nA;1\n", content_type="text/csv"),
        },
    )
    assert response.status_code == 200
    assert "aucune colonne de date" in response.text


def test_huge_and_hostile_requests_to_the_activity_pages(signed_in, destination, customers, client):
    elodie = customers["Élodie"]
    desk = signed_in(destination.helene)
    huge = desk.post(
        f"/activites/clients/{elodie.pk}/noter/",
        {"log-kind": "call", "log-starts_on": "2026-01-10", "log-note": "x" * (3 * 1024 * 1024)},
        follow=True,
    )
    assert huge.status_code in (200, 400)  # refused by the form or by Django's body limit
    if huge.status_code == 200:
        assert "2000" in huge.text
    long_note = desk.post(
        f"/activites/clients/{elodie.pk}/noter/",
        {"log-kind": "call", "log-starts_on": "2026-01-10", "log-note": "x" * 5000},
        follow=True,
    )
    assert "au plus 2000" in long_note.text or "2000" in long_note.text
    assert (
        desk.post("/activites/carte/", {"number": "1" * 5000, "kind": "visit"}).status_code == 200
    )
    assert desk.get("/activites/relances/999999/faite/").status_code == 405
    assert desk.post("/activites/relances/999999/faite/").status_code == 404
    client.logout()
    assert client.get("/activites/carte/" + "a" * 10_000 + "/").status_code == 404
    assert client.get("/activites/carte/%00%27%22%3Cscript%3E/").status_code == 404
    assert client.get("/activites/relances/").status_code == 302  # sign-in first
    assert Activity.objects.count() == 0
