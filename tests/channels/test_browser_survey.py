"""Élodie answers the survey of her stay on her phone, in Chromium (screenshots in
test-artifacts/screenshots/survey)."""

from __future__ import annotations

import pytest
from tests.browser import shot, tab
from tests.channels.test_survey import stay  # noqa: F401  (fixture)

from cordee.activities.models import Activity
from cordee.channels import surveys

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def test_elodie_scores_her_stay_on_her_phone(chromium, live_server, stay):  # noqa: F811
    from playwright.sync_api import expect

    context, page, errors = tab(chromium, **PHONE)
    page.goto(f"{live_server.url}/enquete/?t={surveys.survey_token(stay)}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Élodie, votre avis compte")
    shot(page, "survey/01-question")
    page.get_by_role("button", name="Envoyer mon avis").click()  # no score: the browser asks
    assert Activity.objects.get(pk=stay.pk).satisfaction is None
    page.get_by_label("8", exact=True).check()
    page.get_by_label("Un mot à ajouter ? (facultatif)").fill("Personnel adorable, lit un peu dur.")
    page.get_by_role("button", name="Envoyer mon avis").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Merci pour votre avis !")
    shot(page, "survey/02-thanks")
    assert Activity.objects.get(pk=stay.pk).satisfaction == 8
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    context.close()
    assert errors == []
