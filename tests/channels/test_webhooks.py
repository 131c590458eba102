"""Outbound webhooks: a real HTTP receiver on loopback checks every signature it gets."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
import time

import pytest
from django.utils import timezone

from cordee.channels import webhooks
from cordee.channels.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db(transaction=True)


class Receiver:
    """A partner's system: records each delivery and whether its signature checked out."""

    def __init__(self, secret: str, answers: list[int] | None = None) -> None:
        self.secret = secret
        self.answers = list(answers or [])
        self.received: list[dict] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(
                    {
                        "body": body,
                        "headers": dict(self.headers),
                        "valid": webhooks.signature_verify(
                            secret=receiver.secret,
                            header=self.headers.get("Cordee-Signature", ""),
                            body=body,
                        ),
                    }
                )
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                if status in (301, 302):
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def documents(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers(destination):
    made = []

    def make(partner, events=None, answers=None):
        endpoint = WebhookEndpoint.objects.create(
            partner=partner, url="http://127.0.0.1:1/", events=events or webhooks.EVENTS
        )
        receiver = Receiver(endpoint.secret, answers)
        endpoint.url = receiver.url
        endpoint.save()
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.close()


def _customers_changed(ids, created=False, partner=None):
    from cordee.core import signals

    signals.customers_changed.send(
        sender=None, customer_ids=ids, created=created, partner_id=partner.pk if partner else None
    )


def test_each_partner_hears_only_of_the_customers_it_may_see(destination, receivers, import_file):
    from cordee.customers.models import Customer

    # Imported before the endpoints exist: the import's own "shared" event reaches nobody.
    batch = import_file("Prénom;Nom;E-mail\r\nÉlodie;Martin;elodie@example.fr\r\n")
    assert batch.status == "done"
    hotel = receivers(destination.hotel)
    camping = receivers(destination.camping)
    office = receivers(destination.office)
    elodie = Customer.objects.get()
    _customers_changed([elodie.pk], partner=destination.hotel)

    assert [d["data"] for d in hotel.documents()] == [{"customer_id": elodie.pk}]
    assert [d["type"] for d in hotel.documents()] == ["customer.updated"]
    assert len(office.documents()) == 1  # the tourist office sees every customer
    assert camping.received == []  # the camping has no business with Élodie
    assert all(r["valid"] for r in hotel.received + office.received)
    (delivery,) = WebhookDelivery.objects.filter(endpoint__partner=destination.hotel)
    assert delivery.status == "delivered" and delivery.attempts == 1
    headers = hotel.received[0]["headers"]
    assert headers["Cordee-Event"] == "customer.updated"
    assert headers["Cordee-Delivery"] == str(delivery.event_id)
    assert "elodie" not in hotel.received[0]["body"].decode()  # ids only, no personal data


def test_form_confirmation_sends_shared_and_consent_events(
    client, purposes, submit, hotel_forms, mailbox, receivers, destination
):
    hotel = receivers(destination.hotel)
    submit(hotel_forms["newsletter"], {"email": "zoe@example.fr", "consent_newsletter": "on"})
    link = mailbox.link(mailbox.wait(1)[0])
    client.post(link.split("testserver", 1)[1])
    assert sorted(d["type"] for d in hotel.documents()) == ["consent.changed", "customer.shared"]
    assert all(r["valid"] for r in hotel.received)


def test_an_endpoint_gets_only_the_events_it_subscribed_to(destination, receivers, import_file):
    from cordee.customers.models import Customer

    hotel = receivers(destination.hotel, events=["customer.erased"])
    import_file("Prénom;Nom;E-mail\r\nÉlodie;Martin;elodie@example.fr\r\n")
    _customers_changed([Customer.objects.get().pk])
    assert hotel.received == []


def test_erasure_reaches_the_partners_that_knew_the_customer(destination, receivers):
    from cordee.core import signals

    hotel = receivers(destination.hotel)
    ski = receivers(destination.ski)
    signals.customers_erased.send(
        sender=None, customer_ids=[42, 43], partner_ids={42: [destination.hotel.pk]}
    )
    assert [d["type"] for d in hotel.documents()] == ["customer.erased"]
    assert ski.received == []


def test_failures_are_retried_with_backoff_until_delivered(destination, receivers, import_file):
    from cordee.customers.models import Customer

    import_file("Prénom;Nom;E-mail\r\nÉlodie;Martin;elodie@example.fr\r\n")
    hotel = receivers(destination.hotel, answers=[500, 503])
    before = timezone.now()
    _customers_changed([Customer.objects.get().pk])
    delivery = WebhookDelivery.objects.get(endpoint__partner=destination.hotel)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    first_wait = delivery.next_attempt_at - before
    assert dt.timedelta(seconds=25) < first_wait < dt.timedelta(seconds=40)

    assert webhooks.deliveries_retry_due() == 0  # not due yet
    webhooks.deliveries_retry_due(now=delivery.next_attempt_at + dt.timedelta(seconds=1))
    # deliveries_retry_due claims with the real clock: move the due time instead.
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    webhooks.deliveries_retry_due()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 2, 503)
    assert delivery.next_attempt_at - timezone.now() > dt.timedelta(seconds=50)  # doubled
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    webhooks.deliveries_retry_due()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 3)
    # The same event id each time: the receiver can drop duplicates.
    assert len({json.loads(r["body"])["id"] for r in hotel.received}) == 1


def test_a_dead_receiver_is_given_up_after_the_last_attempt(destination, import_file):
    WebhookEndpoint.objects.create(
        partner=destination.hotel, url="http://127.0.0.1:9/", events=webhooks.EVENTS
    )
    # The import announces its new customer: "customer.shared" to the partners that see it.
    import_file("Prénom;Nom;E-mail\r\nÉlodie;Martin;elodie@example.fr\r\n")
    for _ in range(webhooks.MAX_ATTEMPTS):
        WebhookDelivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())
        webhooks.deliveries_retry_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == webhooks.MAX_ATTEMPTS
    assert delivery.last_error


def test_a_redirect_is_not_followed(destination, receivers, import_file):
    hotel = receivers(destination.hotel, answers=[302])
    # The import announces its new customer: "customer.shared" to the partners that see it.
    import_file("Prénom;Nom;E-mail\r\nÉlodie;Martin;elodie@example.fr\r\n")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.last_status_code == 302
    assert len(hotel.received) == 1


def test_a_claimed_delivery_is_never_sent_twice(destination, receivers, import_file):
    hotel = receivers(destination.hotel)
    # The import announces its new customer: "customer.shared" to the partners that see it.
    import_file("Prénom;Nom;E-mail\r\nÉlodie;Martin;elodie@example.fr\r\n")
    delivery = WebhookDelivery.objects.get()
    assert webhooks.delivery_attempt(delivery_id=delivery.pk) is None
    assert len(hotel.received) == 1


def test_replayed_and_forged_deliveries_fail_verification():
    secret = "whsec_test"
    body = b'{"type":"customer.updated"}'
    now = time.time()
    fresh = webhooks.signature_header(secret, body, int(now))
    assert webhooks.signature_verify(secret=secret, header=fresh, body=body, now=now)
    # Replayed ten minutes later: refused even though the signature is right.
    assert not webhooks.signature_verify(secret=secret, header=fresh, body=body, now=now + 600)
    # Body changed, wrong secret, timestamp changed, garbage headers.
    assert not webhooks.signature_verify(secret=secret, header=fresh, body=body + b" ", now=now)
    assert not webhooks.signature_verify(secret="other", header=fresh, body=body, now=now)
    moved = fresh.replace(f"t={int(now)}", f"t={int(now) + 1}")
    assert not webhooks.signature_verify(secret=secret, header=moved, body=body, now=now)
    for header in ["", "t=abc,v1=00", "v1=" + "0" * 64, "t=1," + "x" * 10000, "\x00\r\n"]:
        assert not webhooks.signature_verify(secret=secret, header=header, body=body, now=now)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",
        "ftp://127.0.0.1/",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "",
    ],
)
def test_only_https_or_loopback_receivers_are_accepted(url):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        webhooks.url_check(url)


def test_webhook_pages_show_the_log_to_the_hub_only(client, destination, receivers, import_file):
    receivers(destination.hotel)
    # The import announces its new customer: "customer.shared" to the partners that see it.
    import_file("Prénom;Nom;E-mail\r\nÉlodie;Martin;elodie@example.fr\r\n")
    endpoint = WebhookEndpoint.objects.get()
    client.force_login(destination.camille)
    page = client.get(f"/canaux/webhooks/{endpoint.pk}/").content.decode()
    assert "customer.shared" in page and endpoint.secret in page and "Livré" in page
    client.force_login(destination.nadia)
    assert client.get(f"/canaux/webhooks/{endpoint.pk}/").status_code == 404
    client.force_login(destination.helene)
    page = client.get(f"/canaux/webhooks/{endpoint.pk}/").content.decode()
    assert endpoint.secret not in page
    assert client.post("/canaux/webhooks/nouveau/", {}).status_code == 403


def test_hub_admin_creates_a_webhook_and_a_bad_url_is_refused(client, destination):
    client.force_login(destination.camille)
    bad = client.post(
        "/canaux/webhooks/nouveau/",
        {
            "partner": destination.hotel.pk,
            "url": "http://example.com/x",
            "events": ["customer.updated"],
        },
    )
    assert bad.status_code == 200 and "https://" in bad.content.decode()
    good = client.post(
        "/canaux/webhooks/nouveau/",
        {
            "partner": destination.hotel.pk,
            "url": "https://erp.hotel-des-alpes.fr/cordee",
            "events": ["customer.updated", "consent.changed"],
        },
    )
    assert good.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["customer.updated", "consent.changed"]
    assert endpoint.secret.startswith("whsec_")


def test_an_event_about_many_customers_is_sent_by_one_sweep(destination, receivers):
    from cordee.customers.models import Customer

    hotel = receivers(destination.office)  # the tourist office sees every customer
    customers = Customer.objects.bulk_create(
        [Customer(first_name=f"C{i}", last_name="Test") for i in range(120)]
    )
    _customers_changed([c.pk for c in customers])
    assert WebhookDelivery.objects.filter(status="delivered").count() == 120
    assert len(hotel.received) == 120 and all(r["valid"] for r in hotel.received)
