"""Zoé opens her preference centre from the link in a message: no account, one tap per purpose."""

from __future__ import annotations

import json
import time

import pytest
from django.core import signing
from django.core.cache import cache

from cordee.customers.models import Customer
from cordee.privacy.access import Actor
from cordee.privacy.erasure import customer_erase
from cordee.privacy.models import ConsentEvent, DataSubjectRequest
from cordee.privacy.preferences import SALT, preference_link, preference_token
from cordee.privacy.queries import customers_with_consent

URL = "/preferences/"


@pytest.fixture(autouse=True)
def _fresh_rate_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def zoe(destination):
    from cordee.customers.services import IncomingRecord, source_records_attach

    data = {"first_name": "Zoé", "last_name": "Lambert", "email": "zoe@x.fr", "language": "fr"}
    record = IncomingRecord(raw={k: str(v) for k, v in data.items()}, data=data)
    ids = source_records_attach(partner=destination.camping, channel="form", records=[record])
    return Customer.objects.get(pk=ids.customer_ids[0])


@pytest.fixture
def token(zoe):
    return preference_token(zoe)


def test_the_link_opens_her_page_with_each_purpose_in_plain_words(client, zoe, token):
    link = preference_link(zoe)
    assert link.startswith("http://localhost:8000/preferences/?t=")
    response = client.get(URL, {"t": token})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Lettre d&#x27;information" in html or "Lettre d'information" in html
    assert 'role="switch"' in html and html.count('class="choice"') == 6  # orders is a contract
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_a_toggle_without_javascript_records_the_consent_with_its_proof(client, zoe, token):
    response = client.post(
        f"{URL}finalite/newsletter/", {"t": token, "lang": "fr", "on": ["0", "1"]}
    )
    assert response.status_code == 302
    event = ConsentEvent.objects.get(customer=zoe)
    assert event.status == "granted" and event.channel == "preferences"
    assert event.wording is not None and event.wording.language == "fr"
    assert event.page == "http://testserver/preferences/?lang=fr"  # the page, never the token
    assert token not in event.page
    assert customers_with_consent(Customer.objects.all(), "newsletter").get() == zoe


def test_a_toggle_with_htmx_answers_the_purpose_fragment(client, zoe, token):
    client.post(f"{URL}finalite/sms/", {"t": token, "on": ["0", "1"]})
    response = client.post(
        f"{URL}finalite/sms/", {"t": token, "on": "0"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<article class="choice" id="sms"') and "Enregistré" in html
    assert "<html" not in html
    statuses = list(ConsentEvent.objects.filter(customer=zoe).values_list("status", flat=True))
    assert statuses == ["granted", "withdrawn"]


def test_turning_sharing_off_hides_her_from_the_partners_at_once(client, destination, zoe, token):
    from cordee.privacy.access import customers_visible_to

    client.post(f"{URL}finalite/partner_offers/", {"t": token, "on": ["0", "1"]})
    hotel = Actor.for_user(destination.helene)
    assert customers_visible_to(hotel).filter(pk=zoe.pk).exists()
    client.post(f"{URL}finalite/partner_offers/", {"t": token, "on": "0"})
    assert not customers_visible_to(hotel).filter(pk=zoe.pk).exists()


def test_the_page_speaks_english_when_asked(client, token):
    html = client.get(URL, {"t": token, "lang": "en"}).content.decode()
    assert '<html lang="en"' in html
    assert "The destination&#x27;s newsletter" in html
    assert "News and offers by text message" in html


def test_she_downloads_all_her_data(client, zoe, token):
    data = json.loads(client.get(f"{URL}mes-donnees.json", {"t": token}).content)
    assert data["customer"]["email"] == "zoe@x.fr"
    csv_text = client.get(f"{URL}mes-donnees.csv", {"t": token}).content.decode()
    assert "zoe@x.fr" in csv_text
    assert client.get(f"{URL}mes-donnees.pdf", {"t": token}).status_code == 404


def test_she_asks_for_erasure_once_even_when_the_form_is_replayed(client, zoe, token):
    for _ in range(3):
        response = client.post(
            f"{URL}demande/", {"t": token, "kind": "erasure", "message": "<b>bye</b>"}
        )
        assert response.status_code == 200
    request = DataSubjectRequest.objects.get()
    assert request.kind == "erasure" and request.channel == "preferences"
    assert request.customer_ref == zoe.pk and request.message == "<b>bye</b>"


@pytest.mark.parametrize(
    "data",
    [{"kind": "access"}, {"kind": "<script>"}, {"kind": "rectification", "message": "x" * 2001}],
)
def test_odd_requests_are_refused_clearly(client, token, data):
    response = client.post(f"{URL}demande/", {"t": token, **data})
    assert response.status_code == 422
    assert not DataSubjectRequest.objects.exists()


def tampered(token: str) -> str:
    value, sep, signature = token.rpartition(":")
    return f"{value}{sep}{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"


@pytest.mark.parametrize(
    "make",
    [
        tampered,
        lambda t: t[:-3],
        lambda t: "",
        lambda t: "garbage",
        lambda t: "x" * 5000,
        lambda t: "<script>alert(1)</script>",
        lambda t: "1' OR '1'='1",
        lambda t: signing.dumps({"c": 1}, salt="another.salt"),
        lambda t: signing.dumps({"c": "1", "k": 0, "e": 2**40}, salt=SALT),
        lambda t: signing.dumps([1, 2, 3], salt=SALT),
    ],
)
def test_tampered_or_forged_tokens_get_a_clear_refusal(client, token, make):
    bad = make(token)
    for response in (
        client.get(URL, {"t": bad}),
        client.post(f"{URL}finalite/newsletter/", {"t": bad, "on": "1"}),
        client.get(f"{URL}mes-donnees.json", {"t": bad}),
        client.post(f"{URL}demande/", {"t": bad, "kind": "erasure"}),
    ):
        assert response.status_code == 403
        assert "est pas valable" in response.content.decode()
    assert not ConsentEvent.objects.exists() and not DataSubjectRequest.objects.exists()


def test_a_token_forged_for_another_customer_id_fails_its_signature(client, zoe, token):
    payload = signing.loads(token, salt=SALT)
    payload["c"] = zoe.pk + 1
    forged = signing.dumps(payload, salt="wrong")
    assert client.get(URL, {"t": forged}).status_code == 403


def test_an_expired_link_says_so(client, zoe):
    expired = signing.dumps(
        {"c": zoe.pk, "k": int(zoe.created_at.timestamp()), "e": int(time.time()) - 1},
        salt=SALT,
        compress=True,
    )
    response = client.get(URL, {"t": expired})
    assert response.status_code == 410 and "expiré" in response.content.decode()


def test_the_link_of_an_erased_person_opens_nothing(client, zoe, token):
    customer_erase(customer=zoe, actor=Actor.system("t"), reason="demande")
    assert client.get(URL, {"t": token}).status_code == 410


def test_too_many_requests_from_one_address_are_slowed_down(client, token, settings):
    settings.CORDEE_PREFERENCES_RATE = "3/min"
    codes = [client.get(URL, {"t": token}).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]


def test_an_unknown_or_contract_purpose_cannot_be_toggled(client, token):
    assert client.post(f"{URL}finalite/orders/", {"t": token, "on": "1"}).status_code == 404
    assert client.post(f"{URL}finalite/nope/", {"t": token, "on": "1"}).status_code == 404
    assert not ConsentEvent.objects.exists()


def test_the_cli_prints_a_working_link(client, zoe):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("privacy", "link", str(zoe.pk), stdout=out)
    link = out.getvalue().strip()
    assert client.get(link.split("localhost:8000", 1)[1]).status_code == 200
