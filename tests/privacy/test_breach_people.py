"""Art. 34: the people a breach touches, computed from what the DPO says leaked.

Élodie, Jean-Luc and Hans came through Hôtel des Alpes' file; Nadia and Élodie through the
camping's. The camping's laptop is stolen with its export: the DPO must inform Nadia and Élodie.
"""

from __future__ import annotations

import csv
import io
import socket
import time

import pytest
from django.urls import reverse

from cordee.customers.models import Customer
from cordee.privacy.access import Actor
from cordee.privacy.erasure import customer_erase
from cordee.privacy.models import AuditEvent, Breach

CAMPING_FILE = (
    "Prénom;Nom;E-mail;Téléphone;Langue\r\n"
    "Nadia;Benali;nadia.benali@example.fr;06 12 34 56 78;en\r\n"
    "Élodie;Martin;elodie.martin@example.fr;;\r\n"
)


@pytest.fixture
def camping_batch(destination, import_file, hotel_batch):
    batch = import_file(CAMPING_FILE, partner=destination.camping, name="camping.csv")
    assert batch.status == "done", batch.error
    return batch


@pytest.fixture
def breach(db):
    return Breach.objects.create(
        discovered_at="2026-11-20T09:00:00+01:00",
        nature="Ordinateur portable volé au camping avec un export",
        data_categories="Identité, coordonnées",
        people_count=0,
        consequences="Hameçonnage possible",
        measures="Plainte déposée",
    )


@pytest.fixture
def sophie(client, destination):
    client.force_login(destination.sophie)
    return client


def people_of(client, breach) -> list[dict[str, str]]:
    response = client.get(reverse("privacy:breach_people_export", args=[breach.pk]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def scope(client, breach, **values):
    data = {f"b{breach.pk}-{k}": v for k, v in values.items()}
    return client.post(reverse("privacy:breach_people", args=[breach.pk]), data)


def test_the_partner_whose_data_leaked_gives_the_people_to_inform(
    sophie, destination, camping_batch, breach
):
    assert scope(sophie, breach, partners=[destination.camping.pk]).status_code == 302
    breach.refresh_from_db()
    assert breach.people_count == 2
    rows = people_of(sophie, breach)
    assert sorted(r["first_name"] for r in rows) == ["Nadia", "Élodie"]
    nadia = next(r for r in rows if r["first_name"] == "Nadia")
    assert nadia["email"] == "nadia.benali@example.fr"
    assert nadia["phone"] == "+33612345678" and nadia["language"] == "en"
    # Only what is needed to reach them.
    assert list(rows[0]) == ["id", "first_name", "last_name", "email", "phone", "language"]
    export = AuditEvent.objects.get(action="breach.people_export")
    assert export.object_id == str(breach.pk) and export.details["people"] == 2
    assert AuditEvent.objects.filter(action="breach.scope", object_id=str(breach.pk)).exists()
    page = sophie.get(reverse("privacy:breaches")).content.decode()
    assert "2 personnes à informer." in page


def test_a_batch_and_pasted_numbers_add_up_without_counting_anyone_twice(
    sophie, destination, camping_batch, hotel_batch, breach
):
    nadia = Customer.objects.get(first_name="Nadia")
    elodie = Customer.objects.get(first_name="Élodie")
    scope(sophie, breach, batches=str(hotel_batch.pk), customers=f"{nadia.pk}, {elodie.pk}")
    breach.refresh_from_db()
    assert breach.people_count == 4
    assert {r["first_name"] for r in people_of(sophie, breach)} == {
        "Élodie",
        "Jean-Luc",
        "Hans",
        "Nadia",
    }


def test_erased_customers_never_appear(sophie, destination, camping_batch, hotel_batch, breach):
    scope(sophie, breach, batches=str(hotel_batch.pk))
    hans = Customer.objects.get(first_name="Hans")
    customer_erase(customer=hans, actor=Actor.for_user(destination.sophie), reason="Demande")
    names = {r["first_name"] for r in people_of(sophie, breach)}
    assert names == {"Élodie", "Jean-Luc"}
    scope(sophie, breach, batches=str(hotel_batch.pk), customers=str(hans.pk))
    breach.refresh_from_db()
    assert breach.people_count == 2


def test_a_wrong_number_changes_nothing(sophie, destination, camping_batch, breach):
    scope(sophie, breach, partners=[destination.camping.pk])
    response = scope(sophie, breach, batches="999999")
    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.people_count == 2
    assert list(breach.affected_partners.all()) == [destination.camping]
    scope(sophie, breach, customers="12 abc")
    breach.refresh_from_db()
    assert breach.people_count == 2


def test_the_dpo_records_when_the_people_were_informed(sophie, breach):
    response = sophie.post(
        reverse("privacy:breach_informed", args=[breach.pk]), {"informed_at": "2026-11-21T10:30"}
    )
    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.people_informed_at is not None
    assert breach.people_informed_at.isoformat().startswith("2026-11-21T")
    assert AuditEvent.objects.filter(action="breach.people_informed").count() == 1


@pytest.mark.parametrize("who", ["helene", "lucas", "marc"])
def test_only_the_dpo_and_the_office_administrators_see_the_list(
    client, destination, camping_batch, breach, who
):
    client.force_login(getattr(destination, who))
    assert client.get(reverse("privacy:breach_people_export", args=[breach.pk])).status_code == 403
    assert scope(client, breach, partners=[destination.camping.pk]).status_code == 403
    response = client.post(
        reverse("privacy:breach_informed", args=[breach.pk]), {"informed_at": "2026-11-21T10:30"}
    )
    assert response.status_code == 403
    breach.refresh_from_db()
    assert breach.people_count == 0 and breach.people_informed_at is None
    assert not AuditEvent.objects.filter(action="breach.people_export").exists()


@pytest.fixture
def mailbox(settings):
    """A real SMTP server (aiosmtpd) receiving what Cordée sends."""
    from aiosmtpd.controller import Controller
    from tests.channels.conftest import Mailbox, smtp_mailer

    box = Mailbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = smtp_mailer(controller.port)
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    try:
        yield box
    finally:
        controller.stop()


def test_the_dpo_sends_the_message_to_the_people_once(
    sophie, destination, camping_batch, hotel_batch, breach, mailbox
):
    Customer.objects.filter(first_name="Jean-Luc").update(email="")  # no address: counted apart
    scope(sophie, breach, batches=str(hotel_batch.pk), partners=[destination.camping.pk])
    message = {
        "n{}-subject": "Violation de vos données au camping",
        "n{}-body": "Un ordinateur a été volé le 19 novembre. Contact : dpo@office-vallee.fr",
        "n{}-confirm": "on",
    }
    data = {k.format(breach.pk): v for k, v in message.items()}
    url = reverse("privacy:breach_notify", args=[breach.pk])
    assert sophie.post(url, data).status_code == 302
    received = mailbox.wait(3)
    assert sorted(m["To"] for m in received) == [
        "elodie.martin@example.fr",
        "hans.mueller@example.de",
        "nadia.benali@example.fr",
    ]  # one message each: nobody sees another's address
    assert received[0]["Subject"] == "Violation de vos données au camping"
    assert "volé le 19 novembre" in mailbox.text(received[0])
    breach.refresh_from_db()
    assert breach.people_informed_at is not None
    event = AuditEvent.objects.get(action="breach.people_notify")
    assert event.details == {"sent": 3, "without_email": 1}
    # A second post (a replayed form) sends nothing.
    sophie.post(url, data)
    time.sleep(0.3)
    assert len(mailbox.messages) == 3


def test_nothing_is_sent_without_the_confirmation_or_by_others(
    client, sophie, destination, camping_batch, breach, mailbox
):
    scope(sophie, breach, partners=[destination.camping.pk])
    url = reverse("privacy:breach_notify", args=[breach.pk])
    values = {f"n{breach.pk}-subject": "Objet", f"n{breach.pk}-body": "Message"}
    assert sophie.post(url, values).status_code == 302
    client.force_login(destination.helene)
    assert client.post(url, values | {f"n{breach.pk}-confirm": "on"}).status_code == 403
    time.sleep(0.3)
    assert mailbox.messages == []
    breach.refresh_from_db()
    assert breach.people_informed_at is None
