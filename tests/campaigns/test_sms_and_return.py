"""SMS (console backend, STOP, quiet hours), the return of a campaign, CORDEE_EMAIL_URL."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cordee.activities.models import Activity
from cordee.campaigns.backends.console import OUTBOX
from cordee.campaigns.email_url import EmailURLError, smtp_options
from cordee.campaigns.models import Delivery, DeliveryStatus, Suppression
from cordee.campaigns.queries import campaign_report
from cordee.privacy.models import ConsentState

pytestmark = pytest.mark.django_db


def sms_campaign(campaign_of):
    return campaign_of(
        channel="sms",
        purpose="newsletter",
        sms_fr="{{ first_name }}, la neige est là !",
        blocks_fr=[],
        subject_fr="",
    )


def test_sms_goes_to_people_who_agreed_to_sms_too(people, campaign_of, send):
    OUTBOX.clear()
    report = send(sms_campaign(campaign_of))
    assert report.sent == 1  # Élodie alone has a phone and both consents
    ((to, sender, text),) = OUTBOX
    assert to == "+33612345678" and text.startswith("Élodie, la neige est là !") and "STOP" in text


def test_quiet_hours_hold_sms_back(people, campaign_of, send, settings):
    settings.CORDEE_SMS_QUIET_HOURS = (
        "0-0" if False else f"{timezone.localtime().hour}-{(timezone.localtime().hour + 1) % 24}"
    )
    OUTBOX.clear()
    report = send(sms_campaign(campaign_of))
    assert report.sent == 0 and report.deferred_until is not None and not OUTBOX


def test_stop_by_sms_withdraws_and_excludes_the_number(people, client, settings, campaign_of, send):
    settings.CORDEE_SMS_INBOUND_TOKEN = "s3cret-token"
    assert (
        client.post("/campagnes/m/sms/wrong/", {"from": "+33612345678", "text": "STOP"}).status_code
        == 404
    )
    response = client.post(
        "/campagnes/m/sms/s3cret-token/", {"from": "+33612345678", "text": " stop "}
    )
    assert response.content == b"stop"
    assert (
        ConsentState.objects.get(customer=people["elodie"], purpose__slug="sms").status
        == "withdrawn"
    )
    assert Suppression.objects.filter(channel="sms", reason="stop").exists()
    OUTBOX.clear()
    assert send(sms_campaign(campaign_of)).sent == 0


def test_return_counts_conversions_against_the_control_group(destination, sink, campaign_of, send):
    from tests.campaigns.conftest import grant, make_customer

    people = [make_customer(f"P{i}", f"p{i}@example.org") for i in range(40)]
    for p in people:
        grant(p, "newsletter")
    campaign = campaign_of(control_percent=25, cost="100.00")
    send(campaign)
    campaign.refresh_from_db()
    sent = list(
        Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.SENT).values_list(
            "customer_id", flat=True
        )
    )
    control = list(
        Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.CONTROL).values_list(
            "customer_id", flat=True
        )
    )
    assert control
    today = timezone.localdate()
    for customer_id in sent[:4]:
        Activity.objects.create(
            customer_id=customer_id,
            partner=destination.hotel,
            kind="stay",
            channel="api",
            starts_on=today + dt.timedelta(days=30),
            amount=250,
        )
    Activity.objects.create(
        customer_id=control[0],
        partner=destination.hotel,
        kind="stay",
        channel="api",
        starts_on=today,
        amount=100,
    )
    # Before the campaign: not a conversion.
    Activity.objects.create(
        customer_id=sent[5],
        partner=destination.hotel,
        kind="stay",
        channel="api",
        starts_on=today - dt.timedelta(days=60),
        amount=999,
    )
    report = campaign_report(campaign)
    assert report.recipients.converted == 4 and report.recipients.revenue == 1000
    assert report.control.converted == 1 and report.control.members == len(control)
    assert report.return_on_cost == 10.0
    assert report.uplift == pytest.approx(4 / len(sent) - 1 / len(control))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://mail.example:2525",
            {"host": "mail.example", "port": 2525, "use_ssl": False, "username": ""},
        ),
        (
            "smtps://bob:p%40ss%3Aw@mail.example:465",
            {
                "host": "mail.example",
                "port": 465,
                "use_ssl": True,
                "username": "bob",
                "password": "p@ss:w",
            },
        ),
        ("smtps://mail.example", {"port": 465}),
        ("smtp://mail.example?starttls=1", {"use_tls": True, "port": 25}),
    ],
)
def test_email_url_is_parsed(url, expected):
    options = smtp_options(url)
    assert {k: options[k] for k in expected} == expected


@pytest.mark.parametrize(
    "url", ["http://mail.example", "smtp://", "smtp://mail.example:99999", "mail.example:25"]
)
def test_a_bad_email_url_says_why(url):
    with pytest.raises(EmailURLError):
        smtp_options(url)
