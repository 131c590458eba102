"""The demo's activity files (pure) and the seeded demo destination (database)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from cordee.demo.activities import STYLES, build_activity_files, recent_seasons
from cordee.demo.files import build_demo_files

TODAY = dt.date(2026, 11, 22)


def _build(directory: Path, seed: int = 5) -> list[tuple[str, bytes]]:
    demo = build_demo_files(directory, customers=800, seed=seed, today=TODAY)
    files = build_activity_files(directory, demo=demo, seed=seed, today=TODAY)
    return [(f.partner, f.path.read_bytes()) for f in files]


def test_the_activity_files_are_the_same_for_the_same_seed(tmp_path: Path) -> None:
    first = _build(tmp_path / "a")
    assert first == _build(tmp_path / "b")
    assert first != _build(tmp_path / "c", seed=6)


def test_every_partner_writes_lines_its_headers_recognised(tmp_path: Path) -> None:
    from cordee.activities.columns import recognise_activity_columns

    demo = build_demo_files(tmp_path, customers=800, seed=5, today=TODAY)
    files = build_activity_files(tmp_path, demo=demo, seed=5, today=TODAY)
    assert {f.partner for f in files} == set(STYLES)
    for f in files:
        style = STYLES[f.partner]
        assert f.lines > 0, f.partner
        with f.path.open(encoding=style.encoding, newline="") as handle:
            rows = list(csv.reader(handle, delimiter=style.delimiter))
        assert rows[0] == style.headers
        assert len(rows) == f.lines + 1
        plan = recognise_activity_columns(rows[0])
        assert plan.problems(default_kind=f.default_kind or None) == [], f.partner
        assert set(plan.fields) >= {"starts_on"}


def test_activities_stay_within_the_last_four_seasons_and_before_today(tmp_path: Path) -> None:
    from cordee.activities.values import date_of

    demo = build_demo_files(tmp_path, customers=800, seed=5, today=TODAY)
    files = build_activity_files(tmp_path, demo=demo, seed=5, today=TODAY)
    earliest = recent_seasons(TODAY, "winter")[0][0]
    assert earliest == dt.date(2022, 12, 1)
    assert recent_seasons(TODAY, "summer")[-1] == (dt.date(2026, 6, 1), dt.date(2026, 9, 30))
    for f in files:
        style = STYLES[f.partner]
        start = style.headers.index(dict(style.columns)["start"])
        with f.path.open(encoding=style.encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=style.delimiter)
            next(reader)
            for row in reader:
                day = date_of(row[start], today=TODAY)
                assert day is not None and earliest <= day < TODAY


def test_a_season_counts_once_it_has_run_two_weeks() -> None:
    assert recent_seasons(dt.date(2026, 12, 5), "winter")[-1][0] == dt.date(2025, 12, 1)
    assert recent_seasons(dt.date(2026, 12, 20), "winter")[-1][0] == dt.date(2026, 12, 1)
    assert len(recent_seasons(dt.date(2026, 12, 20), "winter")) == 4


@pytest.mark.django_db
def test_the_seeded_demo_shows_every_feature(settings, tmp_path: Path) -> None:
    from django.core.management import call_command

    from cordee.activities.models import ActivityImport
    from cordee.campaigns.models import Campaign
    from cordee.collect.models import ImportStatus
    from cordee.demo.activities import STYLES
    from cordee.demo.seed import FAMILIES_SLUG, SKIERS_SLUG, demo_counts
    from cordee.segments.models import LoyaltyGroup, Segment

    settings.CORDEE_HOME = tmp_path
    call_command("demo", "--no-serve", "--customers", "1200", "--seed", "3", stdout=None)
    counts = demo_counts()
    used = {o.kind for style in STYLES.values() for o in (*style.winter, *style.summer)} | {
        "complaint",
        "request",
        "call",
        "follow_up",
    }
    for kind in used:
        assert counts["kinds"].get(kind, 0) > 0, kind
    for group in LoyaltyGroup.values:
        assert counts["groups"].get(group, 0) > 0, group
    assert counts["seasons"] >= 8
    assert counts["to_review"] > 0
    assert counts["household_links"] > 0
    assert counts["churn_scored"] > 0
    assert counts["open_follow_ups"] > 0
    assert counts["cards"] > 0
    assert counts["pending_offers"] == 1
    assert counts["triggers"] == 2  # birthday and post-stay survey, ready on the triggers page
    # Every activity file went through the real import, nearly all its lines accepted.
    imports = ActivityImport.objects.select_related("batch")
    assert imports.count() == len(STYLES)
    for marker in imports:
        assert marker.batch.status == ImportStatus.DONE
        assert marker.batch.rejected <= marker.batch.lines_read * 0.1
    campaign = Campaign.objects.get()
    assert campaign.state == "draft" and campaign.segment_slug == FAMILIES_SLUG
    from cordee.privacy.access import Actor
    from cordee.segments.compiler import segment_queryset

    for slug in (FAMILIES_SLUG, SKIERS_SLUG):
        segment = Segment.objects.get(slug=slug)
        assert segment_queryset(segment, Actor.system("test")).exists(), slug
    # Running it again leaves the destination as it is.
    call_command("demo", "--no-serve", "--customers", "1200", stdout=None)
    assert demo_counts() == counts


@pytest.mark.django_db
def test_a_negative_number_of_customers_is_refused_in_french(settings, tmp_path: Path) -> None:
    from django.core.management import CommandError, call_command

    from cordee.partners.models import Partner

    settings.CORDEE_HOME = tmp_path
    with pytest.raises(CommandError, match="positif ou nul"):
        call_command("demo", "--no-serve", "--customers", "-5")
    assert not Partner.objects.exists()
