"""Bad input against identity resolution: no mass merge, no crash, no lost source record.

Records with almost nothing, placeholders typed to get past a mandatory field, a hotel's
front-desk e-mail shared by two thousand guests, the same line imported twice.
"""

from __future__ import annotations

import pytest
from django.db.models import Count

from cordee.customers.incoming import IncomingRecord
from cordee.customers.models import Customer, MergeEvent, SourceRecord
from cordee.customers.resolution import resolution_run
from cordee.customers.services import source_records_attach

pytestmark = pytest.mark.slow


def attach(partner, rows, *, start: int = 1):
    records = [
        IncomingRecord(raw={k: str(v) for k, v in row.items()}, data=dict(row), line=n)
        for n, row in enumerate(rows, start)
    ]
    return source_records_attach(partner=partner, channel="import", records=records)


FIRST_NAMES = [
    "Marie", "Jean", "Pierre", "Sophie", "Luc", "Anne", "Paul", "Julie", "Marc", "Claire",
    "Louis", "Emma", "Hugo", "Léa", "Nina", "Théo", "Zoé", "Yves", "Inès", "Rémi",
]  # fmt: skip
LAST_NAMES = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
    "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David",
]  # fmt: skip


def test_records_with_almost_nothing_merge_nobody(destination, model_home):
    rows = [{"email": f"personne{n}@exemple-mail.fr"} for n in range(30)]
    rows += [{"first_name": "Marie", "guest": f"chambre {n}"} for n in range(30)]
    rows += [{"last_name": "Martin", "guest": f"chambre {n}"} for n in range(30)]
    attach(destination.hotel, rows)
    before = SourceRecord.objects.count()
    run = resolution_run()
    assert run.merged == 0
    assert SourceRecord.objects.count() == before
    assert Customer.objects.count() == SourceRecord.objects.count()


def test_placeholders_join_nobody(destination, model_home):
    names = ["Client", "Anonyme", "xxx", "XXX", "Test", "Inconnu"]
    rows = [
        {
            "first_name": names[n % len(names)],
            "last_name": names[(n + 1) % len(names)],
            "email": "test@test.com",
            "phone": "+33600000000",
            "birth_date": "1900-01-01",
            "guest": f"chambre {n}",  # one guest per line: not the same line twice
        }
        for n in range(40)
    ]
    result = attach(destination.hotel, rows)
    # The placeholder e-mail and phone are no exact key at intake...
    assert result.created == 40
    run = resolution_run()
    # ... and no evidence for the model.
    assert run.merged == 0 and Customer.objects.count() == 40


def test_a_front_desk_email_shared_by_two_thousand_guests_is_no_mass_merge(destination, model_home):
    rows = [
        {
            "first_name": FIRST_NAMES[n % 20],
            "last_name": f"{LAST_NAMES[(n // 20) % 16]}{'' if n < 320 else n}",
            "email": "reception@hotel-des-alpes.fr",
            "birth_date": f"{1950 + n % 50}-{1 + n % 12:02d}-{1 + n % 28:02d}",
        }
        for n in range(2_000)
    ]
    attach(destination.hotel, rows)
    # The exact e-mail key joined them all at intake: resolution sets them apart.
    assert Customer.objects.count() == 1
    run = resolution_run()
    assert SourceRecord.objects.count() == 2_000
    assert run.split >= 1_990
    sizes = Customer.objects.annotate(n=Count("source_records")).values_list("n", flat=True)
    assert max(sizes) <= 2
    assert not SourceRecord.objects.filter(customer__isnull=True).exists()


def test_the_same_record_twice_is_one_record_and_one_customer(destination, model_home):
    row = {"first_name": "Élodie", "last_name": "Martin", "birth_date": "1985-03-14"}
    first = attach(destination.hotel, [row])
    again = attach(destination.hotel, [row])
    assert (first.created, again.unchanged) == (1, 1)
    # From another partner: a second record of the same person, merged by resolution.
    attach(destination.ski, [{**row, "postal_code": "74000"}])
    run = resolution_run()
    assert run.merged == 1
    assert Customer.objects.count() == 1 and SourceRecord.objects.count() == 2
    assert MergeEvent.objects.count() == 1
    # Running again changes nothing.
    again_run = resolution_run(full=True)
    assert again_run.merged == 0 and again_run.split == 0
