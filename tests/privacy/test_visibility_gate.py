"""The one visibility gate, as a matrix: who sees which customer, through every read path built so far."""

from __future__ import annotations

import contextlib

import pytest
from django.http import Http404

from cordee.customers.exports import iter_customer_rows
from cordee.customers.queries import Filters, customer_page
from cordee.customers.services import IncomingRecord, source_records_attach
from cordee.privacy.access import Actor, customer_for, customers_visible_to


@pytest.fixture
def customers(destination):
    """Élodie came through the hotel, Jean-Luc through the ski school, Hans through both."""

    def bring(partner, **data):
        record = IncomingRecord(raw={k: str(v) for k, v in data.items()}, data=data)
        return source_records_attach(
            partner=partner, channel="import", records=[record]
        ).customer_ids[0]

    elodie = bring(
        destination.hotel,
        first_name="Élodie",
        last_name="Martin",
        email="elodie@x.fr",
        city="Annecy",
    )
    jean_luc = bring(
        destination.ski, first_name="Jean-Luc", last_name="Martin", email="jl@x.fr", city="Annecy"
    )
    hans = bring(destination.hotel, first_name="Hans", last_name="Müller", email="hans@x.de")
    bring(destination.ski, first_name="Hans", last_name="Müller", email="hans@x.de", city="Berlin")
    return {"elodie": elodie, "jean_luc": jean_luc, "hans": hans}


EXPECTED = {
    "camille": {"elodie", "jean_luc", "hans"},
    "marc": {"elodie", "jean_luc", "hans"},
    "sophie": {"elodie", "jean_luc", "hans"},
    "helene": {"elodie", "hans"},
    "lucas": {"jean_luc", "hans"},
    "nadia": set(),
}


def read_paths(actor, ids):
    """What the actor learns about each customer through each read path."""
    visible = customers_visible_to(actor)
    listed = {c.pk for c in customer_page(visible, Filters()).customers}
    searched = {c.pk for c in customer_page(visible, Filters(q="martin")).customers} | {
        c.pk for c in customer_page(visible, Filters(q="hans@x.de")).customers
    }
    exported = {row["id"] for row in iter_customer_rows(visible, with_sources=True)}
    opened = set()
    for pk in ids.values():
        with contextlib.suppress(Http404):
            opened.add(customer_for(actor, pk).pk)
    return {"list": listed, "search": searched, "export": exported, "open": opened}


@pytest.mark.parametrize("person", sorted(EXPECTED))
def test_each_person_sees_exactly_their_customers_through_every_path(
    destination, customers, person
):
    actor = Actor.for_user(getattr(destination, person))
    expected = {customers[name] for name in EXPECTED[person]}
    for path, seen in read_paths(actor, customers).items():
        assert seen == expected, f"{person} via {path}"


def test_counts_never_reveal_unshared_customers(destination, customers):
    nadia = Actor.for_user(destination.nadia)
    helene = Actor.for_user(destination.helene)
    assert customer_page(customers_visible_to(nadia), Filters(q="martin")).count == 0
    assert customer_page(customers_visible_to(helene), Filters(q="martin")).count == 1
    assert customer_page(customers_visible_to(helene), Filters(q="annecy")).count == 1


@pytest.mark.parametrize("bad_id", ["abc", "-1", "99999999", "1 OR 1=1", "", None])
def test_odd_ids_are_simply_not_found(destination, customers, bad_id):
    with pytest.raises(Http404):
        customer_for(Actor.for_user(destination.helene), bad_id)


def test_a_user_without_organisation_sees_nothing(destination, customers, django_user_model):
    loner = django_user_model.objects.create(username="loner")
    assert not customers_visible_to(Actor.for_user(loner)).exists()
