"""The aggregates stay right however activities arrive: at once without a worker, in
batches with one (cordee.segments.refresh), and the single POST's answer is the row stored.

Élodie is the hotel's customer H-1001 (see conftest)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from cordee.activities.models import Activity
from cordee.segments.models import CustomerSeasonStats, CustomerStats, StaleStats
from cordee.segments.refresh import stats_refresh_stale
from cordee.segments.services import stats_refresh_customers

WORKER = {
    "default": {
        "BACKEND": "cordee.core.tasks_backend.HueyBackend",
        "OPTIONS": {"redis_url": ""},
    }
}


@pytest.fixture
def elodie_id(hotel, elodie):
    response = hotel.post("/api/v1/customers", elodie)
    assert response.status_code == 201
    return response.json()["customer"]["id"]


def _items(n: int, tag: str) -> list[dict[str, Any]]:
    return [
        {
            "customer_external_id": "H-1001",
            "kind": "ticket" if i % 3 else "stay",
            "starts_on": f"2026-0{1 + i % 8}-{1 + i % 28:02}",
            "amount": f"{10 + i}.50",
            "satisfaction": i % 11,
            "external_id": f"{tag}-{i}",
        }
        for i in range(n)
    ]


def _aggregates(customer_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    stats = CustomerStats.objects.filter(customer_id=customer_id).values().first() or {}
    stats.pop("updated_at", None)
    seasons = list(
        CustomerSeasonStats.objects.filter(customer_id=customer_id).order_by("season_id").values()
    )
    for row in seasons:
        row.pop("id", None)
    return stats, seasons


def test_with_a_worker_a_bulk_post_marks_then_the_flush_equals_a_full_recompute(
    hotel, elodie_id, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = WORKER
    with django_capture_on_commit_callbacks(execute=True):
        response = hotel.post("/api/v1/activities/bulk", {"activities": _items(40, "B")})
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 40
    # Marked in the write's transaction, not yet recomputed.
    assert StaleStats.objects.filter(customer_id=elodie_id).exists()
    before = CustomerStats.objects.filter(customer_id=elodie_id).first()
    assert before is None or before.activity_count == 0

    assert stats_refresh_stale() >= 1
    assert not StaleStats.objects.exists()
    flushed = _aggregates(elodie_id)
    assert flushed[0]["activity_count"] == 40
    assert flushed[0]["amount_total"] == sum(a.amount for a in Activity.objects.all())
    assert len(flushed[1]) >= 2  # winter and summer seasons

    stats_refresh_customers([elodie_id])  # the immediate path, from scratch
    assert _aggregates(elodie_id) == flushed


def test_with_a_worker_a_second_post_after_a_flush_is_counted_by_the_next_flush(
    hotel, elodie_id, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = WORKER
    with django_capture_on_commit_callbacks(execute=True):
        hotel.post("/api/v1/activities/bulk", {"activities": _items(5, "A")})
    stats_refresh_stale()
    with django_capture_on_commit_callbacks(execute=True):
        one = hotel.post("/api/v1/activities", _items(1, "S")[0])
    assert one.status_code == 201
    assert CustomerStats.objects.get(customer_id=elodie_id).activity_count == 5
    assert stats_refresh_stale() == 1
    assert CustomerStats.objects.get(customer_id=elodie_id).activity_count == 6


def test_a_rolled_back_write_leaves_no_mark(hotel, elodie_id, settings):
    from cordee.activities.services import NewActivity, activities_record_bulk
    from cordee.activities.values import activity_values
    from cordee.privacy.access import Actor

    settings.TASKS = WORKER
    values = activity_values({"kind": "visit", "starts_on": "2026-03-01"}).values
    with pytest.raises(RuntimeError), transaction.atomic():
        activities_record_bulk(
            partner=hotel_partner(),
            items=[NewActivity(customer_id=elodie_id, values=values)],
            actor=Actor.system("test"),
        )
        assert StaleStats.objects.exists()
        raise RuntimeError("the caller fails after the write")
    assert not StaleStats.objects.exists()
    assert not Activity.objects.exists()


def hotel_partner():
    from cordee.partners.models import Partner

    return Partner.objects.get(slug="hotel-des-alpes")


def test_without_a_worker_the_aggregates_are_current_when_the_post_returns(
    hotel, elodie_id, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = hotel.post("/api/v1/activities/bulk", {"activities": _items(12, "I")})
    assert response.status_code == 200
    assert not StaleStats.objects.exists()
    current = _aggregates(elodie_id)
    assert current[0]["activity_count"] == 12
    stats_refresh_customers([elodie_id])
    assert _aggregates(elodie_id) == current


def test_a_created_activity_is_answered_as_it_is_stored(hotel, elodie_id):
    """The answer is built from the row written, not read back: it must equal a read."""
    sent = {**_items(1, "R")[0], "details": {"chambre": "12", "n": 2}, "ends_on": "2026-01-03"}
    sent["amount"] = "99.5"
    created = hotel.post("/api/v1/activities", sent)
    assert created.status_code == 201, created.content
    listed = hotel.get(f"/api/v1/customers/{elodie_id}/activities")
    assert listed.status_code == 200
    assert listed.json()["results"] == [created.json()["activity"]]
    assert created.json()["activity"]["amount"] == "99.50"
    replay = hotel.post("/api/v1/activities", sent)
    assert replay.status_code == 200
    assert replay.json()["activity"] == created.json()["activity"]


def test_an_idempotent_retry_replays_the_created_answer_byte_for_byte(hotel, elodie_id):
    sent = _items(1, "K")[0]
    first = hotel.post("/api/v1/activities", sent, headers={"Idempotency-Key": "retry-1"})
    again = hotel.post("/api/v1/activities", sent, headers={"Idempotency-Key": "retry-1"})
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert Activity.objects.count() == 1
