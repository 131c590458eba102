"""A merge meets what other parts of Cordée hold about a customer: a loyalty card each, the
segments' aggregates, a frozen list both belong to. Nothing blocks the merge, and the undo
gives each person back what was theirs."""

from __future__ import annotations

import datetime as dt

import pytest

from cordee.activities.cards import loyalty_card_issue
from cordee.activities.models import Activity, LoyaltyCard
from cordee.customers.merging import customers_merge, merge_undo
from cordee.customers.models import Customer
from cordee.privacy.access import Actor
from cordee.segments.models import CustomerStats, Segment, SegmentKind, SegmentMember
from cordee.segments.services import stats_refresh_customers

pytestmark = pytest.mark.django_db(transaction=True)  # the aggregates follow on commit

HOTEL = "Prénom;Nom;E-mail\r\nÉlodie;Martin;elodie.martin@orange.fr\r\n"
SKI = "Prénom;Nom;E-mail\r\nElodie;Martin;e.martin@gmail.com\r\n"


@pytest.fixture
def two(destination, import_file):
    import_file(HOTEL, partner=destination.hotel, name="hotel.csv")
    import_file(SKI, partner=destination.ski, name="ski.csv")
    hotel = Customer.objects.get(email="elodie.martin@orange.fr")
    ski = Customer.objects.get(email="e.martin@gmail.com")
    actor = Actor.for_user(destination.camille)
    for customer, partner, kind, day in (
        (hotel, destination.hotel, "stay", dt.date(2025, 7, 10)),
        (ski, destination.ski, "lesson", dt.date(2026, 2, 10)),
    ):
        Activity.objects.create(
            customer=customer,
            partner=partner,
            source_record=customer.source_records.get(),
            kind=kind,
            channel="import",
            starts_on=day,
            amount=100,
        )
        loyalty_card_issue(customer=customer, actor=actor)
    stats_refresh_customers([hotel.pk, ski.pk])
    frozen = Segment.objects.create(slug="vip", name="VIP", kind=SegmentKind.FROZEN)
    SegmentMember.objects.bulk_create(
        [SegmentMember(segment=frozen, customer=hotel), SegmentMember(segment=frozen, customer=ski)]
    )
    return hotel, ski, actor


def test_merge_and_undo_with_cards_aggregates_and_lists(two):
    hotel, ski, actor = two
    cards = dict(LoyaltyCard.objects.values_list("customer_id", "number"))
    event = customers_merge(hotel, ski, actor=actor, score=0.999)

    # One customer: its own card still works, the aggregates count both people's activities.
    assert not Customer.objects.filter(pk=ski.pk).exists()
    assert LoyaltyCard.objects.get(customer=hotel).number == cards[hotel.pk]
    assert CustomerStats.objects.get(customer=hotel).activity_count == 2
    assert not CustomerStats.objects.filter(customer_id=ski.pk).exists()
    assert list(SegmentMember.objects.values_list("customer_id", flat=True)) == [hotel.pk]

    merge_undo(event, actor=actor)

    assert dict(LoyaltyCard.objects.values_list("customer_id", "number")) == cards
    assert CustomerStats.objects.get(customer=hotel).activity_count == 1
    assert CustomerStats.objects.get(customer_id=ski.pk).activity_count == 1
    assert sorted(SegmentMember.objects.values_list("customer_id", flat=True)) == sorted(
        [hotel.pk, ski.pk]
    )
