"""The values a message is personalised with, for a batch of customers."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.campaigns.conftest import make_customer

from cordee.activities.models import Activity
from cordee.campaigns.personalisation import personal_values
from cordee.channels.surveys import survey_stay
from cordee.segments.models import CustomerStats

pytestmark = pytest.mark.django_db


def test_the_loyalty_group_is_the_typologys_in_the_customers_language(destination):
    zoe = make_customer("Zoé", "zoe@example.fr")
    hans = make_customer("Hans", "hans@example.de", language="en")
    ines = make_customer("Inès", "ines@example.fr", attributes={"loyalty_group": "VIP"})
    nadia = make_customer("Nadia", "nadia@example.fr")
    CustomerStats.objects.create(customer=zoe, loyalty_group="fidele")
    CustomerStats.objects.create(customer=hans, loyalty_group="fuyant")
    CustomerStats.objects.create(customer=nadia, loyalty_group="prospect")
    values = personal_values([zoe, hans, ines, nadia])
    assert values[zoe.pk]["loyalty_group"] == "Fidèle"
    assert values[hans.pk]["loyalty_group"] == "Drifting away"
    assert values[ines.pk]["loyalty_group"] == "VIP"  # imported, no typology yet
    assert values[nadia.pk]["loyalty_group"] == ""  # a prospect: the message's default


def test_the_survey_link_opens_the_last_stay(destination):
    paul = make_customer("Paul", "paul@example.fr")
    lea = make_customer("Léa", "lea@example.fr")
    for year in (2024, 2026, 2025):
        Activity.objects.create(
            customer=paul, partner=destination.hotel, kind="stay", channel="import",
            starts_on=dt.date(year, 7, 1), ends_on=dt.date(year, 7, 8),
        )  # fmt: skip
    values = personal_values([paul, lea])
    token = values[paul.pk]["survey_url"].partition("?t=")[2]
    assert survey_stay(token).starts_on == dt.date(2026, 7, 1)
    assert "survey_url" not in values[lea.pk]  # no stay: the survey block draws nothing
