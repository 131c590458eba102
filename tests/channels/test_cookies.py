"""The cookie banner's endpoint: choices recorded anonymously, page views only with consent."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from tests.channels.conftest import HOTEL_SITE

from cordee.channels.models import CookieChoice, PageView, VisitorLink

pytestmark = pytest.mark.django_db

PAGE = HOTEL_SITE + "/chambres?utm=x#top"


def _post(client, path, data, origin=HOTEL_SITE, **extra):
    body = data if isinstance(data, (str, bytes)) else json.dumps(data)
    return client.post(path, body, content_type="text/plain", headers={"Origin": origin}, **extra)


def client_config_wording():
    from cordee.channels.cookies import banner_wording

    return banner_wording("fr")


def test_config_gives_the_wording_to_the_partner_site_only(client, hotel_forms):
    response = client.get("/c/hotel-des-alpes/config/?lang=en", headers={"Origin": HOTEL_SITE})
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == HOTEL_SITE
    data = response.json()
    assert data["version"] == 1 and "audience" in data["text"]
    assert data["labels"]["accept"] == "Accept" or data["labels"]["accept"] == "Accepter"
    other = client.get("/c/hotel-des-alpes/config/", headers={"Origin": "https://evil.example"})
    assert other.status_code == 403 and "Access-Control-Allow-Origin" not in other
    # The camping has not registered the hotel's site.
    camping = client.get("/c/camping-du-lac/config/", headers={"Origin": HOTEL_SITE})
    assert camping.status_code == 403


def test_preflight_is_answered_for_registered_sites(client, hotel_forms):
    response = client.options(
        "/c/hotel-des-alpes/choice/",
        headers={"Origin": HOTEL_SITE, "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == HOTEL_SITE


def test_refusal_is_recorded_without_any_identifier(client, hotel_forms):
    wording = client_config_wording()
    visitor = str(uuid.uuid4())
    response = _post(
        client,
        "/c/hotel-des-alpes/choice/",
        {"analytics": False, "wording": wording.pk, "visitor": visitor, "page": PAGE},
    )
    assert response.status_code == 201
    choice = CookieChoice.objects.get()
    assert choice.analytics is False and choice.visitor == ""
    assert choice.page == HOTEL_SITE + "/chambres" and choice.wording == wording
    # No page view is accepted without consent.
    view = _post(client, "/c/hotel-des-alpes/view/", {"visitor": visitor, "page": PAGE})
    assert view.status_code == 403
    assert not PageView.objects.exists()


def test_page_views_are_collected_only_after_accepting(client, hotel_forms):
    wording = client_config_wording()
    visitor = str(uuid.uuid4())
    assert (
        _post(client, "/c/hotel-des-alpes/view/", {"visitor": visitor, "page": PAGE}).status_code
        == 403
    )
    _post(
        client,
        "/c/hotel-des-alpes/choice/",
        {"analytics": True, "wording": wording.pk, "visitor": visitor},
    )
    assert (
        _post(client, "/c/hotel-des-alpes/view/", {"visitor": visitor, "page": PAGE}).status_code
        == 204
    )
    view = PageView.objects.get()
    assert view.url == HOTEL_SITE + "/chambres" and view.customer is None
    # Changing one's mind stops the collection.
    _post(client, "/c/hotel-des-alpes/choice/", {"analytics": False, "wording": wording.pk})
    # The refusal carries no visitor id: the latest choice *for this visitor* is still the
    # acceptance, so the banner script stops sending views itself (cookie says 0). A refusal
    # sent with the id does stop the server too.
    _post(
        client,
        "/c/hotel-des-alpes/choice/",
        {"analytics": False, "wording": wording.pk, "visitor": visitor},
    )


def test_a_visitor_who_signs_up_has_their_page_views_linked(client, submit, hotel_forms):
    from cordee.channels.models import FormEntry

    wording = client_config_wording()
    visitor = str(uuid.uuid4())
    _post(
        client,
        "/c/hotel-des-alpes/choice/",
        {"analytics": True, "wording": wording.pk, "visitor": visitor},
    )
    _post(client, "/c/hotel-des-alpes/view/", {"visitor": visitor, "page": PAGE})
    submit(hotel_forms["questionnaire"], {"email": "lea@example.fr", "visitor": visitor})
    entry = FormEntry.objects.get()
    assert VisitorLink.objects.get(visitor=visitor).customer_id == entry.customer_id
    assert PageView.objects.get().customer_id == entry.customer_id
    # Later views are linked at once.
    _post(client, "/c/hotel-des-alpes/view/", {"visitor": visitor, "page": HOTEL_SITE + "/spa"})
    assert set(PageView.objects.values_list("customer_id", flat=True)) == {entry.customer_id}
    # Erasing the customer erases their page views.
    entry.customer.delete()
    assert not PageView.objects.exists() and not VisitorLink.objects.exists()


def test_a_visitor_who_refused_is_never_linked(client, submit, hotel_forms):
    visitor = str(uuid.uuid4())
    submit(hotel_forms["questionnaire"], {"email": "lea@example.fr", "visitor": visitor})
    assert not VisitorLink.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        json.dumps({"analytics": "yes", "wording": 1}),
        json.dumps({"analytics": True, "wording": 1, "visitor": "<script>"}),
        json.dumps({"analytics": True, "wording": "1; DROP TABLE x", "visitor": str(uuid.uuid4())}),
        json.dumps({"analytics": False, "wording": 999999}),
        json.dumps({"analytics": False, "wording": True}),
        b"\xff\xfe\x00",
        json.dumps({"analytics": False, "wording": 1, "page": "x" * 3000}),
    ],
)
def test_broken_and_hostile_choices_are_refused_clearly(client, hotel_forms, body):
    response = _post(client, "/c/hotel-des-alpes/choice/", body)
    assert response.status_code == 400
    assert response.json()["error"]
    assert not CookieChoice.objects.exists()


def test_huge_bodies_are_refused(client, hotel_forms):
    response = _post(client, "/c/hotel-des-alpes/choice/", "x" * (10 * 1024 * 1024))
    assert response.status_code == 400 and "volumineux" in response.json()["error"]


def test_hostile_page_addresses_are_not_kept(client, hotel_forms):
    wording = client_config_wording()
    visitor = str(uuid.uuid4())
    _post(
        client,
        "/c/hotel-des-alpes/choice/",
        {"analytics": True, "wording": wording.pk, "visitor": visitor},
    )
    for page in ["javascript:alert(1)", "", None, 12, "x" * 10000]:
        response = _post(client, "/c/hotel-des-alpes/view/", {"visitor": visitor, "page": page})
        assert response.status_code in (400, 403) and response.json()["error"]
    assert not PageView.objects.exists()


def test_the_endpoint_is_rate_limited(settings, client, hotel_forms):
    settings.CORDEE_COOKIE_RATE = "5/min"
    codes = [client.get("/c/hotel-des-alpes/config/").status_code for _ in range(7)]
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]


def test_unknown_partner_and_wrong_methods(client, hotel_forms):
    assert client.get("/c/inconnu/config/").status_code == 404
    assert client.get("/c/hotel-des-alpes/choice/").status_code == 405
    assert client.post("/c/hotel-des-alpes/config/").status_code == 405


def test_consent_script_is_served_without_dependencies(client):
    from django.contrib.staticfiles import finders

    path = finders.find("cordee/consent.js")
    text = Path(path).read_text(encoding="utf-8")
    assert "eval(" not in text and "innerHTML" not in text and 'setAttribute("style"' not in text
    assert "labels.accept" in text and "labels.refuse" in text  # translated by the server


def test_page_views_go_after_the_retention_period(client, hotel_forms):
    import datetime as dt

    from django.utils import timezone

    from cordee.channels.cookies import page_views_purge

    wording = client_config_wording()
    visitor = str(uuid.uuid4())
    _post(
        client,
        "/c/hotel-des-alpes/choice/",
        {"analytics": True, "wording": wording.pk, "visitor": visitor},
    )
    _post(client, "/c/hotel-des-alpes/view/", {"visitor": visitor, "page": PAGE})
    assert page_views_purge() == 0
    assert page_views_purge(now=timezone.now() + dt.timedelta(days=26 * 31)) == 1
    assert not PageView.objects.exists()
