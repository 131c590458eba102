"""Camille, the office's administrator, manages the destination's partners and their people."""

from __future__ import annotations

import pytest

from cordee.partners.models import Partner, Role, User
from cordee.privacy.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_camille_sees_every_partner_with_its_customers_and_users(signed_in, destination, customers):
    response = signed_in(destination.camille).get("/partenaires/")
    assert response.status_code == 200
    rows = {p.slug: p for p in response.context["partners"]}
    assert set(rows) == {"office", "hotel-des-alpes", "ecole-de-ski", "camping-du-lac"}
    assert (rows["hotel-des-alpes"].customer_count, rows["hotel-des-alpes"].user_count) == (4, 1)
    assert (rows["camping-du-lac"].customer_count, rows["office"].user_count) == (3, 3)
    assert "Hôtel des Alpes" in response.text and "École de ski" in response.text


def test_camille_adds_a_partner(signed_in, destination):
    client = signed_in(destination.camille)
    form = client.get("/partenaires/nouveau/")
    assert form.status_code == 200
    assert 'value="hub"' not in form.text  # the destination has its one office
    response = client.post(
        "/partenaires/nouveau/",
        {
            "slug": "voile-du-lac",
            "name": "École de voile du Lac",
            "kind": "activity",
            "resort": "Lac",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/partenaires/voile-du-lac/"
    partner = Partner.objects.get(slug="voile-du-lac")
    assert (partner.name, partner.kind, partner.resort, partner.is_active) == (
        "École de voile du Lac",
        "activity",
        "Lac",
        True,
    )
    assert AuditEvent.objects.filter(
        action="partner.create", object_id=str(partner.pk), actor=destination.camille
    ).exists()
    page = client.get(response["Location"])
    assert "Partenaire « École de voile du Lac » ajouté." in page.text


@pytest.mark.parametrize(
    ("slug", "message"),
    [("hotel-des-alpes", "existe déjà"), ("Hôtel Des Alpes", "Identifiant invalide")],
)
def test_a_taken_or_malformed_slug_is_explained_on_the_form(signed_in, destination, slug, message):
    response = signed_in(destination.camille).post(
        "/partenaires/nouveau/", {"slug": slug, "name": "Autre hôtel", "kind": "hotel"}
    )
    assert response.status_code == 200
    assert message in response.text
    assert Partner.objects.count() == 4


def test_camille_renames_and_deactivates_a_partner(signed_in, destination):
    client = signed_in(destination.camille)
    form = client.get("/partenaires/ecole-de-ski/modifier/")
    assert 'value="École de ski"' in form.text
    response = client.post(
        "/partenaires/ecole-de-ski/modifier/",
        {"slug": "ignored", "name": "ESF de la Vallée", "kind": "ski_school", "resort": "Le Col"},
    )
    assert response.status_code == 302
    destination.ski.refresh_from_db()
    assert (destination.ski.slug, destination.ski.name, destination.ski.resort) == (
        "ecole-de-ski",
        "ESF de la Vallée",
        "Le Col",
    )
    assert destination.ski.is_active is False  # the box was left unticked
    assert AuditEvent.objects.filter(
        action="partner.update", object_id=str(destination.ski.pk)
    ).exists()


def test_the_office_cannot_be_turned_into_a_hotel(signed_in, destination):
    client = signed_in(destination.camille)
    client.post(
        "/partenaires/office/modifier/", {"name": "Office", "kind": "hotel", "is_active": ""}
    )
    destination.office.refresh_from_db()
    assert destination.office.kind == "hub" and destination.office.is_active


def test_camille_adds_a_manager_to_the_hotel(signed_in, destination):
    client = signed_in(destination.camille)
    page = client.get("/partenaires/hotel-des-alpes/")
    assert "helene" in page.text
    assert 'value="partner_manager"' in page.text and 'value="hub_admin"' not in page.text
    response = client.post(
        "/partenaires/hotel-des-alpes/utilisateurs/",
        {
            "username": "yann", "first_name": "Yann", "last_name": "Perrin",
            "email": "yann@hotel-des-alpes.fr", "role": "partner_staff",
            "password1": "Neige-Poudreuse-74", "password2": "Neige-Poudreuse-74",
        },
    )  # fmt: skip
    assert response.status_code == 302
    yann = User.objects.get(username="yann")
    assert (yann.partner, yann.role) == (destination.hotel, Role.PARTNER_STAFF)
    assert yann.check_password("Neige-Poudreuse-74")
    assert AuditEvent.objects.filter(action="user.create", object_id=str(yann.pk)).exists()
    assert "Neige-Poudreuse-74" not in str(
        list(AuditEvent.objects.values_list("details", flat=True))
    )


def _add_user(client, **changes):
    data = {
        "username": "yann", "first_name": "Yann", "last_name": "Perrin", "email": "",
        "role": "partner_staff",
        "password1": "Neige-Poudreuse-74", "password2": "Neige-Poudreuse-74",
    }  # fmt: skip
    data.update(changes)
    return client.post("/partenaires/hotel-des-alpes/utilisateurs/", data)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"role": "hub_admin"}, "Sélectionnez un choix valide"),
        ({"password2": "autre-chose-2026"}, "ne sont pas identiques"),
        ({"password1": "Ab-12", "password2": "Ab-12"}, "trop court"),
        ({"password1": "password", "password2": "password"}, "trop courant"),
        ({"username": "helene"}, "existe déjà"),
    ],
)
def test_a_bad_new_user_is_explained_on_the_form(signed_in, destination, changes, message):
    response = _add_user(signed_in(destination.camille), **changes)
    assert response.status_code == 200
    assert message in response.text
    assert not User.objects.filter(username="yann").exists()


@pytest.mark.parametrize("who", ["lucas", "marc", "helene", "sophie"])
@pytest.mark.parametrize(
    "url",
    [
        "/partenaires/",
        "/partenaires/nouveau/",
        "/partenaires/hotel-des-alpes/",
        "/partenaires/hotel-des-alpes/modifier/",
    ],
)
def test_only_the_office_administrators_manage_partners(signed_in, destination, who, url):
    response = signed_in(getattr(destination, who)).get(url)
    assert response.status_code == 403
    assert "réservée aux administrateurs de l&#x27;office" in response.text


def test_lucas_cannot_add_himself_a_colleague(signed_in, destination):
    response = _add_user(signed_in(destination.lucas))
    assert response.status_code == 403
    assert not User.objects.filter(username="yann").exists()


def test_the_menu_shows_partners_to_administrators_only(signed_in, destination):
    assert 'href="/partenaires/"' in signed_in(destination.camille).get("/clients/").text
    assert 'href="/partenaires/"' not in signed_in(destination.marc).get("/clients/").text


def test_an_unknown_partner_is_a_404(signed_in, destination):
    assert signed_in(destination.camille).get("/partenaires/nulle-part/").status_code == 404
