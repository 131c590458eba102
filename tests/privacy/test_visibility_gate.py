"""The one visibility gate, as a matrix: six people × customers × every read path.

Élodie came through the hotel (and refused to be shared), Jean-Luc through the ski school,
Hans through both. Zoé came through the camping and agreed, at the office's desk, to be
shared with the destination's partners; Paul came through the camping, agreed, then withdrew.
So Hélène (hotel) and Lucas (ski school) see Zoé, in the shared view only; nobody outside the
camping and the office sees Paul.
"""

from __future__ import annotations

import contextlib

import pytest
from django.core.cache import cache
from django.http import Http404
from django.test import Client

from cordee.customers.exports import iter_customer_rows
from cordee.customers.queries import Filters, customer_page
from cordee.customers.services import IncomingRecord, source_records_attach
from cordee.privacy.access import (
    SHARED_FIELDS,
    Actor,
    customer_for,
    customer_scope,
    customers_visible_count,
    customers_visible_to,
)
from cordee.privacy.services import consent_record, consent_withdraw


@pytest.fixture(autouse=True)
def _fresh_rate_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def customers(destination):
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
        birth_date="1985-03-14",
    )
    jean_luc = bring(
        destination.ski, first_name="Jean-Luc", last_name="Martin", email="jl@x.fr", city="Annecy"
    )
    hans = bring(destination.hotel, first_name="Hans", last_name="Müller", email="hans@x.de")
    bring(destination.ski, first_name="Hans", last_name="Müller", email="hans@x.de", city="Berlin")
    zoe = bring(
        destination.camping,
        first_name="Zoé",
        last_name="Martin",
        email="zoe@x.fr",
        city="Annecy",
        birth_date="1990-05-01",
        profession="Guide",
    )
    paul = bring(destination.camping, first_name="Paul", last_name="Martin", email="paul@x.fr")
    from cordee.customers.models import Customer

    desk = Actor.for_user(destination.camille)
    by_id = Customer.objects.in_bulk([elodie, zoe, paul])
    consent_record(
        customer=by_id[elodie],
        purpose="partner_offers",
        status="refused",
        channel="desk",
        actor=desk,
    )
    consent_record(
        customer=by_id[zoe], purpose="partner_offers", status="granted", channel="desk", actor=desk
    )
    consent_record(
        customer=by_id[paul], purpose="partner_offers", status="granted", channel="desk", actor=desk
    )
    consent_withdraw(customer=by_id[paul], purpose="partner_offers", channel="email", actor=desk)
    return {"elodie": elodie, "jean_luc": jean_luc, "hans": hans, "zoe": zoe, "paul": paul}


EVERYONE = {"elodie", "jean_luc", "hans", "zoe", "paul"}
EXPECTED = {
    "camille": EVERYONE,
    "marc": EVERYONE,
    "sophie": EVERYONE,
    "helene": {"elodie", "hans", "zoe"},
    "lucas": {"jean_luc", "hans", "zoe"},
    "nadia": {"zoe", "paul"},
}
# Whom each sees in the shared view only (customers it did not bring).
SHARED_ONLY = {"helene": {"zoe"}, "lucas": {"zoe"}}


@pytest.fixture
def api_keys(destination):
    from cordee.partners.apikeys import SCOPES, api_key_create

    keys = {}
    for partner in (destination.office, destination.hotel, destination.ski, destination.camping):
        _key, text = api_key_create(
            partner=partner, scopes=list(SCOPES), actor=Actor.system("test"), name="test"
        )
        keys[partner.pk] = text
    return keys


def api_get(key, path, **params):
    return Client().get(path, params or None, headers={"Authorization": f"Bearer {key}"})


def read_paths(destination, person, ids, api_keys):
    """What the person learns about each customer through each read path."""
    user = getattr(destination, person)
    actor = Actor.for_user(user)
    visible = customers_visible_to(actor)
    listed = {c.pk for c in customer_page(visible, Filters()).customers}
    searched = (
        {c.pk for c in customer_page(visible, Filters(q="martin")).customers}
        | {c.pk for c in customer_page(visible, Filters(q="hans@x.de")).customers}
        | {c.pk for c in customer_page(visible, Filters(q="zoe@x.fr")).customers}
        | {c.pk for c in customer_page(visible, Filters(q="paul@x.fr")).customers}
    )
    exported = {row["id"] for row in iter_customer_rows(visible, actor=actor, with_sources=True)}
    opened = set()
    for pk in ids.values():
        with contextlib.suppress(Http404):
            opened.add(customer_for(actor, pk).pk)
    web = Client()
    web.force_login(user)
    page = {pk for pk in ids.values() if web.get(f"/clients/{pk}/").status_code == 200}
    listing = web.get("/clients/").content.decode()
    page_list = {pk for pk in ids.values() if f"/clients/{pk}/" in listing}
    found = "".join(
        web.get("/clients/", {"q": q}).content.decode()
        for q in ("martin", "hans@x.de", "zoe@x.fr", "paul@x.fr")
    )
    page_search = {pk for pk in ids.values() if f"/clients/{pk}/" in found}
    key = api_keys[user.partner.pk]
    api_list = {row["id"] for row in api_get(key, "/api/v1/customers").json()["results"]}
    api_detail = {
        pk for pk in ids.values() if api_get(key, f"/api/v1/customers/{pk}").status_code == 200
    }
    api_lookup = set()
    for email in ("elodie@x.fr", "jl@x.fr", "hans@x.de", "zoe@x.fr", "paul@x.fr"):
        found = api_get(key, "/api/v1/customers/lookup", email=email).json()["results"]
        api_lookup |= {row["id"] for row in found}
    return {
        "list": listed,
        "search": searched,
        "export": exported,
        "open": opened,
        "page": page,
        "page list": page_list,
        "page search": page_search,
        "api list": api_list,
        "api detail": api_detail,
        "api lookup": api_lookup,
    }


@pytest.mark.parametrize("person", sorted(EXPECTED))
def test_each_person_sees_exactly_their_customers_through_every_path(
    destination, customers, api_keys, person
):
    expected = {customers[name] for name in EXPECTED[person]}
    for path, seen in read_paths(destination, person, customers, api_keys).items():
        assert seen == expected, f"{person} via {path}"


@pytest.mark.parametrize("person", sorted(EXPECTED))
def test_counts_never_reveal_unshared_customers(destination, customers, person):
    actor = Actor.for_user(getattr(destination, person))
    visible = customers_visible_to(actor)
    martins = {"elodie", "jean_luc", "zoe", "paul"}
    assert customer_page(visible, Filters(q="martin")).count == len(EXPECTED[person] & martins)
    assert visible.count() == len(EXPECTED[person])
    # The list's count, taken from the gate's indexes, is the same set (deduplicated: Zoé
    # is both brought by the camping and shared), capped as asked.
    assert customers_visible_count(actor, cap=1001) == len(EXPECTED[person])
    for cap in (1, 2, 3):
        assert customers_visible_count(actor, cap=cap) == min(cap, len(EXPECTED[person]))
    assert customers_visible_count(actor, cap=0) == 0
    counted = customer_page(
        visible, Filters(), count_visible=lambda cap: customers_visible_count(actor, cap=cap)
    )
    assert counted.count == customer_page(visible, Filters()).count == len(EXPECTED[person])
    assert customer_page(visible, Filters(q="paul@x.fr")).count == (
        1 if "paul" in EXPECTED[person] else 0
    )


@pytest.mark.parametrize("person", sorted(EXPECTED))
def test_scope_is_full_for_brought_and_shared_for_consented(destination, customers, person):
    from cordee.customers.models import Customer

    actor = Actor.for_user(getattr(destination, person))
    for name in EXPECTED[person]:
        customer = Customer.objects.get(pk=customers[name])
        want = "shared" if name in SHARED_ONLY.get(person, set()) else "full"
        assert customer_scope(actor, customer) == want, (person, name)


def test_a_shared_customer_shows_only_the_shared_fields_on_every_path(
    destination, customers, api_keys
):
    zoe = customers["zoe"]
    helene = Actor.for_user(destination.helene)
    row = next(
        r
        for r in iter_customer_rows(customers_visible_to(helene), actor=helene, with_sources=True)
        if r["id"] == zoe
    )
    assert row["email"] == "zoe@x.fr" and row["city"] == "Annecy"
    assert row["birth_date"] is None and row["profession"] is None
    assert {"birth_date", "profession", "phone", "interests"} <= set(row["hidden"])
    assert row["sources"] == []  # the camping's records are the camping's
    shown = {k for k, v in row.items() if v not in (None, "", [])}
    assert shown <= SHARED_FIELDS | {"sources", "hidden"}

    detail = api_get(api_keys[destination.hotel.pk], f"/api/v1/customers/{zoe}").json()
    assert detail["email"] == "zoe@x.fr"
    assert detail["birth_date"] is None and detail["profession"] is None
    assert "profession" in detail["hidden"]

    web = Client()
    web.force_login(destination.helene)
    page = web.get(f"/clients/{zoe}/").content.decode()
    assert "zoe@x.fr" in page and 'id="shared-view"' in page
    assert "Guide" not in page and "1990" not in page
    assert "Camping du Lac" not in page  # who else knows her stays hidden

    # The camping brought her: it sees everything.
    nadia = Actor.for_user(destination.nadia)
    row = next(
        r for r in iter_customer_rows(customers_visible_to(nadia), actor=nadia) if r["id"] == zoe
    )
    assert row["profession"] == "Guide" and row["birth_date"] == "1990-05-01"
    assert "hidden" not in row


def test_withdrawing_sharing_hides_the_customer_at_once(destination, customers):
    from cordee.customers.models import Customer

    helene = Actor.for_user(destination.helene)
    zoe = Customer.objects.get(pk=customers["zoe"])
    assert customer_for(helene, zoe.pk)
    consent_withdraw(
        customer=zoe, purpose="partner_offers", channel="preferences", actor=Actor.system("web")
    )
    with pytest.raises(Http404):
        customer_for(helene, zoe.pk)


def test_a_partner_controlled_sharing_consent_also_shares(destination, customers):
    """partner_offers is joint: a "yes" recorded by the hotel is the same agreement."""
    from cordee.customers.models import Customer

    elodie = Customer.objects.get(pk=customers["elodie"])
    consent_record(
        customer=elodie,
        purpose="partner_offers",
        status="granted",
        channel="desk",
        actor=Actor.for_user(destination.helene),
    )
    assert customer_for(Actor.for_user(destination.lucas), elodie.pk).pk == elodie.pk


@pytest.mark.parametrize(
    "bad_id", ["abc", "-1", "99999999", "1 OR 1=1", "", None, "9" * 40, "1e3", "\x00"]
)
def test_odd_ids_are_simply_not_found(destination, customers, bad_id):
    with pytest.raises(Http404):
        customer_for(Actor.for_user(destination.helene), bad_id)


def test_a_user_without_organisation_sees_nothing(destination, customers, django_user_model):
    loner = django_user_model.objects.create(username="loner")
    assert not customers_visible_to(Actor.for_user(loner)).exists()
    assert customers_visible_count(Actor.for_user(loner), cap=1001) == 0
