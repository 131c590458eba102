"""Merging Élodie's two customers, and undoing it exactly: the merge ledger.

Hôtel des Alpes knows Élodie Martin with her address and her Orange e-mail, and she said
yes to the office's newsletter there; the École de ski knows "Elodie Martin" with her
birth date and a Gmail address, and she said yes to the ski school's offers. Two customers
until identity resolution merges them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from cordee.activities.models import Activity
from cordee.customers.merging import customers_merge, merge_ledger_erase, merge_undo
from cordee.customers.models import Customer, CustomerLink, MergeEvent, SourceRecord
from cordee.customers.splitting import customer_split
from cordee.privacy.access import Actor
from cordee.privacy.models import AuditEvent, ConsentEvent, ConsentState
from cordee.privacy.queries import consent_state

HOTEL = (
    "Prénom;Nom;E-mail;Adresse;Code postal;Ville;Newsletter\r\n"
    "Élodie;Martin;elodie.martin@orange.fr;12 rue des Alpes;74000;Annecy;oui\r\n"
)
SKI = (
    "Prénom;Nom;E-mail;Date de naissance;Adresse;consent_partner_offers\r\n"
    "Elodie;Martin;e.martin@gmail.com;14/03/1985;Chalet 3;oui\r\n"
)


@pytest.fixture
def elodie(destination, import_file) -> tuple[Customer, Customer]:
    import_file(HOTEL, partner=destination.hotel, name="hotel.csv")
    import_file(SKI, partner=destination.ski, name="ski.csv")
    hotel = Customer.objects.get(email="elodie.martin@orange.fr")
    ski = Customer.objects.get(email="e.martin@gmail.com")
    for customer, partner, kind in (
        (hotel, destination.hotel, "stay"),
        (ski, destination.ski, "lesson"),
    ):
        Activity.objects.create(
            customer=customer,
            partner=partner,
            source_record=customer.source_records.get(),
            kind=kind,
            channel="import",
            starts_on=dt.date(2026, 2, 10),
        )
    return hotel, ski


def everything(customer_id: int) -> dict[str, Any]:
    """All a customer holds, as comparable values (its row without the update time)."""
    row = Customer.objects.filter(pk=customer_id).values().first()
    if row is not None:
        row.pop("updated_at")
    return {
        "row": row,
        "sources": set(
            SourceRecord.objects.filter(customer_id=customer_id).values_list("pk", flat=True)
        ),
        "activities": set(
            Activity.objects.filter(customer_id=customer_id).values_list("pk", flat=True)
        ),
        "consents": set(
            ConsentEvent.objects.filter(customer_id=customer_id).values_list("pk", flat=True)
        ),
        "states": set(
            ConsentState.objects.filter(customer_id=customer_id).values_list(
                "purpose_id", "controller_id", "status", "event_id"
            )
        ),
        "links": set(
            CustomerLink.objects.filter(customer_id=customer_id).values_list(
                "partner_id", "first_seen"
            )
        ),
    }


def test_a_merge_gives_the_survivor_everything_and_the_ledger_remembers_it(destination, elodie):
    hotel, ski = elodie
    before_ski = everything(ski.pk)
    event = customers_merge(hotel, ski, score=0.995, evidence={"last_name": {"verdict": "same"}})
    assert not Customer.objects.filter(pk=ski.pk).exists()
    merged = everything(hotel.pk)
    assert before_ski["sources"] <= merged["sources"] and len(merged["sources"]) == 2
    assert before_ski["activities"] <= merged["activities"]
    assert before_ski["consents"] <= merged["consents"]
    assert {p for p, _first in merged["links"]} == {destination.hotel.pk, destination.ski.pk}
    # Each consent event keeps its source record; the states are derived from both.
    for consent in ConsentEvent.objects.filter(pk__in=before_ski["consents"]):
        assert consent.source_record.partner == destination.ski
    state = consent_state(Customer.objects.get(pk=hotel.pk))
    assert set(state) == {"newsletter", "partner_offers"}
    assert ConsentState.objects.filter(customer_id=hotel.pk).count() == 2
    # The golden record takes the birth date from the ski school and the address from the hotel.
    survivor = Customer.objects.get(pk=hotel.pk)
    assert survivor.birth_date == dt.date(1985, 3, 14)
    assert survivor.address_line1 == "12 rue des Alpes"
    assert survivor.provenance["birth_date"] in before_ski["sources"]
    # The ledger.
    assert event.kind == "merge" and event.survivor_id == hotel.pk and event.absorbed_id == ski.pk
    assert event.score == 0.995 and event.evidence["last_name"]["verdict"] == "same"
    assert event.snapshot["id"] == ski.pk and event.snapshot["email"] == "e.martin@gmail.com"
    assert set(event.moved["source_records"]) == before_ski["sources"]
    audit = AuditEvent.objects.get(action="customer.merge")
    assert audit.details["absorbed"] == ski.pk and "e.martin" not in str(audit.details)


def test_undoing_a_merge_brings_both_customers_back_exactly(destination, elodie):
    hotel, ski = elodie
    before = {hotel.pk: everything(hotel.pk), ski.pk: everything(ski.pk)}
    merge = customers_merge(hotel, ski, score=0.995, evidence={})
    undo = merge_undo(merge, actor=Actor.for_user(destination.camille))
    after = {hotel.pk: everything(hotel.pk), ski.pk: everything(ski.pk)}
    assert after == before
    assert undo.kind == "unmerge" and undo.undoes == merge and undo.actor == destination.camille
    assert AuditEvent.objects.filter(action="customer.unmerge", actor=destination.camille).exists()
    # Élodie of the hotel no longer holds the ski school's consent.
    assert "partner_offers" not in consent_state(Customer.objects.get(pk=hotel.pk))


def test_a_merge_undone_twice_is_refused(destination, elodie):
    merge = customers_merge(*elodie)
    merge_undo(merge, actor=Actor.system("test"))
    with pytest.raises(ValidationError, match="déjà été annulée"):
        merge_undo(merge, actor=Actor.system("test"))


def test_an_undo_waits_for_the_later_merge_of_its_survivor_to_be_undone(
    destination, elodie, import_file
):
    hotel, ski = elodie
    import_file(
        "Prénom;Nom;E-mail\r\nÉlodie;Martin;elo@free.fr\r\n",
        partner=destination.camping,
        name="c.csv",
    )
    camping = Customer.objects.get(email="elo@free.fr")
    first = customers_merge(hotel, ski)
    second = customers_merge(camping, hotel)
    with pytest.raises(ValidationError, match="annulez d'abord"):
        merge_undo(first, actor=Actor.system("test"))
    merge_undo(second, actor=Actor.system("test"))
    merge_undo(first, actor=Actor.system("test"))
    for customer in (hotel, ski, camping):
        assert Customer.objects.get(pk=customer.pk).source_records.count() == 1
    assert SourceRecord.objects.count() == 3


def test_what_came_since_through_a_moved_record_goes_back_with_it(destination, elodie):
    hotel, ski = elodie
    merge = customers_merge(hotel, ski)
    ski_record = SourceRecord.objects.get(partner=destination.ski)
    later = Activity.objects.create(
        customer_id=hotel.pk,
        partner=destination.ski,
        source_record=ski_record,
        kind="lesson",
        channel="api",
        starts_on=dt.date(2026, 3, 1),
    )
    typed_on_page = Activity.objects.create(
        customer_id=hotel.pk,
        partner=destination.office,
        kind="call",
        channel="phone",
        starts_on=dt.date(2026, 3, 2),
    )
    merge_undo(merge, actor=Actor.system("test"))
    assert Activity.objects.get(pk=later.pk).customer_id == ski.pk
    assert Activity.objects.get(pk=typed_on_page.pk).customer_id == hotel.pk


def test_a_partner_both_customers_knew_keeps_one_link_and_gets_both_back(destination, import_file):
    import_file(
        "Prénom;Nom;E-mail\r\nJean;Dupont;jd@a.fr\r\n", partner=destination.hotel, name="a.csv"
    )
    import_file(
        "Prénom;Nom;E-mail\r\nJean;Dupont;jd@b.fr\r\n", partner=destination.hotel, name="b.csv"
    )
    one, two = Customer.objects.order_by("pk")
    before = {c.pk: everything(c.pk) for c in (one, two)}
    merge = customers_merge(one, two)
    assert CustomerLink.objects.filter(partner=destination.hotel).count() == 1
    merge_undo(merge, actor=Actor.system("test"))
    assert {c.pk: everything(c.pk) for c in (one, two)} == before


def test_erasure_empties_the_ledger_and_the_merge_can_no_longer_be_undone(destination, elodie):
    hotel, ski = elodie
    merge = customers_merge(hotel, ski, evidence={"email": {"verdict": "different"}})
    assert merge_ledger_erase(ski.pk) == 1
    merge.refresh_from_db()
    assert merge.snapshot == {} and merge.evidence == {} and merge.erased
    with pytest.raises(ValidationError, match="effacées"):
        merge_undo(merge, actor=Actor.system("test"))


def test_merging_a_customer_with_itself_or_a_gone_one_is_refused(destination, elodie):
    hotel, ski = elodie
    with pytest.raises(ValidationError, match="lui-même"):
        customers_merge(hotel, hotel)
    customers_merge(hotel, ski)
    with pytest.raises(ValidationError, match="n'existe plus"):
        customers_merge(hotel, ski.pk)
    assert SourceRecord.objects.count() == 2
    assert MergeEvent.objects.count() == 1


def _race(first: MergeEvent, survivor: Customer, absorbed: Customer, *, undo_first: bool) -> int:
    """Undo ``first`` while merging ``absorbed`` into ``survivor``, from two threads."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(2)
    refused: list[Exception] = []

    def run(work):
        barrier.wait()
        try:
            work()
        except ValidationError as exc:  # the loser is refused with a clear message
            refused.append(exc)
        finally:
            connection.close()

    undo = threading.Thread(target=run, args=(lambda: merge_undo(first, actor=Actor.system("t")),))
    merge = threading.Thread(target=run, args=(lambda: customers_merge(survivor, absorbed),))
    for thread in (undo, merge) if undo_first else (merge, undo):
        thread.start()
    undo.join()
    merge.join()
    return len(refused)


@pytest.mark.django_db(transaction=True)
def test_a_merge_racing_an_unmerge_loses_no_source_record(destination, import_file):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time: no race to lose")
    for round_ in range(4):
        lines = "".join(f"Paul;Girard;pg{round_}-{n}@ex.fr\r\n" for n in range(3))
        name = f"r{round_}.csv"
        import_file("Prénom;Nom;E-mail\r\n" + lines, partner=destination.hotel, name=name)
        # E-mails are encrypted at rest: exact look-ups only (through their keyed hash).
        emails = [f"pg{round_}-{n}@ex.fr" for n in range(3)]
        a, b, c = Customer.objects.filter(email__in=emails).order_by("pk")
        first = customers_merge(a, b)
        refused = _race(first, c, a, undo_first=bool(round_ % 2))
        assert refused <= 1
        records = SourceRecord.objects.filter(batch__filename=name)
        assert records.count() == 3
        owners = set(records.values_list("customer_id", flat=True))
        assert None not in owners
        assert Customer.objects.filter(pk__in=owners).count() == len(owners)


def test_a_split_sets_records_apart_with_what_came_through_them(destination, import_file):
    # The hotel's file gives Élodie and her husband the same family e-mail: one customer.
    import_file(
        "Prénom;Nom;E-mail;Newsletter\r\n"
        "Élodie;Martin;famille.martin@orange.fr;oui\r\n"
        "Jean;Martin;famille.martin@orange.fr;non\r\n",
        partner=destination.hotel,
        name="hotel.csv",
    )
    family = Customer.objects.get()
    elodie_record, jean_record = family.source_records.order_by("pk")
    stay = Activity.objects.create(
        customer=family, partner=destination.hotel, source_record=jean_record, kind="stay",
        channel="import", starts_on=dt.date(2026, 2, 1),
    )  # fmt: skip
    (event,) = customer_split(customer_id=family.pk, groups=[[jean_record.pk]])
    jean = Customer.objects.get(pk=event.absorbed_id)
    assert jean.first_name == "Jean" and Customer.objects.get(pk=family.pk).first_name == "Élodie"
    assert Activity.objects.get(pk=stay.pk).customer_id == jean.pk
    # Each keeps the consent it gave itself.
    assert consent_state(jean)["newsletter"][destination.office.pk].status == "refused"
    elodie = Customer.objects.get(pk=family.pk)
    assert consent_state(elodie)["newsletter"][destination.office.pk].status == "granted"
    assert CustomerLink.objects.filter(customer=jean, partner=destination.hotel).exists()
    assert CustomerLink.objects.filter(customer=elodie, partner=destination.hotel).exists()
    assert event.kind == "split" and event.moved["source_records"] == [jean_record.pk]
    # Merging them again brings the family customer back.
    customers_merge(family.pk, jean.pk)
    assert Customer.objects.get().source_records.count() == 2
