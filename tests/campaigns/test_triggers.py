"""Triggers: the right day, every year, leap years, each occasion once."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.campaigns.conftest import by_recipient, grant, make_customer

from cordee.activities.models import Activity, Season
from cordee.campaigns.models import Message, TriggerOccasion, TriggerRule
from cordee.campaigns.triggers import triggers_run
from cordee.privacy.access import Actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def rule(destination):
    from cordee.privacy.models import Purpose

    def make(kind, days=0):
        message = Message.objects.create(
            subject_fr="Pour vous, {{ first_name }}",
            blocks_fr=[{"type": "paragraph", "text": "Bonjour {{ first_name }}"}],
        )
        return TriggerRule.objects.create(
            name=f"Règle {kind}",
            kind=kind,
            days=days,
            partner=destination.office,
            purpose=Purpose.objects.get(slug="newsletter"),
            channel="email",
            message=message,
            sender_name="Office",
            sender_email="bonjour@vallee.example",
        )

    return make


def run(day):
    from cordee.campaigns.sending import campaign_send_run

    results = triggers_run(day=day, actor=Actor.system("test"))
    for r in results:
        if r.campaign is not None:
            campaign_send_run(campaign_id=r.campaign.pk, backoff=0)
    return results


def person(name, **extra):
    customer = make_customer(name, f"{name.lower()}@example.fr", **extra)
    grant(customer, "newsletter")
    return customer


def test_birthday_on_the_day_every_year_and_once(rule, sink):
    rule("birthday")
    person("Elodie", birth_date=dt.date(1985, 3, 14))
    person("Paul", birth_date=dt.date(1990, 3, 15))
    assert [r.queued for r in run(dt.date(2027, 3, 14))] == [1]
    assert list(by_recipient(sink)) == ["elodie@example.fr"]
    assert [r.queued for r in run(dt.date(2027, 3, 14))] == [0]  # the same day again: nothing
    assert sink.count == 1
    run(dt.date(2028, 3, 14))  # next year: again
    assert sink.count == 2


def test_born_on_29_february_is_wished_on_28_february_in_other_years(rule, sink):
    rule("birthday")
    person("Leap", birth_date=dt.date(2000, 2, 29))
    assert run(dt.date(2027, 2, 28))[0].queued == 1
    assert run(dt.date(2027, 3, 1))[0].queued == 0
    assert run(dt.date(2028, 2, 28))[0].queued == 0  # 2028 has a 29th
    assert run(dt.date(2028, 2, 29))[0].queued == 1


def test_stay_anniversary_n_days_before(rule, sink, destination):
    rule("stay_anniversary", days=30)
    elodie = person("Elodie")
    Activity.objects.create(
        customer=elodie,
        partner=destination.hotel,
        kind="stay",
        channel="import",
        starts_on=dt.date(2025, 2, 10),
    )
    assert run(dt.date(2026, 1, 11))[0].queued == 1
    assert run(dt.date(2026, 1, 11))[0].queued == 0
    assert TriggerOccasion.objects.get().occasion.startswith("stay-")


def test_season_opening_for_the_preferred_season(rule, sink):
    rule("season_opening", days=7)
    Season.objects.create(
        code="hiver-2026-2027",
        name="Hiver 2026-2027",
        kind="winter",
        starts_on=dt.date(2026, 12, 19),
        ends_on=dt.date(2027, 4, 20),
    )
    person("Skieur", preferred_season="winter")
    person("Both", preferred_season="both")
    person("Nageur", preferred_season="summer")
    assert run(dt.date(2026, 12, 12))[0].queued == 2
    assert sorted(by_recipient(sink)) == ["both@example.fr", "skieur@example.fr"]


def test_post_stay_survey_n_days_after(rule, sink, destination):
    rule("post_stay", days=3)
    paul = person("Paul")
    Activity.objects.create(
        customer=paul,
        partner=destination.hotel,
        kind="stay",
        channel="import",
        starts_on=dt.date(2026, 7, 1),
        ends_on=dt.date(2026, 7, 8),
    )
    assert run(dt.date(2026, 7, 10))[0].queued == 0
    assert run(dt.date(2026, 7, 11))[0].queued == 1


def test_the_post_stay_message_carries_the_link_to_that_stays_survey(
    rule, sink, destination, client
):
    """The survey block draws Paul's own link; following it, he scores the stay that was just
    over, and the score lands on that stay."""
    import re
    from urllib.parse import urlsplit

    made = rule("post_stay", days=3)
    Message.objects.filter(pk=made.message_id).update(
        blocks_fr=[
            {"type": "paragraph", "text": "Merci de votre venue, {{ first_name }}."},
            {"type": "survey", "text": "Donner mon avis"},
        ]
    )
    paul = person("Paul")
    old = Activity.objects.create(
        customer=paul, partner=destination.camping, kind="stay", channel="import",
        starts_on=dt.date(2025, 7, 1), ends_on=dt.date(2025, 7, 8),
    )  # fmt: skip
    stay = Activity.objects.create(
        customer=paul, partner=destination.hotel, kind="stay", channel="import",
        starts_on=dt.date(2026, 7, 1), ends_on=dt.date(2026, 7, 8),
    )  # fmt: skip
    assert run(dt.date(2026, 7, 11))[0].queued == 1
    mail = by_recipient(sink)["paul@example.fr"]
    html = mail.get_body(("html",)).get_content()
    text = mail.get_body(("plain",)).get_content()
    (link,) = set(re.findall(r'href="(http[^"]*/enquete/\?t=[^"]+)"', html))
    assert f"Donner mon avis : {link}" in text
    address = urlsplit(link)
    page = client.get(f"{address.path}?{address.query}")
    assert page.status_code == 200 and "Hôtel des Alpes" in page.content.decode()
    token = link.partition("?t=")[2]
    assert client.post("/enquete/", {"t": token, "score": "6"}).status_code == 200
    stay.refresh_from_db()
    old.refresh_from_db()
    assert stay.satisfaction == 6 and old.satisfaction is None


def test_win_back_once_per_lapse(rule, sink, destination):
    rule("winback", days=365)
    zoe = person("Zoe")
    Activity.objects.create(
        customer=zoe,
        partner=destination.hotel,
        kind="stay",
        channel="import",
        starts_on=dt.date(2024, 1, 5),
    )
    assert run(dt.date(2025, 6, 1))[0].queued == 1
    assert run(dt.date(2025, 6, 2))[0].queued == 0  # still the same lapse


def test_no_consent_no_trigger(rule, sink):
    rule("birthday")
    make_customer("Sans", "sans@example.fr", birth_date=dt.date(1980, 5, 5))
    result = run(dt.date(2026, 5, 5))[0]
    assert result.candidates == 1 and result.queued == 0 and sink.count == 0
