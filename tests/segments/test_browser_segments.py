"""The segment pages in a real browser (Debian's Chromium through Playwright): a marketer
builds a nested segment with a live count, opens its members and profile; the director reads
the 3F dashboard and a customer's loyalty card. Fails on any console error (CSP included);
screenshots go to test-artifacts/screenshots/segments for a person to look at."""

from __future__ import annotations

import re
import time

import pytest
from tests import browser
from tests.browser import tab

from cordee.segments.services import stats_refresh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(chromium, live_server, request):
    context, tab_, errors = tab(chromium, viewport={"width": 1280, "height": 900})
    tab_.set_default_timeout(20_000)
    tab_.base = live_server.url  # type: ignore[attr-defined]
    yield tab_
    context.close()
    assert errors == [], f"console errors in {request.node.name}: {errors}"


def slow_network(page, seconds: float) -> None:
    """Every builder request takes ``seconds`` more on the way, as on a loaded machine or a
    mountain connection: what is typed meanwhile must survive the answer."""

    def hold(route) -> None:
        if route.request.method == "POST":
            time.sleep(seconds)
        route.continue_()

    page.route(re.compile(r"/segments/"), hold)


def type_fast(page, name: str, text: str) -> None:
    """Type over a field's value at a fast typist's pace (≈ 12 keys a second), once."""
    field = page.locator(f"input[name='{name}']")
    field.click()
    field.press("Control+a")
    field.press_sequentially(text, delay=80)


def sign_in(page, user) -> None:
    browser.sign_in(page, page.base, user)


@pytest.fixture
def valley(history, destination):
    people = [
        history(
            "Élodie",
            {2022: [(9, 300)], 2023: [(8, 250)], 2024: [(9, 400)]},
            gender="F",
            departement="92",
            birth_year=1995,
        ),
        history(
            "Jean",
            {2023: [(4, 100)], 2024: [(5, 80)]},
            gender="M",
            departement="73",
            birth_year=1970,
        ),
        history(
            "Inès", {2020: [(9,)], 2021: [(9,)]}, gender="F", departement="75", birth_year=1999
        ),
        history("Léa", {2024: [(10, 120)]}, gender="F", departement="69", birth_year=1990),
        history("Zoé", None, gender="F", departement="93", birth_year=2001),
    ]
    stats_refresh(train=False)  # also puts back the 3F segments a transactional test flushed
    return people


# fmt: skip


def test_a_value_selected_whole_when_a_redraw_lands_is_typed_over(page, valley, destination):
    """The person selects the value (Ctrl+A) while a redraw is on its way; it lands before the
    first key: the new field keeps the selection, and typing replaces the value."""
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    sign_in(page, destination.marc)
    page.goto(page.base + "/segments/nouveau/")
    page.get_by_role("button", name="+ condition").click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="+ groupe").first.click()
    expect(page.locator("select[name='n-0.1-type']")).to_be_visible()
    page.wait_for_load_state("networkidle")
    slow_network(page, 0.5)
    page.locator("select[name='n-0.1-type']").select_option("any")
    field = page.locator("input[name='n-0.1.0-value']")
    field.click()
    field.press("Control+a")
    page.wait_for_timeout(1_500)  # the redraw has landed, the value is still selected
    field.press_sequentially("92, 93", delay=80)
    expect(field).to_have_value("92, 93")


def test_marketer_builds_a_nested_segment_and_director_reads_the_3f(page, valley, destination):
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)  # the machine is shared: be patient, not flaky
    sign_in(page, destination.marc)
    page.goto(page.base + "/segments/")
    expect(page.get_by_role("link", name="Fidèles")).to_be_visible()
    browser.shot(page, "segments/segments-list")

    page.get_by_role("button", name="Nouveau segment").click()
    expect(page.locator("#segment-count")).to_have_text("5")
    page.get_by_role("button", name="+ condition").click()
    expect(page.locator("#segment-count")).to_have_text("4")
    page.wait_for_load_state("networkidle")  # the default condition: women
    page.get_by_role("button", name="+ groupe").first.click()
    expect(page.locator("select[name='n-0.1-type']")).to_be_visible()
    # A person changes the group to « au moins une » and types the départements at once,
    # while the redraw that change asked for is still on its way (held 0.5 s): the redraw lands
    # in the middle of the typing, and not a character is lost.
    slow_network(page, 0.5)
    page.locator("select[name='n-0.1-type']").select_option("any")
    type_fast(page, "n-0.1.0-value", "92, 75, 93")
    expect(page.locator("input[name='n-0.1.0-value']")).to_have_value("92, 75, 93")
    expect(page.locator("#segment-count")).to_have_text("3")
    expect(page.locator("select[name='n-0.1-type']")).to_have_value("any")
    page.locator("#node-0 > .seg-actions").get_by_role("button", name="+ condition").click()
    page.locator("select[name='n-0.2-field']").select_option("loyalty_group")
    expect(page.locator("select[name='n-0.2-op'] option[value='empty']")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    page.locator("select[name='n-0.2-op']").select_option("in")
    # The server's answer marks the operator chosen; the condition still holds the default
    # value, which is no 3F group: said in French.
    expect(page.locator("select[name='n-0.2-op'] option[value='in'][selected]")).to_have_count(1)
    expect(page.locator(".seg-errors")).to_contain_text("valeur « F » inconnue")
    type_fast(page, "n-0.2-value", "fidele, fuyant")
    expect(page.locator("input[name='n-0.2-value']")).to_have_value("fidele, fuyant")
    expect(page.locator("#segment-count")).to_have_text("2")
    page.unroute(re.compile(r"/segments/"))
    page.get_by_role("button", name="Voir les membres").click()
    expect(page.locator("#preview")).to_contain_text("Élodie")
    page.get_by_role("button", name="Comparer avec la base").click()
    expect(page.locator("#profile")).to_contain_text("Profil du segment")
    browser.shot(page, "segments/segment-builder")

    page.locator("input[name='n-0.2-value']").fill("pas-un-groupe")
    expect(page.locator(".seg-errors")).to_contain_text("inconnue")
    browser.shot(page, "segments/segment-builder-error")
    page.locator("input[name='n-0.2-value']").fill("fidele")
    page.wait_for_load_state("networkidle")
    page.get_by_placeholder("Nom du segment").fill("Parisiennes fidèles")
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url(re.compile(r"/segments/parisiennes-fideles/$"))
    expect(page.get_by_role("button", name="Exporter (CSV)")).to_be_visible()

    page.goto(page.base + "/segments/fidelite/")
    expect(page.locator(".seg-flow")).to_be_visible()
    browser.shot(page, "segments/loyalty-dashboard")
    page.goto(page.base + f"/clients/{valley[1].pk}/")
    expect(page.locator("#fidelite")).to_contain_text("Forcé")
    page.locator("#fidelite").scroll_into_view_if_needed()
    browser.shot(page, "segments/customer-loyalty")
