"""The valley's visitors: believable people, households and contact details, from a seed.

`generate_people` is deterministic for a seed (and a reference date) and streams: a
million people never sit in memory together. The people of one household come out one
after the other, with `household_id` and `person_id` as the ground truth of who is who.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate, chain, repeat
from random import Random

from cordee.collect.normalise import all_communes
from cordee.demo import names
from cordee.demo.places import EMAIL_PROVIDERS, LANDLINE_PLANS, MOBILE_PLANS, Place, origins
from cordee.demo.text import slug

SEASONS = ("winter", "summer", "both")
FAMILY_SITUATIONS = ("single", "couple", "married", "pacs", "divorced", "widowed")


@dataclass(slots=True)
class Person:
    person_id: int
    household_id: int
    civility: str  # "MME" or "M", the codes of customers.models.Civility
    first_name: str
    last_name: str
    gender: str  # "F" or "M"
    birth_date: datetime.date | None
    email: str | None
    phone: str | None  # E.164
    address_line1: str
    postal_code: str
    city: str
    country: str  # ISO 3166-1 alpha-2
    language: str  # ISO 639-1
    profession: str
    family_situation: str  # one of FAMILY_SITUATIONS
    children: int
    interests: list[str]
    preferred_season: str  # one of SEASONS


def generate_people(
    n: int, *, seed: int = 0, today: datetime.date | None = None
) -> Iterator[Person]:
    """Yield `n` people, household after household.

    Deterministic for (`seed`, `today`); `today` (default: the current date) is when the
    children's ages are counted from. The first k people of a run do not depend on `n`.
    """
    if n <= 0:
        return
    factory = _Factory(seed, today or datetime.date.today())
    person_id = 1
    household_id = 1
    while True:
        for person in factory.household(household_id, person_id):
            yield person
            if person.person_id == n:
                return
        person_id += factory.last_size
        household_id += 1


def _picker[T](
    rng: Random, population: Sequence[T], weights: Sequence[float] | None = None
) -> Callable[[], T]:
    """A weighted (or uniform) draw for the price of one C-level `next()`: `choices` on
    cumulative weights fills a batch, and chaining batches keeps Python out of each draw."""
    items = list(population)
    cumulative = list(accumulate(weights)) if weights is not None else None

    def draw(_: None) -> list[T]:
        return rng.choices(items, cum_weights=cumulative, k=512)

    return chain.from_iterable(map(draw, repeat(None))).__next__


def _by_rank(items: Sequence[object]) -> list[float]:
    # Zipf-like: the first names of a list are much more common than the last ones.
    return [1.0 / (rank + 10) for rank in range(len(items))]


# Household compositions and their shares: ~55% of people live with others.
_COMPOSITIONS = {
    "single": 68.7,
    "couple": 14.1,
    "family": 11.0,
    "single_parent": 3.7,
    "adult_child": 2.5,
}
_ADULT_AGES = {
    **dict.fromkeys(range(18, 25), 0.6),
    **dict.fromkeys(range(25, 35), 1.0),
    **dict.fromkeys(range(35, 50), 1.3),
    **dict.fromkeys(range(50, 65), 1.1),
    **dict.fromkeys(range(65, 75), 0.8),
    **dict.fromkeys(range(75, 86), 0.3),
}
_PARENT_AGES = {age: 1.0 if 30 <= age <= 48 else 0.4 for age in range(24, 56)}
_SEASON_WEIGHTS = (42, 38, 20)
# How people make up a mailbox name from (first name, surname, year of birth, two digits).
_EmailPattern = Callable[[str, str, int, int], str]
_EMAIL_PATTERNS: dict[_EmailPattern, float] = {
    lambda f, s, y, r: f"{f}.{s}": 35,
    lambda f, s, y, r: f"{f}{s}": 8,
    lambda f, s, y, r: f"{f[:1]}{s}": 12,
    lambda f, s, y, r: f"{f}.{s}{y % 100:02d}": 12,
    lambda f, s, y, r: f"{s}.{f}": 8,
    lambda f, s, y, r: f"{f}_{s}": 5,
    lambda f, s, y, r: f"{f}{s}{r:02d}": 10,
    lambda f, s, y, r: f"{f[:1]}.{s}{y}": 6,
    lambda f, s, y, r: f"{s}{f[:1]}": 4,
}
# A couple's shared mailbox, from (surname, one first name, the other).
_FAMILY_EMAIL_PATTERNS: tuple[Callable[[str, str, str], str], ...] = (
    lambda s, f, g: f"famille.{s}",
    lambda s, f, g: f"{s}.famille",
    lambda s, f, g: f"{f}.et.{g}",
    lambda s, f, g: f"{s}{f[:1]}{g[:1]}",
    lambda s, f, g: f"fam.{s}",
)
_YEAR_DAYS = 365.2425


class _Member:
    __slots__ = ("birth", "born", "first_name", "gender", "last_name", "minor")

    def __init__(self, gender: str, birth: int, first_name: str, last_name: str, minor: bool):
        self.gender = gender
        self.birth = birth  # proleptic ordinal of the birth date, for arithmetic
        self.born = datetime.date.fromordinal(birth)
        self.first_name = first_name
        self.last_name = last_name
        self.minor = minor


@dataclass(slots=True)
class _Home:
    place: Place
    surname: str
    address: str
    season: str
    landline: str | None
    family_email: str | None


class _Factory:
    """Everything drawn from one seeded generator, in one fixed order."""

    def __init__(self, seed: int, today: datetime.date) -> None:
        rng = Random(seed)
        self.random = rng.random
        self.today = today.toordinal()
        self.last_size = 0
        self.emails: set[str] = set()
        self.origin = _picker(rng, *origins(all_communes()))
        self.surnames = {
            country: _picker(rng, items, _by_rank(items))
            for country, items in names.SURNAMES.items()
        }
        self.first_names = self._first_name_pickers(rng)
        self.composition = _picker(rng, list(_COMPOSITIONS), list(_COMPOSITIONS.values()))
        self.adult_age = _picker(rng, list(_ADULT_AGES), list(_ADULT_AGES.values()))
        self.parent_age = _picker(rng, list(_PARENT_AGES), list(_PARENT_AGES.values()))
        self.season = _picker(rng, SEASONS, _SEASON_WEIGHTS)
        self.interests = {season: self._interest_picker(rng, season) for season in SEASONS}
        self.profession = _picker(rng, names.PROFESSIONS, _by_rank(names.PROFESSIONS))
        self.streets = {
            language: _picker(rng, streets) for language, streets in names.STREETS.items()
        }
        self.mailboxes = {
            country: self._mailbox_picker(rng, providers)
            for country, providers in EMAIL_PROVIDERS.items()
        }

    @staticmethod
    def _first_name_pickers(rng: Random) -> dict[tuple[str, str, bool], Callable[[], str]]:
        """Pickers keyed by (language, gender, born before 1985)."""
        pickers = {}
        french = {
            ("F", True): names.FR_FEMALE_OLDER,
            ("F", False): names.FR_FEMALE_YOUNGER,
            ("M", True): names.FR_MALE_OLDER,
            ("M", False): names.FR_MALE_YOUNGER,
        }
        for (gender, older), items in french.items():
            pickers["fr", gender, older] = _picker(rng, items, _by_rank(items))
        for language, (female, male) in names.FIRST_NAMES.items():
            for gender, items in (("F", female), ("M", male)):
                picker = _picker(rng, items, _by_rank(items))
                pickers[language, gender, True] = pickers[language, gender, False] = picker
        return pickers

    @staticmethod
    def _mailbox_picker(
        rng: Random, providers: dict[str, float]
    ) -> Callable[[], tuple[_EmailPattern, str]]:
        # (how the name is written, at which provider): one draw for both.
        pairs = [(pattern, domain) for pattern in _EMAIL_PATTERNS for domain in providers]
        weights = [_EMAIL_PATTERNS[pattern] * providers[domain] for pattern, domain in pairs]
        return _picker(rng, pairs, weights)

    def _interest_picker(self, rng: Random, season: str) -> Callable[[], tuple[str, ...]]:
        # A pool of interest sets drawn once: a person then costs one pick, not a sample.
        if season == "both":
            weights = dict(names.SEASON_INTERESTS["winter"])
            for interest, weight in names.SEASON_INTERESTS["summer"].items():
                weights[interest] = weights.get(interest, 0) + weight
        else:
            weights = names.SEASON_INTERESTS[season]
        pool = []
        for _ in range(1024):
            chosen: dict[str, None] = {}
            for interest in rng.choices(list(weights), list(weights.values()), k=4):
                chosen[interest] = None
            pool.append(tuple(list(chosen)[: 1 + int(rng.random() * 4)]))
        return _picker(rng, pool)

    # -- households -------------------------------------------------------------------

    def household(self, household_id: int, first_id: int) -> list[Person]:
        home = self._home(household_id)
        composition = self.composition()
        if composition == "single":
            members = [self._adult(home, self.adult_age())]
        elif composition == "couple":
            members = self._couple(home, self.adult_age())
        elif composition == "family":
            members = self._couple(home, self.parent_age())
            members += self._children(home, members, count=self._child_count())
        elif composition == "single_parent":
            parent = self._adult(home, self.parent_age(), "F" if self.random() < 0.8 else "M")
            members = [parent, *self._children(home, [parent], count=1 + self._chance(0.4))]
        else:
            parent = self._adult(home, 48 + int(self.random() * 32))
            members = [parent, self._adult_child(home, parent)]
        self.last_size = len(members)
        return self._people(home, members, composition, household_id, first_id)

    def _chance(self, probability: float) -> int:
        return 1 if self.random() < probability else 0

    def _home(self, household_id: int) -> _Home:
        place = self.origin()
        country = place.country
        street = self.streets[place.language]()
        if "{place}" in street:
            address = street.replace("{place}", _one(self, names.PLACE_NAMES))
        else:
            address = street.replace("{n}", str(1 + int(self.random() ** 2 * 120)))
        landline = None
        if country == "FR" and self.random() < 0.25:
            landline = LANDLINE_PLANS[place.landline_zone].number(household_id)
        return _Home(place, self.surnames[country](), address, self.season(), landline, None)

    def _birth(self, age: int) -> int:
        return self.today - int((age + self.random()) * _YEAR_DAYS)

    def _first_name(self, home: _Home, gender: str, birth: int, avoid: set[str]) -> str:
        older = birth < _ORDINAL_1985
        picker = self.first_names[home.place.language, gender, older]
        name = picker()
        for _ in range(5):  # siblings and spouses do not share a first name
            if name not in avoid:
                break
            name = picker()
        return name

    def _adult(self, home: _Home, age: int, gender: str | None = None) -> _Member:
        gender = gender or ("F" if self.random() < 0.52 else "M")
        birth = self._birth(age)
        return _Member(
            gender, birth, self._first_name(home, gender, birth, set()), home.surname, False
        )

    def _couple(self, home: _Home, age: int) -> list[_Member]:
        first = self._adult(home, age)
        # Mostly a woman and a man; now and then two women or two men.
        other = "M" if first.gender == "F" else "F"
        gender = first.gender if self.random() < 0.04 else other
        # Partners are close in age: a rough bell curve of a few years.
        gap = round((self.random() + self.random() + self.random() - 1.5) * 5)
        birth = self._birth(max(18, age + gap))
        surname = home.surname if self.random() < 0.75 else self.surnames[home.place.country]()
        name = self._first_name(home, gender, birth, {first.first_name})
        return [first, _Member(gender, birth, name, surname, False)]

    def _child_count(self) -> int:
        draw = self.random()
        return 1 if draw < 0.4 else 2 if draw < 0.8 else 3

    def _children(self, home: _Home, parents: list[_Member], *, count: int) -> list[_Member]:
        youngest_parent = max(parent.birth for parent in parents)
        oldest_child = min(17, int((self.today - youngest_parent) / _YEAR_DAYS) - 20)
        surname = parents[0].last_name
        if len(parents) == 2 and parents[1].last_name != surname and self.random() < 0.15:
            surname = f"{surname}-{parents[1].last_name}"  # a double-barrelled name
        used = {parent.first_name for parent in parents}
        children: list[_Member] = []
        twins = count >= 2 and self.random() < 0.08
        for index in range(count):
            gender = "F" if self.random() < 0.49 else "M"
            if twins and index == 1:
                birth = children[0].birth
            else:
                birth = self._birth(int(self.random() * (max(0, oldest_child) + 1)))
            name = self._named_after(parents, gender, surname)
            if name is None:
                name = self._first_name(home, gender, birth, used)
            used.add(name)
            children.append(_Member(gender, birth, name, surname, True))
        return children

    def _named_after(self, parents: list[_Member], gender: str, surname: str) -> str | None:
        # Jean Martin's son is sometimes Jean Martin too: the hardest pair to tell apart.
        for parent in parents:
            if parent.gender == gender and parent.last_name == surname and self.random() < 0.07:
                return parent.first_name
        return None

    def _adult_child(self, home: _Home, parent: _Member) -> _Member:
        gender = "F" if self.random() < 0.45 else "M"
        age = 18 + int(self.random() * 12)
        birth = self._birth(age)
        if gender == parent.gender and self.random() < 0.25:
            name = parent.first_name
        else:
            name = self._first_name(home, gender, birth, {parent.first_name})
        return _Member(gender, birth, name, parent.last_name, False)

    # -- contact details and qualification ---------------------------------------------

    def _people(
        self,
        home: _Home,
        members: list[_Member],
        composition: str,
        household_id: int,
        first_id: int,
    ) -> list[Person]:
        adults = [member for member in members if not member.minor]
        if len(adults) == 2 and self.random() < 0.2:
            home.family_email = self._family_email(home, adults)
        situation = self._situation(composition, adults[0])
        kids = len(members) - len(adults)
        people = []
        emails: list[str | None] = []
        phones: list[str | None] = []
        for offset, member in enumerate(members):
            person_id = first_id + offset
            age = int((self.today - member.birth) / _YEAR_DAYS)
            if member.minor:
                email = self._minor_contact(emails, 0.35)
                phone = self._minor_phone(home, age, person_id, phones)
                family = ("single", 0)
            else:
                email = self._adult_email(home, member)
                phone = self._adult_phone(home, person_id)
                emails.append(email)
                phones.append(phone)
                family = self._family(composition, offset, situation, kids, age)
            people.append(
                self._person(home, member, (person_id, household_id), (email, phone), family, age)
            )
        return people

    def _family(
        self, composition: str, offset: int, situation: str, kids: int, age: int
    ) -> tuple[str, int]:
        """(family situation, number of children) of an adult of the household."""
        if composition == "adult_child":
            return ("single", 0) if offset else (situation, 1 + self._grown_children(age))
        return situation, kids or self._grown_children(age)

    def _person(
        self,
        home: _Home,
        member: _Member,
        ids: tuple[int, int],
        contact: tuple[str | None, str | None],
        family: tuple[str, int],
        age: int,
    ) -> Person:
        unknown_birth = not member.minor and self.random() < 0.03
        place = home.place
        # Positional arguments: a million keyword calls cost a noticeable second.
        return Person(
            ids[0],
            ids[1],
            "MME" if member.gender == "F" else "M",
            member.first_name,
            member.last_name,
            member.gender,
            None if unknown_birth else member.born,
            contact[0],
            contact[1],
            home.address,
            place.postcode,
            place.city,
            place.country,
            place.language,
            self._profession(member.gender, age),
            family[0],
            family[1],
            list(self.interests[home.season]()),
            home.season,
        )

    def _situation(self, composition: str, adult: _Member) -> str:
        draw = self.random()
        age = (self.today - adult.birth) / _YEAR_DAYS
        if composition in ("couple", "family"):
            return "married" if draw < 0.55 else "pacs" if draw < 0.7 else "couple"
        if composition == "single" and age < 30:
            return "single"
        if composition == "single" and age > 70:
            return "widowed" if draw < 0.4 else "single" if draw < 0.7 else "divorced"
        return "single" if draw < 0.45 else "divorced" if draw < 0.9 else "widowed"

    def _grown_children(self, age: int) -> int:
        if age < 35:
            return 0
        draw = self.random()
        return 0 if draw < 0.35 else 1 if draw < 0.55 else 2 if draw < 0.85 else 3

    def _profession(self, gender: str, age: int) -> str:
        index = 1 if gender == "F" else 0
        if age < 18:
            return names.PUPIL[index] if age >= 6 else ""
        if age >= 63 and self.random() < 0.85:
            return names.RETIRED[index]
        if age < 25 and self.random() < 0.6:
            return names.STUDENT[index]
        return self.profession()[index]

    def _minor_contact(self, parents: list[str | None], none_share: float) -> str | None:
        # A child has no mailbox of its own: the file holds a parent's, or nothing.
        known = [value for value in parents if value]
        if not known or self.random() < none_share:
            return None
        return known[int(self.random() * len(known))]

    def _minor_phone(
        self, home: _Home, age: int, person_id: int, parents: list[str | None]
    ) -> str | None:
        if age >= 14 and self.random() < 0.5:
            return MOBILE_PLANS[home.place.country].number(person_id)
        return self._minor_contact(parents, 0.4)

    def _adult_phone(self, home: _Home, person_id: int) -> str | None:
        draw = self.random()
        if draw < 0.08:
            return None
        if home.landline and draw < 0.45:
            return home.landline
        return MOBILE_PLANS[home.place.country].number(person_id)

    def _adult_email(self, home: _Home, member: _Member) -> str | None:
        if home.family_email and self.random() < 0.85:
            return home.family_email
        if self.random() < 0.07:
            return None
        pattern, domain = self.mailboxes[home.place.country]()
        random_digits = int(self.random() * 100)
        local = pattern(
            slug(member.first_name), slug(member.last_name), member.born.year, random_digits
        )
        return self._unique(local, domain)

    def _family_email(self, home: _Home, adults: list[_Member]) -> str:
        pattern = _FAMILY_EMAIL_PATTERNS[int(self.random() * len(_FAMILY_EMAIL_PATTERNS))]
        first, second = (slug(adult.first_name) for adult in adults)
        _, domain = self.mailboxes[home.place.country]()
        return self._unique(pattern(slug(home.surname), first, second), domain)

    def _unique(self, local: str, domain: str) -> str:
        address = f"{local}@{domain}"
        # Mailboxes are unique: a namesake who came second added digits, as people do.
        while address in self.emails:
            address = f"{local}{int(self.random() * 1000)}@{domain}"
        self.emails.add(address)
        return address


_ORDINAL_1985 = datetime.date(1985, 1, 1).toordinal()


def _one(factory: _Factory, items: Sequence[str]) -> str:
    return items[int(factory.random() * len(items))]
