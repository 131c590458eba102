"""Signing in and out, the pages open to everyone, and the language switch."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

PASSWORD = "une-corde-solide-2026"


@pytest.fixture(autouse=True)
def passwords(destination):
    for user in (destination.camille, destination.helene):
        user.set_password(PASSWORD)
        user.save()


def test_every_page_asks_to_sign_in_first(client, destination):
    for url in ("/", "/clients/", "/clients/1/", "/imports/", "/imports/nouveau/", "/partenaires/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/connexion/"), url


def test_the_root_leads_to_the_customer_list(client, destination):
    client.force_login(destination.camille)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/clients/"


def test_camille_signs_in_and_lands_on_the_customer_list(client, destination):
    page = client.get("/connexion/")
    assert page.status_code == 200
    assert 'name="username"' in page.text and 'name="password"' in page.text
    response = client.post("/connexion/", {"username": "camille", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/clients/"
    listing = client.get("/clients/")
    assert listing.status_code == 200
    assert "Office de tourisme de la Vallée" in listing.text  # who is signed in, in the menu


def test_a_wrong_password_is_refused_with_a_message(client, destination):
    response = client.post("/connexion/", {"username": "camille", "password": "pas-le-bon"})
    assert response.status_code == 200
    assert "Saisissez un nom d’utilisateur et un mot de passe valides" in response.text
    assert "_auth_user_id" not in client.session


def test_the_next_page_is_honoured_after_signing_in(client, destination):
    response = client.post(
        "/connexion/?next=/imports/",
        {"username": "camille", "password": PASSWORD, "next": "/imports/"},
    )
    assert response["Location"] == "/imports/"


def test_signing_out_is_a_post_from_the_menu(client, destination):
    client.force_login(destination.helene)
    page = client.get("/clients/")
    assert 'action="/deconnexion/"' in page.text
    response = client.post("/deconnexion/")
    assert response.status_code == 302 and response["Location"] == "/connexion/"
    assert client.get("/clients/").status_code == 302


def test_health_answers_without_signing_in(client):
    response = client.get("/sante/")
    assert response.status_code == 200 and response.text == "ok"


def test_front_end_files_are_served_without_signing_in(client):
    for path in (
        "/static/vendor/pico/pico.min.css",
        "/static/vendor/htmx/htmx.min.js",
        "/static/vendor/chartjs/chart.umd.min.js",
        "/static/cordee/cordee.css",
        "/static/cordee/cordee.js",
    ):
        response = client.get(path)
        assert response.status_code == 200, path


def test_pages_carry_a_strict_content_security_policy(client, destination):
    client.force_login(destination.camille)
    response = client.get("/clients/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "<script>" not in response.text and "style=" not in response.text
    assert "https://" not in response.text.split("<body")[0]  # no CDN


def test_the_language_switch_turns_the_pages_into_english(client, destination):
    login = client.get("/connexion/")
    assert "Se connecter" in login.text and 'action="/langue/"' in login.text
    response = client.post("/langue/", {"language": "en", "next": "/connexion/"})
    assert response.status_code == 302
    login = client.get("/connexion/")
    assert '<html lang="en"' in login.text
    assert "Sign in" in login.text and "Se connecter" not in login.text
    client.force_login(destination.camille)
    listing = client.get("/clients/")
    assert "Customers" in listing.text and "Sign out" in listing.text
