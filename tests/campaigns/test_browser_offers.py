"""Hélène proposes an offer, Marc approves and sends it as a joint action, Hélène follows
it — in a real browser (screenshots in test-artifacts/screenshots/offers)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from tests.browser import shot
from tests.campaigns.conftest import grant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_partner_offer_from_proposal_to_joint_sending(visit, destination, people, sink):
    from playwright.sync_api import expect

    grant(people["elodie"], "partner_offers")
    grant(people["hans"], "partner_offers")
    page = visit.page
    visit.sign_in(destination.helene)
    page.get_by_role("link", name="Campagnes").click()
    page.get_by_role("button", name="Offres des partenaires").click()
    page.wait_for_url(re.compile(r"/campagnes/offres/$"))
    page.get_by_role("button", name="Proposer une offre").click()
    page.get_by_label("Titre de l'offre").fill("Nuit offerte")
    today = dt.date.today()
    page.get_by_label("Valable à partir du").fill(today.isoformat())
    page.get_by_label("Valable jusqu'au").fill((today + dt.timedelta(days=30)).isoformat())
    page.get_by_label("Code promotionnel (facultatif)").fill("NEIGE26")
    page.get_by_label("Objet", exact=True).fill("{{ first_name }}, une nuit offerte")
    rows = page.locator("#blocks-fr .block-row")
    rows.nth(1).locator("textarea").fill("La troisième nuit est offerte à l'Hôtel des Alpes.")
    shot(page, "offers/01-proposal")
    page.get_by_role("button", name="Envoyer à l'office").click()
    page.wait_for_url(re.compile(r"/campagnes/offres/\d+/$"))
    expect(page.locator("#offer-state")).to_have_text("En attente de l'office")
    frame = page.frame_locator("iframe.mail-preview")
    expect(frame.locator("body")).to_contain_text("Code NEIGE26")
    offer_url = page.url

    page.context.clear_cookies()
    visit.sign_in(destination.marc)
    page.goto(visit.base_url + "/campagnes/offres/")
    page.get_by_role("link", name="Nuit offerte").click()
    page.get_by_label("Adresse de l'expéditeur").fill("bonjour@vallee.example")
    page.get_by_label("Envoyer tout de suite").check()
    shot(page, "offers/02-review")
    page.get_by_role("button", name="Approuver", exact=True).click()
    page.wait_for_url(re.compile(r"/campagnes/\d+/$"))
    expect(page.locator("#follow-up .figures div").first).to_contain_text("2")
    shot(page, "offers/03-joint-campaign")
    assert sorted(m.rcpt_tos[0] for m in sink.messages) == [
        "elodie.martin@example.fr",
        "hans.mueller@example.de",
    ]

    page.context.clear_cookies()
    visit.sign_in(destination.helene)
    page.goto(offer_url)
    expect(page.locator("#offer-state")).to_have_text("Approuvée")
    expect(page.locator("#offer-figures div").first).to_contain_text("2")
    expect(page.locator("body")).not_to_contain_text("elodie.martin")
    shot(page, "offers/04-partner-follow-up")
