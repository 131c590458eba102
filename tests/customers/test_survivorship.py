"""Survivorship, field by field: correction, then trust, then recency, then completeness."""

from __future__ import annotations

import datetime as dt

from cordee.customers.golden import FIELD_TRUST, GoldenSource, survivorship, trust

JAN = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
MAR = dt.datetime(2026, 3, 5, tzinfo=dt.UTC)


def source(id_: int, kind: str, channel: str, at: dt.datetime, **data: object) -> GoldenSource:
    return GoldenSource(id_, dict(data), kind, channel, at)


def test_the_ski_school_wins_the_birth_date_the_hotel_the_address():
    hotel = source(
        1, "hotel", "import", JAN, birth_date="1985-04-13", address_line1="12 rue des Alpes"
    )
    ski = source(2, "ski_school", "import", MAR, birth_date="1985-03-14", address_line1="Chalet 3")
    golden, provenance = survivorship([hotel, ski])
    assert golden["birth_date"] == "1985-03-14" and provenance["birth_date"] == 2
    assert golden["address_line1"] == "12 rue des Alpes" and provenance["address_line1"] == 1


def test_a_form_wins_the_email_over_a_newer_partner_file():
    form = source(1, "hub", "form", JAN, email="elodie@orange.fr")
    hotel = source(2, "hotel", "import", MAR, email="reception@hotel.fr")
    golden, _ = survivorship([form, hotel])
    assert golden["email"] == "elodie@orange.fr"


def test_between_equally_trusted_sources_the_most_recent_then_the_longest_wins():
    old = source(1, "shop", "import", JAN, first_name="Élodie", profession="Ingénieure")
    new = source(2, "restaurant", "import", MAR, first_name="Elo")
    golden, provenance = survivorship([old, new])
    assert golden["first_name"] == "Elo" and provenance["profession"] == 1
    short = source(3, "shop", "import", MAR, last_name="Martin")
    long = source(4, "shop", "import", MAR, last_name="Martin-Durand")
    golden, _ = survivorship([long, short])
    assert golden["last_name"] == "Martin-Durand"


def test_a_manual_correction_wins_over_every_source():
    ski = source(1, "ski_school", "import", MAR, birth_date="1985-03-14")
    fix = source(2, "hub", "desk", JAN, birth_date="1985-03-15", correction=True)
    golden, provenance = survivorship([ski, fix])
    assert golden["birth_date"] == "1985-03-15" and provenance["birth_date"] == 2


def test_a_second_phone_is_kept_as_the_other_phone():
    a = source(1, "hotel", "import", JAN, phone="+33612345678")
    b = source(2, "shop", "import", MAR, phone="+33698765432")
    golden, provenance = survivorship([a, b])
    assert golden["phone"] == "+33612345678" and golden["phone_other"] == "+33698765432"
    assert provenance["phone_other"] == 2


def test_empty_values_never_win_and_unknown_sources_count_zero():
    assert survivorship([source(1, "hotel", "import", JAN, email="", city=None)]) == ({}, {})
    assert trust("birth_date", source(1, "shop", "import", JAN)) == 0
    assert trust("birth_date", source(1, "lift_operator", "import", JAN)) == max(
        FIELD_TRUST["birth_date"].values()
    )
