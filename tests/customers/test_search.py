"""Finding a customer by what a person types: name, e-mail, phone, town, postcode."""

from __future__ import annotations

import pytest

from cordee.customers.models import Customer
from cordee.customers.queries import Filters, customer_page, decode_cursor
from cordee.customers.services import IncomingRecord, source_records_attach
from cordee.privacy.access import Actor, customers_visible_to


@pytest.fixture
def base(destination):
    people = [
        {
            "first_name": "Élodie",
            "last_name": "Martin",
            "email": "elodie.martin@orange.fr",
            "phone": "+33612345678",
            "city": "Annecy",
            "postal_code": "74000",
            "country": "FR",
        },
        {
            "first_name": "Jean-Luc",
            "last_name": "de La Fontaine",
            "city": "Lyon",
            "postal_code": "69003",
        },
        {
            "first_name": "Hélène",
            "last_name": "Lefèvre",
            "city": "Saint-Étienne",
            "postal_code": "42000",
        },
        {"first_name": "Martin", "last_name": "Dupont", "city": "Paris", "postal_code": "75011"},
    ]
    people += [
        {"first_name": f"P{i:03}", "last_name": f"Zeta{i:03}", "city": "Chamonix"}
        for i in range(120)
    ]
    records = [IncomingRecord(raw={"n": str(i)}, data=p) for i, p in enumerate(people)]
    source_records_attach(partner=destination.office, channel="import", records=records)
    return customers_visible_to(Actor.system("test"))


def names(page):
    return [f"{c.first_name} {c.last_name}" for c in page.customers]


@pytest.mark.parametrize(
    ("query", "expected", "kind"),
    [
        ("martin", ["Martin Dupont", "Élodie Martin"], "name"),
        ("MART", ["Martin Dupont", "Élodie Martin"], "name"),
        ("elodie martin", ["Élodie Martin"], "name"),
        ("martin elodie", ["Élodie Martin"], "name"),
        ("helene", ["Hélène Lefèvre"], "name"),
        ("lefevre", ["Hélène Lefèvre"], "name"),
        ("de la fontaine", ["Jean-Luc de La Fontaine"], "name"),
        ("jean-luc", ["Jean-Luc de La Fontaine"], "name"),
        ("saint etienne", ["Hélène Lefèvre"], "name"),
        ("Elodie.Martin@ORANGE.fr", ["Élodie Martin"], "email"),
        ("06 12 34 56 78", ["Élodie Martin"], "phone"),
        ("+33 (0)6.12.34.56.78", ["Élodie Martin"], "phone"),
        ("74000", ["Élodie Martin"], "postal_code"),
        ("nobody", [], "name"),
        ("' OR 1=1 --", [], "name"),
        ("%", [], "name"),
    ],
)
def test_search_understands_what_is_typed(base, query, expected, kind):
    page = customer_page(base, Filters(q=query))
    assert sorted(names(page)) == sorted(expected)
    assert page.understood_as == kind


def test_keyset_pages_walk_forward_and_back_without_gaps(base):
    first = customer_page(base, Filters(city="chamonix"))
    assert first.count == 120 and len(first.customers) == 50 and first.prev_cursor is None
    second = customer_page(base, Filters(city="chamonix"), after=first.next_cursor)
    third = customer_page(base, Filters(city="chamonix"), after=second.next_cursor)
    assert len(third.customers) == 20 and third.next_cursor is None
    seen = [c.pk for p in (first, second, third) for c in p.customers]
    assert len(set(seen)) == 120
    back = customer_page(base, Filters(city="chamonix"), before=second.prev_cursor)
    assert [c.pk for c in back.customers] == [c.pk for c in first.customers]


@pytest.mark.parametrize("cursor", ["", "garbage", "W10", "eyJhIjoxfQ", "!!!"])
def test_broken_cursors_fall_back_to_the_first_page(base, cursor):
    assert decode_cursor(cursor) is None or cursor == ""
    page = customer_page(base, Filters(), after=cursor)
    assert len(page.customers) == 50


def test_filters_combine(base):
    page = customer_page(base, Filters(q="martin", departement="74"))
    assert names(page) == ["Élodie Martin"]
    assert (
        customer_page(base, Filters(country="fr")).count
        == Customer.objects.filter(country="FR").count()
    )


def test_a_deep_page_starts_from_the_cursor_in_the_name_index(base):
    """The cursor condition must bound the index scan, not filter every row before it (a page
    in the middle of a million customers took over a second that way)."""
    from cordee.customers.queries import ORDER, _after

    qs = Customer.objects.filter(_after(("laurent", "isabelle", 10))).order_by(*ORDER)
    sql, params = qs.query.sql_with_params()
    where = sql.split("WHERE", 1)[1]
    # A plain comparison on the index's first column, ANDed with the exact keyset condition.
    assert where.lstrip(" (").startswith('"customers_customer"."last_name_key" >=')
    assert params[0] == "laurent"
    first = list(qs.values_list("pk", flat=True))
    full = [
        c.pk
        for c in Customer.objects.order_by(*ORDER)
        if (c.last_name_key, c.first_name_key, c.pk) > ("laurent", "isabelle", 10)
    ]
    assert first == full
