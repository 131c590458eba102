"""The batch erasure (retention purge) leaves exactly what erasing the same people one by one
leaves, table by table — also when rows are shared between them — and an interrupted purge
finishes on the next run.

Five people came through Hôtel des Alpes' file, one line of the camping's file was rejected
naming Amélie's e-mail, an unattached record carries Amélie's e-mail and Bruno's phone, the
ledger merged Chloé into Bruno, the API answered about Bruno and about Chloé (by e-mail), and
Amélie and Denis asked the desk something. Émile stays.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.apps import apps
from django.db import models, transaction

from cordee.activities.models import Activity
from cordee.customers.models import Customer, MergeEvent, SourceRecord
from cordee.privacy.access import Actor
from cordee.privacy.erasure import customer_erase, customers_erase, delete_cascade
from cordee.privacy.models import DataSubjectRequest, ErasureTombstone

HOTEL_FILE = (
    "Prénom;Nom;E-mail;Téléphone;Newsletter;consent_partner_offers\r\n"
    "Amélie;Arnaud;amelie.arnaud@exemple.fr;06 11 11 11 11;oui;oui\r\n"
    "Bruno;Bastide;bruno.bastide@exemple.fr;06 22 22 22 22;non;oui\r\n"
    "Chloé;Cordier;chloe.cordier@exemple.fr;06 33 33 33 33;oui;non\r\n"
    "Denis;Dufour;denis.dufour@exemple.fr;;oui;\r\n"
    "Émile;Estève;emile.esteve@exemple.fr;06 55 55 55 55;oui;oui\r\n"
)
CAMPING_FILE = (
    "Prénom;Nom;E-mail\r\n"
    "Amélie;Arnaud;amelie.arnaud@exemple.fr\r\n"
    ";;pas-un-email-amelie.arnaud@exemple.fr@@\r\n"
)


@pytest.fixture
def people(destination, import_file):
    from cordee.api.models import IdempotentRequest
    from cordee.partners.apikeys import SCOPES, api_key_create
    from cordee.privacy.services import consents_record_from_sources
    from cordee.segments.aggregates import stats_rows_ensure

    assert import_file(HOTEL_FILE, partner=destination.hotel, name="h.csv").status == "done"
    assert import_file(CAMPING_FILE, partner=destination.camping, name="c.csv").status == "done"
    consents_record_from_sources(
        source_record_ids=list(SourceRecord.objects.values_list("pk", flat=True)),
        channel="import",
        actor=Actor.system("import"),
    )
    by_name = {c.first_name: c for c in Customer.objects.order_by("-pk")}
    amelie, bruno, chloe, denis = (by_name[n] for n in ("Amélie", "Bruno", "Chloé", "Denis"))
    # The camping's Amélie has only her e-mail: the review keeps her apart, two customers
    # with the same keyed e-mail.
    twin = Customer.objects.filter(first_name="Amélie").exclude(pk=amelie.pk).get()
    stats_rows_ensure([c.pk for c in by_name.values()])
    # An unattached record (kept apart by the review) with Amélie's e-mail and Bruno's phone.
    SourceRecord.objects.create(
        partner=destination.ski,
        channel="import",
        raw={"email": "amelie.arnaud@exemple.fr"},
        data={"email": "amelie.arnaud@exemple.fr"},
        email_hash=amelie.email_hash,
        phone_hash=bruno.phone_hash,
        collected_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    )
    MergeEvent.objects.create(
        kind="merge",
        survivor_id=bruno.pk,
        absorbed_id=chloe.pk,
        snapshot={"first_name": "Chloé"},
        evidence={"email": {"verdict": "close"}},
    )
    key, _text = api_key_create(
        partner=destination.ski, scopes=list(SCOPES), actor=Actor.system("t"), name="t"
    )
    for n, body in enumerate(
        [{"id": bruno.pk, "first_name": "Bruno"}, {"email": "CHLOE.CORDIER@exemple.fr"}]
    ):
        IdempotentRequest.objects.create(
            api_key=key,
            key=f"k{n}",
            request_hash="x",
            status=200,
            body=json.dumps(body),
            created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )
    for who in (amelie, denis):
        Activity.objects.create(
            customer=who,
            partner=destination.hotel,
            kind="stay",
            channel="import",
            starts_on=dt.date(2024, 2, 1),
        )
        DataSubjectRequest.objects.create(
            kind="rectification",
            channel="email",
            customer_ref=who.pk,
            received_on=dt.date(2026, 11, 1),
            due_on=dt.date(2026, 12, 1),
            message=f"{who.first_name} : nouvelle adresse",
        )
    return {
        "amelie": amelie.pk,
        "twin": twin.pk,
        "bruno": bruno.pk,
        "chloe": chloe.pk,
        "denis": denis.pk,
    }


@pytest.fixture
def ids(people):
    return sorted(people.values())


def snapshot() -> dict[str, list[str]]:
    """Every table's rows, without what differs by construction between two runs: the ids and
    times of the rows the erasure writes (tombstones, audit entries)."""
    state = {}
    for model in apps.get_models():
        rows = []
        for row in model._base_manager.values():
            row.pop("id", None)
            if model is ErasureTombstone:
                row.pop("erased_at")
            if model._meta.label == "privacy.AuditEvent":
                row.pop("at")
                if isinstance(row["details"], dict):
                    row["details"].pop("tombstone", None)
            rows.append(json.dumps(row, sort_keys=True, default=str))
        state[model._meta.db_table] = sorted(rows)
    return state


def one_by_one(ids: list[int]) -> dict[str, list[str]]:
    """The state after erasing ``ids`` one at a time, in order; the database is left as it was."""
    with transaction.atomic():
        for pk in ids:
            customer_erase(customer=Customer(pk=pk), actor=Actor.system("purge"), reason="r")
        state = snapshot()
        transaction.set_rollback(True)
    assert Customer.objects.filter(pk__in=ids).count() == len(ids)
    return state


def assert_same(left: dict[str, list[str]], right: dict[str, list[str]]) -> None:
    assert left.keys() == right.keys()
    for table in left:
        assert left[table] == right[table], table


@pytest.mark.parametrize("batch_size", [1000, 3, 1])
def test_the_batch_leaves_the_same_database_as_one_by_one(destination, people, ids, batch_size):
    expected = one_by_one(ids)
    done = customers_erase(
        customer_ids=reversed(ids),
        actor=Actor.system("purge"),
        reason="r",
        batch_size=batch_size,
    )
    assert done.erased == ids
    assert_same(snapshot(), expected)
    assert set(Customer.objects.values_list("first_name", flat=True)) == {"Émile"}
    counts = {t.customer_ref: t.counts for t in ErasureTombstone.objects.all()}
    amelie, bruno, chloe, denis = (people[n] for n in ("amelie", "bruno", "chloe", "denis"))
    # Shared rows count once, for the first by number.
    assert counts[amelie]["source_records"] == 2  # her line, and the unattached record
    assert counts[people["twin"]]["source_records"] == 1
    assert counts[bruno]["source_records"] == 1
    assert counts[bruno]["merge_ledger_entries"] == 1
    assert counts[chloe]["merge_ledger_entries"] == 0
    assert counts[bruno]["idempotency_rows"] == counts[chloe]["idempotency_rows"] == 1
    assert counts[amelie]["import_issues"] >= 1
    assert counts[denis]["requests_redacted"] == 1 and counts[denis]["activities"] == 1
    assert sum(c["consent_events"] for c in counts.values()) > 0


def test_a_person_already_gone_is_skipped_and_a_second_run_changes_nothing(destination, ids):
    customer_erase(customer=Customer(pk=ids[1]), actor=Actor.system("dpo"), reason="DSR")
    done = customers_erase(customer_ids=ids, actor=Actor.system("purge"), reason="r")
    assert done.erased == [ids[0], *ids[2:]]
    after = snapshot()
    again = customers_erase(customer_ids=ids, actor=Actor.system("purge"), reason="r")
    assert again.erased == [] and snapshot() == after


def test_an_interrupted_batch_rolls_back_whole_and_a_rerun_completes(destination, ids, monkeypatch):
    import cordee.privacy.erasure as erasure

    expected = one_by_one(ids)
    real = erasure._pending_files
    calls = []

    def power_cut_in_the_second_batch(found):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return real(found)

    monkeypatch.setattr(erasure, "_pending_files", power_cut_in_the_second_batch)
    with pytest.raises(RuntimeError):
        customers_erase(customer_ids=ids, actor=Actor.system("purge"), reason="r", batch_size=2)
    # The first batch went, the second rolled back whole (records, ledger, tombstones).
    assert set(Customer.objects.filter(pk__in=ids).values_list("pk", flat=True)) == set(ids[2:])
    assert SourceRecord.objects.filter(customer_id=ids[2]).exists()
    assert ErasureTombstone.objects.count() == 2
    monkeypatch.undo()
    done = customers_erase(customer_ids=ids, actor=Actor.system("purge"), reason="r")
    assert done.erased == ids[2:]
    assert_same(snapshot(), expected)


def test_the_set_based_cascade_deletes_what_djangos_deletion_deletes(destination, ids):
    records = SourceRecord.objects.filter(
        models.Q(customer_id__in=ids) | models.Q(customer__isnull=True)
    )
    with transaction.atomic():
        records.delete()
        Customer.objects.filter(pk__in=ids).delete()
        expected = snapshot()
        transaction.set_rollback(True)
    delete_cascade(records.all())
    delete_cascade(Customer.objects.filter(pk__in=ids))
    assert_same(snapshot(), expected)


@pytest.mark.parametrize("unknown", [[], [10**12], [-1, 0]])
def test_unknown_ids_erase_nothing(destination, people, unknown):
    before = snapshot()
    assert customers_erase(customer_ids=unknown, actor=Actor.system("t"), reason="r").erased == []
    assert snapshot() == before


def test_a_batch_needs_a_reason(destination, ids):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        customers_erase(customer_ids=ids, actor=Actor.system("t"), reason=" \x00 ")
    assert Customer.objects.filter(pk__in=ids).count() == 5


def unconstrained_foreign_keys() -> list[tuple[type[models.Model], models.ForeignKey]]:
    """The foreign keys the database does not check (docs/data-model.md)."""
    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, models.ForeignKey) and not field.db_constraint
        and model._meta.app_label in {"customers", "privacy", "collect"}
    ]  # fmt: skip


def orphans() -> dict[str, int]:
    """Rows whose unchecked foreign key names a row that does not exist, per table.column."""
    from django.db import connection

    found = {}
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        for model, field in unconstrained_foreign_keys():
            parent = field.related_model._meta
            cur.execute(
                f"SELECT COUNT(*) FROM {qn(model._meta.db_table)} c "  # noqa: S608
                f"WHERE c.{qn(field.column)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
                f"{qn(parent.db_table)} p WHERE p.{qn(parent.pk.column)} = c.{qn(field.column)})"
            )
            found[f"{model._meta.db_table}.{field.column}"] = cur.fetchone()[0]
    return found


def test_the_bulk_written_tables_foreign_keys_without_constraint_are_the_expected_ones():
    assert {f"{m._meta.label}.{f.name}" for m, f in unconstrained_foreign_keys()} == {
        "customers.SourceRecord.customer",
        "customers.SourceRecord.batch",
        "customers.CustomerLink.customer",
        "privacy.ConsentEvent.customer",
        "privacy.ConsentEvent.source_record",
        "privacy.ConsentState.customer",
        "privacy.ConsentState.event",
    }


def test_after_merges_and_erasures_no_row_points_at_a_missing_parent(destination, people):
    from cordee.customers.merging import customers_merge
    from cordee.privacy.models import ConsentEvent, ConsentState

    assert ConsentEvent.objects.exists() and ConsentState.objects.exists()
    assert set(orphans().values()) == {0}
    # Bruno absorbs Denis for real (the fixture's ledger entry only says so): Denis's
    # records, link and consents move, his row goes.
    customers_merge(people["bruno"], people["denis"], actor=Actor.system("t"))
    assert not Customer.objects.filter(pk=people["denis"]).exists()
    assert set(orphans().values()) == {0}
    # The first one alone, then the batch: each leaves no row behind in the unchecked tables.
    customer_erase(customer=Customer(pk=people["amelie"]), actor=Actor.system("dpo"), reason="DSR")
    assert set(orphans().values()) == {0}
    done = customers_erase(customer_ids=people.values(), actor=Actor.system("purge"), reason="r")
    assert people["bruno"] in done.erased
    assert set(orphans().values()) == {0}
    assert not ConsentEvent.objects.filter(customer_id__in=people.values()).exists()
    assert not ConsentState.objects.filter(customer_id__in=people.values()).exists()
    # Émile is still there, whole.
    assert SourceRecord.objects.filter(customer__first_name="Émile").count() == 1
    assert ConsentEvent.objects.filter(customer__first_name="Émile").exists()


def test_a_batch_deleted_by_the_orm_leaves_its_records_without_a_batch(destination, people):
    from cordee.collect.models import ImportBatch

    batch = ImportBatch.objects.filter(filename="h.csv").get()
    records = list(batch.source_records.values_list("pk", flat=True))
    assert records
    batch.delete()
    assert set(orphans().values()) == {0}
    assert SourceRecord.objects.filter(pk__in=records, batch__isnull=True).count() == len(records)
