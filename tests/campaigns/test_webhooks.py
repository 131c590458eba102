"""A provider reports bounces, complaints and unsubscribes to /webhooks/email/<provider>/.

Payloads follow Postmark's and Mailgun's documented webhook shapes (written here by hand).
A campaign is first really sent through the aiosmtpd server, so the ledger holds real rows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from cordee.campaigns.models import (
    Delivery,
    DeliveryStatus,
    EventKind,
    Suppression,
    SuppressionReason,
    TrackingEvent,
)
from cordee.privacy.crypto import email_index
from cordee.privacy.models import AuditEvent, ConsentState

pytestmark = pytest.mark.django_db

SECRET = "postier:mot-de-passe-long-2026"
SIGNING_KEY = "key-mailgun-signing-0123456789"


def auth(secret=SECRET):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


@pytest.fixture
def provider(settings):
    def use(name):
        settings.CORDEE_EMAIL_PROVIDER = name
        settings.CORDEE_EMAIL_WEBHOOK_SECRET = SECRET
        settings.CORDEE_EMAIL_PROVIDER_KEY = SIGNING_KEY

    return use


@pytest.fixture
def sent(people, campaign_of, send, sink):
    campaign = campaign_of()
    send(campaign)
    rows = {d.customer.email: d for d in Delivery.objects.select_related("customer")}
    assert rows["elodie.martin@example.fr"].status == DeliveryStatus.SENT
    return rows


def postmark(record_type, email, **extra):
    base = {
        "RecordType": record_type,
        "MessageStream": "outbound",
        "ID": 4323372036854775807,
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "ServerID": 23,
        "Tag": "",
        "Metadata": {},
    }
    if record_type == "Bounce":
        base.update(
            {
                "Type": "HardBounce",
                "TypeCode": 1,
                "Name": "Hard bounce",
                "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
                "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
                "Email": email,
                "From": "bonjour@vallee.example",
                "BouncedAt": "2026-11-22T16:33:54.9070259Z",
                "DumpAvailable": True,
                "Inactive": True,
                "CanActivate": True,
                "Subject": "L'hiver arrive",
            }
        )
    elif record_type == "SpamComplaint":
        base.update(
            {
                "Type": "SpamComplaint",
                "TypeCode": 512,
                "Name": "Spam complaint",
                "Description": "The subscriber explicitly marked this message as spam.",
                "Details": "Test spam complaint details",
                "Email": email,
                "From": "bonjour@vallee.example",
                "BouncedAt": "2026-11-22T16:33:54.9070259Z",
                "Subject": "L'hiver arrive",
            }
        )
    elif record_type == "SubscriptionChange":
        base.update(
            {
                "Recipient": email,
                "Origin": "Recipient",
                "SuppressSending": True,
                "SuppressionReason": "ManualSuppression",
                "ChangedAt": "2026-11-22T16:40:00Z",
            }
        )
    base.update(extra)
    return base


def post(client, name, payload, **headers):
    body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    return client.post(
        f"/webhooks/email/{name}/",
        data=body,
        content_type="application/json",
        **{**auth(), **headers},
    )


def suppressed(address, reason=None):
    qs = Suppression.objects.filter(channel="email", address_hash=email_index(address))
    if reason:
        qs = qs.filter(reason=reason)
    return qs.exists()


def test_a_postmark_hard_bounce_suppresses_the_address_and_marks_the_ledger(client, provider, sent):
    provider("postmark")
    response = post(client, "postmark", postmark("Bounce", "elodie.martin@example.fr"))
    assert response.status_code == 200 and response.json() == {"bounce": 1}
    row = Delivery.objects.get(pk=sent["elodie.martin@example.fr"].pk)
    assert row.status == DeliveryStatus.BOUNCED and "postmark" in row.error
    assert suppressed("elodie.martin@example.fr", SuppressionReason.BOUNCE)
    assert TrackingEvent.objects.filter(delivery=row, kind=EventKind.BOUNCE).count() == 1
    # The provider sends it again (retries): nothing doubles.
    post(client, "postmark", postmark("Bounce", "elodie.martin@example.fr"))
    assert TrackingEvent.objects.filter(delivery=row, kind=EventKind.BOUNCE).count() == 1
    assert Suppression.objects.count() == 1
    audit = AuditEvent.objects.filter(action="campaign.provider_event").last()
    assert audit is not None and "elodie" not in json.dumps(audit.details)


def test_a_soft_bounce_does_not_suppress(client, provider, sent):
    provider("postmark")
    post(client, "postmark", postmark("Bounce", "hans.mueller@example.de", Type="SoftBounce"))
    assert not suppressed("hans.mueller@example.de")


def test_a_complaint_suppresses_everything_and_withdraws_the_purpose(client, provider, sent):
    provider("postmark")
    response = post(client, "postmark", postmark("SpamComplaint", "hans.mueller@example.de"))
    assert response.json() == {"complaint": 1}
    assert suppressed("hans.mueller@example.de", SuppressionReason.COMPLAINT)
    hans = sent["hans.mueller@example.de"]
    state = ConsentState.objects.get(customer_id=hans.customer_id, purpose__slug="newsletter")
    assert state.status == "withdrawn"
    assert TrackingEvent.objects.filter(delivery=hans, kind=EventKind.COMPLAINT).exists()


def test_an_unsubscribe_through_the_provider_withdraws_like_our_own_link(client, provider, sent):
    provider("postmark")
    post(client, "postmark", postmark("SubscriptionChange", "zoe.lambert@example.fr"))
    zoe = sent["zoe.lambert@example.fr"]
    state = ConsentState.objects.get(customer_id=zoe.customer_id, purpose__slug="newsletter")
    assert state.status == "withdrawn"
    assert suppressed("zoe.lambert@example.fr", SuppressionReason.UNSUBSCRIBE)


def test_an_unknown_message_still_suppresses_the_address(client, provider, sent):
    provider("postmark")
    response = post(client, "postmark", postmark("Bounce", "inconnu@nulle-part.example"))
    assert response.status_code == 200
    assert suppressed("inconnu@nulle-part.example", SuppressionReason.BOUNCE)
    assert Delivery.objects.filter(status=DeliveryStatus.BOUNCED).count() == 0


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 200),
        (auth("postier:mauvais"), 401),
        ({"HTTP_AUTHORIZATION": ""}, 401),
        ({"HTTP_AUTHORIZATION": "Basic !!!pas-du-base64"}, 401),
    ],
)
def test_credentials_are_required(client, provider, sent, headers, status):
    provider("postmark")
    response = post(client, "postmark", postmark("Bounce", "elodie.martin@example.fr"), **headers)
    assert response.status_code == status
    assert suppressed("elodie.martin@example.fr") is (status == 200)


def test_no_secret_or_another_provider_means_no_endpoint(client, settings, sent):
    settings.CORDEE_EMAIL_PROVIDER = "postmark"
    settings.CORDEE_EMAIL_WEBHOOK_SECRET = ""
    assert (
        post(client, "postmark", postmark("Bounce", "elodie.martin@example.fr")).status_code == 404
    )
    settings.CORDEE_EMAIL_WEBHOOK_SECRET = SECRET
    assert post(client, "mailgun", {"x": 1}).status_code == 404
    assert post(client, "inconnu", {"x": 1}).status_code == 404
    assert client.get("/webhooks/email/postmark/", **auth()).status_code == 405
    assert not Suppression.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b"{ pas du json",
        b"\xff\xfe\x00",
        b"[]",
        b'"une chaine"',
        b"{}",
        json.dumps({"RecordType": "Bounce", "Type": "HardBounce", "Email": ["liste"]}).encode(),
    ],
)
def test_malformed_payloads_get_a_4xx_never_a_500(client, provider, sent, body):
    provider("postmark")
    response = post(client, "postmark", body)
    assert response.status_code in (200, 400)
    assert not Suppression.objects.exists()


def test_a_huge_body_is_refused(client, provider, sent):
    provider("postmark")
    huge = json.dumps(postmark("Bounce", "elodie.martin@example.fr", Details="x" * 3_000_000))
    response = post(client, "postmark", huge)
    assert response.status_code == 413
    assert not Suppression.objects.exists()


def mailgun(event, recipient, message_id, *, key=SIGNING_KEY, severity="permanent"):
    timestamp, token = str(int(time.time())), "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    data = {
        "event": event,
        "id": "G9Bn5sl1TC6nu79C8C0bwg",
        "timestamp": time.time(),
        "recipient": recipient,
        "recipient-domain": recipient.partition("@")[2],
        "log-level": "error",
        "message": {
            "headers": {
                "to": recipient,
                "message-id": message_id,
                "from": "bonjour@vallee.example",
                "subject": "L'hiver arrive",
            },
            "attachments": [],
            "size": 111,
        },
        "user-variables": {},
        "tags": [],
    }
    if event == "failed":
        data["severity"] = severity
        data["reason"] = "bounce"
        data["delivery-status"] = {
            "code": 550,
            "message": "5.1.1 The email account that you tried to reach does not exist",
            "description": "",
        }
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": data,
    }


def test_a_mailgun_bounce_finds_the_row_by_our_message_id(client, provider, sent):
    provider("mailgun")
    row = sent["hans.mueller@example.de"]
    message_id = row.message_id.strip("<>")
    response = post(client, "mailgun", mailgun("failed", "hans.mueller@example.de", message_id))
    assert response.status_code == 200 and response.json() == {"bounce": 1}
    row.refresh_from_db()
    assert row.status == DeliveryStatus.BOUNCED
    assert suppressed("hans.mueller@example.de", SuppressionReason.BOUNCE)


def test_a_mailgun_event_naming_another_address_does_not_touch_that_row(client, provider, sent):
    provider("mailgun")
    row = sent["hans.mueller@example.de"]
    payload = mailgun("failed", "elodie.martin@example.fr", row.message_id.strip("<>"))
    post(client, "mailgun", payload)
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT
    assert Delivery.objects.get(pk=sent["elodie.martin@example.fr"].pk).status == "bounced"


def test_a_temporary_mailgun_failure_suppresses_nothing(client, provider, sent):
    provider("mailgun")
    row = sent["hans.mueller@example.de"]
    payload = mailgun("failed", "hans.mueller@example.de", "x", severity="temporary")
    assert post(client, "mailgun", payload).json() == {"ignored": 1}
    assert not suppressed("hans.mueller@example.de")
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT


def test_a_mailgun_post_with_a_forged_signature_is_refused(client, provider, sent):
    provider("mailgun")
    payload = mailgun("complained", "hans.mueller@example.de", "x", key="pas-la-bonne-cle")
    assert post(client, "mailgun", payload).status_code == 401
    assert not Suppression.objects.exists()


def test_through_postmark_each_mail_names_its_row_and_the_bounce_finds_it(
    client, provider, people, campaign_of, send, sink
):
    from tests.campaigns.conftest import by_recipient

    provider("postmark")
    send(campaign_of())
    mail = by_recipient(sink)["zoe.lambert@example.fr"]
    delivery_id = mail["X-PM-Metadata-cordee_delivery"]
    row = Delivery.objects.get(pk=int(delivery_id))
    assert row.customer.email == "zoe.lambert@example.fr"
    # Postmark gives its own MessageID and hands the metadata back.
    payload = postmark(
        "Bounce", "zoe.lambert@example.fr", Metadata={"cordee_delivery": delivery_id}
    )
    assert post(client, "postmark", payload).json() == {"bounce": 1}
    row.refresh_from_db()
    assert row.status == DeliveryStatus.BOUNCED


def test_through_mailgun_each_mail_carries_its_variables(provider, people, campaign_of, send, sink):
    from tests.campaigns.conftest import by_recipient

    provider("mailgun")
    send(campaign_of())
    mail = by_recipient(sink)["hans.mueller@example.de"]
    variables = json.loads(mail["X-Mailgun-Variables"])
    assert Delivery.objects.get(pk=int(variables["cordee_delivery"])).customer.first_name == "Hans"
