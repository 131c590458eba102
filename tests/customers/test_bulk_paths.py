"""The import's fast paths give exactly what the plain paths give."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from cordee.collect.prepare import (
    RowContext,
    _prepare_in_worker,
    _unpack,
    prepare_rows,
)
from cordee.collect.reader import Row
from cordee.core.bulk import copy_line, copy_value
from cordee.customers.golden import customer_values, first_record_values, golden_from_records
from cordee.customers.models import Customer, CustomerLink, SourceRecord
from cordee.customers.services import IncomingRecord, source_records_attach

HEADERS = ["id", "Prénom", "Nom", "E-mail", "Téléphone", "CP", "Ville", "Naissance", "Enfants"]
CONTEXT = RowContext(
    headers=HEADERS,
    fields=[
        ("external_id", 0),
        ("first_name", 1),
        ("last_name", 2),
        ("email", 3),
        ("phone", 4),
        ("postal_code", 5),
        ("city", 6),
        ("birth_date", 7),
        ("children", 8),
    ],
    consents=[],
    defaults={},
)
ROWS = [
    ["A1", "Élodie", "MARTIN", "elodie@orange.fr", "06 12 34 56 78", "74000", "Annecy", "", ""],
    ["A2", "Jean\tLuc", "Du\\bois", "", "0698765432", "75011", "Paris", "1/2/72", "2"],
    # the same person as line 2 by e-mail, with a new phone: survivorship in the batch
    ["A3", "Élodie", "Martin", "elodie@orange.fr", "07 81 22 33 44", "", "", "14/03/1985", ""],
    ["A4", "Zoé", "Lefèvre\nbis", "zoe@free.fr", "", "", "", "", "x"],
    ["A4", "Zoé", "Lefèvre\nbis", "zoe@free.fr", "", "", "", "", "x"],  # the same line again
]


def _rows() -> list[Row]:
    return [Row(i + 2, list(cells)) for i, cells in enumerate(ROWS)]


def test_copy_text_escapes_what_copy_would_misread():
    assert copy_value(None) == "\\N"
    assert copy_value("a\tb\nc\\d\re") == "a\\tb\\nc\\\\d\\re"
    assert copy_value(True) == "t" and copy_value(12) == "12"
    assert copy_value(dt.date(2020, 1, 2)) == "2020-01-02"
    assert copy_value(["ski", "a\tb"]) == '["ski", "a\\\\tb"]'
    assert copy_line(["x", None, 3]) == "x\t\\N\t3"


def test_a_records_own_customer_is_what_survivorship_gives():
    data = {"first_name": "Élodie", "phone": "+33612345678", "birth_date": "1985-03-14"}
    values, fields = first_record_values(data)
    golden, provenance = golden_from_records([(7, data)])
    assert values == customer_values(golden)
    assert provenance == dict.fromkeys(fields, 7)


def _stored() -> tuple[list[tuple], list[tuple], list[tuple]]:
    customers = list(
        Customer.objects.order_by("pk").values_list(
            "pk", "first_name", "last_name", "email", "phone", "phone_other", "birth_date",
            "children", "interests", "postal_code", "city", "provenance", "last_name_key",
            "first_name_key", "city_key", "email_hash", "phone_hash", "birth_year",
            "departement", "attributes",
        )
    )  # fmt: skip
    sources = list(
        SourceRecord.objects.order_by("pk").values_list(
            "pk", "customer", "partner", "channel", "external_id", "line", "raw", "data",
            "fingerprint", "email_hash", "phone_hash",
        )
    )  # fmt: skip
    links = list(CustomerLink.objects.order_by("customer").values_list("customer", "partner"))
    return customers, sources, links


@pytest.mark.django_db(transaction=True, reset_sequences=True)
@pytest.mark.parametrize("packed", [False, True])
def test_records_from_workers_store_the_same_as_plain_records(destination, packed):
    plain = [
        IncomingRecord(raw=dict(r.raw), data=dict(r.data), external_id=r.external_id, line=r.line)
        for r in prepare_rows(CONTEXT, _rows()).records
    ]
    first = source_records_attach(partner=destination.hotel, channel="import", records=plain)
    expected = _stored()
    for model in (CustomerLink, SourceRecord, Customer):
        model.objects.all().delete()

    context = RowContext(**{**CONTEXT.__dict__, "copy_text": connection.vendor == "postgresql"})
    if packed:
        transit = [(row.line, row.cells, row.error) for row in _rows()]
        records = _unpack(_prepare_in_worker(context, transit)).records
    else:
        records = prepare_rows(context, _rows()).records
    second = source_records_attach(partner=destination.hotel, channel="import", records=records)
    assert (first.created, first.matched, first.unchanged) == (3, 1, 1)
    assert (second.created, second.matched, second.unchanged) == (3, 1, 1)
    got = _stored()
    # Same content; ids differ by the first run's count.
    shift_c = got[0][0][0] - expected[0][0][0]
    shift_s = got[1][0][0] - expected[1][0][0]

    def unshift_provenance(p: dict) -> dict:
        return {k: v - shift_s for k, v in p.items()}

    assert [(c[0] - shift_c, *c[1:11], unshift_provenance(c[11]), *c[12:]) for c in got[0]] == (
        expected[0]
    )
    assert [(s[0] - shift_s, s[1] - shift_c, *s[2:]) for s in got[1]] == expected[1]
    assert [(c - shift_c, p) for c, p in got[2]] == expected[2]
    martin = Customer.objects.get(email="elodie@orange.fr")
    assert martin.phone == "+33781223344" and martin.phone_other == "+33612345678"
    assert Customer.objects.get(last_name__startswith="Du").first_name == "Jean Luc"


@pytest.mark.django_db
def test_a_text_array_literal_reads_back_as_the_same_strings():
    from cordee.core.bulk import select_in, text_array

    values = ["abc", "", "NULL", "null", 'a"b', "a\\b", "a,b", "{x}", " sp ", "é", "a\tb", "x@y.fr"]
    if connection.vendor != "postgresql":
        assert text_array(["ab", "c d"]) == '{ab,"c d"}'
        return
    with connection.cursor() as cur:
        cur.execute("SELECT %s::text[]", [text_array(values)])
        assert cur.fetchone()[0] == values
    rows = select_in("SELECT x FROM unnest(%s::text[]) AS x WHERE x {values}", [values], values)
    assert sorted(r[0] for r in rows) == sorted(values)
