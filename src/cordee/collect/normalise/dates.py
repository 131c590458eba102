"""Dates as partners write them: ISO, French day-first, two-digit years, Excel serials."""

from __future__ import annotations

import datetime
import re
from functools import lru_cache

from django.utils.translation import gettext_lazy as _

from .errors import invalid, is_blank
from .text import fold

_IMPOSSIBLE = _("Date impossible : {value}")
_UNREADABLE = _("Date illisible : {value}")

# A time after the date is dropped: exports write birth dates as midnight timestamps.
_TIME = (
    r"(?:[T ][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?"  # hh:mm[:ss[.fff]]
    r"\s*(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?"  # time zone
)
_ISO = re.compile(rf"([0-9]{{4}})([-/.])([0-9]{{1,2}})\2([0-9]{{1,2}}){_TIME}")
_NUMERIC = re.compile(rf"([0-9]{{1,2}})([-/.])([0-9]{{1,2}})\2([0-9]{{4}}|[0-9]{{2}}){_TIME}")
_COMPACT = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_SERIAL = re.compile(r"([0-9]{1,7})(?:\.[0-9]+)?")
# Long dates as spreadsheets and letters write them, the weekday optional:
# "12 mars 1980", "lundi 1er décembre 2025", "12-MAR-80", "March 12, 1980", "12 Dec. 1980".
_DAY_MONTH_YEAR = re.compile(
    r"(?:([a-z]+)\.?,?\s+)?([0-9]{1,2})(?:er|st|nd|rd|th)?[\s\-/.]+([a-z]+)\.?[\s\-/.,]+([0-9]{4}|[0-9]{2})"
    + _TIME
)
_MONTH_DAY_YEAR = re.compile(
    r"(?:([a-z]+)\.?,?\s+)?([a-z]+)\.?\s+([0-9]{1,2})(?:st|nd|rd|th)?,?\s+([0-9]{4})" + _TIME
)
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("janvier", "janv", "jan", "january"),
            ("fevrier", "fevr", "fev", "february", "feb"),
            ("mars", "mar", "march"),
            ("avril", "avr", "april", "apr"),
            ("mai", "may"),
            ("juin", "june", "jun"),
            ("juillet", "juil", "july", "jul"),
            ("aout", "august", "aug"),
            ("septembre", "sept", "sep", "september"),
            ("octobre", "oct", "october"),
            ("novembre", "nov", "november"),
            ("decembre", "dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_WEEKDAYS = {
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    "lun", "mar", "mer", "jeu", "ven", "sam", "dim",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "mon", "tue", "wed", "thu", "fri", "sat", "sun",
}  # fmt: skip

_SERIAL_MAX = 2958465  # 9999-12-31, the last day Excel knows
# Excel believes 1900 was a leap year: serial 60 is 29 February 1900, and the days after
# it are counted one too many, hence two epochs.
_EXCEL_EPOCH_BEFORE_LEAP_BUG = datetime.date(1899, 12, 31)
_EXCEL_EPOCH = datetime.date(1899, 12, 30)

_TwoDigitYear = tuple[int, int, int]


class _Unreadable(Exception):
    """Not a date at all (as opposed to ValueError: numbers that make no day)."""


def date(raw: str | None, *, day_first: bool = True) -> datetime.date | None:
    """A calendar date; a two-digit year is placed so that the date is not in the future."""
    return _date(raw, day_first=day_first, today=None)


def _date(raw: str | None, *, day_first: bool, today: datetime.date | None) -> datetime.date | None:
    if raw is None or is_blank(raw):
        return None
    text = raw.strip()
    try:
        if len(text) > 40:
            raise _Unreadable
        parsed = _parse(text, day_first)
        if isinstance(parsed, datetime.date):
            return parsed
        return _pivot(parsed, today or datetime.date.today())
    except _Unreadable:
        raise invalid(_UNREADABLE, raw) from None
    except ValueError:  # from datetime.date(): the numbers do not make a day
        raise invalid(_IMPOSSIBLE, raw) from None


@lru_cache(maxsize=1 << 15)
def _parse(text: str, day_first: bool) -> datetime.date | _TwoDigitYear:
    # Results for two-digit years stay unresolved here: their century depends on today,
    # which a cache must not freeze.
    if match := _ISO.fullmatch(text):
        return datetime.date(int(match[1]), int(match[3]), int(match[4]))
    if match := _NUMERIC.fullmatch(text):
        first, second, year = int(match[1]), int(match[3]), match[4]
        day, month = (first, second) if day_first else (second, first)
        if len(year) == 2:
            return (int(year), month, day)
        return datetime.date(int(year), month, day)
    if match := _COMPACT.fullmatch(text):
        return datetime.date(int(match[1]), int(match[2]), int(match[3]))
    if match := _SERIAL.fullmatch(text):
        return _excel_serial(int(match[1]), text)
    if any(c.isalpha() for c in text):
        return _named_month(text)
    raise _Unreadable


def _named_month(text: str) -> datetime.date | _TwoDigitYear:
    folded = fold(text)
    if match := _DAY_MONTH_YEAR.fullmatch(folded):
        weekday, day, month_name, year = match[1], int(match[2]), match[3], match[4]
    elif match := _MONTH_DAY_YEAR.fullmatch(folded):
        weekday, month_name, day, year = match[1], match[2], int(match[3]), match[4]
    else:
        raise _Unreadable
    month = _MONTHS.get(month_name)
    if month is None or (weekday is not None and weekday not in _WEEKDAYS):
        raise _Unreadable
    if len(year) == 2:
        return (int(year), month, day)
    return datetime.date(int(year), month, day)


def _excel_serial(serial: int, text: str) -> datetime.date:
    if "." not in text and 1900 <= serial <= 2100:
        # A bare year is far likelier than a day of 1905: refuse rather than invent a day.
        raise _Unreadable
    if not 1 <= serial <= _SERIAL_MAX or serial == 60:
        raise ValueError("not a day Excel can mean")
    epoch = _EXCEL_EPOCH_BEFORE_LEAP_BUG if serial < 60 else _EXCEL_EPOCH
    return epoch + datetime.timedelta(days=serial)


def _pivot(parsed: _TwoDigitYear, today: datetime.date) -> datetime.date:
    short_year, month, day = parsed
    candidate = datetime.date(2000 + short_year, month, day)
    if candidate <= today:
        return candidate
    return datetime.date(1900 + short_year, month, day)


_BIRTH_MIN = datetime.date(1900, 1, 1)


def birth_date(raw: str | None, *, today: datetime.date | None = None) -> datetime.date | None:
    """A date of birth: a readable date, not in the future, not before 1900."""
    today = today or datetime.date.today()
    if raw is None or (value := _date(raw, day_first=True, today=today)) is None:
        return None
    if value > today:
        raise invalid(_("Date de naissance dans le futur : {value}"), raw)
    if value < _BIRTH_MIN:
        raise invalid(_("Date de naissance antérieure à 1900 : {value}"), raw)
    return value
