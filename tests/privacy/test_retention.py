"""The retention purge: Paul (prospect, silent 4 years) goes; Zoé (recent) stays; Hans (bought
a stay 4 years ago) stays until the orders purpose's 5 years are over."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from cordee.activities.models import Activity
from cordee.customers.models import Customer, SourceRecord
from cordee.privacy.access import Actor
from cordee.privacy.models import ErasureTombstone
from cordee.privacy.retention import retention_purge


def years_ago(n: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=int(365.25 * n))


@pytest.fixture
def people(destination):
    from cordee.customers.services import IncomingRecord, source_records_attach

    def bring(name, age_years):
        data = {"first_name": name, "last_name": "Test", "email": f"{name.lower()}@x.fr"}
        record = IncomingRecord(raw=dict(data), data=data)
        pk = source_records_attach(
            partner=destination.hotel, channel="import", records=[record]
        ).customer_ids[0]
        Customer.objects.filter(pk=pk).update(created_at=years_ago(age_years))
        SourceRecord.objects.filter(customer_id=pk).update(collected_at=years_ago(age_years))
        return Customer.objects.get(pk=pk)

    paul, zoe, hans, anna = bring("Paul", 4), bring("Zoe", 1), bring("Hans", 4), bring("Anna", 6)
    for who, when in ((hans, years_ago(4)), (anna, years_ago(6))):
        Activity.objects.create(
            customer=who,
            partner=destination.hotel,
            kind="stay",
            channel="import",
            starts_on=when.date(),
        )
    return {"paul": paul, "zoe": zoe, "hans": hans, "anna": anna}


def test_the_dry_run_counts_per_reason_and_erases_nothing(people):
    report = retention_purge(actor=Actor.system("t"), dry_run=True)
    assert report.counts == {"prospect": 1, "customer": 1}
    assert Customer.objects.count() == 4 and report.erased == 0


def test_the_purge_erases_those_past_their_retention_and_is_idempotent(people):
    report = retention_purge(actor=Actor.system("t"), dry_run=False)
    assert report.erased == 2
    assert set(Customer.objects.values_list("first_name", flat=True)) == {"Zoe", "Hans"}
    assert set(ErasureTombstone.objects.values_list("reason", flat=True)) == {
        "retention:prospect",
        "retention:customer",
    }
    again = retention_purge(actor=Actor.system("t"), dry_run=False)
    assert again.erased == 0 and again.counts == {"prospect": 0, "customer": 0}


def test_a_recent_consent_counts_as_a_contact(people):
    from cordee.privacy.services import consent_record

    consent_record(
        customer=people["paul"],
        purpose="newsletter",
        status="granted",
        channel="form",
        actor=Actor.system("t"),
    )
    assert retention_purge(actor=Actor.system("t"), dry_run=True).counts["prospect"] == 0


def test_the_prospect_period_is_configurable(people, settings):
    settings.CORDEE_PROSPECT_RETENTION_MONTHS = 6
    assert retention_purge(actor=Actor.system("t"), dry_run=True).counts["prospect"] == 2


def test_the_cli_dry_run_then_the_purge(people):
    out = StringIO()
    call_command("privacy", "purge", "--dry-run", stdout=out)
    assert "prospect\t1" in out.getvalue() and "Simulation" in out.getvalue()
    assert Customer.objects.count() == 4
    with pytest.raises(CommandError):
        call_command("privacy", "purge", stdout=StringIO())  # no terminal, no --yes
    assert Customer.objects.count() == 4
    call_command("privacy", "purge", "--yes", stdout=out)
    assert Customer.objects.count() == 2


def test_the_purge_page_shows_the_dry_run_then_purges_on_confirmation(client, destination, people):
    client.force_login(destination.sophie)
    html = client.get("/confidentialite/conservation/").content.decode()
    assert 'id="purge-prospect"' in html and Customer.objects.count() == 4
    assert client.post("/confidentialite/conservation/", {}).status_code == 422
    assert Customer.objects.count() == 4
    assert client.post("/confidentialite/conservation/", {"confirm": "1"}).status_code == 302
    assert Customer.objects.count() == 2


def test_the_purge_reports_what_went(people):
    report = retention_purge(actor=Actor.system("t"), dry_run=False, batch_size=1)
    assert report.erased == 2
    assert report.erased_counts["source_records"] == 2
    assert report.erased_counts["activities"] == 1  # Anna's stay; Paul had none


def test_someone_who_came_back_since_the_list_was_made_stays(people):
    """Each batch checks the rule again on the rows it locks."""
    from cordee.privacy.erasure import customers_erase
    from cordee.privacy.retention import purge_candidates, purge_rules
    from cordee.privacy.services import consent_record

    rule = next(r for r in purge_rules() if r.reason == "prospect")
    listed = list(purge_candidates(rule).values_list("pk", flat=True))
    assert listed == [people["paul"].pk]
    consent_record(
        customer=people["paul"],
        purpose="newsletter",
        status="granted",
        channel="form",
        actor=Actor.system("t"),
    )
    done = customers_erase(
        customer_ids=listed, actor=Actor.system("t"), reason="r", restrict=purge_candidates(rule)
    )
    assert done.erased == [] and Customer.objects.filter(pk=people["paul"].pk).exists()


def test_a_purge_cut_in_the_middle_of_a_batch_resumes_and_completes(people, monkeypatch):
    """The power goes while Anna's batch writes her tombstone, after her rows were deleted in
    the same transaction: that batch rolls back whole, and the next run finishes the job."""
    import cordee.privacy.erasure as erasure
    from cordee.privacy.models import AuditEvent

    real = erasure._tombstones_write
    calls = []

    def power_cut_in_the_second_batch(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return real(**kwargs)

    monkeypatch.setattr(erasure, "_tombstones_write", power_cut_in_the_second_batch)
    with pytest.raises(RuntimeError):
        retention_purge(actor=Actor.system("t"), dry_run=False, batch_size=1)
    paul, anna = people["paul"].pk, people["anna"].pk
    assert not Customer.objects.filter(pk=paul).exists()
    assert Customer.objects.filter(pk=anna).exists()
    assert SourceRecord.objects.filter(customer_id=anna).exists()
    assert Activity.objects.filter(customer_id=anna).exists()
    assert list(ErasureTombstone.objects.values_list("customer_ref", flat=True)) == [paul]

    monkeypatch.undo()
    report = retention_purge(actor=Actor.system("t"), dry_run=False, batch_size=1)
    assert report.erased == 1
    assert set(Customer.objects.values_list("first_name", flat=True)) == {"Zoe", "Hans"}
    assert not SourceRecord.objects.filter(customer_id__in=[paul, anna]).exists()
    assert not Activity.objects.filter(customer_id__in=[paul, anna]).exists()
    # One tombstone each, and one audit entry each that names it.
    tombstones = {t.customer_ref: t for t in ErasureTombstone.objects.all()}
    assert sorted(tombstones) == sorted([paul, anna])
    entries = AuditEvent.objects.filter(action="customer.erase").order_by("pk")
    assert [e.details for e in entries] == [
        {
            "customer": ref,
            "tombstone": tombstones[ref].pk,
            "request": None,
            "counts": tombstones[ref].counts,
        }
        for ref in (paul, anna)
    ]
    assert tombstones[anna].counts["source_records"] == 1
    assert tombstones[anna].counts["activities"] == 1
    assert tombstones[anna].reason == "retention:customer"
