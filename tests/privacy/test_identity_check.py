"""The identity check of a request: Sophie, the DPO, records Élodie's request at the desk;
Cordée writes to Élodie's address (a real SMTP server, aiosmtpd, receives it); Élodie opens
the link and presses the button. Before that, nothing touches her data."""

from __future__ import annotations

import re
import socket
from urllib.parse import urlsplit

import pytest
from tests.channels.conftest import Mailbox, smtp_mailer

from cordee.customers.models import Customer
from cordee.privacy.access import Actor
from cordee.privacy.identity import identity_token
from cordee.privacy.models import DataSubjectRequest
from cordee.privacy.requests import request_create

LINK = re.compile(r"https?://\S+/preferences/identite/\?t=\S+")


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.CORDEE_PUBLIC_URL = "https://crm.vallee.example"


@pytest.fixture
def mailbox(settings):
    """A real SMTP server (aiosmtpd) on loopback, as for the public forms' double opt-in."""
    from aiosmtpd.controller import Controller

    box = Mailbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = smtp_mailer(controller.port)
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def elodie(destination):
    from cordee.customers.services import IncomingRecord, source_records_attach

    data = {"first_name": "Élodie", "last_name": "Martin", "email": "elodie@x.fr"}
    record = IncomingRecord(raw={k: str(v) for k, v in data.items()}, data=data)
    ids = source_records_attach(partner=destination.hotel, channel="import", records=[record])
    return Customer.objects.get(pk=ids.customer_ids[0])


@pytest.fixture
def sophie(client, destination):
    client.force_login(destination.sophie)
    return client


def path_of(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def token_of(link: str) -> str:
    return re.search(r"[?&]t=([^&\s]+)", link).group(1)


def record_at_desk(sophie, customer, kind="access") -> DataSubjectRequest:
    response = sophie.post(
        "/confidentialite/demandes/",
        {"kind": kind, "channel": "post", "customer_ref": customer.pk, "message": "Mes données"},
    )
    assert response.status_code == 302, response.content
    return DataSubjectRequest.objects.latest("pk")


def test_the_confirmation_mail_arrives_and_its_link_confirms_once(sophie, elodie, mailbox, client):
    request = record_at_desk(sophie, elodie)
    assert request.identity == "awaiting" and request.status == "verifying"
    due = request.due_on
    [message] = mailbox.wait(1)
    assert message["To"] == "elodie@x.fr"
    text = mailbox.text(message)
    link = LINK.search(text).group(0)
    assert link.startswith("https://crm.vallee.example/preferences/identite/?t=")
    sophie.logout()

    # A mail scanner follows the link: the page shows a button, nothing is confirmed.
    page = client.get(path_of(link))
    assert page.status_code == 200 and "Je confirme" in page.content.decode()
    request.refresh_from_db()
    assert request.identity == "awaiting"

    done = client.post("/preferences/identite/", {"t": token_of(link), "lang": "fr"})
    assert done.status_code == 200 and 'id="confirmed"' in done.content.decode()
    request.refresh_from_db()
    assert request.identity == "email" and request.identity_confirmed_at is not None
    assert request.status == "in_progress"
    assert request.due_on == due  # the month runs from the receipt (Art. 12(3))

    # Replayed: the link is spent.
    assert client.post("/preferences/identite/", {"t": token_of(link)}).status_code == 403
    assert client.get(path_of(link)).status_code == 403


def test_the_page_speaks_english(sophie, elodie, mailbox, client):
    record_at_desk(sophie, elodie)
    link = LINK.search(mailbox.text(mailbox.wait(1)[0])).group(0)
    page = client.get(path_of(link).replace("lang=fr", "lang=en"))
    assert page.status_code == 200 and "I confirm" in page.content.decode()


def test_forged_expired_and_superseded_tokens_are_refused(sophie, elodie, mailbox, client):
    from cordee.privacy.preferences import preference_token

    request = record_at_desk(sophie, elodie)
    token = token_of(LINK.search(mailbox.text(mailbox.wait(1)[0])).group(0))
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    for bad in (forged, "", "x" * 400, preference_token(elodie)):
        assert client.post("/preferences/identite/", {"t": bad}).status_code == 403
    expired = identity_token(request, days=-1)
    assert client.post("/preferences/identite/", {"t": expired}).status_code == 410
    # A new link retires the old one.
    assert (
        sophie.post(f"/confidentialite/demandes/{request.pk}/", {"action": "resend"}).status_code
        == 302
    )
    assert len(mailbox.wait(2)) == 2
    assert client.post("/preferences/identite/", {"t": token}).status_code == 403
    request.refresh_from_db()
    assert request.identity == "awaiting"


def test_export_and_erasure_wait_for_the_identity(sophie, elodie, settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    request = request_create(
        kind="erasure", channel="email", customer_ref=elodie.pk, actor=Actor.system("t")
    )
    export = sophie.get(f"/confidentialite/demandes/{request.pk}/donnees.json")
    assert export.status_code == 302 and "Content-Disposition" not in export
    page = sophie.get(export["Location"]).content.decode()
    assert "Export refusé" in page
    erase = sophie.post(
        f"/confidentialite/demandes/{request.pk}/",
        {"action": "erase", "reason": "demande", "confirm": "on"},
    )
    assert erase.status_code == 422
    assert "identité du demandeur n&#x27;est pas encore confirmée" in erase.content.decode()
    assert Customer.objects.filter(pk=elodie.pk).exists()

    # The DPO saw her ID at the desk: the note must say how.
    short = sophie.post(
        f"/confidentialite/demandes/{request.pk}/", {"action": "identity", "identity_note": "ok"}
    )
    assert short.status_code == 422
    sophie.post(
        f"/confidentialite/demandes/{request.pk}/",
        {"action": "identity", "identity_note": "Carte d'identité présentée à l'accueil"},
    )
    request.refresh_from_db()
    assert request.identity == "other"
    export = sophie.get(f"/confidentialite/demandes/{request.pk}/donnees.json")
    assert export.status_code == 200 and export["Content-Disposition"].startswith("attachment")

    erase = sophie.post(
        f"/confidentialite/demandes/{request.pk}/",
        {"action": "erase", "reason": "demande", "confirm": "on"},
    )
    assert erase.status_code == 302
    assert not Customer.objects.filter(pk=elodie.pk).exists()
    request.refresh_from_db()
    # The ledger keeps that the identity was checked, and when; not how (it may name her).
    assert request.identity == "other" and request.identity_confirmed_at is not None
    assert request.identity_note == ""


def test_the_list_shows_the_identity_beside_the_deadline(sophie, elodie):
    request_create(kind="access", channel="email", customer_ref=elodie.pk, actor=Actor.system("t"))
    page = sophie.get("/confidentialite/demandes/").content.decode()
    assert "En attente de confirmation" in page


def test_a_request_from_the_preference_centre_is_already_identified(destination, elodie):
    from cordee.privacy.preferences import preference_request

    request = preference_request(customer=elodie, kind="erasure", message="")
    assert request.identity == "link" and request.identity_confirmed
