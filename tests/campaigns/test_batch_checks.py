"""A batch is claimed in one statement and checked in one query: what must still hold.

Two workers claiming at the same moment never get the same row; whatever changes between the
claim and the send (a withdrawal, a new suppression, a restriction, the week's cap reached
through another campaign) keeps that person's message from going out.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from tests.campaigns.conftest import by_recipient, grant, make_customer

from cordee.campaigns import sending
from cordee.campaigns.models import Delivery, DeliveryStatus


def withdraw_after_claim(monkeypatch, change):
    """Run ``change`` right after the worker's claim, before its batch is checked and sent."""
    original = sending.deliveries_claim_rows

    def claim(*args, **kwargs):
        rows = original(*args, **kwargs)
        if rows:
            change()
        return rows

    monkeypatch.setattr(sending, "deliveries_claim_rows", claim)


def start(campaign, destination):
    from cordee.privacy.access import Actor

    sending.campaign_start(campaign=campaign, actor=Actor.for_user(destination.marc))


def test_consent_withdrawn_inside_a_claimed_batch_is_not_sent(
    people, sink, campaign_of, destination, monkeypatch
):
    from cordee.privacy.access import Actor
    from cordee.privacy.services import consent_withdraw

    campaign = campaign_of()
    start(campaign, destination)
    withdraw_after_claim(
        monkeypatch,
        lambda: consent_withdraw(
            customer=people["hans"], purpose="newsletter", channel="email", actor=Actor.system("t")
        ),
    )
    report = sending.campaign_send_run(campaign_id=campaign.pk, backoff=0)
    assert "hans.mueller@example.de" not in by_recipient(sink)
    assert report.sent == 2 and report.skipped == 1
    row = Delivery.objects.get(campaign=campaign, customer=people["hans"])
    assert row.status == DeliveryStatus.SKIPPED and row.error == "consentement retiré"
    assert not row.claimed_by


def test_an_address_suppressed_inside_a_claimed_batch_is_not_sent(
    people, sink, campaign_of, destination, monkeypatch
):
    campaign = campaign_of()
    start(campaign, destination)
    withdraw_after_claim(
        monkeypatch,
        lambda: sending.suppression_add(
            channel="email", address_hash=people["zoe"].email_hash, reason="complaint"
        ),
    )
    sending.campaign_send_run(campaign_id=campaign.pk, backoff=0)
    assert set(by_recipient(sink)) == {"elodie.martin@example.fr", "hans.mueller@example.de"}
    row = Delivery.objects.get(campaign=campaign, customer=people["zoe"])
    assert row.status == DeliveryStatus.SKIPPED and row.error == "adresse exclue"


def test_the_cap_reached_inside_a_claimed_batch_stops_the_message(
    people, sink, campaign_of, destination, monkeypatch, settings
):
    """A cap of one a week: another sender's mail reaches Élodie while our batch is claimed."""
    from django.utils import timezone

    settings.CORDEE_PRESSURE_CAP = 1
    campaign = campaign_of()
    start(campaign, destination)
    other = campaign_of(name="Offre du Hôtel des Alpes")
    withdraw_after_claim(
        monkeypatch,
        lambda: Delivery.objects.create(
            campaign=other,
            customer=people["elodie"],
            status=DeliveryStatus.SENT,
            sent_at=timezone.now(),
        ),
    )
    sending.campaign_send_run(campaign_id=campaign.pk, backoff=0)
    assert "elodie.martin@example.fr" not in by_recipient(sink)
    row = Delivery.objects.get(campaign=campaign, customer=people["elodie"])
    assert row.status == DeliveryStatus.SKIPPED and row.error == "plafond de pression atteint"
    assert Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.SENT).count() == 2


def test_a_restricted_customer_inside_a_claimed_batch_is_not_sent(
    people, sink, campaign_of, destination, monkeypatch
):
    from django.utils import timezone

    from cordee.customers.models import Customer

    campaign = campaign_of()
    start(campaign, destination)
    withdraw_after_claim(
        monkeypatch,
        lambda: Customer.objects.filter(pk=people["elodie"].pk).update(
            restricted_at=timezone.now()
        ),
    )
    sending.campaign_send_run(campaign_id=campaign.pk, backoff=0)
    assert "elodie.martin@example.fr" not in by_recipient(sink)
    assert Delivery.objects.get(campaign=campaign, customer=people["elodie"]).status == "skipped"


@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_at_once_never_get_the_same_row(destination, purposes, campaign_of):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("threads need their own connections to one database file or server")
    for i in range(300):
        grant(make_customer(f"P{i}", f"p{i}@example.org"), "newsletter")
    campaign = campaign_of()
    start(campaign, destination)
    workers = [f"w{i}" for i in range(4)]
    barrier = threading.Barrier(len(workers))
    claimed: dict[str, list[int]] = {w: [] for w in workers}
    errors: list[BaseException] = []

    def run(worker: str) -> None:
        from django.db import connections

        try:
            barrier.wait()
            while rows := sending.deliveries_claim_rows(campaign.pk, worker, 25):
                claimed[worker] += [r[0] for r in rows]
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    every = [pk for ids in claimed.values() for pk in ids]
    assert len(every) == len(set(every)) == 300  # none twice, none skipped
    owners = dict(Delivery.objects.filter(campaign=campaign).values_list("id", "claimed_by"))
    for worker, ids in claimed.items():
        assert all(owners[pk] == worker for pk in ids)
