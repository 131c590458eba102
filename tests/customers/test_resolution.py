"""``cordee resolve``: the batch resolution applied to the base.

The model is learned once on the demo valley's files; the tests' base is a handful of
people imported by Hôtel des Alpes and the École de ski, who know them differently.
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cordee.customers.incoming import IncomingRecord
from cordee.customers.models import (
    Customer,
    HouseholdLink,
    MergeEvent,
    PairDecision,
    ResolutionRun,
    ReviewStatus,
    SourceRecord,
)
from cordee.customers.resolution import resolution_run
from cordee.customers.services import source_records_attach
from cordee.privacy.models import AuditEvent

pytestmark = pytest.mark.slow


def attach(partner, *rows: dict[str, str]) -> list[int]:
    records = [
        IncomingRecord(raw={k: str(v) for k, v in row.items()}, data=dict(row), line=n)
        for n, row in enumerate(rows, 1)
    ]
    result = source_records_attach(partner=partner, channel="import", records=records)
    return [c for c in result.customer_ids if c is not None]


ELODIE_HOTEL = dict(
    first_name="Élodie", last_name="Martin", email="elodie.martin@orange.fr",
    birth_date="1985-03-14", postal_code="74000", city="Annecy", address_line1="12 rue des Alpes",
)  # fmt: skip
ELODIE_SKI = dict(
    first_name="Elodie", last_name="Martin", birth_date="1985-03-14", postal_code="74000",
    city="Annecy", phone="+33612345678",
)  # fmt: skip
LEA = dict(
    first_name="Léa", last_name="Roux", email="lea.roux@free.fr", birth_date="2010-05-01",
    postal_code="73000", city="Chambéry", address_line1="4 chemin des Vignes",
)  # fmt: skip
CHLOE = dict(
    first_name="Chloé", last_name="Roux", email="chloe.roux@free.fr", birth_date="2010-05-01",
    postal_code="73000", city="Chambéry", address_line1="4 chemin des Vignes",
)  # fmt: skip


def test_one_person_known_to_two_partners_becomes_one_customer(destination, model_home):
    hotel_id = attach(destination.hotel, ELODIE_HOTEL)[0]
    ski_id = attach(destination.ski, ELODIE_SKI)[0]
    assert hotel_id != ski_id
    run = resolution_run()
    assert run.full and run.retrained is False and run.merged == 1
    survivor = Customer.objects.get()
    assert survivor.pk == min(hotel_id, ski_id)
    assert survivor.source_records.count() == 2
    merge = MergeEvent.objects.get()
    assert merge.run == run and merge.score is not None and merge.score >= 0.99
    assert merge.evidence["birth_date"] == "same" and merge.evidence["email"] == "missing"
    # Survivorship: the hotel's address, the ski school's phone, provenance per field.
    assert survivor.address_line1 == "12 rue des Alpes" and survivor.phone == "+33612345678"
    hotel_record = SourceRecord.objects.get(partner=destination.hotel)
    assert survivor.provenance["address_line1"] == hotel_record.pk
    assert AuditEvent.objects.filter(action="resolution.run").exists()


def test_twins_sharing_an_address_are_a_household_not_one_customer(destination, model_home):
    attach(destination.hotel, LEA)
    attach(destination.ski, CHLOE)
    run = resolution_run()
    assert run.merged == 0 and run.households == 1
    assert Customer.objects.count() == 2
    link = HouseholdLink.objects.get()
    assert {link.left.customer_id, link.right.customer_id} == set(
        Customer.objects.values_list("pk", flat=True)
    )


def test_a_pair_declared_different_people_is_never_merged_again(destination, model_home):
    attach(destination.hotel, ELODIE_HOTEL)
    attach(destination.ski, ELODIE_SKI)
    left, right = SourceRecord.objects.order_by("pk")
    PairDecision.objects.create(left=left, right=right, score=0.99, status=ReviewStatus.DIFFERENT)
    run = resolution_run(full=True)
    assert run.merged == 0 and Customer.objects.count() == 2
    assert PairDecision.objects.get().status == ReviewStatus.DIFFERENT


def test_a_second_run_looks_only_at_new_records_and_their_candidates(destination, model_home):
    attach(destination.hotel, ELODIE_HOTEL, LEA)
    first = resolution_run()
    assert first.records == 2 and first.merged == 0
    again = resolution_run()
    assert not again.full and again.records == 0 and again.merged == 0
    attach(destination.ski, ELODIE_SKI)
    third = resolution_run()
    assert third.records == 1 and third.merged == 1
    assert Customer.objects.count() == 2


def test_the_command_prints_what_it_did(destination, model_home):
    attach(destination.hotel, ELODIE_HOTEL, LEA)
    attach(destination.ski, ELODIE_SKI, CHLOE)
    out = io.StringIO()
    call_command("resolve", "--full", stdout=out)
    text = out.getvalue()
    assert "fusionnés : 1" in text and "foyers : 1" in text and "à revoir : 0" in text
    assert ResolutionRun.objects.get().finished_at is not None


def test_training_on_too_small_a_base_is_a_clear_error(destination, settings, tmp_path):
    settings.CORDEE_HOME = tmp_path
    attach(destination.hotel, ELODIE_HOTEL)
    with pytest.raises(CommandError, match="Trop peu d'enregistrements"):
        call_command("resolve", stdout=io.StringIO())
    assert not (tmp_path / "matching" / "model.json").exists()
    assert ResolutionRun.objects.filter(finished_at__isnull=False).count() == 0


def test_the_model_is_stored_and_reused(destination, model_home):
    before = json.loads((model_home / "matching" / "model.json").read_text())
    attach(destination.hotel, ELODIE_HOTEL)
    resolution_run()
    assert json.loads((model_home / "matching" / "model.json").read_text()) == before


def test_the_background_task_runs_a_resolution(destination, model_home):
    from cordee.customers.tasks import resolve_run

    attach(destination.hotel, ELODIE_HOTEL)
    attach(destination.ski, ELODIE_SKI)
    result = resolve_run.enqueue()
    run = ResolutionRun.objects.get(pk=result.return_value)
    assert run.merged == 1 and Customer.objects.count() == 1


def test_a_merge_a_person_undid_is_never_made_again(destination, model_home):
    from cordee.customers.merging import merge_undo
    from cordee.privacy.access import Actor

    attach(destination.hotel, ELODIE_HOTEL)
    attach(destination.ski, ELODIE_SKI)
    resolution_run()
    merge_undo(MergeEvent.objects.get(), actor=Actor.for_user(destination.camille))
    run = resolution_run(full=True)
    assert run.merged == 0 and Customer.objects.count() == 2
    assert PairDecision.objects.get().status == ReviewStatus.DIFFERENT


def test_an_import_from_the_browser_is_followed_by_a_resolution(destination, settings, model_home):
    from cordee.collect.imports import import_batch_create
    from cordee.collect.tasks import import_run
    from cordee.privacy.access import Actor

    settings.CORDEE_RESOLVE_AFTER_IMPORT = True
    path = settings.MEDIA_ROOT / "hotel.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "Prénom;Nom;E-mail\r\nÉlodie;Martin;elodie@orange.fr\r\nJean;Dupont;jean@free.fr\r\n",
        encoding="utf-8",
    )
    batch = import_batch_create(
        partner=destination.hotel, source=path, filename="hotel.csv", actor=Actor.system("t")
    )
    import_run.enqueue(batch.pk)
    run = ResolutionRun.objects.get()
    assert run.finished_at is not None and run.records >= 1
