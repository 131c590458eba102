"""The register of processing activities: the DPO's and the administrators', exportable."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from cordee.privacy.models import AuditEvent, Purpose

DPO = "Sophie Durand, dpo@office-vallee.fr"


@pytest.fixture(autouse=True)
def dpo_contact(settings):
    settings.CORDEE_DPO_CONTACT = DPO


@pytest.mark.parametrize("who", ["sophie", "camille"])
def test_the_dpo_and_the_administrator_read_the_register(client, destination, who):
    client.force_login(getattr(destination, who))
    response = client.get(reverse("privacy:register"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Registre des activités de traitement" in page
    assert DPO in page
    assert "Office de tourisme de la Vallée" in page
    for purpose in Purpose.objects.all():
        assert f'id="traitement-{purpose.slug}"' in page
    assert "36 mois après le dernier contact" in page
    assert 'href="/confidentialite/registre/"' in page  # in the menu


@pytest.mark.parametrize("who", ["helene", "lucas", "marc"])
def test_others_are_refused_the_register(client, destination, who):
    client.force_login(getattr(destination, who))
    assert client.get(reverse("privacy:register")).status_code == 403
    for fmt in ("csv", "json"):
        assert client.get(reverse("privacy:register_export", args=[fmt])).status_code == 403


def test_the_menu_shows_the_register_only_to_those_who_may_read_it(client, destination):
    client.force_login(destination.helene)
    page = client.get(reverse("customers:list")).content.decode()
    assert "/confidentialite/registre/" not in page


def test_the_register_exports_as_csv(client, destination):
    client.force_login(destination.sophie)
    response = client.get(reverse("privacy:register_export", args=["csv"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert len(rows) == Purpose.objects.filter(is_active=True).count()
    orders = next(r for r in rows if r["identifiant"] == "orders")
    assert orders["base légale"] == "Exécution d'un contrat"
    assert orders["contact du DPO"] == DPO
    assert "Argon2" in orders["mesures de sécurité"]
    assert AuditEvent.objects.filter(action="register.export", actor=destination.sophie).exists()


def test_the_register_exports_as_json(client, destination):
    client.force_login(destination.camille)
    response = client.get(reverse("privacy:register_export", args=["json"]))
    data = json.loads(response.content)
    assert data["dpo_contact"] == DPO
    assert data["controller"] == "Office de tourisme de la Vallée"
    slugs = {a["slug"] for a in data["processing_activities"]}
    assert "newsletter" in slugs and "orders" in slugs
    newsletter = next(a for a in data["processing_activities"] if a["slug"] == "newsletter")
    assert newsletter["retention_months"] == 36
    assert newsletter["processors"]


def test_an_unknown_export_format_is_not_found(client, destination):
    client.force_login(destination.sophie)
    assert client.get(reverse("privacy:register_export", args=["xlsx"])).status_code == 404


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_the_cli_prints_the_register(destination, fmt):
    out = io.StringIO()
    call_command("privacy", "register", "--format", fmt, stdout=out)
    text = out.getvalue()
    if fmt == "json":
        assert len(json.loads(text)["processing_activities"]) == 7
    elif fmt == "csv":
        assert len(list(csv.reader(io.StringIO(text), delimiter=";"))) == 8
    else:
        assert text.startswith("# Registre des activités de traitement")
        assert "## Lettre d'information de la destination (`newsletter`)" in text
    assert DPO in text


def test_the_cli_prints_the_register_in_english(destination):
    out = io.StringIO()
    call_command("privacy", "register", "--format", "md", "--language", "en", stdout=out)
    assert "The destination's newsletter" in out.getvalue()


def test_the_seeded_purposes_carry_risk_notes_in_every_format(client, destination):
    orders = Purpose.objects.get(slug="orders")
    assert orders.risk_notes.startswith("Risque :") and orders.risk_level == "medium"
    client.force_login(destination.sophie)
    page = client.get(reverse("privacy:register")).content.decode()
    assert "Niveau de risque" in page and "fuite de coordonnées" in page
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(reverse("privacy:register_export", args=["csv"])).content.decode(
                    "utf-8-sig"
                )
            ),
            delimiter=";",
        )
    )
    by_slug = {row["identifiant"]: row for row in rows}
    assert by_slug["orders"]["niveau de risque"] == "moyen"
    assert "fuite de coordonnées" in by_slug["orders"]["risques et mesures"]
    assert by_slug["orders"]["analyse d'impact (AIPD)"] == "AIPD non requise"
    data = json.loads(client.get(reverse("privacy:register_export", args=["json"])).content)
    entry = next(e for e in data["processing_activities"] if e["slug"] == "orders")
    assert entry["risk_level"] == "moyen" and "fuite" in entry["risk_notes"]


def test_the_dpo_writes_the_risk_notes_of_a_processing(client, destination):
    client.force_login(destination.sophie)
    response = client.post(
        reverse("privacy:register"),
        {
            "purpose": "profiling",
            "profiling-risk_level": "high",
            "profiling-risk_notes": "=HYPERLINK(1) Profils croisés entre partenaires.",
            "profiling-dpia_required": "on",
            "profiling-dpia_done_on": "2026-10-01",
        },
    )
    assert response.status_code == 302
    profiling = Purpose.objects.get(slug="profiling")
    assert profiling.risk_level == "high" and profiling.dpia_required
    assert str(profiling.dpia_done_on) == "2026-10-01"
    event = AuditEvent.objects.get(action="register.risk_update")
    assert event.object_id == str(profiling.pk) and "risk_level" in event.details["fields"]
    page = client.get(reverse("privacy:register")).content.decode()
    assert "AIPD réalisée le 2026-10-01" in page and "Profils croisés" in page
    text = client.get(reverse("privacy:register_export", args=["csv"])).content.decode("utf-8-sig")
    row = next(
        r
        for r in csv.DictReader(io.StringIO(text), delimiter=";")
        if r["identifiant"] == "profiling"
    )
    assert row["niveau de risque"] == "élevé"
    assert row["risques et mesures"].startswith("'=")  # a spreadsheet does not run it
    # A bad level is refused, and nothing changes.
    bad = client.post(
        reverse("privacy:register"), {"purpose": "profiling", "profiling-risk_level": "huge"}
    )
    assert bad.status_code == 422
    assert Purpose.objects.get(slug="profiling").risk_level == "high"


@pytest.mark.parametrize("who", ["helene", "lucas", "marc"])
def test_others_may_not_write_risk_notes(client, destination, who):
    client.force_login(getattr(destination, who))
    response = client.post(
        reverse("privacy:register"), {"purpose": "orders", "orders-risk_level": "low"}
    )
    assert response.status_code == 403
    assert Purpose.objects.get(slug="orders").risk_level == "medium"


def test_the_seed_keeps_what_the_dpo_wrote(db):
    from importlib import import_module

    from django.apps import apps

    seed = import_module("cordee.privacy.migrations.0010_seed_risk_notes").seed
    Purpose.objects.filter(slug="sms").update(risk_notes="Écrit par le DPO", risk_level="high")
    Purpose.objects.filter(slug="surveys").update(risk_notes="", risk_level="")
    seed(apps, None)
    assert Purpose.objects.get(slug="sms").risk_notes == "Écrit par le DPO"
    assert Purpose.objects.get(slug="sms").risk_level == "high"
    assert Purpose.objects.get(slug="surveys").risk_notes.startswith("Risque :")
