"""A partner's site on another origin embeds the form and the cookie banner, in real Chromium.

The partner page is served by a small http.server on 127.0.0.1 while Cordée runs on
localhost: two different origins (and sites), as on the Internet. Screenshots go to
test-artifacts/screenshots/channels/ for a person to look at.
"""

from __future__ import annotations

import http.server
import re
import threading
import time

import pytest
from tests.browser import shot, tab, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def partner_site(live_server):
    """The hotel's own website, with the two snippets the hub gave it."""
    cordee = live_server.url
    html = f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Hôtel des Alpes</title></head>
<body><h1>Hôtel des Alpes</h1><p>Chambres avec vue sur les sommets.</p>
<h2>Notre lettre</h2>
<script src="{cordee}/static/cordee/embed.js" data-form="hotel-lettre"></script>
<p style="height:400px">Pied de page</p>
<script src="{cordee}/static/cordee/consent.js" data-partner="hotel-des-alpes"></script>
</body></html>""".encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def site_forms(purposes, destination, partner_site):
    from cordee.channels.models import FormKind, PublicForm, SiteOrigin

    SiteOrigin.objects.create(partner=destination.hotel, origin=partner_site)
    return PublicForm.objects.create(
        partner=destination.hotel,
        slug="hotel-lettre",
        kind=FormKind.NEWSLETTER,
        title_fr="La lettre de l'Hôtel des Alpes",
    )


def _context(chromium, **options):
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)  # a shared, loaded machine: be patient, not flaky
    return tab(chromium, **options)


def test_a_visitor_accepts_cookies_and_signs_up_in_the_framed_form(
    chromium, live_server, partner_site, site_forms, mailbox
):
    from playwright.sync_api import expect

    from cordee.channels.models import CookieChoice, FormEntry, PageView, VisitorLink
    from cordee.privacy.models import ConsentEvent

    context, page, errors = _context(chromium, viewport={"width": 1100, "height": 800})
    page.goto(partner_site + "/sejour")
    banner = page.locator("#cordee-consent")
    expect(banner).to_be_visible()
    buttons = [page.locator(f'[data-cordee="{n}"]') for n in ("accept", "refuse", "choose")]
    boxes = [b.bounding_box() for b in buttons]
    colours = [b.evaluate("e => getComputedStyle(e).backgroundColor") for b in buttons]
    # Refusing is as easy as accepting: same size, same colour.
    assert len({round(b["height"]) for b in boxes}) == 1 and len(set(colours)) == 1
    frame = page.frame_locator("iframe")
    expect(frame.get_by_role("heading", level=1)).to_have_text("La lettre de l'Hôtel des Alpes")
    shot(page, "channels/partner-site-banner")

    buttons[0].click()
    expect(banner).to_have_count(0)
    cookie = next(c for c in context.cookies() if c["name"] == "cordee_consent")
    wording, accepted, visitor = cookie["value"].replace("%2E", ".").split(".")
    assert accepted == "1"
    assert wait_for(lambda: PageView.objects.filter(visitor=visitor).count() == 1)
    assert CookieChoice.objects.get().analytics is True

    page.reload()  # the choice holds: no banner, one more page view, the form knows the visitor
    expect(page.locator("iframe")).to_have_attribute("src", re.compile(f"v={visitor}"))
    assert page.locator("#cordee-consent").count() == 0
    assert wait_for(lambda: PageView.objects.filter(visitor=visitor).count() == 2)

    # The embed script points the frame at the visitor's form: fill it once that has loaded.
    page.wait_for_load_state("networkidle")
    frame = page.frame_locator("iframe")
    frame.get_by_role("textbox", name="E-mail").fill("lea.roux@example.fr")
    frame.locator('input[name="consent_newsletter"]').check()
    shot(page, "channels/partner-site-form-filled")
    frame.get_by_role("button", name="Je m'inscris").click()
    # The sign-up sends its confirmation mail before answering: give a loaded machine time.
    expect(frame.get_by_role("heading", level=1)).to_have_text(
        "Vérifiez votre boîte mail", timeout=20_000
    )
    shot(page, "channels/partner-site-form-sent")
    assert FormEntry.objects.get().page == partner_site + "/sejour"

    link = mailbox.link(mailbox.wait(1)[0])
    page.goto(link)
    shot(page, "channels/confirm-page")
    page.get_by_role("button", name="Je confirme").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("C'est confirmé, merci !")
    event = ConsentEvent.objects.get()
    assert event.status == "granted" and event.page == partner_site + "/sejour"
    customer_id = VisitorLink.objects.get(visitor=visitor).customer_id
    assert set(PageView.objects.values_list("customer_id", flat=True)) == {customer_id}
    assert errors == []
    context.close()


def test_a_visitor_refuses_with_one_click_and_nothing_is_collected(
    chromium, live_server, partner_site, site_forms
):
    from playwright.sync_api import expect

    from cordee.channels.models import CookieChoice, PageView

    context, page, errors = _context(chromium, viewport={"width": 390, "height": 844})
    page.goto(partner_site + "/")
    shot(page, "channels/partner-site-banner-phone")
    page.locator('[data-cordee="refuse"]').click()
    expect(page.locator("#cordee-consent")).to_have_count(0)
    assert wait_for(lambda: CookieChoice.objects.filter(analytics=False).count() == 1)
    cookie = next(c for c in context.cookies() if c["name"] == "cordee_consent")
    assert ".0." in cookie["value"].replace("%2E", ".")
    page.reload()
    expect(page.frame_locator("iframe").get_by_role("button", name="Je m'inscris")).to_be_visible()
    assert page.locator("#cordee-consent").count() == 0
    assert "v=" not in (page.locator("iframe").get_attribute("src") or "")
    time.sleep(0.3)
    assert not PageView.objects.exists()
    shot(page, "channels/partner-site-phone-after-refusal")
    # "Choisir" then save with the box unticked is a refusal too.
    page.evaluate("window.CordeeConsent.open()")
    page.locator('[data-cordee="choose"]').click()
    shot(page, "channels/partner-site-choose-panel")
    page.locator('[data-cordee="save"]').click()
    assert wait_for(lambda: CookieChoice.objects.filter(analytics=False).count() == 2)
    assert errors == []
    context.close()


def test_an_unregistered_site_cannot_frame_the_form(
    chromium, live_server, partner_site, purposes, destination
):
    from playwright.sync_api import expect

    from cordee.channels.models import FormKind, PublicForm

    PublicForm.objects.create(
        partner=destination.hotel, slug="hotel-lettre", kind=FormKind.NEWSLETTER, title_fr="Lettre"
    )
    context, page, errors = _context(chromium)
    page.goto(partner_site + "/")
    expect(page.locator("iframe")).to_have_count(1)
    page.wait_for_timeout(1500)
    assert page.frame_locator("iframe").get_by_role("button", name="Je m'inscris").count() == 0
    assert any("frame-ancestors" in e for e in errors), errors
    context.close()
