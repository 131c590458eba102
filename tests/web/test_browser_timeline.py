"""The timeline, the loyalty card on a phone and the desk's card entry in a real Chromium."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from tests.browser import shot

from cordee.activities.cards import loyalty_card_issue
from cordee.activities.models import Activity
from cordee.activities.services import activity_record
from cordee.privacy.access import Actor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_timeline_follow_up_and_card(visit, destination, customers, chromium):
    from playwright.sync_api import expect

    elodie = customers["Élodie"]
    system = Actor.system("test")
    activity_record(
        customer=elodie, partner=destination.hotel, actor=system, channel="import",
        fields={"kind": "stay", "starts_on": "2026-02-14", "ends_on": "2026-02-21", "product": "Chambre vue lac", "amount": "980"},
    )  # fmt: skip
    card = loyalty_card_issue(customer=elodie, actor=system)
    page = visit.page
    visit.sign_in(destination.helene)
    visit.go(f"/clients/{elodie.pk}/")
    expect(page.locator("#chronologie")).to_contain_text("Hiver 2025-2026")
    expect(page.locator("#chronologie")).to_contain_text("Chambre vue lac")
    page.get_by_text("Noter un appel, une visite, une demande…").click()
    page.get_by_label("Objet", exact=True).fill("Demande de disponibilités")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url(re.compile(r"/clients/\d+/"))
    expect(page.locator("#chronologie")).to_contain_text("Demande de disponibilités")
    page.get_by_text("Programmer une relance").click()
    page.get_by_label("Échéance").fill((dt.date.today() + dt.timedelta(days=10)).isoformat())
    page.get_by_label("Objet de la relance").fill("Proposer l'été")
    page.get_by_role("button", name="Créer la relance").click()
    expect(page.locator(".follow-ups-due")).to_contain_text("Proposer l'été")
    visit.shot("timeline")
    page.get_by_role("link", name="Relances").click()
    expect(page.locator("table")).to_contain_text("Proposer l'été")
    visit.shot("follow-ups")
    page.get_by_role("button", name="Faite").click()
    expect(page.get_by_text("Aucune relance en attente.")).to_be_visible()

    # The card on a phone, no sign-in.
    phone = chromium.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    mobile = phone.new_page()
    errors: list[str] = []
    mobile.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    mobile.goto(f"{visit.base_url}/activites/carte/{card.token}/")
    expect(mobile.locator(".card-number")).to_have_text(card.display_number)
    expect(mobile.locator(".qr svg")).to_be_visible()
    shot(mobile, "card-phone")
    phone.close()
    assert errors == []

    # At the camping's desk (Nadia does not know Élodie).
    visit.page.context.clear_cookies()
    visit.sign_in(destination.nadia)
    visit.go("/activites/carte/")
    page.get_by_label("Numéro de carte").fill(card.display_number)
    page.get_by_label("Quoi").select_option("purchase")
    page.get_by_label("Montant (€)").fill("4.50")
    page.get_by_role("button", name="Enregistrer le passage").click()
    expect(page.locator(".messages")).to_contain_text("Passage enregistré")
    visit.shot("card-desk")
    assert Activity.objects.filter(partner=destination.camping, customer=elodie).count() == 1
