"""The partners' customer files: who each partner knows, and the files they would send.

Every person is a customer of one to four partners (the tourist office counts as one), so
the same person turns up in several files, each time written differently. Everything
streams: a million-customer demo is written in bounded memory, except the set of e-mail
addresses the people generator keeps to make them unique.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import heapq
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import NamedTuple, TextIO

from cordee.demo.people import Person, generate_people
from cordee.demo.render import DEFAULT_NOISE, Noise, Renderer
from cordee.demo.truth import TRUTH_HEADER, GroundTruth, Truth, external_id, load_truth
from cordee.demo.valley import PARTNERS, FileStyle, Partner

__all__ = [
    "BENCH_STYLE",
    "DemoFile",
    "DemoFiles",
    "GroundTruth",
    "Noise",
    "Truth",
    "build_demo_files",
    "load_truth",
    "partner_rows",
    "write_bench_file",
    "write_partner_file",
]

_MASK64 = (1 << 64) - 1
_TABLE_SIZE = 4096
_PARTNERS_PER_PERSON = {1: 40, 2: 30, 3: 20, 4: 10}
_FOLLOWS_HOUSEHOLD = 0.75  # share of people who are customers where their household is
_MAX_DELAY = 2_000  # rows between a customer and the same customer entered again


def _mix(value: int) -> int:
    """A 64-bit hash (splitmix64): cheap, stable across runs, unlike hash()."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


def _encode_cp1252_sensibly(error: UnicodeError) -> tuple[str, int]:
    # Excel on a French Windows writes 'ő' as 'o' and an emoji as '?': do the same.
    if not isinstance(error, UnicodeEncodeError):
        raise error
    replacement = []
    for char in error.object[error.start : error.end]:
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        try:
            base.encode("cp1252")
        except UnicodeEncodeError:
            base = "?"
        replacement.append(base or "?")
    return "".join(replacement), error.end


codecs.register_error("cordee-cp1252", _encode_cp1252_sensibly)


class _Clientele:
    """Which partners each person is a customer of: a bit mask over `partners`."""

    def __init__(self, partners: tuple[Partner, ...], seed: int, today: datetime.date) -> None:
        rng = Random(f"clientele:{seed}")
        self.seed = seed
        self.partners = partners
        # Whoever was born after this date is a minor.
        self.minor_after = _years_before(today, 18)
        self.adult = {season: self._table(rng, season, minors=False) for season in _SEASONS}
        self.minor = {season: self._table(rng, season, minors=True) for season in _SEASONS}
        self.for_children = sum(1 << i for i, p in enumerate(partners) if p.children >= 0.5)
        self.children_first = {season: self._children_first(season) for season in _SEASONS}

    def _weights(self, season: str, minors: bool) -> list[float]:
        weights = []
        for partner in self.partners:
            weight = partner.reach_winter if season != "summer" else 0.0
            weight += partner.reach_summer if season != "winter" else 0.0
            weights.append(weight * (partner.children if minors else 1.0))
        return weights

    def _table(self, rng: Random, season: str, *, minors: bool) -> list[int]:
        # Masks drawn once: a person then costs one hash and one lookup, not a sample.
        weights = self._weights(season, minors)
        available = sum(1 for weight in weights if weight > 0)
        counts, shares = list(_PARTNERS_PER_PERSON), list(_PARTNERS_PER_PERSON.values())
        table = []
        for _ in range(_TABLE_SIZE):
            wanted = min(available, rng.choices(counts, shares)[0])
            chosen: set[int] = set()
            while len(chosen) < wanted:
                chosen.add(rng.choices(range(len(weights)), weights)[0])
            table.append(sum(1 << index for index in chosen))
        return table

    def _children_first(self, season: str) -> int:
        weights = self._weights(season, minors=True)
        return 1 << max(range(len(weights)), key=weights.__getitem__)

    def mask(self, person: Person) -> int:
        season = person.preferred_season
        draw = _mix(self.seed * 0x100000001 + person.person_id)
        own_index = draw % _TABLE_SIZE
        follows = (draw >> 12) % 1000 < _FOLLOWS_HOUSEHOLD * 1000
        household = _mix(~self.seed * 0x100000001 + person.household_id) % _TABLE_SIZE
        birth = person.birth_date
        if birth is None or birth <= self.minor_after:
            return self.adult[season][household if follows else own_index]
        # A child goes where its family goes, but not to the spa; often to ski school.
        mask = self.adult[season][household] & self.for_children if follows else 0
        if not mask:
            return self.minor[season][own_index]
        if (draw >> 24) % 2 and mask.bit_count() < 4:
            mask |= self.children_first[season]
        return mask


_SEASONS = ("winter", "summer", "both")


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@dataclass(slots=True)
class _Export:
    """One partner's export in the making: numbering, renderer and delayed duplicates."""

    slug: str
    style: FileStyle
    renderer: Renderer
    random: Callable[[], float]
    duplicate_rate: float
    duplicate_prefix: str
    max_delay: int = _MAX_DELAY
    next_number: int = 1
    next_duplicate_number: int = 1
    written: int = 0
    scheduled: int = 0  # breaks ties in the heap: people are not comparable
    pending: list[tuple[int, int, Person]] = field(default_factory=list)

    def feed(self, person: Person) -> list[tuple[list[str], Truth]]:
        rows = [self._render(person, duplicate=False)]
        rate = self.duplicate_rate
        while rate > 0:
            # Entered again later: another desk, another season, another system.
            if self.random() < rate:
                due = self.written + 1 + int(self.random() * self.max_delay)
                self.scheduled += 1
                heapq.heappush(self.pending, (due, self.scheduled, person))
            rate -= 1
        while self.pending and self.pending[0][0] <= self.written:
            rows.append(self._render(heapq.heappop(self.pending)[2], duplicate=True))
        return rows

    def flush(self) -> list[tuple[list[str], Truth]]:
        rows = []
        while self.pending:
            rows.append(self._render(heapq.heappop(self.pending)[2], duplicate=True))
        return rows

    def _render(self, person: Person, *, duplicate: bool) -> tuple[list[str], Truth]:
        if duplicate and self.duplicate_prefix != self.style.id_prefix:
            external = external_id(self.duplicate_prefix, self.next_duplicate_number)
            self.next_duplicate_number += 1
        else:
            external = external_id(self.style.id_prefix, self.next_number)
            self.next_number += 1
        self.written += 1
        row = self.renderer.row(person, external)
        return row, Truth(person.person_id, person.household_id, external)


def _export(
    partner: Partner,
    *,
    seed: int,
    noise: Noise,
    duplicate_rate: float | None = None,
    duplicate_prefix: str | None = None,
    max_delay: int = _MAX_DELAY,
) -> _Export:
    style = partner.file_style
    rng = Random(f"export:{seed}:{partner.slug}")
    return _Export(
        slug=partner.slug,
        style=style,
        renderer=Renderer(style, noise, rng, partner.slug),
        random=rng.random,
        duplicate_rate=style.duplicate_rate if duplicate_rate is None else duplicate_rate,
        duplicate_prefix=duplicate_prefix or style.id_prefix,
        max_delay=max_delay,
    )


def partner_rows(
    people: Iterable[Person],
    partner: Partner,
    *,
    seed: int,
    share: float = 1.0,
    noise: Noise = DEFAULT_NOISE,
    today: datetime.date | None = None,
) -> Iterator[tuple[dict[str, str], Truth]]:
    """The rows of `partner`'s file, keyed by its headers, each with who it really is.

    A person is in the file when the valley makes them a customer of `partner` (a partner
    outside the valley knows everyone), and then `share` of those are kept: an export of
    part of the customers. `today` decides who is a child, as in `generate_people`.
    """
    index = next((i for i, p in enumerate(PARTNERS) if p.slug == partner.slug), None)
    clientele = _Clientele(PARTNERS, seed, today or datetime.date.today())
    export = _export(partner, seed=seed, noise=noise)
    headers = partner.file_style.headers
    salt = zlib.crc32(f"share:{partner.slug}".encode())
    for person in people:
        if index is not None and not clientele.mask(person) >> index & 1:
            continue
        if share < 1.0 and _mix(salt * 0x100000001 + person.person_id) % 10_000 >= share * 10_000:
            continue
        for row, truth in export.feed(person):
            yield dict(zip(headers, row, strict=True)), truth
    for row, truth in export.flush():
        yield dict(zip(headers, row, strict=True)), truth


def _open_csv(path: Path, style: FileStyle) -> tuple[TextIO, Callable[[Iterable[str]], object]]:
    errors = "cordee-cp1252" if style.encoding == "cp1252" else "strict"
    handle = path.open("w", encoding=style.encoding, errors=errors, newline="", buffering=1 << 20)
    writer = csv.writer(handle, delimiter=style.delimiter, lineterminator=style.line_terminator)
    writer.writerow(style.headers)
    return handle, writer.writerow


def write_partner_file(path: Path, rows: Iterable[dict[str, str]], *, style: FileStyle) -> int:
    """Write rows as `style` does (separator, encoding, line ends); returns the data lines."""
    headers = style.headers
    count = 0
    handle, write = _open_csv(path, style)
    with handle:
        for row in rows:
            write([row.get(header, "") for header in headers])
            count += 1
    return count


class DemoFile(NamedTuple):
    partner: str
    path: Path
    lines: int


@dataclass(frozen=True, slots=True)
class DemoFiles:
    files: list[DemoFile]
    truth: GroundTruth  # (partner slug, external id) -> person id; households too
    truth_path: Path  # the same, as truth.csv beside the files
    people: int  # how many people were generated (some may be in no file)


def build_demo_files(
    directory: Path,
    *,
    customers: int,
    seed: int = 0,
    noise: Noise = DEFAULT_NOISE,
    today: datetime.date | None = None,
) -> DemoFiles:
    """Generate `customers` people and write one CSV per partner of the valley, the tourist
    office's newsletter and contest list included, plus `truth.csv`, in one pass."""
    today = today or datetime.date.today()
    directory.mkdir(parents=True, exist_ok=True)
    clientele = _Clientele(PARTNERS, seed, today)
    exports = [_export(partner, seed=seed, noise=noise) for partner in PARTNERS]
    paths = [directory / f"{partner.slug}.csv" for partner in PARTNERS]
    sinks = [
        _open_csv(path, partner.file_style) for path, partner in zip(paths, PARTNERS, strict=True)
    ]
    truth = GroundTruth()
    counts = [0] * len(PARTNERS)
    try:
        for person in generate_people(customers, seed=seed, today=today):
            mask = clientele.mask(person)
            truth.set_household(person.person_id, person.household_id)
            for index, export in enumerate(exports):
                if mask >> index & 1:
                    counts[index] += _write(
                        export.feed(person), sinks[index][1], truth, export.slug
                    )
        for index, export in enumerate(exports):
            counts[index] += _write(export.flush(), sinks[index][1], truth, export.slug)
    finally:
        for handle, _ in sinks:
            handle.close()
    files = [
        DemoFile(partner.slug, path, count)
        for partner, path, count in zip(PARTNERS, paths, counts, strict=True)
    ]
    truth_path = truth.write_csv(directory / "truth.csv")
    return DemoFiles(files, truth, truth_path, customers)


def _write(
    rows: list[tuple[list[str], Truth]],
    write: Callable[[Iterable[str]], object],
    truth: GroundTruth,
    slug: str,
) -> int:
    for row, known in rows:
        write(row)
        truth.add(slug, known)
    return len(rows)


# One large export merged from several systems of one business: the booking system's
# customers ("PMS-"), some of whom booked again on the website ("WEB-").
BENCH_STYLE = FileStyle(
    columns=(
        ("external_id", "N° client"),
        ("civility", "Civilité"),
        ("first_name", "Prénom"),
        ("last_name", "Nom"),
        ("email", "Email"),
        ("phone", "Téléphone"),
        ("birth_date", "Date de naissance"),
        ("address", "Adresse"),
        ("postcode", "CP"),
        ("city", "Ville"),
        ("country", "Pays"),
        ("consent_newsletter", "Newsletter"),
    ),
    id_prefix="PMS",
    line_terminator="\n",
    phone_habits=("spaced", "compact", "intl_spaced", "dotted"),
    accents_dropped=0.1,
)
BENCH_PARTNER = Partner("bench", "Benchmark", "other", "", BENCH_STYLE, 1, 1)


def write_bench_file(
    path: Path,
    *,
    lines: int,
    seed: int = 0,
    duplicate_rate: float = 0.2,
    truth: bool = True,
) -> Path:
    """One large partner CSV of exactly `lines` data lines, `duplicate_rate` of which are
    people already in the file, written again with variations. With `truth`, the ground
    truth goes to `<name>.truth.csv` beside it (read it with `load_truth`)."""
    if not 0 <= duplicate_rate < 1:
        raise ValueError("duplicate_rate must be in [0, 1)")
    export = _export(
        BENCH_PARTNER,
        seed=seed,
        noise=DEFAULT_NOISE,
        # Each person comes back with this probability, so that duplicates make up
        # `duplicate_rate` of the lines.
        duplicate_rate=duplicate_rate / (1 - duplicate_rate),
        duplicate_prefix="WEB",
        # Repeats come back within a twentieth of the file: far enough apart not to be
        # neighbours, near enough that nearly all of them make it before the end.
        max_delay=max(10, min(50_000, lines // 20)),
    )
    truth_path = path.with_name(f"{path.stem}.truth.csv")
    with ExitStack() as files:
        handle, write = _open_csv(path, BENCH_STYLE)
        files.enter_context(handle)
        write_truth = _truth_writer(files, truth_path) if truth else None
        written = 0
        for person in generate_people(lines, seed=seed):
            written = _write_bench(export.feed(person), write, write_truth, written, lines)
            if written >= lines:
                break
        if written < lines:
            _write_bench(export.flush(), write, write_truth, written, lines)
    return path


def _truth_writer(files: ExitStack, path: Path) -> Callable[[Iterable[object]], object]:
    # Straight to the CSV: the benchmark does not need the truth in memory.
    handle = files.enter_context(path.open("w", encoding="utf-8", newline=""))
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(TRUTH_HEADER)
    return writer.writerow


def _write_bench(
    rows: list[tuple[list[str], Truth]],
    write: Callable[[Iterable[str]], object],
    write_truth: Callable[[Iterable[object]], object] | None,
    written: int,
    limit: int,
) -> int:
    for row, truth in rows[: limit - written]:
        write(row)
        if write_truth is not None:
            write_truth(("bench", truth.external_id, truth.person_id, truth.household_id))
    return min(limit, written + len(rows))
