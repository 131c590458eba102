"""The customer list: one search box, a few filters, keyset pages — only what the gate allows."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cordee.collect.normalise import fold
from cordee.customers.models import Customer, CustomerLink
from cordee.privacy.models import AuditEvent

pytestmark = pytest.mark.django_db


def shown(response):
    return sorted(c.first_name for c in response.context["page"].customers)


def test_the_office_sees_every_customer(signed_in, destination, customers):
    response = signed_in(destination.camille).get("/clients/")
    assert response.status_code == 200
    assert shown(response) == ["Claire", "Hans", "Jean-Luc", "Paul", "Zoé", "Élodie"]
    assert "6 clients" in response.text
    assert "Chamonix-Mont-Blanc" in response.text and "Allemagne" in response.text
    assert "elodie.martin@orange.fr" in response.text and "+33 6 12 34 56 78" in response.text


def test_helene_sees_only_the_hotel_customers(signed_in, destination, customers):
    response = signed_in(destination.helene).get("/clients/")
    assert shown(response) == ["Claire", "Hans", "Jean-Luc", "Élodie"]
    assert "4 clients" in response.text
    assert "Zoé" not in response.text and "Martinez" not in response.text


def test_nadia_never_finds_a_hotel_customer_not_even_in_the_count(
    signed_in, destination, customers
):
    client = signed_in(destination.nadia)
    for query in (
        "martin",
        "elodie",
        "elodie.martin@orange.fr",
        "06 12 34 56 78",
        "74400",
        "chamonix",
        "muller",
    ):
        response = client.get("/clients/", {"q": query})
        page = response.context["page"]
        assert "Élodie" not in response.text and "Hans" not in response.text, query
        assert {c.first_name for c in page.customers} <= {"Zoé", "Paul", "Claire"}, query
        assert page.count == len(page.customers), query
    # "Martin" finds her own Paul Martinez, and him only.
    response = client.get("/clients/", {"q": "martin"})
    assert shown(response) == ["Paul"] and "1 client" in response.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("mart", ["Paul", "Élodie"]),
        ("MARTIN", ["Paul", "Élodie"]),
        ("elodie", ["Élodie"]),
        ("Élodie Martin", ["Élodie"]),
        ("muller", ["Hans"]),
        ("ELODIE.MARTIN@orange.FR", ["Élodie"]),
        ("06 12 34 56 78", ["Élodie"]),
        ("0612345678", ["Élodie"]),
        ("+33 6 12 34 56 78", ["Élodie"]),
        ("06.12.34.56.78", ["Élodie"]),
        ("+33 (0)6-12-34-56-78", ["Élodie"]),
        ("chamonix", ["Élodie"]),
        ("Chambéry", ["Zoé"]),
        ("74400", ["Élodie"]),
        ("38000", ["Claire"]),
        ("personne", []),
        ("<script>", []),
    ],
)
def test_search_by_what_a_person_types(signed_in, destination, customers, query, expected):
    response = signed_in(destination.camille).get("/clients/", {"q": query})
    assert response.status_code == 200
    assert shown(response) == expected


def test_filters_by_town_departement_country_and_partner(signed_in, destination, customers):
    client = signed_in(destination.camille)
    assert shown(client.get("/clients/", {"city": "grenoble"})) == ["Claire"]
    assert shown(client.get("/clients/", {"departement": "74"})) == ["Élodie"]
    assert shown(client.get("/clients/", {"country": "Allemagne"})) == ["Hans"]
    assert shown(client.get("/clients/", {"country": "de"})) == ["Hans"]
    assert shown(client.get("/clients/", {"partner": destination.camping.pk})) == [
        "Claire",
        "Paul",
        "Zoé",
    ]
    assert shown(client.get("/clients/", {"partner": destination.camping.pk, "q": "fontaine"})) == [
        "Claire"
    ]


def test_an_unknown_country_is_explained(signed_in, destination, customers):
    response = signed_in(destination.camille).get("/clients/", {"country": "Atlantide"})
    assert response.status_code == 200
    assert "Pays inconnu" in response.text


def test_only_the_office_filters_by_partner(signed_in, destination, customers):
    assert 'name="partner"' in signed_in(destination.camille).get("/clients/").text
    client = signed_in(destination.helene)
    response = client.get("/clients/", {"partner": destination.camping.pk})
    assert 'name="partner"' not in response.text
    assert shown(response) == ["Claire", "Hans", "Jean-Luc", "Élodie"]


@pytest.fixture
def many(destination):
    """120 hotel customers named Alpha000 … Alpha119."""
    now = timezone.now()
    rows = [
        Customer(
            first_name=f"Client{i:03}", last_name=f"Alpha{i:03}", city="Megève",
            first_name_key=fold(f"Client{i:03}"), last_name_key=fold(f"Alpha{i:03}"),
            city_key="megeve",
        )
        for i in range(120)
    ]  # fmt: skip
    Customer.objects.bulk_create(rows)
    CustomerLink.objects.bulk_create(
        CustomerLink(customer=c, partner=destination.hotel, first_seen=now)
        for c in Customer.objects.filter(city="Megève")
    )


def test_pages_forward_and_back(signed_in, destination, many):
    client = signed_in(destination.helene)
    first = client.get("/clients/", {"city": "megeve"})
    names = [c.last_name for c in first.context["page"].customers]
    assert names[0] == "Alpha000" and names[-1] == "Alpha049"
    assert "120 clients" in first.text
    assert 'rel="prev"' not in first.text and 'rel="next"' in first.text
    second = client.get("/clients/", {"city": "megeve", "after": first.context["page"].next_cursor})
    assert [c.last_name for c in second.context["page"].customers][0] == "Alpha050"
    assert 'rel="prev"' in second.text
    third = client.get("/clients/", {"city": "megeve", "after": second.context["page"].next_cursor})
    assert [c.last_name for c in third.context["page"].customers][-1] == "Alpha119"
    assert 'rel="next"' not in third.text
    back = client.get("/clients/", {"city": "megeve", "before": second.context["page"].prev_cursor})
    assert [c.last_name for c in back.context["page"].customers] == names


def test_the_pager_links_keep_the_search(signed_in, destination, many):
    response = signed_in(destination.helene).get("/clients/", {"city": "megeve"})
    cursor = response.context["page"].next_cursor
    assert f'href="/clients/?city=megeve&amp;after={cursor}"' in response.text


def test_a_large_count_is_capped(signed_in, destination, many, monkeypatch):
    monkeypatch.setattr("cordee.customers.queries.COUNT_CAP", 100)
    response = signed_in(destination.helene).get("/clients/")
    assert "plus de 100 clients" in response.text


def test_live_search_gets_only_the_results_table(signed_in, destination, customers):
    response = signed_in(destination.camille).get(
        "/clients/", {"q": "elodie"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="results"')
    assert "<html" not in response.text and "Élodie" in response.text
    assert "HX-Request" in response["Vary"]


def test_the_search_box_is_wired_for_live_search(signed_in, destination, customers):
    text = signed_in(destination.camille).get("/clients/").text
    assert 'hx-trigger="input changed delay:300ms, search' in text
    assert 'hx-target="#results"' in text and 'hx-push-url="true"' in text


def test_a_history_restore_gets_the_whole_page(signed_in, destination, customers):
    response = signed_in(destination.camille).get(
        "/clients/",
        {"q": "elodie"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in response.text


def test_the_list_costs_the_same_few_queries_whatever_the_page_size(
    signed_in, destination, many, django_assert_max_num_queries
):
    client = signed_in(destination.camille)
    client.get("/clients/")  # warm the session
    with django_assert_max_num_queries(8):
        response = client.get("/clients/", {"city": "megeve"})
    assert len(response.context["page"].customers) == 50


def test_a_search_is_audited_without_what_was_typed(signed_in, destination, customers):
    signed_in(destination.helene).get(
        "/clients/", {"q": "Elodie.Martin@orange.fr", "country": "FR"}
    )
    event = AuditEvent.objects.get(action="customer.search")
    assert event.actor == destination.helene and event.partner == destination.hotel
    assert event.details["kind"] == "email" and event.details["filters"] == ["country"]
    assert "orange" not in str(event.details).lower()
    assert event.ip == "127.0.0.1"


def test_browsing_without_a_search_is_not_audited_as_one(signed_in, destination, customers):
    signed_in(destination.helene).get("/clients/")
    assert not AuditEvent.objects.filter(action="customer.search").exists()


def test_a_name_with_html_is_shown_as_text(signed_in, destination):
    now = timezone.now()
    evil = Customer.objects.create(
        first_name="<script>alert('x')</script>",
        last_name="<b>Bold</b>",
        last_name_key="b bold b",
        city="<i>Ville</i>",
    )
    CustomerLink.objects.create(customer=evil, partner=destination.hotel, first_seen=now)
    for url, params in (("/clients/", {}), ("/clients/", {"q": "b bold"})):
        response = signed_in(destination.helene).get(url, params)
        assert "<script>alert" not in response.text and "<b>Bold" not in response.text
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in response.text
