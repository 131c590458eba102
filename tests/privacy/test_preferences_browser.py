"""Zoé's preference centre on a phone, in Chromium: one tap per purpose (htmx), and without
JavaScript. Screenshots go to test-artifacts/screenshots/ for a person to look at."""

from __future__ import annotations

import pytest
from tests.browser import shot, tab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


@pytest.fixture
def zoe(destination):
    import importlib

    from django.apps import apps

    from cordee.customers.models import Customer

    # A transactional test's flush removes what the data migration seeded: seed it again.
    importlib.import_module("cordee.privacy.migrations.0003_seed_purposes").seed(apps, None)
    from cordee.customers.services import IncomingRecord, source_records_attach

    data = {"first_name": "Zoé", "last_name": "Lambert", "email": "zoe@x.fr", "language": "fr"}
    record = IncomingRecord(raw=dict(data), data=data)
    ids = source_records_attach(partner=destination.camping, channel="form", records=[record])
    return Customer.objects.get(pk=ids.customer_ids[0])


def phone_page(chromium, javascript=True, locale="fr-FR"):
    return tab(chromium, **PHONE, locale=locale, java_script_enabled=javascript)


def test_zoe_turns_the_newsletter_on_with_one_tap(chromium, live_server, zoe):
    from playwright.sync_api import expect

    from cordee.privacy.models import ConsentEvent
    from cordee.privacy.preferences import preference_token

    context, page, errors = phone_page(chromium)
    page.goto(f"{live_server.url}/preferences/?t={preference_token(zoe)}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes préférences")
    shot(page, "preferences-phone-fr")
    article = page.locator("article#newsletter")
    article.get_by_role("switch").click()
    expect(page.locator("article#newsletter .saved")).to_be_visible()
    expect(page.locator("article#newsletter .state .on")).to_be_visible()
    assert ConsentEvent.objects.get(customer=zoe).status == "granted"
    shot(page, "preferences-phone-after-tap")
    # The page is as wide as the phone: nothing overflows sideways.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    page.goto(f"{live_server.url}/preferences/?t={preference_token(zoe)}&lang=en")
    expect(page.locator("article#newsletter")).to_contain_text("The destination's newsletter")
    shot(page, "preferences-phone-en")
    page.goto(f"{live_server.url}/preferences/?t=garbage")
    expect(page.get_by_role("heading", level=1)).to_contain_text("pas valable")
    shot(page, "preferences-phone-invalid")
    context.close()
    assert [e for e in errors if "403" not in e] == []


def test_without_javascript_the_choice_is_saved_by_its_button(chromium, live_server, zoe):
    from playwright.sync_api import expect

    from cordee.privacy.models import ConsentEvent
    from cordee.privacy.preferences import preference_token

    context, page, errors = phone_page(chromium, javascript=False)
    page.goto(f"{live_server.url}/preferences/?t={preference_token(zoe)}")
    shot(page, "preferences-phone-nojs-before")
    article = page.locator("article#sms")
    article.get_by_role("switch").check()
    article.get_by_role("button").click()
    expect(page.locator("article#sms .state .on")).to_be_visible()
    assert ConsentEvent.objects.get(customer=zoe).purpose.slug == "sms"
    shot(page, "preferences-phone-nojs")
    context.close()
    assert errors == []
