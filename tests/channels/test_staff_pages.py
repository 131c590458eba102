"""The hub's channel pages: forms per partner, entries, embed codes, partner sites."""

from __future__ import annotations

import pytest

from cordee.channels.models import PublicForm, SiteOrigin

pytestmark = pytest.mark.django_db


def test_hub_lists_every_partner_form_and_a_partner_only_its_own(client, destination, hotel_forms):
    from cordee.channels.models import FormKind

    PublicForm.objects.create(
        partner=destination.camping,
        slug="camping-lettre",
        kind=FormKind.NEWSLETTER,
        title_fr="Camping",
    )
    client.force_login(destination.camille)
    page = client.get("/canaux/").content.decode()
    assert "hotel-lettre" in page and "camping-lettre" in page
    client.force_login(destination.nadia)
    page = client.get("/canaux/").content.decode()
    assert "camping-lettre" in page and "hotel-lettre" not in page
    assert client.get("/canaux/formulaires/hotel-lettre/").status_code == 404


def test_form_page_gives_the_embed_codes_and_the_entries(client, submit, destination, hotel_forms):
    submit(
        hotel_forms["contest"],
        {
            "first_name": "<i>Zoé</i>",
            "last_name": "Lambert",
            "email": "zoe@example.fr",
            "accept_rules": "on",
        },
    )
    client.force_login(destination.camille)
    page = client.get("/canaux/formulaires/hotel-jeu/").content.decode()
    assert "data-form=&quot;hotel-jeu&quot;" in page  # shown as text inside <code>
    assert "/static/cordee/embed.js" in page and "/f/hotel-jeu/?embed=1" in page
    assert "Reçue" in page and "<i>Zoé</i>" not in page


def test_a_partner_user_does_not_get_links_to_customers_it_cannot_see(
    client, submit, destination, hotel_forms
):
    submit(hotel_forms["questionnaire"], {"email": "zoe@example.fr"})
    client.force_login(destination.helene)
    page = client.get("/canaux/formulaires/hotel-envies/").content.decode()
    assert "/clients/" in page  # the hotel brought this customer through its own form


def test_hub_admin_creates_a_contest_only_with_its_rules(client, destination):
    client.force_login(destination.camille)
    data = {"partner": destination.ski.pk, "slug": "ski-jeu", "kind": "contest", "title_fr": "Jeu"}
    response = client.post("/canaux/formulaires/nouveau/", data)
    assert response.status_code == 200 and "règlement" in response.content.decode()
    response = client.post("/canaux/formulaires/nouveau/", data | {"rules_fr": "Article 1"})
    assert response.status_code == 302
    assert PublicForm.objects.get().partner == destination.ski


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://www.Hotel-des-Alpes.fr/page?x=1", "https://www.hotel-des-alpes.fr"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("https://example.fr:443", "https://example.fr"),
    ],
)
def test_partner_sites_are_stored_as_origins(client, destination, typed, stored):
    client.force_login(destination.camille)
    client.post("/canaux/sites/nouveau/", {"partner": destination.hotel.pk, "origin": typed})
    assert SiteOrigin.objects.get().origin == stored


@pytest.mark.parametrize(
    "typed",
    [
        "javascript:alert(1)",
        "*",
        "https://a.fr; script-src *",
        "hotel.fr",
        "https://a.fr:99999",
        "x" * 300,
    ],
)
def test_bad_sites_are_refused(client, destination, typed):
    client.force_login(destination.camille)
    response = client.post(
        "/canaux/sites/nouveau/", {"partner": destination.hotel.pk, "origin": typed}
    )
    assert response.status_code == 200
    assert not SiteOrigin.objects.exists()


def test_only_hub_admins_change_channels(client, destination):
    client.force_login(destination.helene)
    for path in [
        "/canaux/formulaires/nouveau/",
        "/canaux/sites/nouveau/",
        "/canaux/webhooks/nouveau/",
    ]:
        assert client.get(path).status_code == 403


def test_channel_pages_need_a_login(client):
    response = client.get("/canaux/")
    assert response.status_code == 302 and "/connexion/" in response["Location"]
