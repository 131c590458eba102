"""Marc writes, previews, tests and sends a campaign in a real browser (screenshots in test-artifacts/screenshots/campaigns)."""

from __future__ import annotations

import re

import pytest
from tests.browser import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_marc_writes_previews_tests_and_sends_a_campaign(visit, destination, people, sink):
    from playwright.sync_api import expect

    page = visit.page
    visit.sign_in(destination.marc)
    page.get_by_role("link", name="Campagnes").click()
    page.wait_for_url(re.compile(r"/campagnes/$"))
    shot(page, "campaigns/01-list-empty")
    page.get_by_role("button", name="Nouvelle campagne").click()
    page.get_by_label("Nom de la campagne").fill("Ouverture de l'hiver")
    page.get_by_label("Adresse de l'expéditeur").fill("bonjour@vallee.example")
    page.get_by_label("Coût (€)").fill("150")
    page.get_by_label("Objet", exact=True).fill("{{ first_name }}, l'hiver arrive")
    rows = page.locator("#blocks-fr .block-row")
    rows.nth(0).locator("textarea").fill("La saison d'hiver ouvre samedi")
    rows.nth(2).locator("select").select_option("button")
    rows.nth(2).locator("textarea").fill("Réserver mon séjour")
    rows.nth(2).locator("input").fill("https://vallee.example/reserver")
    page.locator("#blocks-fr ~ button", has_text="Ajouter un bloc").click()
    expect(rows).to_have_count(4)
    rows.nth(3).locator("select").select_option("offer")
    rows.nth(3).locator("textarea").fill(
        "-20 % sur les forfaits pour le groupe {{ loyalty_group }}"
    )
    shot(page, "campaigns/02-editor")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url(re.compile(r"/campagnes/\d+/$"))
    expect(page.locator("#audience li")).to_have_count(5)
    expect(page.locator("#audience li").last).to_contain_text("3")

    page.get_by_placeholder("N° du client").fill(str(people["elodie"].pk))
    page.get_by_role("button", name="Aperçu", exact=True).click()
    frame = page.frame_locator("iframe.mail-preview")
    expect(frame.locator("h1")).to_have_text("La saison d'hiver ouvre samedi")
    expect(page.locator("#preview")).to_contain_text("Élodie, l'hiver arrive")
    page.get_by_label("N° du client dont la version est envoyée").fill(str(people["hans"].pk))
    page.get_by_label("Adresse de test").fill("marc@office.example")
    page.get_by_role("button", name="Envoyer le test").click()
    expect(page.locator("#test-result")).to_contain_text("Envoi de test parti")
    shot(page, "campaigns/03-detail-preview-test")

    page.get_by_role("button", name="Programmer / envoyer").click()
    expect(page.locator("#follow-up")).to_be_visible()
    expect(page.locator("#follow-up .figures div").first).to_contain_text("3")
    shot(page, "campaigns/04-follow-up")
    assert sink.count == 4  # the test and the three consenting customers

    # Hostile input is refused with a clear message.
    page.goto(visit.base_url + "/campagnes/nouvelle/")
    page.get_by_label("Nom de la campagne").fill("Piège")
    page.get_by_label("Adresse de l'expéditeur").fill("bonjour@vallee.example")
    page.get_by_label("Objet", exact=True).fill("Objet")
    page.locator("#blocks-fr .block-row").nth(1).locator("textarea").fill(
        "<script>alert(1)</script>"
    )
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".form-error")).to_contain_text("le HTML n'est pas accepté")
    shot(page, "campaigns/05-hostile-refused")
