"""Sending through a real SMTP server, and reading back what it received."""

from __future__ import annotations

import re

import pytest
from tests.campaigns.conftest import by_recipient, grant, use_smtp

from cordee.campaigns.models import Delivery, DeliveryStatus, Suppression

pytestmark = pytest.mark.django_db


def test_each_consenting_customer_gets_one_personalised_mail(people, sink, campaign_of, send):
    report = send(campaign_of())
    got = by_recipient(sink)
    assert sorted(got) == [
        "elodie.martin@example.fr",
        "hans.mueller@example.de",
        "zoe.lambert@example.fr",
    ]
    assert report.sent == 3 and sink.count == 3
    elodie = got["elodie.martin@example.fr"]
    assert elodie["Subject"] == "Élodie, l'hiver arrive ❄"
    assert elodie["From"].addresses[0].display_name == "Office de tourisme de la Vallée"
    text = elodie.get_body("plain").get_content()
    html = elodie.get_body("html").get_content()
    assert "Bonjour Élodie !" in text and "Bonjour Élodie !" in html
    # Safe defaults where the customer has no stay, no activity, no group.
    assert "Depuis votre dernier séjour (récemment)" in text
    assert "groupe nos visiteurs" in text


def test_headers_and_mime_follow_the_standards(people, sink, campaign_of, send):
    campaign = campaign_of()
    send(campaign)
    msg = by_recipient(sink)["zoe.lambert@example.fr"]
    assert msg.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in msg.iter_parts()]
    assert parts == ["text/plain", "text/html"]  # the richest last (RFC 2046)
    delivery = Delivery.objects.get(campaign=campaign, customer=people["zoe"])
    assert (
        msg["Message-ID"]
        == delivery.message_id
        == f"<cordee.{campaign.pk}.{delivery.pk}@vallee.example>"
    )
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(
        r"<https://crm\.vallee\.example/campagnes/m/d/[^>]+/>", msg["List-Unsubscribe"]
    )
    assert msg["Date"] and msg["MIME-Version"] == "1.0"
    # Zoé has no first name: the subject's own default; the greeting's built-in one.
    assert msg["Subject"] == "Bonjour, l'hiver arrive ❄"
    assert "Bonjour cher visiteur !" in msg.get_body("plain").get_content()


def test_every_message_carries_a_preference_link_and_an_unsubscribe_link(
    people, sink, campaign_of, send
):
    send(campaign_of())
    for msg in by_recipient(sink).values():
        text = msg.get_body("plain").get_content()
        assert (
            "Gérer mes préférences : https://crm.vallee.example/preferences/?t=" in text
            or "Manage my preferences : https://crm.vallee.example/preferences/?t=" in text
        )
        assert msg["List-Unsubscribe"].strip("<>") in msg.get_body("html").get_content()


def test_links_are_tracked_only_for_people_who_agreed(people, sink, campaign_of, send):
    send(campaign_of())
    got = by_recipient(sink)
    elodie_html = got["elodie.martin@example.fr"].get_body("html").get_content()
    zoe_html = got["zoe.lambert@example.fr"].get_body("html").get_content()
    assert "https://vallee.example/reserver" not in elodie_html
    assert "/campagnes/m/k/" in elodie_html and "/campagnes/m/o/" in elodie_html
    assert 'href="https://vallee.example/reserver?from=mail"' in zoe_html
    assert "/campagnes/m/k/" not in zoe_html and "/campagnes/m/o/" not in zoe_html


def test_english_speakers_get_the_english_version(people, sink, campaign_of, send):
    send(campaign_of())
    hans = by_recipient(sink)["hans.mueller@example.de"]
    assert hans["Subject"] == "Winter is coming, Hans"
    assert "Hello Hans!" in hans.get_body("plain").get_content()
    assert (
        "Manage my preferences" in hans.get_body("plain").get_content()
        or "Gérer" in hans.get_body("plain").get_content()
    )


def test_consent_withdrawn_during_the_send_stops_the_message(
    people, sink, campaign_of, destination
):
    from cordee.campaigns.sending import campaign_send_run, campaign_start
    from cordee.privacy.access import Actor
    from cordee.privacy.services import consent_withdraw

    campaign = campaign_of()
    campaign_start(campaign=campaign, actor=Actor.for_user(destination.marc))
    consent_withdraw(
        customer=people["hans"], purpose="newsletter", channel="email", actor=Actor.system("t")
    )
    campaign_send_run(campaign_id=campaign.pk)
    assert "hans.mueller@example.de" not in by_recipient(sink)
    row = Delivery.objects.get(campaign=campaign, customer=people["hans"])
    assert row.status == DeliveryStatus.SKIPPED and row.error == "consentement retiré"


def test_a_refused_address_bounces_into_the_suppression_list(people, sink, campaign_of, send):
    sink.refuse = {"hans.mueller@example.de"}
    campaign = campaign_of()
    report = send(campaign)
    assert report.bounced == 1 and report.sent == 2
    row = Delivery.objects.get(campaign=campaign, customer=people["hans"])
    assert row.status == DeliveryStatus.BOUNCED and "550" in row.error
    assert Suppression.objects.filter(
        address_hash=people["hans"].email_hash, reason="bounce"
    ).exists()
    # The next campaign does not even try.
    sink.messages.clear()
    send(campaign_of(name="Suite"))
    assert "hans.mueller@example.de" not in by_recipient(sink)


def test_a_connection_dropped_half_way_is_retried_without_duplicates(
    people, sink, campaign_of, send
):
    sink.drop_at = {2}
    campaign = campaign_of()
    report = send(campaign)
    assert report.retried >= 1
    assert sink.count == 3 and set(sink.ids.values()) == {1}
    assert Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.SENT).count() == 3


def test_a_server_that_refuses_connections_leaves_rows_to_retry(
    people, settings, campaign_of, send
):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        use_smtp(settings, "127.0.0.1", s.getsockname()[1])
    campaign = campaign_of()
    report = send(campaign)
    assert report.sent == 0 and report.errors and "injoignable" in report.errors[0]
    statuses = set(Delivery.objects.filter(campaign=campaign).values_list("status", flat=True))
    assert DeliveryStatus.SENT not in statuses and DeliveryStatus.CLAIMED not in statuses
    campaign.refresh_from_db()
    assert campaign.state == "sending"  # not finished: the task tries again later


def test_a_server_that_never_answers_times_out_and_is_retried(
    people, settings, campaign_of, destination, sink
):
    import socket

    from cordee.campaigns import mailer
    from cordee.campaigns.sending import campaign_send_run, campaign_start
    from cordee.privacy.access import Actor

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    real = settings.MAILERS
    use_smtp(settings, "127.0.0.1", silent.getsockname()[1])
    original = mailer.SmtpSession.__init__

    def short(self, timeout=0.3):
        original(self, timeout=0.3)

    mailer.SmtpSession.__init__ = short
    try:
        campaign = campaign_of()
        campaign_start(campaign=campaign, actor=Actor.for_user(destination.marc))
        report = campaign_send_run(campaign_id=campaign.pk, backoff=0)
        assert report.sent == 0 and report.errors
        settings.MAILERS = real
        report = campaign_send_run(campaign_id=campaign.pk, backoff=0)
        assert report.sent == 3 and sink.count == 3
    finally:
        mailer.SmtpSession.__init__ = original
        silent.close()


def test_a_worker_whose_claim_was_taken_over_cannot_send(
    people, sink, campaign_of, destination, settings
):
    from cordee.campaigns.sending import _mark_sent, campaign_start, deliveries_claim
    from cordee.privacy.access import Actor

    campaign = campaign_of()
    campaign_start(campaign=campaign, actor=Actor.for_user(destination.marc))
    first = deliveries_claim(campaign.pk, "worker-a", 10)
    assert len(first) == 3
    assert deliveries_claim(campaign.pk, "worker-b", 10) == []  # nothing left to claim
    settings.CORDEE_CAMPAIGN_LEASE = -1  # worker-a went silent past its lease
    second = deliveries_claim(campaign.pk, "worker-b", 10)
    assert sorted(second) == sorted(first)
    assert not _mark_sent(first[0], "worker-a", "<x>")  # a's late send is refused
    assert _mark_sent(first[0], "worker-b", "<x>")


def test_two_workers_claim_disjoint_batches(people, sink, campaign_of, destination, settings):
    from cordee.campaigns.sending import campaign_start, deliveries_claim
    from cordee.privacy.access import Actor

    campaign = campaign_of()
    campaign_start(campaign=campaign, actor=Actor.for_user(destination.marc))
    a = deliveries_claim(campaign.pk, "a", 2)
    b = deliveries_claim(campaign.pk, "b", 2)
    assert len(a) == 2 and len(b) == 1 and not set(a) & set(b)


def test_running_again_after_the_end_sends_nothing(people, sink, campaign_of, send):
    from cordee.campaigns.sending import campaign_send_run

    campaign = campaign_of()
    send(campaign)
    campaign.refresh_from_db()
    assert campaign.state == "sent"
    campaign_send_run(campaign_id=campaign.pk)
    assert sink.count == 3


def test_the_pressure_cap_counts_every_sender(people, sink, campaign_of, send, settings):
    settings.CORDEE_PRESSURE_CAP = 2
    send(campaign_of(name="Un"))
    send(campaign_of(name="Deux"))
    third = campaign_of(name="Trois")
    send(third)
    assert sink.count == 6
    steps = {s["key"]: s["count"] for s in third.audience_steps}
    assert steps["suppression"] == 3 and steps["pressure"] == 0


def test_a_control_group_is_held_out_and_not_sent(destination, sink, campaign_of, send):
    from tests.campaigns.conftest import make_customer

    for i in range(60):
        grant(make_customer(f"P{i}", f"p{i}@example.org"), "newsletter")
    campaign = campaign_of(control_percent=30)
    send(campaign)
    control = Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.CONTROL).count()
    sent = Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.SENT).count()
    assert 5 <= control <= 35 and sent + control == 60 and sink.count == sent
