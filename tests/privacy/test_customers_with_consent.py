"""The audience of a purpose, set-based: who has, today, said yes to it."""

from __future__ import annotations

import pytest

from cordee.customers.models import Customer
from cordee.privacy.access import Actor, customers_visible_to
from cordee.privacy.models import ConsentStatus, Purpose
from cordee.privacy.queries import consent_state, customers_with_consent
from cordee.privacy.services import consent_record, consent_states_rebuild, consent_withdraw

GRANTED, REFUSED = ConsentStatus.GRANTED, ConsentStatus.REFUSED


@pytest.fixture
def said(destination):
    """Élodie, Jean-Luc, Hans, Zoé and Paul, each with their own story."""
    people = {
        name: Customer.objects.create(first_name=name)
        for name in ("Élodie", "Jean-Luc", "Hans", "Zoé", "Paul")
    }
    hotel, ski = Actor.for_user(destination.helene), Actor.for_user(destination.lucas)

    def say(name, purpose, status, actor):
        consent_record(
            customer=people[name], purpose=purpose, status=status, channel="desk", actor=actor
        )

    say("Élodie", "newsletter", GRANTED, hotel)
    say("Jean-Luc", "newsletter", REFUSED, hotel)
    say("Hans", "newsletter", GRANTED, hotel)
    say("Hans", "newsletter", REFUSED, ski)  # the later word wins: same controller, the office
    say("Zoé", "newsletter", REFUSED, hotel)
    say("Zoé", "newsletter", GRANTED, ski)
    say("Élodie", "partner_offers", GRANTED, hotel)
    say("Paul", "partner_offers", GRANTED, ski)
    say("Paul", "partner_offers", REFUSED, hotel)
    consent_withdraw(
        customer=people["Jean-Luc"], purpose="sms", channel="phone", actor=hotel
    )  # nothing granted: nothing recorded
    return people


def names(qs):
    return {c.first_name for c in qs}


def test_the_audience_is_who_said_yes_last(said):
    assert names(customers_with_consent(Customer.objects.all(), "newsletter")) == {"Élodie", "Zoé"}


def test_the_audience_for_one_controller(destination, said):
    everyone = Customer.objects.all()
    assert names(customers_with_consent(everyone, "partner_offers")) == {"Élodie", "Paul"}
    assert names(customers_with_consent(everyone, "partner_offers", destination.hotel)) == {
        "Élodie"
    }
    assert names(customers_with_consent(everyone, "partner_offers", destination.ski)) == {"Paul"}
    assert not customers_with_consent(everyone, "partner_offers", destination.camping).exists()


def test_a_withdrawal_leaves_the_audience(said):
    consent_withdraw(
        customer=said["Élodie"], purpose="newsletter", channel="unsubscribe", actor=Actor.system()
    )
    assert names(customers_with_consent(Customer.objects.all(), "newsletter")) == {"Zoé"}


def test_it_narrows_what_the_gate_lets_through(destination, said):
    # Nobody brought these customers through a file: Hélène's gate shows only those who agreed
    # to be shared with the destination's partners (Élodie and Paul), and of them only Élodie
    # takes the newsletter.
    visible = customers_visible_to(Actor.for_user(destination.helene))
    assert names(visible) == {"Élodie", "Paul"}
    assert names(customers_with_consent(visible, "newsletter")) == {"Élodie"}
    visible = customers_visible_to(Actor.for_user(destination.camille))
    purpose = Purpose.objects.get(slug="newsletter")
    assert names(customers_with_consent(visible, purpose)) == {"Élodie", "Zoé"}


def test_the_filter_agrees_with_the_state_derived_from_the_history(said):
    for slug in ("newsletter", "partner_offers", "sms"):
        from_history = {
            c.first_name
            for c in said.values()
            if any(e.status == GRANTED for e in consent_state(c).get(slug, {}).values())
        }
        assert names(customers_with_consent(Customer.objects.all(), slug)) == from_history
    consent_states_rebuild(actor=Actor.system("test"))
    assert names(customers_with_consent(Customer.objects.all(), "newsletter")) == {"Élodie", "Zoé"}


def test_the_cli_rebuilds_the_states_from_the_history(said):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("privacy", "consent-states", stdout=out)
    assert int(out.getvalue()) == 7  # customer × purpose × controller pairs with a word said
    assert names(customers_with_consent(Customer.objects.all(), "newsletter")) == {"Élodie", "Zoé"}
