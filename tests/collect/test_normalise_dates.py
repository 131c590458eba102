"""date() and birth_date(): every way partners' files write a day."""

from __future__ import annotations

import datetime

import pytest

from cordee.collect.normalise import InvalidValue, birth_date, date

MARCH_14_1985 = datetime.date(1985, 3, 14)


@pytest.mark.parametrize(
    "raw",
    [
        "1985-03-14",
        "1985/03/14",
        "14/03/1985",
        "14-03-1985",
        "14.03.1985",
        "14/3/1985",
        "14/3/85",
        " 14/03/1985 ",
        "1985-03-14T00:00:00",
        "1985-03-14T00:00:00Z",
        "1985-03-14T00:00:00.000+01:00",
        "1985-03-14 00:00:00",
        "14/03/1985 00:00",
        "19850314",
        "31120",  # Excel serial number
        "31120.0",
        "31120.5",  # a serial with a time of day
    ],
)
def test_date_reads_march_14_1985(raw: str) -> None:
    assert date(raw) == MARCH_14_1985


@pytest.mark.parametrize(
    "raw",
    [
        "14 mars 1985",
        "14 Mars 1985",
        "jeudi 14 mars 1985",
        "Jeu. 14 mars 1985",
        "14-MAR-85",
        "14 mar. 1985",
        "14 Mar 1985",
        "Thu, 14 Mar 1985",
        "March 14, 1985",
        "March 14th, 1985",
        "Thursday, March 14, 1985",
        "14 mars 1985 00:00",
    ],
)
def test_date_reads_month_names_in_french_and_english(raw: str) -> None:
    assert date(raw) == MARCH_14_1985


def test_date_month_names_with_accents_and_first_of_month() -> None:
    assert date("1er février 2000") == datetime.date(2000, 2, 1)
    assert date("15 août 1999") == datetime.date(1999, 8, 15)
    assert date("3 déc. 1971") == datetime.date(1971, 12, 3)
    assert date("2 Févr 1990") == datetime.date(1990, 2, 2)


@pytest.mark.parametrize(
    "raw", ["14 foo 1985", "vers le 14 mars 1985", "14 mars", "mars 1985", "14 1985 mars"]
)
def test_date_with_words_that_are_not_a_day_is_unreadable(raw: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        date(raw)
    assert str(caught.value) == f"Date illisible : {raw}"


def test_date_with_a_month_name_that_makes_no_day_is_impossible() -> None:
    with pytest.raises(InvalidValue) as caught:
        date("31 février 1990")
    assert str(caught.value) == "Date impossible : 31 février 1990"


def test_two_digit_years_are_never_in_the_future() -> None:
    assert date("3/4/12") == datetime.date(2012, 4, 3)
    assert date("14/3/85") == MARCH_14_1985
    next_year = datetime.date.today().year + 1
    assert date(f"1/1/{next_year % 100:02d}") == datetime.date(next_year - 100, 1, 1)


def test_month_first_when_asked() -> None:
    assert date("03/14/1985", day_first=False) == MARCH_14_1985
    assert date("3/4/2012", day_first=False) == datetime.date(2012, 3, 4)
    with pytest.raises(InvalidValue):
        date("03/14/1985")


def test_excel_serials_from_the_first_to_the_last_day() -> None:
    assert date("1") == datetime.date(1900, 1, 1)
    assert date("59") == datetime.date(1900, 2, 28)
    assert date("61") == datetime.date(1900, 3, 1)  # Excel's phantom 29 February is serial 60
    assert date("2958465") == datetime.date(9999, 12, 31)


@pytest.mark.parametrize(
    "raw", ["31/02/1990", "00/00/0000", "14/13/1985", "0000-01-01", "29/02/2023", "60", "0"]
)
def test_impossible_dates(raw: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        date(raw)
    assert str(caught.value) == f"Date impossible : {raw}"


@pytest.mark.parametrize(
    "raw",
    [
        "hier",
        "1985",  # a year alone: not a day, and not Excel's 1905 either
        "14/03",
        "14/03/1985/12",
        "14/03-1985",
        "2958466",
        "12345678901",
        "١٩٨٥-٠٣-١٤",  # Arabic-Indic digits are not what files mean
    ],
)
def test_unreadable_dates(raw: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        date(raw)
    assert "Date" in str(caught.value)


def test_unreadable_message_quotes_the_value() -> None:
    with pytest.raises(InvalidValue) as caught:
        date("hier")
    assert str(caught.value) == "Date illisible : hier"


def test_birth_date_is_a_date_in_the_past_after_1900() -> None:
    today = datetime.date(2026, 11, 22)
    assert birth_date("14/03/1985", today=today) == MARCH_14_1985
    assert birth_date("22/11/2026", today=today) == today
    assert birth_date("01/01/1900", today=today) == datetime.date(1900, 1, 1)
    assert birth_date("", today=today) is None
    for impossible in ["23/11/2026", "31/12/1899", "01/01/2100"]:
        with pytest.raises(InvalidValue):
            birth_date(impossible, today=today)


def test_birth_date_pivots_two_digit_years_on_the_given_day() -> None:
    assert birth_date("14/3/26", today=datetime.date(2026, 11, 22)) == datetime.date(2026, 3, 14)
    assert birth_date("14/3/26", today=datetime.date(2025, 1, 1)) == datetime.date(1926, 3, 14)


def test_birth_date_messages() -> None:
    today = datetime.date(2026, 11, 22)
    with pytest.raises(InvalidValue) as caught:
        birth_date("2030-01-01", today=today)
    assert str(caught.value) == "Date de naissance dans le futur : 2030-01-01"
    with pytest.raises(InvalidValue) as caught:
        birth_date("1899-12-31", today=today)
    assert str(caught.value) == "Date de naissance antérieure à 1900 : 1899-12-31"
