"""The segment pages: builder round trips, live count, preview, profile, export, 3F dashboard,
and the loyalty card on the customer page — each within the reader's view."""

from __future__ import annotations

import csv
import io

import pytest

from cordee.segments.services import stats_refresh


@pytest.fixture
def valley(history, destination):
    people = {
        "elodie": history(
            "Élodie",
            {2022: [(9, 300)], 2023: [(8, 250)], 2024: [(9, 400)]},
            gender="F",
            departement="92",
        ),
        "jean": history("Jean", {2023: [(4, 100)], 2024: [(5, 80)]}, gender="M", departement="73"),
        "ines": history(
            "Inès", {2020: [(9,)], 2021: [(9,)]}, gender="F", partner=destination.camping
        ),
        "formula": history("=cmd|' /C calc'!A0", {2023: [(9,)], 2024: [(9,)]}, gender="F"),
    }
    stats_refresh(train=False)
    return people


# fmt: skip


def signed_in(client, user):
    client.force_login(user)
    return client


def tree(**leaf) -> dict[str, str]:
    data = {"n-0-type": "all"}
    for i, (field, op, value) in enumerate(leaf.values()):
        data.update({f"n-0.{i}-field": field, f"n-0.{i}-op": op, f"n-0.{i}-value": value})
    return data


def test_builder_counts_live_within_the_view(client, valley, destination):
    signed_in(client, destination.marc)
    page = client.get("/segments/nouveau/")
    assert page.status_code == 200
    assert "toutes ces conditions (ET)" in page.content.decode()
    response = client.post(
        "/segments/nouveau/", tree(a=("gender", "eq", "F")), HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert '<strong id="segment-count">3</strong>' in body
    assert "compté en" in body
    client.logout()
    signed_in(client, destination.nadia)
    body = client.post(
        "/segments/nouveau/", tree(a=("gender", "eq", "F")), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert '<strong id="segment-count">1</strong>' in body


def test_builder_adds_nests_and_removes_conditions(client, valley, destination):
    signed_in(client, destination.marc)
    data = {**tree(a=("gender", "eq", "F")), "action": "add-group:0"}
    body = client.post("/segments/nouveau/", data, HTTP_HX_REQUEST="true").content.decode()
    assert 'name="n-0.1-type"' in body and 'name="n-0.1.0-field"' in body
    data = {**tree(a=("gender", "eq", "F")), "n-0.1-type": "any", "n-0.1.0-field": "departement",
            "n-0.1.0-op": "in", "n-0.1.0-value": "92, 75", "action": "add-leaf:0.1"}  # fmt: skip
    body = client.post("/segments/nouveau/", data, HTTP_HX_REQUEST="true").content.decode()
    assert 'name="n-0.1.1-field"' in body
    data.pop("action")
    body = client.post("/segments/nouveau/", data, HTTP_HX_REQUEST="true").content.decode()
    assert '<strong id="segment-count">1</strong>' in body  # women from 92 (or 75)
    body = client.post(
        "/segments/nouveau/", {**data, "action": "remove:0.1"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'name="n-0.1-type"' not in body


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("deux", "valeur numérique attendue"),
        ("<script>alert(1)</script>", "valeur numérique attendue"),
    ],
)
def test_builder_shows_french_errors_and_escapes_input(client, valley, destination, value, message):
    signed_in(client, destination.marc)
    body = client.post(
        "/segments/nouveau/", tree(a=("children", "gt", value)), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert message in body
    assert "<script>alert(1)</script>" not in body


def test_builder_accepts_pasted_json_and_refuses_broken_json(client, valley, destination):
    signed_in(client, destination.marc)
    body = client.post(
        "/segments/nouveau/",
        {"action": "json", "json": '{"field": "loyalty_group", "op": "eq", "value": "fidele"}'},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert '<strong id="segment-count">2</strong>' in body
    body = client.post(
        "/segments/nouveau/", {"action": "json", "json": "{" * 5000}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "JSON illisible" in body or "imbrications" in body


def test_save_then_export_csv_neutralises_formulas(client, valley, destination):
    from cordee.segments.models import Segment, SegmentSnapshot

    signed_in(client, destination.marc)
    data = {**tree(a=("gender", "eq", "F")), "name": "Femmes de la vallée", "action": "save"}
    response = client.post("/segments/nouveau/", data)
    assert response.status_code == 302
    assert Segment.objects.filter(slug="femmes-de-la-vallee").exists()
    response = client.get("/segments/femmes-de-la-vallee/export.csv")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["first_name"] for r in rows)[0].startswith("'=cmd")
    assert len(rows) == 3
    assert SegmentSnapshot.objects.filter(segment__slug="femmes-de-la-vallee").exists()


def test_staff_may_not_export_and_partner_export_stays_in_view(client, valley, destination):
    signed_in(client, destination.lucas)
    assert client.get("/segments/fideles/export.csv").status_code == 403
    client.logout()
    signed_in(client, destination.nadia)
    text = b"".join(client.get("/segments/fuyants/export.csv").streaming_content).decode()
    assert [r["first_name"] for r in csv.DictReader(io.StringIO(text))] == ["Inès"]


def test_preview_and_profile(client, valley, destination):
    signed_in(client, destination.helene)
    body = client.post("/segments/apercu/", tree(a=("gender", "eq", "F"))).content.decode()
    assert "Élodie" in body and "Inès" not in body
    body = client.post("/segments/profil/", tree(a=("gender", "eq", "F"))).content.decode()
    assert "Profil du segment comparé à la base" in body


def test_loyalty_dashboard_and_list(client, valley, destination):
    signed_in(client, destination.camille)
    body = client.get("/segments/fidelite/").content.decode()
    assert "D’une saison à l’autre" in body
    assert "Fidèle" in body
    body = client.get("/segments/").content.decode()
    assert "fideles" in body and "Fidèles" in body


def test_customer_page_shows_group_and_reasons(client, valley, destination):
    signed_in(client, destination.camille)
    body = client.get(f"/clients/{valley['jean'].pk}/").content.decode()
    assert "Fidélité et valeur" in body
    assert "Forcé" in body
    assert "insatisfait" in body


def test_builder_refuses_a_huge_posted_tree(client, valley, destination):
    signed_in(client, destination.marc)
    data = {"n-0-type": "all"}
    for i in range(300):  # 900 fields: under Django's own cap of 1,000, over ours
        data.update({f"n-0.{i}-field": "city", f"n-0.{i}-op": "eq", f"n-0.{i}-value": "x" * 50})
    body = client.post("/segments/nouveau/", data, HTTP_HX_REQUEST="true").content.decode()
    assert "trop de conditions" in body


def test_flow_counts_stay_within_the_partners_view(client, valley, destination):
    from cordee.customers.models import Customer
    from cordee.privacy.access import Actor
    from cordee.segments.typology import reference_season, typology_flow

    season = reference_season()
    hub = typology_flow(season, Customer.objects.all())
    camping = typology_flow(
        season,
        __import__("cordee.privacy.access", fromlist=["x"]).customers_visible_to(
            Actor.for_user(destination.nadia)
        ),
    )
    assert sum(hub["totals"].values()) == 4
    assert sum(camping["totals"].values()) == 1
    assert camping["matrix"]["fuyant"]["fuyant"] == 1
    signed_in(client, destination.nadia)
    assert client.get("/segments/fidelite/").status_code == 200


def test_a_typed_value_asks_for_the_count_alone(client, valley, destination):
    """A value being typed answers with the count (and the JSON, out of band), never with the
    conditions: nothing replaces the field the person is typing in."""
    signed_in(client, destination.marc)
    data = {**tree(a=("departement", "in", "92, 73")), "live": "count"}
    body = client.post("/segments/nouveau/", data, HTTP_HX_REQUEST="true").content.decode()
    assert '<strong id="segment-count">2</strong>' in body
    assert 'id="seg-result"' in body and 'hx-swap-oob="true"' in body
    assert "&quot;92&quot;" in body  # the JSON definition, kept current
    assert "<input" not in body and "<select" not in body
    # A shape change still redraws the conditions, with the count out of band.
    del data["live"]
    body = client.post("/segments/nouveau/", data, HTTP_HX_REQUEST="true").content.decode()
    assert 'name="n-0.0-value"' in body and 'id="seg-result" aria-live="polite" hx-swap-oob' in body
    # Broken input typed live: the errors, in the count's place.
    data = {**tree(a=("children", "gt", "deux")), "live": "count"}
    body = client.post("/segments/nouveau/", data, HTTP_HX_REQUEST="true").content.decode()
    assert "valeur numérique attendue" in body and "<input" not in body
