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
