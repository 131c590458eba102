"""Activities' foreign keys have no database constraint (docs/data-model.md): the bulk writer
holds the customer, partner, season, source record and import batch of its rows, and the
code that deletes a partner, a season or a customer still does what the key declares."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from cordee.activities.models import Activity, Season
from cordee.activities.services import NewActivity, activities_record_bulk
from cordee.activities.values import activity_values
from cordee.core.bulk import hold_rows
from cordee.customers.models import SourceRecord
from cordee.partners.models import Partner
from cordee.privacy.access import Actor

SYSTEM = Actor.system("test")


def _item(customer_id: int, reference: str, **more: int | None) -> NewActivity:
    values = activity_values(
        {"kind": "ticket", "starts_on": "2026-01-10", "external_id": reference}
    ).values
    return NewActivity(customer_id=customer_id, values=values, **more)  # type: ignore[arg-type]


def test_an_activity_of_an_unknown_customer_is_refused_and_nothing_of_the_call_is_written(
    customers, destination
):
    items = [_item(customers.elodie.pk, "F-1"), _item(customers.elodie.pk + 10_000, "F-2")]
    with pytest.raises(IntegrityError):
        activities_record_bulk(partner=destination.hotel, items=items, actor=SYSTEM)
    assert not Activity.objects.exists()


def test_one_activity_of_an_unknown_customer_is_refused_too(customers, destination):
    with pytest.raises(IntegrityError):
        activities_record_bulk(
            partner=destination.hotel, items=[_item(customers.elodie.pk + 10_000, "F-1")],
            actor=SYSTEM,
        )  # fmt: skip
    assert not Activity.objects.exists()


def test_an_activity_of_a_partner_that_is_gone_is_refused(customers, destination):
    gone = Partner(pk=destination.hotel.pk + 10_000, slug="parti", name="Parti")
    with pytest.raises(IntegrityError):
        activities_record_bulk(
            partner=gone,
            items=[_item(customers.elodie.pk, "F-1"), _item(customers.elodie.pk, "F-2")],
            actor=SYSTEM,
        )
    assert not Activity.objects.exists()


def test_an_activity_naming_a_source_record_that_is_gone_is_refused(customers, destination):
    record = SourceRecord.objects.filter(customer=customers.elodie).first()
    assert record is not None
    items = [
        _item(customers.elodie.pk, "F-1", source_record_id=record.pk),
        _item(customers.elodie.pk, "F-2", source_record_id=record.pk + 10_000),
    ]
    with pytest.raises(IntegrityError):
        activities_record_bulk(partner=destination.hotel, items=items, actor=SYSTEM)
    assert not Activity.objects.exists()


def test_a_season_deleted_meanwhile_cannot_be_named_by_a_new_activity(db):
    season = Season.objects.create(
        code="hiver-2030-2031", name="Hiver 2030-2031", kind="winter",
        starts_on=dt.date(2030, 12, 1), ends_on=dt.date(2031, 4, 30),
    )  # fmt: skip
    hold_rows({Season: [season.pk, None]})  # present (and an empty key): nothing to say
    with pytest.raises(IntegrityError), transaction.atomic():
        hold_rows({Season: [season.pk, season.pk + 1000]})


def test_a_partner_with_activities_cannot_be_deleted(customers, destination):
    activities_record_bulk(
        partner=destination.hotel, items=[_item(customers.elodie.pk, "F-1")], actor=SYSTEM
    )
    with pytest.raises(ProtectedError):
        destination.hotel.delete()
    assert Activity.objects.count() == 1


def test_deleting_a_season_leaves_its_activities_without_one(customers, destination):
    activities_record_bulk(
        partner=destination.hotel,
        items=[_item(customers.elodie.pk, "F-1"), _item(customers.elodie.pk, "F-2")],
        actor=SYSTEM,
    )
    season = Season.objects.get(code="hiver-2025-2026")
    assert Activity.objects.filter(season=season).count() == 2
    season.delete()
    assert list(Activity.objects.values_list("season_id", flat=True)) == [None, None]


def test_a_merge_does_not_delete_a_customer_an_activity_still_points_at(customers, destination):
    from cordee.customers.merging import _delete_customer

    activities_record_bulk(
        partner=destination.hotel, items=[_item(customers.hugo.pk, "F-1")], actor=SYSTEM
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        _delete_customer(customers.hugo.pk)
    assert Activity.objects.filter(customer=customers.hugo).count() == 1


def test_erasing_a_customer_takes_their_activities(customers, destination):
    from cordee.privacy.erasure import customer_erase

    activities_record_bulk(
        partner=destination.hotel,
        items=[_item(customers.hugo.pk, "F-1"), _item(customers.elodie.pk, "F-2")],
        actor=SYSTEM,
    )
    customer_erase(customer=customers.hugo, actor=SYSTEM, reason="test")
    assert list(Activity.objects.values_list("customer_id", flat=True)) == [customers.elodie.pk]
