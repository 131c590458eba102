from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from cordee.activities.models import Activity, Season, SeasonRule
from cordee.activities.seasons import season_for, season_rule_save, season_save
from cordee.privacy.access import Actor

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def test_winter_is_created_over_the_new_year_from_the_default_dates():
    season = season_for(dt.date(2026, 1, 15))
    assert season is not None
    assert (season.code, season.name) == ("hiver-2025-2026", "Hiver 2025-2026")
    assert (season.starts_on, season.ends_on) == (dt.date(2025, 12, 1), dt.date(2026, 4, 30))
    assert season_for(dt.date(2025, 12, 1)) == season  # the same, not a second one
    assert Season.objects.count() == 1


def test_summer_and_the_days_between_seasons():
    summer = season_for(dt.date(2026, 7, 14))
    assert summer is not None and summer.code == "ete-2026"
    assert season_for(dt.date(2026, 5, 10)) is None
    assert season_for(dt.date(2026, 11, 2)) is None


def test_usual_dates_can_be_changed_for_seasons_not_created_yet():
    season_rule_save(kind="summer", start=(5, 15), end=(10, 15), actor=SYSTEM)
    assert SeasonRule.objects.count() == 1
    season = season_for(dt.date(2026, 5, 20))
    assert season is not None and season.starts_on == dt.date(2026, 5, 15)


def test_impossible_rule_is_refused_in_french():
    with pytest.raises(ValidationError, match="Jour impossible"):
        season_rule_save(kind="winter", start=(2, 30), end=(4, 30), actor=SYSTEM)
    with pytest.raises(ValidationError, match="inconnu"):
        season_rule_save(kind="<script>", start=(1, 1), end=(2, 1), actor=SYSTEM)


def test_moving_a_season_moves_its_activities(customers, destination):
    from cordee.activities.services import activity_record

    early, _ = activity_record(
        customer=customers.elodie, partner=destination.hotel, actor=SYSTEM, channel="desk",
        fields={"kind": "stay", "starts_on": "2025-12-05"},
    )  # fmt: skip
    assert early.season is not None and early.season.code == "hiver-2025-2026"
    # The resort opened late that year.
    season_save(
        kind="winter", starts_on=dt.date(2025, 12, 13), ends_on=dt.date(2026, 4, 20),
        actor=SYSTEM, season=early.season,
    )  # fmt: skip
    early.refresh_from_db()
    assert early.season is None
    # A date in the usual window but outside the moved season creates no overlapping season.
    assert season_for(dt.date(2025, 12, 6)) is None
    assert Season.objects.count() == 1
    assert Activity.objects.filter(season__isnull=True).count() == 1


def test_overlapping_seasons_are_refused():
    season_save(
        kind="winter", starts_on=dt.date(2025, 12, 1), ends_on=dt.date(2026, 4, 30), actor=SYSTEM
    )
    with pytest.raises(ValidationError, match="chevauchent"):
        season_save(
            kind="summer", starts_on=dt.date(2026, 4, 1), ends_on=dt.date(2026, 9, 30), actor=SYSTEM
        )
    with pytest.raises(ValidationError, match="précède"):
        season_save(
            kind="summer", starts_on=dt.date(2026, 9, 1), ends_on=dt.date(2026, 6, 1), actor=SYSTEM
        )


def test_season_command_lists_and_adds(capsys):
    from django.core.management import call_command

    call_command("season", "add", "--kind", "hiver", "--start", "13/12/2025", "--end", "2026-04-20")
    call_command("season", "list")
    out = capsys.readouterr().out
    assert "hiver-2025-2026\tHiver 2025-2026\t2025-12-13\t2026-04-20" in out
    assert "Hiver : du 01/12 au 30/04" in out
