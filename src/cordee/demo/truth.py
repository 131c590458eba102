"""The ground truth behind the demo files: which person, of which household, each row is.

Identity resolution is measured against it. At a million customers the files hold a few
million rows, so the mapping keeps numbers in arrays (16 bytes a row) rather than a dict
of tuples (~200 bytes a row), and it can be written to and read back from `truth.csv`.
"""

from __future__ import annotations

import csv
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

TRUTH_HEADER = ("partner", "external_id", "person_id", "household_id")


class Truth(NamedTuple):
    person_id: int
    household_id: int
    external_id: str


def external_id(prefix: str, number: int) -> str:
    return f"{prefix}-{number:06d}"


def _parse(external: str) -> tuple[str, int] | None:
    prefix, _, digits = external.rpartition("-")
    # Only ids that format back identically can be stored as numbers: six digits or more,
    # no leading zero beyond the padding.
    size = len(digits)
    if not prefix or size < 6 or size > 6 and digits[0] == "0" or not digits.isdigit():
        return None
    return prefix, int(digits)


class _Column:
    """The customer numbers of one (partner, prefix), with the person behind each."""

    __slots__ = ("is_sorted", "numbers", "people")

    def __init__(self) -> None:
        self.numbers = array("q")
        self.people = array("q")
        self.is_sorted = True

    def add(self, number: int, person_id: int) -> None:
        if self.numbers and number <= self.numbers[-1]:
            self.is_sorted = False
        self.numbers.append(number)
        self.people.append(person_id)

    def find(self, number: int) -> int | None:
        if not self.is_sorted:
            order = sorted(range(len(self.numbers)), key=self.numbers.__getitem__)
            self.numbers = array("q", (self.numbers[i] for i in order))
            self.people = array("q", (self.people[i] for i in order))
            self.is_sorted = True
        index = bisect_left(self.numbers, number)
        if index < len(self.numbers) and self.numbers[index] == number:
            return self.people[index]
        return None


class GroundTruth(Mapping[tuple[str, str], int]):
    """(partner slug, external id) -> person id, and each person's household id."""

    def __init__(self) -> None:
        self._columns: dict[tuple[str, str], _Column] = {}
        self._others: dict[tuple[str, str], int] = {}  # ids not of the PREFIX-000123 form
        self._households = array("q")  # indexed by person id; 0 = unknown
        self._count = 0

    def add(self, partner: str, truth: Truth) -> None:
        parsed = _parse(truth.external_id)
        if parsed is None:
            self._others[partner, truth.external_id] = truth.person_id
        else:
            prefix, number = parsed
            column = self._columns.get((partner, prefix))
            if column is None:
                column = self._columns[partner, prefix] = _Column()
            column.add(number, truth.person_id)
        self.set_household(truth.person_id, truth.household_id)
        self._count += 1

    def set_household(self, person_id: int, household_id: int) -> None:
        households = self._households
        if person_id >= len(households):
            # Grow by half: people arrive in order, one append at a time would be slow.
            missing = max(person_id + 1 - len(households), len(households) // 2)
            households.extend(array("q", bytes(8 * missing)))
        households[person_id] = household_id

    def person_id(self, partner: str, external: str) -> int:
        parsed = _parse(external)
        found = None
        if parsed is None:
            found = self._others.get((partner, external))
        elif (column := self._columns.get((partner, parsed[0]))) is not None:
            found = column.find(parsed[1])
        if found is None:
            raise KeyError((partner, external))
        return found

    def household_id(self, person_id: int) -> int:
        """The household of a person; raises KeyError for a person never seen."""
        if 0 < person_id < len(self._households) and self._households[person_id]:
            return self._households[person_id]
        raise KeyError(person_id)

    def __getitem__(self, key: tuple[str, str]) -> int:
        return self.person_id(*key)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for (partner, prefix), column in self._columns.items():
            for number in column.numbers:
                yield partner, external_id(prefix, number)
        yield from self._others

    def __len__(self) -> int:
        return self._count

    def rows(self) -> Iterator[tuple[str, str, int, int]]:
        """(partner, external id, person id, household id), in no particular order."""
        households = self._households
        for (partner, prefix), column in self._columns.items():
            for number, person in zip(column.numbers, column.people, strict=True):
                yield partner, external_id(prefix, number), person, households[person]
        for (partner, external), person in self._others.items():
            yield partner, external, person, households[person]

    def write_csv(self, path: Path) -> Path:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(TRUTH_HEADER)
            writer.writerows(self.rows())
        return path


def load_truth(path: Path) -> GroundTruth:
    """Read back a `truth.csv` written beside the demo or benchmark files."""
    truth = GroundTruth()
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        if tuple(next(reader, ())) != TRUTH_HEADER:
            raise ValueError(f"{path} is not a truth file: its header is not {TRUTH_HEADER}")
        for partner, external, person, household in reader:
            truth.add(partner, Truth(int(person), int(household), external))
    return truth
