"""Sending through a provider's HTTP API (django-anymail), to a real local HTTP server.

The server (``http.server`` in a thread) answers like Postmark's and Brevo's send APIs, as
their documentation shows: an accepted mail gets the provider's message id; it can also
answer a server error once (the row is retried), an "inactive recipient" (Postmark's 406:
the address bounces) or a bad request (the row fails). The provider's bounce webhook, naming
only its own message id, then finds the right ledger row.
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from tests.campaigns.test_webhooks import SECRET, auth, postmark

from cordee.campaigns.models import Delivery, DeliveryStatus, Suppression

pytestmark = pytest.mark.django_db


class ProviderServer:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.calls: list[dict] = []
        self.headers: list[dict[str, str]] = []
        self.fail_once: set[str] = set()
        self.inactive: set[str] = set()
        self.bad: set[str] = set()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, answer = server.answer(self.path, body, dict(self.headers))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/" + ("v3/" if self.kind == "brevo" else "")

    def answer(self, path, body, headers):
        to = body["To"] if self.kind == "postmark" else body["to"][0]["email"]
        with self.lock:
            if to in self.fail_once:
                self.fail_once.discard(to)
                return 500, {"ErrorCode": 100, "Message": "Internal server error"}
            self.calls.append(body)
            self.headers.append(headers)
        if self.kind == "postmark":
            assert path == "/email"
            if headers.get("X-Postmark-Server-Token") != "jeton-postmark":
                return 401, {"ErrorCode": 10, "Message": "Bad or missing Server API token."}
            if to in self.inactive:
                return 422, {
                    "ErrorCode": 406,
                    "Message": "You tried to send to a recipient that has been marked as "
                    f"inactive.\nFound inactive addresses: {to}.\nInactive recipients are ones "
                    "that have generated a hard bounce or a spam complaint.",
                }
            return 200, {
                "To": to,
                "SubmittedAt": "2026-11-22T23:30:00.0000000-05:00",
                "MessageID": str(uuid.uuid4()),
                "ErrorCode": 0,
                "Message": "OK",
            }
        assert path == "/v3/smtp/email"
        if headers.get("api-key") != "xkeysib-jeton":
            return 401, {"code": "unauthorized", "message": "Key not found"}
        if to in self.bad:
            return 400, {"code": "invalid_parameter", "message": "email is not valid in to"}
        return 201, {"messageId": f"<{uuid.uuid4().hex}@smtp-relay.mailin.fr>"}

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def api(settings):
    servers = []

    def use(kind, key):
        server = ProviderServer(kind).__enter__()
        servers.append(server)
        settings.CORDEE_EMAIL_PROVIDER = kind
        settings.CORDEE_EMAIL_PROVIDER_API_KEY = key
        settings.CORDEE_EMAIL_PROVIDER_API_URL = server.url
        settings.CORDEE_EMAIL_WEBHOOK_SECRET = SECRET
        return server

    yield use
    for server in servers:
        server.__exit__()


def test_postmark_api_sends_each_mail_and_the_ledger_keeps_its_id(
    people, api, campaign_of, send, sink, client
):
    server = api("postmark", "jeton-postmark")
    server.fail_once = {"hans.mueller@example.de"}
    campaign = campaign_of()
    report = send(campaign)
    # Nothing went through SMTP; three calls were accepted (Hans's after a server error).
    assert sink.count == 0
    assert sorted(c["To"] for c in server.calls) == [
        "elodie.martin@example.fr",
        "hans.mueller@example.de",
        "zoe.lambert@example.fr",
    ]
    assert report.sent == 3 and report.retried >= 1
    rows = {d.customer.email: d for d in Delivery.objects.select_related("customer")}
    for call in server.calls:
        row = rows[call["To"]]
        assert row.status == DeliveryStatus.SENT and row.message_id
        assert call["Metadata"] == {"cordee_delivery": str(row.pk)}
        assert call["TrackOpens"] is False and call["TrackLinks"] == "None"
        headers = {h["Name"]: h["Value"] for h in call.get("Headers", [])}
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "/campagnes/m/d/" in headers["List-Unsubscribe"]
        assert "Office de tourisme de la Vallée" in call["From"]
    elodie = next(c for c in server.calls if c["To"] == "elodie.martin@example.fr")
    assert elodie["Subject"] == "Élodie, l'hiver arrive ❄"
    assert "Bonjour Élodie !" in elodie["TextBody"] and "Bonjour Élodie !" in elodie["HtmlBody"]
    assert rows["hans.mueller@example.de"].attempts == 1  # the server error counted
    # Postmark's bounce names only its own MessageID: the right row is found by it.
    zoe = rows["zoe.lambert@example.fr"]
    payload = postmark("Bounce", "", MessageID=zoe.message_id)
    payload.pop("Email")
    response = client.post(
        "/webhooks/email/postmark/",
        data=json.dumps(payload),
        content_type="application/json",
        **auth(),
    )
    assert response.status_code == 200 and response.json() == {"bounce": 1}
    zoe.refresh_from_db()
    assert zoe.status == DeliveryStatus.BOUNCED
    assert Delivery.objects.filter(status=DeliveryStatus.BOUNCED).count() == 1


def test_an_inactive_recipient_bounces_and_a_server_that_keeps_failing_is_recorded(
    people, api, campaign_of, send, sink
):
    server = api("postmark", "jeton-postmark")
    server.inactive = {"hans.mueller@example.de"}
    campaign = campaign_of()
    report = send(campaign)
    assert report.bounced == 1 and report.sent == 2
    hans = Delivery.objects.get(campaign=campaign, customer=people["hans"])
    assert hans.status == DeliveryStatus.BOUNCED and "postmark" in hans.error
    assert Suppression.objects.filter(address_hash=people["hans"].email_hash).exists()
    # A provider that answers 500 every time: the row is retried, then fails — never lost.
    server.calls.clear()

    class Always(set):
        def discard(self, item):
            pass

    server.fail_once = Always({"elodie.martin@example.fr"})
    again = campaign_of(name="Suite")
    report = send(again)
    elodie = Delivery.objects.get(campaign=again, customer=people["elodie"])
    assert elodie.status == DeliveryStatus.FAILED and "500" in elodie.error
    assert elodie.attempts == 3  # CORDEE_CAMPAIGN_RETRIES in these tests
    assert "elodie.martin@example.fr" not in [c["To"] for c in server.calls]


def test_brevo_api_and_a_refused_message(people, api, campaign_of, send, sink):
    server = api("brevo", "xkeysib-jeton")
    server.bad = {"zoe.lambert@example.fr"}
    campaign = campaign_of()
    report = send(campaign)
    errors = list(Delivery.objects.values_list("error", flat=True))
    assert sink.count == 0 and report.sent == 2 and report.failed == 1, errors
    for call in server.calls:
        row = Delivery.objects.get(campaign=campaign, customer__email=call["to"][0]["email"])
        if call["to"][0]["email"] == "zoe.lambert@example.fr":
            assert row.status == DeliveryStatus.FAILED and "400" in row.error
            continue
        assert row.status == DeliveryStatus.SENT
        assert row.message_id.endswith("@smtp-relay.mailin.fr>")
        assert call["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    row = Delivery.objects.get(campaign=campaign, customer=people["hans"])
    assert row.message_id and Delivery.objects.filter(message_id=row.message_id).count() == 1


def test_without_an_api_key_the_provider_is_only_for_webhooks(
    people, settings, campaign_of, send, sink
):
    settings.CORDEE_EMAIL_PROVIDER = "postmark"
    report = send(campaign_of())
    assert report.sent == 3 and sink.count == 3  # through SMTP (its relay), as before


def test_a_test_send_goes_through_the_api_too(people, api, campaign_of, destination):
    from cordee.campaigns.services import campaign_test_send
    from cordee.privacy.access import Actor

    server = api("postmark", "jeton-postmark")
    campaign = campaign_of()
    message_id = campaign_test_send(
        campaign=campaign,
        customer=people["elodie"],
        to="equipe@vallee.example",
        actor=Actor.for_user(destination.marc),
    )
    assert server.calls[0]["To"] == "equipe@vallee.example"
    assert server.calls[0]["Subject"].startswith("[TEST] ") and message_id
