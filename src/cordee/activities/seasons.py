"""The destination's seasons: each year's winter and summer, created as dates are seen.

A season's dates come from the usual dates of its kind (``SeasonRule``, or the defaults) the
first time an activity falls in it; the hub can then move them (a resort that opened on
13 December). A date between seasons (May, October, November by default) has no season.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from cordee.activities.models import Activity, Season, SeasonKind, SeasonRule
from cordee.core.prepared import prepared_cursor
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log


@dataclass(frozen=True)
class Window:
    kind: str
    start_month: int
    start_day: int
    end_month: int
    end_day: int

    @property
    def crosses_year(self) -> bool:
        return (self.end_month, self.end_day) < (self.start_month, self.start_day)

    def around(self, day: dt.date) -> tuple[dt.date, dt.date] | None:
        """The occurrence of this window that contains ``day``, if any."""
        years = (day.year - 1, day.year) if self.crosses_year else (day.year,)
        for year in years:
            start = _day(year, self.start_month, self.start_day)
            end_year = year + 1 if self.crosses_year else year
            end = _day(end_year, self.end_month, self.end_day)
            if start <= day <= end:
                return start, end
        return None


DEFAULT_WINDOWS: dict[str, Window] = {
    SeasonKind.WINTER: Window(SeasonKind.WINTER, 12, 1, 4, 30),
    SeasonKind.SUMMER: Window(SeasonKind.SUMMER, 6, 1, 9, 30),
}


def _day(year: int, month: int, day: int) -> dt.date:
    # 29 February in a rule falls back to the 28th in other years.
    try:
        return dt.date(year, month, day)
    except ValueError:
        return dt.date(year, month, 28)


def season_windows() -> dict[str, Window]:
    windows: dict[str, Window] = dict(DEFAULT_WINDOWS)
    for rule in SeasonRule.objects.all():
        windows[rule.kind] = Window(
            rule.kind, rule.start_month, rule.start_day, rule.end_month, rule.end_day
        )
    return windows


def season_code(kind: str, start: dt.date, end: dt.date) -> tuple[str, str]:
    """The code and the name of the season of ``kind`` that starts on ``start``."""
    years = f"{start.year}-{end.year}" if start.year != end.year else str(start.year)
    if kind == SeasonKind.WINTER:
        return f"hiver-{years}", _("Hiver %(years)s") % {"years": years}
    return f"ete-{years}", _("Été %(years)s") % {"years": years}


@dataclass(frozen=True)
class KnownSeason:
    pk: int
    code: str
    starts_on: dt.date
    ends_on: dt.date


def _date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)  # SQLite: text


class SeasonFinder:
    """``season_for`` over many dates: seasons read once, each new season created once.

    Read with two plain statements (no ORM): every API call that records an activity makes
    one finder, and building the ORM queries cost more than running them."""

    def __init__(self) -> None:
        qn = connection.ops.quote_name
        windows: dict[str, Window] = dict(DEFAULT_WINDOWS)
        # One statement: the rules (by id), then the seasons (by date).
        with prepared_cursor() as cur:
            cur.execute(
                "SELECT 0, id, kind, start_month, start_day, end_month, end_day, "  # noqa: S608
                f"NULL, NULL FROM {qn(SeasonRule._meta.db_table)} "
                "UNION ALL SELECT 1, id, code, NULL, NULL, NULL, NULL, starts_on, ends_on "
                f"FROM {qn(Season._meta.db_table)} ORDER BY 1, 8, 2"
            )
            rows = cur.fetchall()
        self.seasons = []
        for part, pk, text, *bounds, start, end in rows:
            if part == 0:
                windows[text] = Window(text, *bounds)
            else:
                self.seasons.append(KnownSeason(pk, text, _date(start), _date(end)))
        self.windows = windows
        self.by_date: dict[dt.date, int | None] = {}

    def season_id(self, day: dt.date) -> int | None:
        try:
            return self.by_date[day]
        except KeyError:
            pass
        found = self._find(day)
        self.by_date[day] = found
        return found

    def _find(self, day: dt.date) -> int | None:
        for season in self.seasons:
            if season.starts_on <= day <= season.ends_on:
                return season.pk
        for window in self.windows.values():
            occurrence = window.around(day)
            if occurrence is None:
                continue
            code, name = season_code(window.kind, *occurrence)
            if any(s.code == code for s in self.seasons):
                # This year's season exists with other dates, which leave ``day`` out.
                return None
            created = _season_create(code, name, window.kind, *occurrence)
            if created is None:
                return None
            self.seasons.append(
                KnownSeason(created.pk, created.code, created.starts_on, created.ends_on)
            )
            return created.pk
        return None


def _season_create(code: str, name: str, kind: str, start: dt.date, end: dt.date) -> Season | None:
    overlapping = Season.objects.filter(starts_on__lte=end, ends_on__gte=start)
    if overlapping.exists():
        # Moved seasons may cover part of this window: never create an overlapping one.
        return None
    try:
        with transaction.atomic():
            return Season.objects.create(
                code=code, name=name, kind=kind, starts_on=start, ends_on=end
            )
    except IntegrityError:  # created meanwhile by another request
        return Season.objects.filter(code=code).first()


def season_for(day: dt.date) -> Season | None:
    """The season ``day`` falls in, created from the usual dates when it does not exist yet."""
    season_id = SeasonFinder().season_id(day)
    return Season.objects.get(pk=season_id) if season_id is not None else None


def _check_dates(kind: str, starts_on: dt.date, ends_on: dt.date, exclude: int | None) -> None:
    if kind not in SeasonKind.values:
        raise ValidationError(
            _("Type de saison inconnu : %(kind)s (hiver ou été).") % {"kind": kind}
        )
    if ends_on < starts_on:
        raise ValidationError(_("La fin de la saison précède son début."))
    if (ends_on - starts_on).days > 366:
        raise ValidationError(_("Une saison dure moins d'un an."))
    clash = Season.objects.filter(starts_on__lte=ends_on, ends_on__gte=starts_on)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    other = clash.first()
    if other is not None:
        raise ValidationError(
            _("Ces dates chevauchent la saison « %(name)s » (%(start)s – %(end)s).")
            % {"name": other.name, "start": other.starts_on, "end": other.ends_on}
        )


def season_save(
    *, kind: str, starts_on: dt.date, ends_on: dt.date, actor: Actor, season: Season | None = None
) -> Season:
    """Create a season with its own dates, or move an existing one; activities follow.

    Every activity whose date falls in the new dates joins the season, and those left outside
    leave it (and join another season if one covers them).
    """
    _check_dates(kind, starts_on, ends_on, season.pk if season else None)
    code, name = season_code(kind, starts_on, ends_on)
    with transaction.atomic():
        if season is None:
            if Season.objects.filter(code=code).exists():
                raise ValidationError(
                    _("La saison « %(name)s » existe déjà : modifiez ses dates.") % {"name": name}
                )
            season = Season.objects.create(
                code=code, name=name, kind=kind, starts_on=starts_on, ends_on=ends_on
            )
            action = "season.create"
        else:
            if Season.objects.filter(code=code).exclude(pk=season.pk).exists():
                raise ValidationError(
                    _("Une autre saison porte déjà ce nom : %(name)s.") % {"name": name}
                )
            season.code, season.name, season.kind = code, name, kind
            season.starts_on, season.ends_on = starts_on, ends_on
            season.save()
            action = "season.update"
        moved = activities_reseason(season)
        audit_log(
            actor=actor,
            action=action,
            obj=season,
            starts_on=str(starts_on),
            ends_on=str(ends_on),
            activities=moved,
        )
    return season


def activities_reseason(season: Season) -> int:
    """Put each activity of the season's dates in it, and take out those now outside."""
    left = Activity.objects.filter(season=season).filter(
        Q(starts_on__lt=season.starts_on) | Q(starts_on__gt=season.ends_on)
    )
    out = left.update(season=None)
    joined = (
        Activity.objects.filter(starts_on__gte=season.starts_on, starts_on__lte=season.ends_on)
        .exclude(season=season)
        .update(season=season)
    )
    if out:
        finder = SeasonFinder()
        orphans = Activity.objects.filter(season__isnull=True).values_list("starts_on", flat=True)
        for day in sorted(set(orphans)):
            season_id = finder.season_id(day)
            if season_id is not None:
                Activity.objects.filter(season__isnull=True, starts_on=day).update(
                    season_id=season_id
                )
    return out + joined


def season_rule_save(
    *, kind: str, start: tuple[int, int], end: tuple[int, int], actor: Actor
) -> SeasonRule:
    """Change the usual dates of a kind of season: used for the seasons not created yet."""
    if kind not in SeasonKind.values:
        raise ValidationError(
            _("Type de saison inconnu : %(kind)s (hiver ou été).") % {"kind": kind}
        )
    for month, day in (start, end):
        try:
            dt.date(2024, month, day)  # a leap year: 29 February is a valid day of a rule
        except (ValueError, TypeError):
            raise ValidationError(
                _("Jour impossible : %(day)s/%(month)s.") % {"day": day, "month": month}
            ) from None
    if start == end:
        raise ValidationError(_("Une saison dure plus d'un jour."))
    with transaction.atomic():
        rule, _created = SeasonRule.objects.update_or_create(
            kind=kind,
            defaults={
                "start_month": start[0],
                "start_day": start[1],
                "end_month": end[0],
                "end_day": end[1],
            },
        )
        audit_log(
            actor=actor,
            action="season.rule",
            obj=rule,
            start=f"{start[1]:02}/{start[0]:02}",
            end=f"{end[1]:02}/{end[0]:02}",
        )
    return rule
