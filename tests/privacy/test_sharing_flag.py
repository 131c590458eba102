"""The sharing flag follows the partner_offers consent on every path that writes it.

``Customer.shares_with_partners`` is what the partners' gate reads; the consent events are
the truth. Each story checks the flag against what the events say (the latest event per
controller, read here in Python, independently of the consent states and of the SQL that
keeps the flag), and that the hotel sees the customer exactly when the flag says so.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cordee.customers.merging import customers_merge, merge_undo
from cordee.customers.models import Customer, SourceRecord
from cordee.customers.services import IncomingRecord, source_records_attach
from cordee.customers.splitting import customer_split
from cordee.privacy.access import Actor, customers_visible_count, customers_visible_to
from cordee.privacy.erasure import customer_erase
from cordee.privacy.models import AuditEvent, ConsentEvent
from cordee.privacy.preferences import preference_token
from cordee.privacy.services import consent_record, consent_states_rebuild, consent_withdraw
from cordee.privacy.sharing import customers_sharing_sync, sharing_mismatches


def bring(partner, email: str, **data) -> int:
    data = {"first_name": "Zoé", "last_name": "Lambert", "email": email, **data}
    record = IncomingRecord(raw={k: str(v) for k, v in data.items()}, data=data)
    return source_records_attach(partner=partner, channel="form", records=[record]).customer_ids[0]


def flag(customer_id: int) -> bool:
    return Customer.objects.values_list("shares_with_partners", flat=True).get(pk=customer_id)


def consented(customer_id: int) -> bool:
    """From the events alone: is the latest partner_offers event of some controller a grant?"""
    latest: dict[int, tuple[object, int, str]] = {}
    for controller, at, pk, status in ConsentEvent.objects.filter(
        customer_id=customer_id, purpose__slug="partner_offers"
    ).values_list("controller_id", "at", "pk", "status"):
        if controller not in latest or (at, pk) > latest[controller][:2]:
            latest[controller] = (at, pk, status)
    return any(status == "granted" for _at, _pk, status in latest.values())


def hotel_sees(destination, customer_id: int) -> bool:
    return customers_visible_to(Actor.for_user(destination.helene)).filter(pk=customer_id).exists()


def assert_follows(destination, customer_id: int, expected: bool) -> None:
    assert consented(customer_id) is expected
    assert flag(customer_id) is expected
    assert hotel_sees(destination, customer_id) is expected  # the camping brought them all


@pytest.fixture
def desk(destination):
    return Actor.for_user(destination.camille)


@pytest.fixture
def zoe(destination) -> Customer:
    return Customer.objects.get(pk=bring(destination.camping, "zoe@x.fr"))


def record(customer, status, actor, **extra):
    return consent_record(
        customer=customer,
        purpose="partner_offers",
        status=status,
        channel="desk",
        actor=actor,
        **extra,
    )


def test_a_new_customer_is_not_shared(destination, zoe):
    assert_follows(destination, zoe.pk, False)


def test_a_grant_shares_her_and_a_refusal_unshares_her(destination, zoe, desk):
    record(zoe, "granted", desk)
    assert_follows(destination, zoe.pk, True)
    record(zoe, "refused", desk)
    assert_follows(destination, zoe.pk, False)


def test_another_purpose_leaves_the_flag_alone(destination, zoe, desk):
    consent_record(customer=zoe, purpose="newsletter", status="granted", channel="desk", actor=desk)
    assert_follows(destination, zoe.pk, False)


def test_she_stays_shared_while_one_controller_still_holds_her_yes(destination, zoe, desk):
    record(zoe, "granted", desk, controller=destination.office)
    record(zoe, "granted", desk, controller=destination.camping)
    consent_withdraw(
        customer=zoe,
        purpose="partner_offers",
        channel="email",
        actor=desk,
        controller=destination.camping,
    )
    assert_follows(destination, zoe.pk, True)
    # One click in a message withdraws it from every controller.
    consent_withdraw(customer=zoe, purpose="partner_offers", channel="email", actor=desk)
    assert_follows(destination, zoe.pk, False)


def test_the_preference_centre_toggle_moves_the_flag(client, destination, zoe):
    token = preference_token(zoe)
    client.post("/preferences/finalite/partner_offers/", {"t": token, "on": ["0", "1"]})
    assert_follows(destination, zoe.pk, True)
    client.post("/preferences/finalite/partner_offers/", {"t": token, "on": "0"})
    assert_follows(destination, zoe.pk, False)


HOTEL_FILE = (
    "Prénom;Nom;E-mail;consent_partner_offers\r\n"
    "Élodie;Martin;elodie.martin@example.fr;non\r\n"
    "Jean-Luc;Dupont;jl.dupont@example.com;\r\n"
    "Hans;Müller;hans.mueller@example.de;oui\r\n"
)


def by_name() -> dict[str, int]:
    return dict(Customer.objects.values_list("first_name", "pk"))


def test_an_import_column_sets_the_flag_for_new_and_known_customers(destination, import_file):
    batch = import_file(HOTEL_FILE, partner=destination.hotel, name="hotel.csv")
    assert batch.status == "done", batch.error
    ids = by_name()
    assert [flag(ids[n]) for n in ("Élodie", "Jean-Luc", "Hans")] == [False, False, True]
    assert [consented(ids[n]) for n in ("Élodie", "Jean-Luc", "Hans")] == [False, False, True]
    # The ski school's file, later: Élodie says yes there, Hans says no (to the ski school
    # only: the hotel's yes still stands, so he stays shared).
    again = import_file(
        "Prénom;Nom;E-mail;consent_partner_offers\r\n"
        "Élodie;Martin;elodie.martin@example.fr;oui\r\n"
        "Hans;Müller;hans.mueller@example.de;non\r\n",
        partner=destination.ski,
        name="ski.csv",
    )
    assert again.status == "done", again.error
    assert by_name() == ids  # the same people, joined on their e-mail
    assert flag(ids["Élodie"]) is True and consented(ids["Élodie"]) is True
    assert flag(ids["Hans"]) is True and consented(ids["Hans"]) is True
    # The hotel's next file: Hans now says no there too.
    import_file(
        "Prénom;Nom;E-mail;consent_partner_offers\r\nHans;Müller;hans.mueller@example.de;non\r\n",
        partner=destination.hotel,
        name="hotel-2.csv",
    )
    assert flag(ids["Hans"]) is False and consented(ids["Hans"]) is False
    assert sharing_mismatches() == (0, [])


def test_a_merge_takes_the_state_both_events_give(destination, desk):
    shared = Customer.objects.get(pk=bring(destination.camping, "a@x.fr"))
    unshared = Customer.objects.get(pk=bring(destination.camping, "b@x.fr"))
    record(shared, "granted", desk)
    customers_merge(unshared, shared, actor=desk)
    assert_follows(destination, unshared.pk, True)


def test_a_later_refusal_of_the_absorbed_wins_and_the_undo_gives_both_back(destination, desk):
    first = Customer.objects.get(pk=bring(destination.camping, "a@x.fr"))
    second = Customer.objects.get(pk=bring(destination.camping, "b@x.fr"))
    record(first, "granted", desk)
    record(second, "refused", desk)  # later, to the same controller (the office)
    event = customers_merge(first, second, actor=desk)
    assert_follows(destination, first.pk, False)
    merge_undo(event, actor=desk)
    assert_follows(destination, first.pk, True)
    assert_follows(destination, second.pk, False)


def test_a_split_takes_the_yes_along_with_its_record(destination, import_file):
    import_file(HOTEL_FILE, partner=destination.hotel, name="hotel.csv")
    import_file(
        "Prénom;Nom;E-mail\r\nHans;Müller;hans.mueller@example.de\r\n",
        partner=destination.ski,
        name="ski.csv",
    )
    hans = by_name()["Hans"]
    assert flag(hans) is True
    from_hotel = list(
        SourceRecord.objects.filter(customer_id=hans, partner=destination.hotel).values_list(
            "pk", flat=True
        )
    )
    (split,) = customer_split(customer_id=hans, groups=[from_hotel])
    assert flag(hans) is False and consented(hans) is False
    assert flag(split.absorbed_id) is True and consented(split.absorbed_id) is True


def test_an_erased_person_comes_back_unshared_from_a_partner_file(destination, import_file):
    import_file(HOTEL_FILE, partner=destination.hotel, name="hotel.csv")
    hans = by_name()["Hans"]
    customer_erase(
        customer=Customer.objects.get(pk=hans), actor=Actor.system("test"), reason="art. 17"
    )
    assert not Customer.objects.filter(pk=hans).exists()
    # The hotel's next file still says yes: a declared yes does not bring them back.
    import_file(HOTEL_FILE, partner=destination.hotel, name="hotel-again.csv")
    again = by_name()["Hans"]
    assert again != hans
    assert flag(again) is False and consented(again) is False
    assert sharing_mismatches() == (0, [])


def test_rebuilding_the_consent_states_repairs_the_flags(destination, zoe, desk):
    record(zoe, "granted", desk)
    Customer.objects.filter(pk=zoe.pk).update(shares_with_partners=False)
    assert sharing_mismatches() == (1, [zoe.pk])
    consent_states_rebuild(actor=desk)
    assert_follows(destination, zoe.pk, True)


def test_the_partner_count_matches_the_list(destination, desk):
    ids = [bring(destination.camping, f"p{i}@x.fr") for i in range(5)]
    hotel_own = bring(destination.hotel, "h@x.fr")
    people = Customer.objects.in_bulk(ids)
    for pk in ids[:3]:
        record(people[pk], "granted", desk)
    actor = Actor.for_user(destination.helene)
    assert set(customers_visible_to(actor).values_list("pk", flat=True)) == {*ids[:3], hotel_own}
    assert customers_visible_count(actor, cap=100) == 4
    assert customers_visible_count(actor, cap=2) == 2
    # Brought and shared: counted once.
    record(Customer.objects.get(pk=hotel_own), "granted", desk)
    assert customers_visible_count(actor, cap=100) == 4


def test_check_sharing_reports_drift_and_repairs_it(destination, zoe, desk):
    record(zoe, "granted", desk)
    out = io.StringIO()
    call_command("privacy", "check-sharing", stdout=out)
    assert "conforme" in out.getvalue()
    other = bring(destination.camping, "other@x.fr")
    Customer.objects.filter(pk=zoe.pk).update(shares_with_partners=False)
    Customer.objects.filter(pk=other).update(shares_with_partners=True)
    with pytest.raises(CommandError, match="2 client"):
        call_command("privacy", "check-sharing")
    assert flag(zoe.pk) is False  # a check alone changes nothing
    out = io.StringIO()
    call_command("privacy", "check-sharing", "--repair", stdout=out)
    assert "2 client(s) corrigé(s)" in out.getvalue()
    assert flag(zoe.pk) is True and flag(other) is False
    assert AuditEvent.objects.filter(action="privacy.sharing_repair").exists()
    call_command("privacy", "check-sharing")  # clean again: no error


def test_the_sync_writes_only_the_wrong_flags(destination, zoe, desk):
    record(zoe, "granted", desk)
    assert customers_sharing_sync([zoe.pk]) == 0
    Customer.objects.filter(pk=zoe.pk).update(shares_with_partners=False)
    assert customers_sharing_sync([zoe.pk]) == 1
    assert customers_sharing_sync() == 0


# A random story: three people, two controllers (the office, the camping), and what anyone
# may do with their sharing consent — grant, refuse, withdraw (from one or from all), merge
# two of them, undo the last merge. After every step the flag is what the events say.
STEPS = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from(["granted", "refused", "withdrawn"]),
            st.integers(0, 2),
            st.integers(0, 1),
        ),
        st.tuples(st.just("withdraw_all"), st.integers(0, 2), st.just(0)),
        st.tuples(st.just("merge"), st.integers(0, 2), st.integers(0, 2)),
        st.tuples(st.just("undo"), st.just(0), st.just(0)),
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_after_any_sequence_of_consent_writes_the_flag_is_the_derived_state(destination, steps):
    actor = Actor.for_user(destination.camille)
    controllers = [destination.office, destination.camping]
    with transaction.atomic():
        people = [bring(destination.camping, f"story{i}@x.fr") for i in range(3)]
        merges = []
        for action, i, j in steps:
            alive = set(Customer.objects.filter(pk__in=people).values_list("pk", flat=True))
            if action == "merge":
                if people[i] in alive and people[j] in alive and i != j:
                    merges.append(customers_merge(people[i], people[j], actor=actor))
            elif action == "undo":
                if merges:
                    merge_undo(merges.pop(), actor=actor)
            elif people[i] not in alive:
                continue
            elif action == "withdraw_all":
                consent_withdraw(
                    customer=Customer.objects.get(pk=people[i]),
                    purpose="partner_offers",
                    channel="email",
                    actor=actor,
                )
            else:
                record(Customer.objects.get(pk=people[i]), action, actor, controller=controllers[j])
            for pk in Customer.objects.filter(pk__in=people).values_list("pk", flat=True):
                assert flag(pk) is consented(pk), (steps, pk)
            assert sharing_mismatches()[0] == 0
        transaction.set_rollback(True)


@pytest.mark.django_db(transaction=True)
def test_two_controllers_writing_at_once_leave_the_flag_both_agree_on(destination):
    """She withdraws her "yes" from the office while the camping records a new "yes", in two
    transactions at once: she stays shared (the camping holds a grant)."""
    import importlib
    import threading
    import time

    from django.apps import apps
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time: no race to lose")
    # Transactional tests empty the tables: the purposes come back as the migration seeds them.
    importlib.import_module("cordee.privacy.migrations.0003_seed_purposes").seed(apps, None)
    zoe = Customer.objects.get(pk=bring(destination.camping, "zoe@x.fr"))
    actor = Actor.for_user(destination.camille)
    record(zoe, "granted", actor, controller=destination.office)
    granted = threading.Event()
    errors: list[BaseException] = []

    def office_withdrawn() -> None:
        try:
            with transaction.atomic():
                record(zoe, "withdrawn", actor, controller=destination.office)
                granted.set()
                time.sleep(1.0)  # the camping's "yes" arrives meanwhile
        except BaseException as exc:  # noqa: BLE001 — reported by the main thread
            errors.append(exc)
        finally:
            granted.set()
            connections.close_all()

    def camping_yes() -> None:
        try:
            granted.wait(10)
            record(zoe, "granted", actor, controller=destination.camping)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=office_withdrawn), threading.Thread(target=camping_yes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert consented(zoe.pk) is True
    assert flag(zoe.pk) is True


def test_a_restricted_customer_is_shared_with_nobody_until_lifted(destination, zoe, desk):
    """Art. 18: the data are kept, the camping (which brought Zoé) still sees her, the other
    partners no longer do, even if she grants sharing meanwhile; lifting brings sharing back."""
    from cordee.privacy.objection import restriction_apply, restriction_lift

    record(zoe, "granted", desk)
    assert hotel_sees(destination, zoe.pk)
    restriction_apply(customer=zoe, actor=desk)
    assert not flag(zoe.pk) and not hotel_sees(destination, zoe.pk)
    nadia = Actor.for_user(destination.nadia)  # the camping's manager
    assert customers_visible_to(nadia).filter(pk=zoe.pk).exists()
    record(zoe, "granted", desk)  # a new grant does not undo the restriction
    assert not flag(zoe.pk) and not hotel_sees(destination, zoe.pk)
    assert sharing_mismatches()[0] == 0
    restriction_lift(customer=zoe, actor=desk, reason="Demande close")
    assert flag(zoe.pk) and hotel_sees(destination, zoe.pk)
