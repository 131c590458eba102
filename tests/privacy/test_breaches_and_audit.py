"""The breach register with its 72-hour clock, and the audit trail the DPO searches."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log
from cordee.privacy.breaches import breach_clock
from cordee.privacy.models import AuditEvent, Breach


@pytest.fixture
def sophie(client, destination):
    client.force_login(destination.sophie)
    return client


def form(**kw):
    now = timezone.localtime()
    values = {
        "discovered_at": (now - dt.timedelta(hours=10)).strftime("%Y-%m-%d %H:%M"),
        "nature": "Ordinateur portable volé avec un export",
        "data_categories": "Identité, coordonnées",
        "people_count": "1200",
        "consequences": "Hameçonnage possible",
        "measures": "Mots de passe changés, plainte déposée",
    }
    values.update(kw)
    return values


def test_a_breach_shows_the_hours_left_to_notify(sophie):
    assert sophie.post("/confidentialite/violations/", form()).status_code == 302
    breach = Breach.objects.get()
    assert breach.people_count == 1200
    html = sophie.get("/confidentialite/violations/").content.decode()
    assert "62 h pour notifier la CNIL" in html or "61 h pour notifier la CNIL" in html


def test_a_late_breach_is_highlighted(sophie):
    old = (timezone.localtime() - dt.timedelta(hours=100)).strftime("%Y-%m-%d %H:%M")
    sophie.post("/confidentialite/violations/", form(discovered_at=old))
    html = sophie.get("/confidentialite/violations/").content.decode()
    assert "dépassé de" in html and 'class="overdue"' in html


def test_the_clock_knows_a_notification_in_time_and_a_late_one():
    found = timezone.now() - dt.timedelta(days=10)
    in_time = Breach(discovered_at=found, cnil_notified_at=found + dt.timedelta(hours=70))
    late = Breach(discovered_at=found, cnil_notified_at=found + dt.timedelta(hours=80))
    assert breach_clock(in_time) == {**breach_clock(in_time), "notified": True, "late": False}
    assert breach_clock(late)["late"] is True


@pytest.mark.parametrize(
    "bad",
    [
        {"people_count": "-1"},
        {"people_count": "beaucoup"},
        {"discovered_at": "hier"},
        {"nature": ""},
        {"nature": "x" * 5001},
        {"occurred_at": "2999-01-01 10:00"},
        {"measures": "nul\x00"},
    ],
)
def test_bad_breach_forms_are_refused(sophie, bad):
    assert sophie.post("/confidentialite/violations/", form(**bad)).status_code == 422
    assert not Breach.objects.exists()


def test_the_breach_export_neutralises_formulas(sophie):
    sophie.post("/confidentialite/violations/", form(nature='=HYPERLINK("http://x")'))
    text = sophie.get("/confidentialite/violations/export.csv").content.decode()
    assert text.startswith("\ufeffid,discovered_at") and "'=HYPERLINK" in text


@pytest.fixture
def trail(destination):
    camille, helene = Actor.for_user(destination.camille), Actor.for_user(destination.helene)
    from cordee.customers.models import Customer

    c = Customer.objects.create(first_name="A")
    audit_log(actor=camille, action="customer.view", obj=c)
    audit_log(actor=helene, action="customer.view", obj=c)
    audit_log(actor=helene, action="customer.search", results=3)
    audit_log(actor=camille, action="customer.erase", customer=c.pk)
    return c


def test_the_dpo_filters_the_trail_by_user_customer_and_action(sophie, trail):
    html = sophie.get("/confidentialite/journal/", {"user": "helene"}).content.decode()
    assert html.count("<td>helene</td>") == 2 and "<td>camille</td>" not in html
    html = sophie.get("/confidentialite/journal/", {"customer": trail.pk}).content.decode()
    assert html.count("customer.view") == 2 and "customer.erase" in html
    html = sophie.get("/confidentialite/journal/", {"action": "customer.search"}).content.decode()
    assert "customer.search" in html and "customer.view" not in html


def test_the_trail_exports_as_csv_with_the_same_filters(sophie, trail):
    text = b"".join(
        sophie.get("/confidentialite/journal/export.csv", {"user": "helene"}).streaming_content
    ).decode()
    lines = text.strip().splitlines()
    assert lines[0].startswith("\ufeffdate,utilisateur") and len(lines) == 3
    assert AuditEvent.objects.filter(action="audit.export").exists()


@pytest.mark.parametrize(
    "bad",
    [
        {"customer": "abc"},
        {"customer": "-1"},
        {"since": "2026-13-01"},
        {"user": "x" * 151},
        {"customer": "9" * 40},
    ],
)
def test_bad_filters_are_refused(sophie, trail, bad):
    assert sophie.get("/confidentialite/journal/", bad).status_code == 422
    assert sophie.get("/confidentialite/journal/export.csv", bad).status_code == 422


def test_hostile_filters_find_nothing_and_break_nothing(sophie, trail):
    for value in ("'; DROP TABLE privacy_auditevent;--", "<script>", "\x01"):
        response = sophie.get("/confidentialite/journal/", {"user": value, "action": value})
        assert response.status_code == 200 and "Aucun événement" in response.content.decode()
