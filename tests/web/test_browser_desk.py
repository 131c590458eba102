"""The front desk in a real Chromium: a known name is suggested while typing, then a new person
is entered with a consent given aloud."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from tests.browser import Visit

from cordee.customers.models import Customer
from cordee.privacy.models import ConsentEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(autouse=True)
def purposes(db):
    """The purposes and wordings seeded by the privacy migration (flushed by transactional tests)."""
    import importlib

    from django.apps import apps

    importlib.import_module("cordee.privacy.migrations.0003_seed_purposes").seed(apps, None)


def test_desk_agent_is_warned_then_creates_another_person(
    visit: Visit,
    destination,
    customers,
    home,
    trained_model,
):
    from playwright.sync_api import expect

    (home / "matching").mkdir()
    shutil.copy(trained_model, home / "matching" / "model.json")
    page = visit.page
    visit.sign_in(destination.helene)
    page.get_by_role("link", name="Nouveau client").first.click()
    page.wait_for_url(re.compile(r"/clients/nouveau/$"))
    first = page.get_by_label("Prénom")
    first.fill("Elodie")
    page.get_by_label("Nom", exact=True).press_sequentially("Martin", delay=40)
    page.get_by_label("Code postal").press_sequentially("74400", delay=40)
    suggestion = page.locator(".desk-suggestion")
    expect(suggestion.first).to_contain_text("Élodie Martin")
    expect(suggestion.first).to_contain_text("Concordent")
    expect(suggestion.first.get_by_role("link", name="C'est ce client")).to_be_visible()
    # Typing went on while the suggestions came: nothing typed was lost.
    expect(first).to_have_value("Elodie")
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / "desk.png"), full_page=True)

    # Not her: another person, with the newsletter accepted aloud.
    first.fill("Margot")
    page.get_by_label("Nom", exact=True).fill("Lefèvre")
    page.get_by_label("E-mail", exact=True).fill("margot.lefevre@example.net")
    page.get_by_label("Code postal").fill("74400")
    page.get_by_label("Motif de la visite").select_option("request")
    page.get_by_label("Objet", exact=True).fill("Plan des sentiers")
    page.locator("#id_consent_newsletter").check()
    page.get_by_role("button", name="Créer le client").click()
    page.wait_for_url(re.compile(r"/clients/\d+/$"))
    expect(page.locator(".messages")).to_contain_text("Client créé.")
    expect(page.locator("h1")).to_contain_text("Lefèvre")
    margot = Customer.objects.get(last_name="Lefèvre")
    assert page.url.endswith(f"/clients/{margot.pk}/")
    assert Customer.objects.filter(first_name="Élodie").count() == 1
    consent = ConsentEvent.objects.get(customer=margot)
    assert (consent.channel, consent.recorded_by) == ("desk", destination.helene)
