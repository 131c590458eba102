"""Sophie, the DPO, handles requests in the desk: deadlines, extensions, exports, erasure."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cordee.customers.models import Customer
from cordee.privacy.access import Actor
from cordee.privacy.models import DataSubjectRequest, ErasureTombstone
from cordee.privacy.requests import add_months, request_create, request_extend


@pytest.fixture
def elodie(destination):
    from cordee.customers.services import IncomingRecord, source_records_attach

    data = {"first_name": "Élodie", "last_name": "Martin", "email": "elodie@x.fr", "city": "=cmd|x"}
    record = IncomingRecord(raw={k: str(v) for k, v in data.items()}, data=data)
    ids = source_records_attach(partner=destination.hotel, channel="import", records=[record])
    return Customer.objects.get(pk=ids.customer_ids[0])


@pytest.fixture
def sophie(client, destination):
    client.force_login(destination.sophie)
    return client


def dsr(**kw):
    """A request whose identity the DPO already checked (see test_identity_check.py)."""
    values = {"kind": "access", "channel": "email", "actor": Actor.system("t"), "identity": "other"}
    return request_create(**{**values, **kw})


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2028, 1, 31), 1, dt.date(2028, 2, 29)),
        (dt.date(2026, 11, 15), 2, dt.date(2027, 1, 15)),
        (dt.date(2026, 3, 31), -1, dt.date(2026, 2, 28)),
    ],
)
def test_months_are_calendar_months(day, months, expected):
    assert add_months(day, months) == expected


def test_a_request_is_due_one_month_after_receipt(destination):
    received = timezone.localdate() - dt.timedelta(days=3)
    request = dsr(received_on=received)
    assert request.due_on == add_months(received, 1)


def test_the_list_is_sorted_by_deadline_with_overdue_highlighted(sophie, destination):
    today = timezone.localdate()
    late = dsr(received_on=today - dt.timedelta(days=45), kind="erasure")
    fresh = dsr(received_on=today)
    soon = dsr(received_on=today - dt.timedelta(days=20))
    html = sophie.get("/confidentialite/demandes/").content.decode()
    order = [html.index(f'/confidentialite/demandes/{r.pk}/"') for r in (late, soon, fresh)]
    assert order == sorted(order)
    assert html.count('class="overdue"') == 1 and "En retard" in html


def test_the_dpo_records_a_request_through_the_form(sophie, elodie):
    response = sophie.post(
        "/confidentialite/demandes/",
        {
            "kind": "rectification",
            "channel": "post",
            "customer_ref": elodie.pk,
            "message": "Nouvelle adresse",
            "identity_note": "copie de la carte d'identité vue",
        },
    )
    assert response.status_code == 302
    request = DataSubjectRequest.objects.get()
    assert request.kind == "rectification" and request.customer_ref == elodie.pk
    # The note says how the identity was checked: no confirmation link is needed.
    assert request.identity == "other" and request.identity_confirmed_at is not None


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "hack"},
        {"channel": "<script>"},
        {"customer_ref": "1 OR 1=1"},
        {"customer_ref": "-5"},
        {"customer_ref": "9" * 30},
        {"received_on": "31/02/2026"},
        {"received_on": "2999-01-01"},
        {"message": "x" * 5001},
        {"message": "nul\x00byte"},
    ],
)
def test_bad_requests_are_refused_with_a_message_and_nothing_recorded(sophie, bad):
    data = {"kind": "access", "channel": "email", **bad}
    response = sophie.post("/confidentialite/demandes/", data)
    assert response.status_code == 422
    assert not DataSubjectRequest.objects.exists()


def test_hostile_text_is_stored_without_control_characters_and_shown_escaped(sophie):
    sophie.post(
        "/confidentialite/demandes/",
        {"kind": "objection", "channel": "email", "message": "<script>alert(1)</script>\x07ok"},
    )
    request = DataSubjectRequest.objects.get()
    assert request.message == "<script>alert(1)</script>ok"
    page = sophie.get(f"/confidentialite/demandes/{request.pk}/").content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page


def test_extension_needs_a_reason_and_stops_at_three_months(destination):
    request = dsr()
    with pytest.raises(ValidationError):
        request_extend(request=request, months=2, reason="  ", actor=Actor.system("t"))
    request_extend(request=request, months=2, reason="Demande complexe", actor=Actor.system("t"))
    assert request.deadline == add_months(request.received_on, 3)
    with pytest.raises(ValidationError):
        request_extend(request=request, months=1, reason="encore", actor=Actor.system("t"))


def test_extension_through_the_page(sophie):
    request = dsr()
    response = sophie.post(
        f"/confidentialite/demandes/{request.pk}/",
        {"action": "extend", "months": "2", "reason": "Nombreuses demandes"},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.extended_to == add_months(request.due_on, 2)
    bad = sophie.post(
        f"/confidentialite/demandes/{request.pk}/",
        {"action": "extend", "months": "7", "reason": "x"},
    )
    assert bad.status_code == 422


def test_status_updates_close_the_request(sophie):
    request = dsr()
    sophie.post(
        f"/confidentialite/demandes/{request.pk}/",
        {"action": "update", "status": "done", "resolution": "Données envoyées"},
    )
    request.refresh_from_db()
    assert request.status == "done" and request.closed_at is not None
    assert (
        sophie.post(f"/confidentialite/demandes/{request.pk}/", {"action": "nope"}).status_code
        == 422
    )


def test_the_dpo_exports_the_persons_data(sophie, elodie):
    request = dsr(customer_ref=elodie.pk)
    data = json.loads(sophie.get(f"/confidentialite/demandes/{request.pk}/donnees.json").content)
    assert data["customer"]["email"] == "elodie@x.fr"
    assert data["source_records"][0]["partner"] == "Hôtel des Alpes"
    csv_text = sophie.get(f"/confidentialite/demandes/{request.pk}/donnees.csv").content.decode()
    assert csv_text.startswith("\ufeffsection,n,champ,valeur")
    assert "'=cmd|x" in csv_text and ",=cmd" not in csv_text
    assert sophie.get(f"/confidentialite/demandes/{request.pk}/donnees.xml").status_code == 404


def test_erasure_from_the_desk_needs_the_confirmation(sophie, elodie):
    request = dsr(customer_ref=elodie.pk, kind="erasure")
    url = f"/confidentialite/demandes/{request.pk}/"
    assert sophie.post(url, {"action": "erase", "reason": "Demande"}).status_code == 422
    assert Customer.objects.filter(pk=elodie.pk).exists()
    assert (
        sophie.post(url, {"action": "erase", "reason": "Demande", "confirm": "on"}).status_code
        == 302
    )
    assert not Customer.objects.filter(pk=elodie.pk).exists()
    request.refresh_from_db()
    assert request.status == "done"
    assert ErasureTombstone.objects.get().request_id == request.pk
    assert "effacé ou inexistant" in sophie.get(url).content.decode()


@pytest.mark.parametrize("person", ["marc", "helene", "lucas", "nadia"])
def test_only_the_dpo_and_admins_reach_the_desk(client, destination, person):
    client.force_login(getattr(destination, person))
    request = dsr()
    for url in (
        "/confidentialite/demandes/",
        f"/confidentialite/demandes/{request.pk}/",
        f"/confidentialite/demandes/{request.pk}/donnees.json",
        "/confidentialite/violations/",
        "/confidentialite/journal/",
        "/confidentialite/journal/export.csv",
        "/confidentialite/conservation/",
    ):
        assert client.get(url).status_code == 403, url


def test_camille_the_admin_reaches_the_desk(client, destination):
    client.force_login(destination.camille)
    assert client.get("/confidentialite/demandes/").status_code == 200


def test_a_correction_is_a_new_record_that_the_golden_record_shows(sophie, elodie):
    from cordee.customers.models import SourceRecord
    from cordee.privacy.crypto import email_index

    request = dsr(customer_ref=elodie.pk, kind="rectification")
    url = f"/confidentialite/demandes/{request.pk}/"
    before = SourceRecord.objects.get(customer=elodie)
    response = sophie.post(url, {"action": "correct", "field": "email", "value": " Elodie.M@Y.fr "})
    assert response.status_code == 302
    elodie.refresh_from_db()
    assert elodie.email == "elodie.m@y.fr" and elodie.email_hash == email_index("elodie.m@y.fr")
    correction = SourceRecord.objects.filter(customer=elodie).exclude(pk=before.pk).get()
    assert correction.data["correction"] is True and correction.partner.is_hub
    assert elodie.provenance["email"] == correction.pk
    assert SourceRecord.objects.get(pk=before.pk).raw == before.raw  # untouched


@pytest.mark.parametrize(
    "data",
    [
        {"field": "email", "value": "pas-un-email"},
        {"field": "email", "value": ""},
        {"field": "provenance", "value": "{}"},
        {"field": "birth_date", "value": "1990-01-01"},
        {"field": "phone", "value": "<script>"},
        {"field": "city", "value": "x" * 301},
    ],
)
def test_bad_corrections_are_refused_and_change_nothing(sophie, elodie, data):
    request = dsr(customer_ref=elodie.pk, kind="rectification")
    response = sophie.post(
        f"/confidentialite/demandes/{request.pk}/", {"action": "correct", **data}
    )
    assert response.status_code == 422
    elodie.refresh_from_db()
    assert elodie.email == "elodie@x.fr"
