"""Consent stories: Élodie, Jean-Luc and Hans came through Hôtel des Alpes' file.

Élodie said yes to the newsletter and no to the partners' offers, Jean-Luc no to the
newsletter, Hans said nothing about the newsletter and yes to the partners' offers.
"""

from __future__ import annotations

import pytest

HOTEL_FILE = (
    "Prénom;Nom;E-mail;Newsletter;consent_partner_offers\r\n"
    "Élodie;Martin;elodie.martin@example.fr;oui;non\r\n"
    "Jean-Luc;Dupont;jl.dupont@example.com;non;\r\n"
    "Hans;Müller;hans.mueller@example.de;;oui\r\n"
)


def batch_source_ids(batch) -> list[int]:
    from cordee.customers.models import SourceRecord

    return list(SourceRecord.objects.filter(batch=batch).values_list("pk", flat=True))


@pytest.fixture
def record_batch():
    """Record the consents a finished import batch carries, as the import will."""
    from cordee.privacy.access import Actor
    from cordee.privacy.services import consents_record_from_sources

    def run(batch):
        return consents_record_from_sources(
            source_record_ids=batch_source_ids(batch),
            channel="import",
            actor=Actor.system("import"),
        )

    return run


@pytest.fixture
def source_ids():
    return batch_source_ids


@pytest.fixture
def hotel_batch(destination, import_file):
    batch = import_file(HOTEL_FILE, partner=destination.hotel, name="hotel.csv")
    assert batch.status == "done", batch.error
    return batch


@pytest.fixture
def people(hotel_batch):
    from cordee.customers.models import Customer

    return {c.first_name: c for c in Customer.objects.all()}


@pytest.fixture
def office_actor(destination):
    from cordee.privacy.access import Actor

    return Actor.for_user(destination.camille)
