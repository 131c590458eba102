"""A partner's file says who agreed to what: the import turns those answers into consent events."""

from __future__ import annotations

import pytest

from cordee.customers.models import Customer, SourceRecord
from cordee.privacy.access import Actor
from cordee.privacy.models import AuditEvent, ConsentEvent, ConsentStatus, WordingKind
from cordee.privacy.queries import consent_state
from cordee.privacy.services import consent_withdraw, consents_record_from_sources

GRANTED, REFUSED, WITHDRAWN = ConsentStatus.GRANTED, ConsentStatus.REFUSED, ConsentStatus.WITHDRAWN


def test_yes_is_a_grant_no_a_refusal_and_an_empty_cell_says_nothing(
    destination, hotel_batch, people
):
    # The import records the consents its lines carry, in the same transaction.
    assert ConsentEvent.objects.filter(status=GRANTED).count() == 2
    assert ConsentEvent.objects.filter(status=REFUSED).count() == 2
    office, hotel = destination.office.pk, destination.hotel.pk
    elodie = consent_state(people["Élodie"])
    assert elodie["newsletter"][office].status == GRANTED
    assert elodie["partner_offers"][hotel].status == REFUSED
    jean_luc = consent_state(people["Jean-Luc"])
    assert jean_luc["newsletter"][office].status == REFUSED
    assert "partner_offers" not in jean_luc
    hans = consent_state(people["Hans"])
    assert "newsletter" not in hans
    assert hans["partner_offers"][hotel].status == GRANTED


def test_an_imported_consent_is_the_partners_declaration_with_its_source(
    destination, hotel_batch, people, record_batch
):
    record_batch(hotel_batch)
    event = ConsentEvent.objects.get(customer=people["Élodie"], purpose__slug="newsletter")
    source = SourceRecord.objects.get(customer=people["Élodie"])
    assert event.source_record == source
    assert event.at == source.collected_at
    assert event.channel == "import"
    assert event.wording.kind == WordingKind.DECLARATION
    assert event.is_declared
    # The office runs the newsletter; the hotel collected the answer.
    assert event.controller == destination.office
    assert event.collected_by == destination.hotel
    # Sharing with partners is the hotel's own declaration, under its own responsibility.
    offers = ConsentEvent.objects.get(customer=people["Élodie"], purpose__slug="partner_offers")
    assert offers.controller == destination.hotel


def test_recording_a_batch_again_changes_nothing(hotel_batch, record_batch):
    assert ConsentEvent.objects.count() == 4  # recorded by the import itself
    again = record_batch(hotel_batch)
    assert again.events == 0
    assert again.already_recorded == 4
    assert ConsentEvent.objects.count() == 4


def test_a_consent_column_naming_no_known_purpose_is_reported(import_file, record_batch):
    batch = import_file(
        "Nom;E-mail;consent_loterie\r\nMartin;martin@example.fr;oui\r\n", name="jeu.csv"
    )
    result = record_batch(batch)
    assert result.events == 0
    assert result.unknown_purposes == {"loterie": 1}


def test_the_batch_leaves_one_audit_row_with_counts_only(hotel_batch):
    audit = AuditEvent.objects.get(action="consent.import")
    assert audit.details["events"] == 4
    assert audit.details["source_records"] == 3


def test_an_old_file_does_not_bring_back_a_withdrawn_consent(destination, import_file, people):
    """The file of last winter arrives after Élodie unsubscribed: the withdrawal stands."""
    from cordee.customers.incoming import IncomingRecord
    from cordee.customers.services import source_records_attach

    consent_withdraw(
        customer=people["Élodie"],
        purpose="newsletter",
        channel="unsubscribe",
        actor=Actor.system("web"),
        controller=destination.office,
    )
    last_winter = SourceRecord.objects.get(customer=people["Élodie"]).collected_at.replace(
        year=2025
    )
    data = {"email": "elodie.martin@example.fr", "consents": {"newsletter": True}}
    result = source_records_attach(
        partner=destination.ski,
        channel="import",
        records=[IncomingRecord(raw={"email": data["email"]}, data=data, collected_at=last_winter)],
    )
    assert result.customer_ids == [people["Élodie"].pk]
    ids = list(SourceRecord.objects.filter(partner=destination.ski).values_list("pk", flat=True))
    consents_record_from_sources(source_record_ids=ids, channel="import", actor=Actor.system())
    state = consent_state(people["Élodie"])["newsletter"][destination.office.pk]
    assert state.status == WITHDRAWN
    from cordee.privacy.queries import customers_with_consent

    assert not customers_with_consent(Customer.objects.all(), "newsletter").exists()


def _file(count: int) -> str:
    lines = ["Prénom;Nom;E-mail;Newsletter;consent_sms"]
    for i in range(count):
        lines.append(f"Client;Numéro{i};client{i}@example.fr;{'oui' if i % 3 else 'non'};oui")
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize("count", [1, 2000])
def test_a_batch_takes_the_same_few_queries_whatever_its_size(
    destination, import_file, source_ids, django_assert_max_num_queries, count
):
    batch = import_file(_file(count), name=f"clients-{count}.csv")
    assert batch.status == "done", batch.error
    ids = source_ids(batch)
    assert len(ids) == count
    assert ConsentEvent.objects.count() == 2 * count  # recorded by the import
    with django_assert_max_num_queries(12):
        result = consents_record_from_sources(
            source_record_ids=ids, channel="import", actor=Actor.system("import")
        )
    assert result.already_recorded == 2 * count and result.events == 0


def test_each_imported_event_names_its_import_and_no_account(hotel_batch):
    # Written as COPY text on PostgreSQL, as rows on SQLite: the same columns either way.
    for event in ConsentEvent.objects.all():
        assert event.actor_label == f"import:{hotel_batch.pk}"
        assert event.recorded_by_id is None and event.page == ""
        assert event.source_record_id is not None


def test_an_actor_label_with_tabs_newlines_and_backslashes_is_stored_as_it_is(
    hotel_batch, destination
):
    ConsentEvent.objects.all().delete()
    label = "lot\t7\\8\nligne\r «x»"
    result = consents_record_from_sources(
        source_record_ids=list(SourceRecord.objects.values_list("pk", flat=True)),
        channel="import",
        actor=Actor.system(label),
    )
    assert result.events == 4
    assert {e.actor_label for e in ConsentEvent.objects.all()} == {label}
