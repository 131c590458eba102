from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from cordee.activities.models import Activity
from cordee.activities.services import activity_record
from cordee.core.signals import activities_changed
from cordee.privacy.access import Actor
from cordee.privacy.models import AuditEvent

SYSTEM = Actor.system("test")


def record(customers, destination, **fields):
    return activity_record(
        customer=customers.elodie, partner=destination.hotel, actor=SYSTEM, channel="api",
        fields=fields,
    )  # fmt: skip


def test_a_stay_is_recorded_with_its_season_and_french_values(customers, destination):
    activity, status = record(
        customers, destination, kind="Séjour", starts_on="14/02/2026", ends_on="21/02/2026",
        amount="1 234,50 €", quantity="2", payment_means="CB", external_id="R-2026-001",
        product="Chambre double",
    )  # fmt: skip
    assert status == "created"
    assert activity.kind == "stay"
    assert activity.season.code == "hiver-2025-2026"
    assert activity.amount == Decimal("1234.50")
    assert activity.payment_means == "Carte bancaire"
    assert activity.ends_on == dt.date(2026, 2, 21)
    assert AuditEvent.objects.filter(action="activity.record").count() == 1


def test_the_same_reference_twice_is_one_activity_and_a_change_updates_it(customers, destination):
    first, _ = record(
        customers, destination, kind="stay", starts_on="2026-02-14", external_id="R-1"
    )
    again, status = record(
        customers, destination, kind="stay", starts_on="2026-02-14", external_id="R-1"
    )
    assert status == "unchanged" and again.pk == first.pk
    moved, status = record(
        customers, destination, kind="stay", starts_on="2026-07-14", external_id="R-1"
    )
    assert status == "updated" and moved.pk == first.pk
    assert moved.season.code == "ete-2026"
    assert Activity.objects.count() == 1


def test_bad_values_are_refused_with_french_reasons(customers, destination):
    with pytest.raises(ValidationError) as caught:
        record(
            customers, destination, kind="<script>alert(1)</script>", starts_on="31/02/2026",
            amount="beaucoup", quantity="-3", satisfaction="11",
        )  # fmt: skip
    message = " ".join(caught.value.messages)
    assert "type inconnu" in message
    assert "Date impossible" in message
    assert "montant illisible" in message
    assert "nombre entier positif attendu" in message
    assert Activity.objects.count() == 0


@pytest.mark.parametrize(
    "fields, reason",
    [
        ({"kind": "stay"}, "date obligatoire"),
        ({"kind": "stay", "starts_on": "2026-02-10", "ends_on": "2026-02-01"}, "précède"),
        ({"kind": "stay", "starts_on": "1850-01-01"}, "hors limites"),
        ({"kind": "stay", "starts_on": "2026-01-01", "product": "x" * 201}, "trop long"),
        ({"kind": "stay", "starts_on": "2026-01-01", "product": "a\x00b"}, "interdit"),
        ({"kind": "stay", "starts_on": "2026-01-01", "amount": "1e400"}, "hors limites"),
        ({"kind": "stay", "starts_on": "2026-01-01", "amount": "NaN"}, "hors limites"),
        ({"kind": "stay", "starts_on": "2026-01-01", "currency": "euros!"}, "trois lettres"),
        ({"kind": "stay", "starts_on": "2026-01-01", "details": {"x": "y" * 20_000}}, "trop longs"),
        ({"kind": "stay", "starts_on": "2026-01-01", "quantity": "9" * 50}, "entier"),
    ],
)
def test_hostile_and_huge_values(customers, destination, fields, reason):
    with pytest.raises(ValidationError, match=reason):
        record(customers, destination, **fields)


def test_control_characters_and_markup_are_kept_as_text(customers, destination):
    activity, _ = record(
        customers, destination, kind="purchase", starts_on="2026-01-02",
        product="<b>Forfait</b>\x07 '; DROP TABLE activities_activity; --",
    )  # fmt: skip
    assert activity.product == "<b>Forfait</b> '; DROP TABLE activities_activity; --"


@pytest.mark.django_db(transaction=True)
def test_activities_changed_is_sent_after_commit(customers, destination):
    received = []

    def listen(sender, customer_ids, **kwargs):
        received.append(customer_ids)

    activities_changed.connect(listen)
    try:
        record(customers, destination, kind="visit", starts_on="2026-01-02")
    finally:
        activities_changed.disconnect(listen)
    assert received == [[customers.elodie.pk]]


def test_a_reference_written_meanwhile_is_skipped_not_an_error(customers, destination):
    """Two requests with the same reference at once: the second insert finds the first's row."""
    from django.db import transaction

    from cordee.activities import services

    first, _ = record(
        customers, destination, kind="visit", starts_on="2026-01-02", external_id="RACE"
    )
    item = services.NewActivity(
        customer_id=customers.elodie.pk,
        values={
            "kind": "visit",
            "starts_on": first.starts_on,
            "external_id": "RACE",
            "currency": "EUR",
        },
    )
    other = services.NewActivity(
        customer_id=customers.elodie.pk,
        values={
            "kind": "visit",
            "starts_on": first.starts_on,
            "external_id": "OTHER",
            "currency": "EUR",
        },
    )
    out = services.BulkWritten(results=[services.Written("created", None)] * 2)
    rows = [
        (
            i,
            services._row(
                x,
                partner_id=destination.hotel.pk,
                channel="api",
                batch_id=None,
                season_id=None,
                now=first.created_at,
            ),
        )
        for i, x in enumerate((item, other))
    ]
    with transaction.atomic():
        services._insert(rows, out)  # as if the existing row had not been seen
    assert [r.status for r in out.results] == ["unchanged", "created"]
    assert Activity.objects.filter(external_id="RACE").count() == 1
