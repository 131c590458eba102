"""Consent is recorded with its proof, never changed, and its current state is the latest word."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from cordee.customers.models import Customer
from cordee.privacy.access import Actor
from cordee.privacy.models import (
    AuditEvent,
    ConsentEvent,
    ConsentState,
    ConsentStatus,
    ImmutableRecord,
    WordingKind,
)
from cordee.privacy.queries import consent_state
from cordee.privacy.services import consent_record, consent_states_rebuild, consent_withdraw

GRANTED, REFUSED, WITHDRAWN = ConsentStatus.GRANTED, ConsentStatus.REFUSED, ConsentStatus.WITHDRAWN


@pytest.fixture
def elodie(destination):
    return Customer.objects.create(first_name="Élodie", last_name="Martin", language="fr")


@pytest.fixture
def at_desk(destination):
    """Hélène, at Hôtel des Alpes' front desk."""
    return Actor.for_user(destination.helene)


def record(customer, purpose, status, actor, **kwargs):
    return consent_record(
        customer=customer, purpose=purpose, status=status, channel="desk", actor=actor, **kwargs
    )


def test_a_consent_event_cannot_be_updated(elodie, at_desk):
    event = record(elodie, "newsletter", GRANTED, at_desk)
    event.status = WITHDRAWN
    with pytest.raises(ImmutableRecord):
        event.save()
    with pytest.raises(ImmutableRecord):
        ConsentEvent.objects.filter(pk=event.pk).update(status=WITHDRAWN)
    with pytest.raises(ImmutableRecord):
        event.delete()
    event.refresh_from_db()
    assert event.status == GRANTED


def test_the_proof_outlives_the_account_that_recorded_it(destination, elodie, at_desk):
    event = record(elodie, "newsletter", GRANTED, at_desk)
    destination.helene.delete()
    event.refresh_from_db()
    assert event.recorded_by is None
    assert event.actor_label == "helene"


def test_erasure_of_the_person_takes_the_events_with_it(elodie, at_desk):
    record(elodie, "newsletter", GRANTED, at_desk)
    elodie.delete()
    assert not ConsentEvent.objects.exists()
    assert not ConsentState.objects.exists()


def test_the_proof_says_who_what_when_how_and_which_text(destination, elodie, at_desk):
    event = record(elodie, "newsletter", GRANTED, at_desk)
    assert event.recorded_by == destination.helene
    assert event.actor_label == "helene"
    assert event.channel == "desk"
    assert event.at is not None
    assert event.wording.kind == WordingKind.SHOWN
    assert event.wording.version == 1 and event.wording.language == "fr"


def test_the_wording_follows_the_customers_language(destination, at_desk):
    hans = Customer.objects.create(first_name="Hans", language="en")
    event = record(hans, "newsletter", GRANTED, at_desk)
    assert event.wording.language == "en"


def test_the_office_is_the_controller_of_its_newsletter_even_when_the_hotel_collects_it(
    destination, elodie, at_desk
):
    event = record(elodie, "newsletter", GRANTED, at_desk)
    assert event.controller == destination.office
    assert event.collected_by == destination.hotel


def test_a_partner_is_the_controller_of_what_it_collects_for_a_joint_purpose(
    destination, elodie, at_desk
):
    event = record(elodie, "partner_offers", GRANTED, at_desk)
    assert event.controller == destination.hotel


def test_the_current_state_is_the_latest_event(destination, elodie, at_desk):
    record(elodie, "newsletter", REFUSED, at_desk)
    record(elodie, "newsletter", GRANTED, at_desk)
    state = consent_state(elodie)
    assert state["newsletter"][destination.office.pk].status == GRANTED
    record(elodie, "newsletter", REFUSED, at_desk)
    assert consent_state(elodie)["newsletter"][destination.office.pk].status == REFUSED
    assert ConsentEvent.objects.filter(customer=elodie).count() == 3


def test_the_state_is_kept_per_controller(destination, elodie, at_desk):
    record(elodie, "partner_offers", GRANTED, at_desk)
    record(elodie, "partner_offers", REFUSED, Actor.for_user(destination.lucas))
    state = consent_state(elodie)["partner_offers"]
    assert state[destination.hotel.pk].status == GRANTED
    assert state[destination.ski.pk].status == REFUSED


def test_withdrawal_after_a_grant(destination, elodie, at_desk):
    record(elodie, "newsletter", GRANTED, at_desk)
    withdrawn = consent_withdraw(
        customer=elodie, purpose="newsletter", channel="unsubscribe", actor=Actor.system("web")
    )
    assert [e.status for e in withdrawn] == [WITHDRAWN]
    assert consent_state(elodie)["newsletter"][destination.office.pk].status == WITHDRAWN


def test_one_withdrawal_reaches_every_controller_it_was_granted_to(destination, elodie, at_desk):
    record(elodie, "partner_offers", GRANTED, at_desk)
    record(elodie, "partner_offers", GRANTED, Actor.for_user(destination.lucas))
    record(elodie, "partner_offers", REFUSED, Actor.for_user(destination.nadia))
    withdrawn = consent_withdraw(
        customer=elodie, purpose="partner_offers", channel="preferences", actor=Actor.system("web")
    )
    assert {e.controller for e in withdrawn} == {destination.hotel, destination.ski}
    statuses = {c: e.status for c, e in consent_state(elodie)["partner_offers"].items()}
    assert statuses == {
        destination.hotel.pk: WITHDRAWN,
        destination.ski.pk: WITHDRAWN,
        destination.camping.pk: REFUSED,
    }


def test_nothing_to_withdraw_records_nothing(elodie):
    assert (
        consent_withdraw(
            customer=elodie, purpose="sms", channel="preferences", actor=Actor.system("web")
        )
        == []
    )


def test_each_consent_leaves_an_audit_row_without_personal_data(elodie, at_desk):
    record(elodie, "newsletter", GRANTED, at_desk, page="https://www.vallee.fr/newsletter")
    audit = AuditEvent.objects.get(action="consent.record")
    assert audit.object_id == str(elodie.pk)
    assert audit.details["purpose"] == "newsletter"
    assert "Élodie" not in str(audit.details)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"purpose": "loterie"},
        {"status": "maybe"},
        {"channel": "pigeon"},
    ],
)
def test_a_bad_consent_is_refused_with_a_clear_error(elodie, at_desk, kwargs):
    args = {"purpose": "newsletter", "status": GRANTED, "channel": "desk"} | kwargs
    with pytest.raises(ValidationError):
        consent_record(customer=elodie, actor=at_desk, **args)
    assert not ConsentEvent.objects.exists()


def test_the_state_table_matches_the_history_after_a_rebuild(destination, elodie, at_desk):
    record(elodie, "newsletter", GRANTED, at_desk)
    record(elodie, "partner_offers", GRANTED, at_desk)
    record(elodie, "newsletter", WITHDRAWN, at_desk)
    before = set(ConsentState.objects.values_list("purpose", "controller", "status", "event"))
    assert consent_states_rebuild(actor=Actor.system("test")) == 2
    after = set(ConsentState.objects.values_list("purpose", "controller", "status", "event"))
    assert before == after
