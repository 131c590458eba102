"""The loyalty card number as a deterministic identity key (issue 3).

A record carrying an issued card joins the card's holder — at intake, in the single-record
match and in the batch resolution — unless its first name or birth date contradicts the
holder's. A wrong, unknown, hostile or over-shared number never joins anyone.
"""

from __future__ import annotations

import io
import secrets

import pytest
from django.core.management import call_command

from cordee.activities.cards import luhn_digit, number_is_valid
from cordee.activities.models import LoyaltyCard
from cordee.collect.intake import normalise_fields
from cordee.customers.candidates import customer_candidates
from cordee.customers.incoming import IncomingRecord
from cordee.customers.matching.features import clean_card_number
from cordee.customers.models import Customer, MergeEvent
from cordee.customers.resolution import resolution_run
from cordee.customers.services import CARD_SHARING_LIMIT, source_records_attach

ELODIE = dict(
    first_name="Élodie", last_name="Martin", email="elodie.martin@orange.fr",
    birth_date="1985-03-14", postal_code="74000", city="Annecy",
)  # fmt: skip


def card_number(body: str = "12345678901") -> str:
    return body + luhn_digit(body)


def rec(line: int = 1, **data: object) -> IncomingRecord:
    return IncomingRecord(raw={k: str(v) for k, v in data.items()}, data=dict(data), line=line)


def attach(partner, *records: IncomingRecord):
    return source_records_attach(partner=partner, channel="import", records=list(records))


def card_for(customer_id: int, number: str | None = None) -> str:
    number = number or card_number()
    LoyaltyCard.objects.create(
        customer_id=customer_id, number=number, token=secrets.token_urlsafe(32)
    )
    return number


@pytest.fixture
def elodie(destination) -> tuple[int, str]:
    """Élodie, known to the hotel, holding the destination's card."""
    customer_id = attach(destination.hotel, rec(**ELODIE)).customer_ids[0]
    return customer_id, card_for(customer_id)


# -- the number itself -------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "", "1234", "123456789012", "1234 5678 901x", "１２３４５６７８９０１２", "\x00" * 12,
        "1" * 10_000, None, 12.5, True, ["123456789012"], {"n": 1}, "12345678901" + "٣",
    ],
)  # fmt: skip
def test_a_wrong_or_hostile_number_is_no_number(raw):
    assert clean_card_number(raw) is None


def test_the_check_digit_is_the_cards_own(elodie):
    _customer, number = elodie
    spaced = f"{number[:4]} {number[4:8]}-{number[8:]}"
    assert clean_card_number(spaced) == number and number_is_valid(number)
    for _ in range(50):  # the numbers the card service issues
        issued = card_number(str(secrets.randbelow(9 * 10**10) + 10**10))
        assert clean_card_number(issued) == issued


def test_intake_keeps_a_valid_number_and_warns_about_a_wrong_one():
    good = normalise_fields({"last_name": "Martin", "card_number": card_number()})
    assert good.data["card_number"] == card_number() and good.warnings == []
    typo = card_number()[:-1] + str((int(card_number()[-1]) + 1) % 10)
    bad = normalise_fields({"last_name": "Martin", "card_number": typo})
    assert "card_number" not in bad.data
    for hostile in ("\x00" * 12, "1234\x005678\x009012", "9" * 100_000):
        assert (
            "card_number" not in normalise_fields({"last_name": "M", "card_number": hostile}).data
        )
    assert bad.warnings and bad.warnings[0][0] == "card_number"
    assert "chiffre de contrôle" in bad.warnings[0][1]


# -- intake --------------------------------------------------------------------------------


def test_a_record_carrying_the_card_joins_its_holder(destination, elodie):
    customer_id, number = elodie
    # The ski school knows her by another surname and phone only: the card says who she is.
    result = attach(
        destination.ski,
        rec(first_name="Elodie", last_name="Durand", phone="+33698765432", card_number=number),
    )
    assert (result.created, result.matched) == (0, 1)
    assert result.customer_ids == [customer_id]
    assert Customer.objects.get().source_records.count() == 2


def test_a_card_lent_to_someone_else_does_not_join_them(destination, elodie):
    customer_id, number = elodie
    result = attach(
        destination.ski,
        rec(first_name="Paul", last_name="Martin", card_number=number),
        rec(
            2, first_name="Élodie", last_name="Martin", birth_date="2012-06-01", card_number=number
        ),
    )
    assert result.created == 2 and customer_id not in result.customer_ids


def test_an_unknown_card_joins_nobody_even_within_one_file(destination, elodie):
    unknown = card_number("98765432109")
    result = attach(
        destination.ski,
        rec(last_name="Dupont", card_number=unknown),
        rec(2, last_name="Durand", card_number=unknown),
    )
    assert result.created == 2 and len(set(result.customer_ids)) == 2


def test_one_card_on_every_line_of_a_file_is_no_key(destination, elodie):
    """A desk's own card typed on every line must not attach the whole file to its holder."""
    customer_id, number = elodie
    lines = [rec(n, last_name=f"Nom{n}", card_number=number) for n in range(CARD_SHARING_LIMIT + 5)]
    result = attach(destination.ski, *lines)
    assert result.created == len(lines) and customer_id not in result.customer_ids


def test_hostile_card_values_in_stored_data_do_not_crash(destination, elodie):
    # (A NUL never reaches stored data: the channels' normalisation drops it, see below.)
    values = ["' OR 1=1 --", "\u0661" * 12, "9" * 100_000, 123456789012, None, ["1"], {"a": 1}]
    result = attach(
        destination.ski, *[rec(n, last_name=f"Nom{n}", card_number=v) for n, v in enumerate(values)]
    )
    assert result.created == len(values)


def test_an_imported_card_column_is_recognised(import_file, destination, elodie):
    customer_id, number = elodie
    batch = import_file(
        f"Prénom;Nom;N° carte\r\nÉlodie;Martin-Durand;{number[:4]} {number[4:8]} {number[8:]}\r\n"
        "Jean;Dupont;1234 5678 9013\r\n",
        partner=destination.ski,
    )
    assert batch.status == "done", batch.status
    assert Customer.objects.get(pk=customer_id).source_records.count() == 2
    assert Customer.objects.count() == 2  # Jean's wrong number joined no one


# -- the single-record match ---------------------------------------------------------------


def test_the_card_holder_is_the_first_candidate(destination, elodie, model_home):
    customer_id, number = elodie
    incoming = {"first_name": "Elodie", "last_name": "Durand", "card_number": number}
    found = customer_candidates(incoming, base=Customer.objects.all())
    assert found[0].customer_id == customer_id and found[0].probability == 1.0
    assert found[0].evidence["loyalty_card"] == "same"
    # Not when the record contradicts the holder, nor outside what the caller may see.
    paul = customer_candidates(
        {"first_name": "Paul", "last_name": "Durand", "card_number": number},
        base=Customer.objects.all(),
    )
    assert all(c.customer_id != customer_id for c in paul)
    hidden = customer_candidates(incoming, base=Customer.objects.exclude(pk=customer_id))
    assert hidden == []
    for hostile in ("' OR 1=1 --", "\x00", "1" * 100_000, 42):
        customer_candidates(
            {"last_name": "Durand", "card_number": hostile}, base=Customer.objects.all()
        )


# -- the batch resolution ------------------------------------------------------------------


def test_the_batch_run_joins_a_record_that_carried_the_card_before_it_was_known(
    destination, model_home
):
    number = card_number()
    holder = attach(destination.hotel, rec(**ELODIE)).customer_ids[0]
    # The ski school's record arrived first with a number nobody held yet: a customer of its own.
    other = attach(
        destination.ski,
        rec(first_name="Elodie", last_name="Durand", phone="+33698765432", card_number=number),
    ).customer_ids[0]
    assert other != holder
    card_for(holder, number)
    run = resolution_run()
    assert run.merged == 1 and Customer.objects.count() == 1
    assert MergeEvent.objects.get().survivor_id == holder


def test_the_batch_run_never_merges_a_contradicting_or_over_shared_card(destination, model_home):
    number = card_number()
    holder = attach(destination.hotel, rec(**ELODIE)).customer_ids[0]
    attach(destination.ski, rec(first_name="Paul", last_name="Durand", card_number=number))
    # Many customers, each carrying the same number (one per call, so intake let them be).
    for n in range(CARD_SHARING_LIMIT + 1):
        attach(destination.camping, rec(n, last_name=f"Zed{n}", card_number=number))
    card_for(holder, number)
    before = Customer.objects.count()
    run = resolution_run()
    assert run.merged == 0 and Customer.objects.count() == before


def test_resolve_command_with_cards_prints_its_counts(destination, model_home, elodie):
    out = io.StringIO()
    call_command("resolve", "--full", stdout=out)
    assert "fusionnés : 0" in out.getvalue()
