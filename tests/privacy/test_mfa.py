"""Camille protects her account with an authenticator app: after the password, the code."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from cordee.privacy.mfa import STEP, totp_code, totp_enrol, totp_verify
from cordee.privacy.models import StaffTOTP

PASSWORD = "une-corde-solide-2026"


@pytest.fixture(autouse=True)
def _setup(destination):
    cache.clear()
    for user in (destination.camille, destination.helene, destination.sophie):
        user.set_password(PASSWORD)
        user.save()
    yield
    cache.clear()


def now_code(device, offset=0):
    return totp_code(device.secret, int(time.time() // STEP) + offset)


def test_the_rfc_6238_reference_vector():
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits) → its last 6 digits.
    import base64

    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp_code(secret, 59 // 30) == "287082"


@pytest.fixture
def enrolled(destination):
    from django.utils import timezone

    device = totp_enrol(user=destination.camille)
    device.confirmed_at = timezone.now()
    device.save()
    return device


def sign_in(client, username="camille"):
    return client.post("/connexion/", {"username": username, "password": PASSWORD})


def test_after_the_password_every_page_asks_for_the_code(client, enrolled):
    sign_in(client)
    response = client.get("/clients/")
    assert response.status_code == 302 and response["Location"].startswith("/connexion/code/")
    response = client.post("/connexion/code/", {"code": now_code(enrolled), "next": "/clients/"})
    assert response.status_code == 302 and response["Location"] == "/clients/"
    assert client.get("/clients/").status_code == 200


def test_a_code_works_once(client, enrolled):
    code = now_code(enrolled)
    assert totp_verify(enrolled, code)
    enrolled.refresh_from_db()
    assert not totp_verify(enrolled, code)


@pytest.mark.parametrize("code", ["", "000000x", "12345", "1" * 20, "<script>", "' OR 1=1", "\x00"])
def test_wrong_codes_are_refused(client, enrolled, code):
    sign_in(client)
    response = client.post("/connexion/code/", {"code": code})
    assert response.status_code == 422
    assert client.get("/clients/").status_code == 302


def test_guessing_codes_is_rate_limited(client, enrolled):
    sign_in(client)
    for _ in range(4):
        client.post("/connexion/code/", {"code": "000000"})
    statuses = [client.post("/connexion/code/", {"code": "000000"}).status_code for _ in range(2)]
    assert statuses[-1] == 429
    assert client.post("/connexion/code/", {"code": now_code(enrolled)}).status_code == 429


def test_an_outside_next_is_not_followed(client, enrolled):
    sign_in(client)
    response = client.post(
        "/connexion/code/", {"code": now_code(enrolled), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_partners_are_not_asked_for_a_second_factor(client, destination, settings):
    settings.CORDEE_MFA_REQUIRED = True
    sign_in(client, "helene")
    assert client.get("/clients/").status_code == 200


def test_when_required_office_staff_enrol_first(client, destination, settings):
    settings.CORDEE_MFA_REQUIRED = True
    sign_in(client, "sophie")
    response = client.get("/confidentialite/demandes/")
    assert response["Location"] == "/connexion/authentification/"
    page = client.get("/connexion/authentification/")
    assert page.status_code == 200 and 'id="secret"' in page.content.decode()
    device = StaffTOTP.objects.get(user=destination.sophie)
    assert client.post("/connexion/authentification/", {"code": "123"}).status_code == 422
    device.refresh_from_db()
    assert (
        client.post("/connexion/authentification/", {"code": now_code(device)}).status_code == 302
    )
    assert client.get("/confidentialite/demandes/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed_at is not None
