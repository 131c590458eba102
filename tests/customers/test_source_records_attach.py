"""Attaching incoming source records to customers: exact keys, golden record, idempotence."""

from __future__ import annotations

import pytest

from cordee.customers.models import Customer, CustomerLink, SourceRecord
from cordee.customers.services import IncomingRecord, source_records_attach


def rec(line: int = 1, external_id: str = "", **data: object) -> IncomingRecord:
    raw = {k: str(v) for k, v in data.items()}
    if external_id:
        raw["id"] = external_id
    return IncomingRecord(raw=raw, data=dict(data), external_id=external_id, line=line)


def attach(partner, *records, dry_run=False):
    return source_records_attach(
        partner=partner, channel="import", records=list(records), dry_run=dry_run
    )


def test_a_new_record_creates_a_customer_with_its_provenance(destination):
    result = attach(
        destination.hotel,
        rec(
            first_name="Élodie",
            last_name="Martin",
            email="elodie.martin@orange.fr",
            city="Annecy",
            postal_code="74000",
            birth_date="1985-03-14",
        ),
    )
    assert (result.created, result.matched, result.unchanged) == (1, 0, 0)
    customer = Customer.objects.get()
    assert customer.first_name == "Élodie" and customer.email == "elodie.martin@orange.fr"
    assert customer.last_name_key == "martin" and customer.first_name_key == "elodie"
    assert (
        customer.city_key == "annecy"
        and customer.departement == "74"
        and customer.birth_year == 1985
    )
    source = SourceRecord.objects.get()
    assert source.customer == customer and source.partner == destination.hotel
    assert customer.provenance["email"] == source.pk
    assert CustomerLink.objects.filter(customer=customer, partner=destination.hotel).exists()


def test_same_email_from_another_partner_attaches_to_the_same_customer(destination):
    attach(destination.hotel, rec(last_name="Martin", email="elodie.martin@orange.fr"))
    result = attach(
        destination.ski,
        rec(last_name="Martin", email="elodie.martin@orange.fr", phone="+33612345678"),
    )
    assert (result.created, result.matched) == (0, 1)
    customer = Customer.objects.get()
    assert customer.phone == "+33612345678"
    assert customer.source_records.count() == 2
    assert set(customer.links.values_list("partner__slug", flat=True)) == {
        "hotel-des-alpes",
        "ecole-de-ski",
    }


def test_the_newest_value_wins_and_the_previous_phone_is_kept(destination):
    attach(
        destination.hotel, rec(last_name="Dubois", email="j.dubois@free.fr", phone="+33611111111")
    )
    attach(
        destination.hotel,
        rec(line=2, last_name="Dubois", email="j.dubois@free.fr", phone="+33622222222"),
    )
    customer = Customer.objects.get()
    assert customer.phone == "+33622222222" and customer.phone_other == "+33611111111"


def test_the_same_record_twice_is_recognised_and_skipped(destination):
    attach(destination.hotel, rec(last_name="Dubois", email="j.dubois@free.fr"))
    result = attach(destination.hotel, rec(last_name="Dubois", email="j.dubois@free.fr"))
    assert (result.created, result.matched, result.unchanged) == (0, 0, 1)
    assert SourceRecord.objects.count() == 1


def test_duplicates_inside_one_batch_become_one_customer(destination):
    result = attach(
        destination.hotel,
        rec(1, last_name="Roux", phone="+33633333333"),
        rec(2, last_name="ROUX", first_name="Léa", phone="+33633333333"),
        rec(3, last_name="Roux", phone="+33633333333"),  # identical to line 1: skipped
    )
    assert (result.created, result.matched, result.unchanged) == (1, 1, 1)
    assert Customer.objects.count() == 1 and SourceRecord.objects.count() == 2


def test_partner_external_id_is_a_key_only_within_that_partner(destination):
    attach(destination.hotel, rec(external_id="HDA-1", last_name="Petit", email="a@x.fr"))
    result = attach(
        destination.hotel, rec(external_id="HDA-1", last_name="Petit", email="new@x.fr")
    )
    assert result.matched == 1
    other = attach(destination.ski, rec(external_id="HDA-1", last_name="Autre"))
    assert other.created == 1
    assert Customer.objects.count() == 2


def test_a_record_without_keys_always_creates_a_customer(destination):
    attach(destination.hotel, rec(1, last_name="Leroy", first_name="Paul"))
    attach(destination.hotel, rec(2, last_name="Leroy", first_name="Paul", city="Lyon"))
    assert Customer.objects.count() == 2


def test_dry_run_writes_nothing_but_counts(destination):
    attach(destination.hotel, rec(last_name="Martin", email="m@x.fr"))
    result = attach(
        destination.hotel,
        rec(1, last_name="Martin", email="m@x.fr", phone="+33644444444"),
        rec(2, last_name="Neuf", email="n@x.fr"),
        dry_run=True,
    )
    assert (result.created, result.matched) == (1, 1)
    assert Customer.objects.count() == 1 and SourceRecord.objects.count() == 1


def test_keys_are_stored_as_keyed_hashes_not_in_clear(destination):
    attach(destination.hotel, rec(last_name="Martin", email="secret@x.fr", phone="+33655555555"))
    source = SourceRecord.objects.get()
    assert len(source.email_hash) == 32 and len(source.phone_hash) == 32
    assert "secret" not in source.email_hash and "655555555" not in source.phone_hash


def test_an_old_email_of_a_customer_still_finds_them(destination):
    attach(destination.hotel, rec(last_name="Martin", email="old@x.fr", phone="+33666666666"))
    attach(destination.hotel, rec(2, last_name="Martin", email="new@x.fr", phone="+33666666666"))
    result = attach(destination.ski, rec(last_name="Martin", email="old@x.fr"))
    assert result.matched == 1 and Customer.objects.count() == 1


@pytest.mark.parametrize("count", [1, 2500, 5001])
def test_batches_of_any_size_use_a_bounded_number_of_queries(
    destination, django_assert_max_num_queries, count
):
    records = [rec(i, last_name=f"Nom{i}", email=f"p{i}@x.fr") for i in range(count)]
    with django_assert_max_num_queries(40):
        attach(destination.hotel, *records)
    assert Customer.objects.count() == count


def _plans_of_key_lookups(partner, records) -> list[str]:
    """The plans of the look-ups source_records_attach runs, as each backend would run them."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from cordee.core import bulk

    with CaptureQueriesContext(connection) as captured:
        attach(partner, *records)
    lookups = [
        q["sql"]
        for q in captured.captured_queries
        if "CROSS JOIN" in q["sql"] and "k.v" in q["sql"]
    ]
    assert len(lookups) == 4  # fingerprints, e-mails, phones, external ids
    plans = []
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(bulk._PROBE_SET, ["off"] * len(bulk._PROBE_PLANS))
            prefix = "EXPLAIN "
        else:
            prefix = "EXPLAIN QUERY PLAN "
        for sql in lookups:
            cur.execute(prefix + sql)
            plans.append(" ".join(str(cell) for row in cur.fetchall() for cell in row))
        transaction.set_rollback(True)
    return plans


def test_key_look_ups_probe_an_index_and_never_read_the_whole_table(destination):
    # A look-up that reads (or indexes) the whole table makes every batch of an import
    # slower than the one before: each key must be one probe of an existing index.
    attach(destination.hotel, *[
        rec(line=i, external_id=f"X{i}", last_name="Martin", email=f"p{i}@example.org",
            phone=f"+336123456{i:02d}")
        for i in range(50)
    ])  # fmt: skip
    records = [
        rec(line=i, external_id=f"X{i}", last_name="Martin", email=f"p{i}@example.org",
            phone=f"+336123456{i:02d}", city="Annecy")
        for i in range(40, 60)
    ]  # fmt: skip
    for plan in _plans_of_key_lookups(destination.hotel, records):
        assert "AUTOMATIC" not in plan and "Seq Scan" not in plan, plan
        assert "SCAN s" not in plan and "Bitmap" not in plan, plan
        assert "INDEX" in plan.upper(), plan
