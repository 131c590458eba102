"""Erasure reaches everything: Ophélie Vercoutre asks to be forgotten.

She came through the hotel's file (with a warning on her line), through the camping's file
(a second line of hers was rejected), through the API with an idempotency key; she has
activities, consents and a request in the desk. After erasure, no table holds her e-mail,
phone or name; a tombstone keeps the proof, and a later import does not bring her consents
back.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client

from cordee.activities.models import Activity
from cordee.core.signals import consent_changed, customers_erased
from cordee.customers.models import Customer, SourceRecord
from cordee.privacy.access import Actor
from cordee.privacy.erasure import customer_erase
from cordee.privacy.models import (
    AuditEvent,
    ConsentEvent,
    ConsentState,
    DataSubjectRequest,
    ErasureTombstone,
)
from cordee.privacy.services import consent_record

EMAIL = "ophelie.vercoutre@laposte.net"
NEEDLES = ("vercoutre", "ophélie", "ophelie", "612345678", "1985-03-14")

HOTEL_FILE = (
    "Prénom;Nom;E-mail;Téléphone;Date de naissance;Ville;Newsletter;consent_partner_offers\r\n"
    f"Ophélie;Vercoutre;{EMAIL};06 12 34 56 78;14/03/1985;Annecy;oui;oui\r\n"
    "Jean;Dupont;jean.dupont@exemple.fr;;99/99/1999;Lyon;non;non\r\n"
)
CAMPING_FILE = (
    "Prénom;Nom;E-mail;Date d'arrivée\r\n"
    f"Ophélie;Vercoutre;{EMAIL};\r\n"
    "Zoé;Lambert;zoe.lambert@exemple.fr;\r\n"
    ";;;\r\n"
    f";;pas-un-email-{EMAIL}@@;\r\n"
)


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def ophelie(destination, import_file):
    from cordee.partners.apikeys import SCOPES, api_key_create
    from cordee.privacy.services import consents_record_from_sources

    hotel = import_file(HOTEL_FILE, partner=destination.hotel, name="hotel.csv")
    camping = import_file(CAMPING_FILE, partner=destination.camping, name="camping.csv")
    assert hotel.status == "done" and camping.status == "done"
    consents_record_from_sources(
        source_record_ids=list(SourceRecord.objects.values_list("pk", flat=True)),
        channel="import",
        actor=Actor.system("import"),
    )
    _key, text = api_key_create(
        partner=destination.ski, scopes=list(SCOPES), actor=Actor.system("t"), name="t"
    )
    response = Client().post(
        "/api/v1/customers",
        {"first_name": "Ophélie", "last_name": "Vercoutre", "email": EMAIL},
        content_type="application/json",
        headers={"Authorization": f"Bearer {text}", "Idempotency-Key": "resa-42"},
    )
    assert response.status_code == 200, response.content
    customer = Customer.objects.get(last_name="Vercoutre")
    Activity.objects.create(
        customer=customer,
        partner=destination.hotel,
        kind="stay",
        channel="import",
        starts_on=dt.date(2025, 2, 1),
        product="Chambre double",
        details={"note": "Ophélie Vercoutre, allergie"},
    )
    consent_record(
        customer=customer,
        purpose="sms",
        status="granted",
        channel="desk",
        actor=Actor.for_user(destination.camille),
    )
    DataSubjectRequest.objects.create(
        kind="rectification",
        channel="email",
        customer_ref=customer.pk,
        received_on=dt.date.today(),
        due_on=dt.date.today() + dt.timedelta(days=30),
        message="Ophélie Vercoutre : ma nouvelle adresse est 3 rue des Lilas",
    )
    return customer


def holders(needles=NEEDLES) -> list[str]:
    """Every table and row that still holds one of the needles, in any text or JSON column."""
    found = []
    for model in apps.get_models():
        for row in model._base_manager.values_list():
            text = " ".join(str(v) for v in row).lower()
            for needle in needles:
                if needle in text:
                    found.append(f"{model._meta.db_table}: {needle}")
    return found


def test_before_erasure_she_is_everywhere(ophelie):
    tables = {h.split(":")[0] for h in holders()}
    assert {
        "customers_customer",
        "customers_sourcerecord",
        "collect_importissue",
        "api_idempotentrequest",
        "activities_activity",
        "privacy_datasubjectrequest",
    } <= tables


def test_erasure_leaves_nothing_of_her_in_any_table(destination, ophelie):
    others_before = Customer.objects.exclude(pk=ophelie.pk).count()
    result = customer_erase(
        customer=ophelie, actor=Actor.for_user(destination.sophie), reason="Demande n° 12"
    )
    assert holders() == []
    assert Customer.objects.count() == others_before  # nobody else went
    assert not ConsentEvent.objects.filter(customer_id=ophelie.pk).exists()
    assert not ConsentState.objects.filter(customer_id=ophelie.pk).exists()
    tomb = ErasureTombstone.objects.get()
    assert tomb.customer_ref == ophelie.pk and tomb.email_hash == ophelie.email_hash
    assert set(tomb.purposes) >= {"newsletter", "partner_offers", "sms"}
    assert result.counts["source_records"] == 3 and result.counts["activities"] == 1
    assert result.counts["idempotency_rows"] == 1
    assert DataSubjectRequest.objects.get().customer_ref == ophelie.pk  # the ledger stays
    event = AuditEvent.objects.get(action="customer.erase")
    assert event.details["customer"] == ophelie.pk and "Vercoutre" not in str(event.details)


def test_erasure_sends_customer_erased_after_commit(
    destination, ophelie, django_capture_on_commit_callbacks
):
    sent = []

    def receiver(sender, signal, **kwargs):
        sent.append(kwargs)

    customers_erased.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            customer_erase(customer=ophelie, actor=Actor.system("t"), reason="test")
    finally:
        customers_erased.disconnect(receiver)
    assert sent[0]["customer_ids"] == [ophelie.pk]
    assert set(sent[0]["partner_ids"][ophelie.pk]) == {
        destination.hotel.pk,
        destination.camping.pk,
        destination.ski.pk,
    }


def test_consent_changes_are_announced_after_commit(
    destination, ophelie, django_capture_on_commit_callbacks
):
    sent = []

    def receiver(sender, signal, **kwargs):
        sent.append(kwargs)

    consent_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            consent_record(
                customer=ophelie,
                purpose="surveys",
                status="granted",
                channel="desk",
                actor=Actor.system("t"),
            )
    finally:
        consent_changed.disconnect(receiver)
    assert sent == [
        {
            "customer_id": ophelie.pk,
            "purpose": "surveys",
            "controller_id": destination.office.pk,
            "status": "granted",
        }
    ]


def test_a_second_erasure_finds_nothing(destination, ophelie):
    customer_erase(customer=ophelie, actor=Actor.system("t"), reason="r")
    with pytest.raises(Customer.DoesNotExist):
        customer_erase(customer=ophelie, actor=Actor.system("t"), reason="r")
    assert ErasureTombstone.objects.count() == 1


def test_an_interrupted_erasure_rolls_back_whole_and_a_rerun_completes(
    destination, ophelie, monkeypatch
):
    import cordee.privacy.erasure as erasure

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(erasure, "_pending_files", crash)
    with pytest.raises(RuntimeError):
        customer_erase(customer=ophelie, actor=Actor.system("t"), reason="r")
    assert Customer.objects.filter(pk=ophelie.pk).exists()
    assert SourceRecord.objects.filter(customer_id=ophelie.pk).count() == 3
    monkeypatch.undo()
    customer_erase(customer=ophelie, actor=Actor.system("t"), reason="r")
    assert holders() == []


@pytest.mark.parametrize("reason", ["", "   ", "\x00\x01"])
def test_an_erasure_needs_a_reason(destination, ophelie, reason):
    with pytest.raises(ValidationError):
        customer_erase(customer=ophelie, actor=Actor.system("t"), reason=reason)
    assert Customer.objects.filter(pk=ophelie.pk).exists()


def test_hostile_and_huge_reasons_are_cleaned_and_capped(destination, ophelie):
    customer_erase(
        customer=ophelie,
        actor=Actor.system("t"),
        reason="<script>alert(1)</script>\r\n'; DROP TABLE x;--" + "é" * 5000,
    )
    tomb = ErasureTombstone.objects.get()
    assert len(tomb.reason) == 300 and "\n" not in tomb.reason


def test_a_reimport_does_not_bring_her_consents_back(destination, ophelie, import_file):
    from cordee.privacy.services import consents_record_from_sources

    customer_erase(customer=ophelie, actor=Actor.system("t"), reason="r")
    again = import_file(HOTEL_FILE, partner=destination.hotel, name="hotel-2026.csv")
    assert again.status == "done"
    ids = list(SourceRecord.objects.filter(batch=again).values_list("pk", flat=True))
    result = consents_record_from_sources(
        source_record_ids=ids, channel="import", actor=Actor.system("import")
    )
    assert result.blocked_by_erasure == 2  # her newsletter and sharing "oui"
    back = Customer.objects.get(last_name="Vercoutre")
    assert not ConsentState.objects.filter(customer=back, status="granted").exists()
    assert result.granted == 0
