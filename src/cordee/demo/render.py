"""One person as one row of a partner's file: the partner's habits plus the usual mistakes."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from random import Random

from cordee.demo.people import SEASONS, Person
from cordee.demo.text import strip_accents
from cordee.demo.valley import FileStyle


@dataclass(frozen=True, slots=True)
class Noise:
    """How often the people who typed a file got something wrong. Rates are per row."""

    missing: float = 0.10  # each optional field left empty (beyond what the person never gave)
    typo: float = 0.03  # one letter of the first or last name swapped, dropped or doubled
    swapped_names: float = 0.01  # first name in the last-name column and back
    impossible_date: float = 0.005  # 31/02/1990
    invalid_email: float = 0.005  # "jean.martin@", "jean martin@gmail.com"
    email_case: float = 0.05  # "Jean.Martin@Gmail.com"
    email_spaces: float = 0.02  # " jean.martin@gmail.com "
    other_phone_habit: float = 0.2  # a number typed another way than the house habit
    abbreviation: float = 0.15  # "av." for "avenue"
    other_country_form: float = 0.05  # "Germany" in a file that writes "Allemagne"


DEFAULT_NOISE = Noise()

# Each format rewrites an ISO date: slicing "1985-03-14" is faster than formatting numbers.
DATE_FORMATS: dict[str, Callable[[str], str]] = {
    "dmy": lambda iso: f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}",
    "iso": lambda iso: iso,
    "dmy_short": lambda iso: f"{iso[8:10].lstrip('0')}/{iso[5:7].lstrip('0')}/{iso[2:4]}",
    "dmy_dot": lambda iso: f"{iso[8:10]}.{iso[5:7]}.{iso[:4]}",
}

COUNTRY_NAMES: dict[str, tuple[str, str]] = {  # ISO code: (French, English)
    "FR": ("France", "France"),
    "BE": ("Belgique", "Belgium"),
    "CH": ("Suisse", "Switzerland"),
    "DE": ("Allemagne", "Germany"),
    "NL": ("Pays-Bas", "Netherlands"),
    "GB": ("Royaume-Uni", "United Kingdom"),
    "IT": ("Italie", "Italy"),
    "ES": ("Espagne", "Spain"),
    "US": ("États-Unis", "United States"),
}
_COUNTRY_FORMS = ("fr", "en", "iso2")

_ABBREVIATIONS = (
    ("avenue ", "av. "),
    ("boulevard ", "bd "),
    ("chemin ", "ch. "),
    ("place ", "pl. "),
    ("route ", "rte "),
    ("impasse ", "imp. "),
    ("rue ", "r. "),
)


# How each habit writes the nine digits of a French number (without its trunk 0).
_FRENCH_PHONE: dict[str, Callable[[str], str]] = {
    "spaced": lambda n: f"0{n[0]} {n[1:3]} {n[3:5]} {n[5:7]} {n[7:9]}",
    "dotted": lambda n: f"0{n[0]}.{n[1:3]}.{n[3:5]}.{n[5:7]}.{n[7:9]}",
    "compact": lambda n: f"0{n}",
    "intl_spaced": lambda n: f"+33 {n[0]} {n[1:3]} {n[3:5]} {n[5:7]} {n[7:9]}",
    "intl_paren": lambda n: f"+33 (0){n[0]} {n[1:3]} {n[3:5]} {n[5:7]} {n[7:9]}",
    "intl_00": lambda n: f"0033{n}",
    "excel": lambda n: n,  # Excel took the number for an integer and dropped its 0
    "e164": lambda n: f"+33{n}",
}
PHONE_HABITS = tuple(_FRENCH_PHONE)


def format_phone(e164: str, habit: str) -> str:
    """An E.164 number the way a habit writes it: 'spaced' 06 12 34 56 78, 'dotted',
    'compact' 0612345678, 'intl_spaced' +33 6 12..., 'intl_paren' +33 (0)6..., 'intl_00'
    0033612..., 'excel' 612345678, 'e164'. Foreign numbers keep their country code."""
    if e164.startswith("+33"):
        return _FRENCH_PHONE[habit](e164[3:])
    code_length = 1 if e164.startswith("+1") else 2
    code, n = e164[1 : 1 + code_length], e164[1 + code_length :]
    if habit in ("spaced", "dotted", "intl_spaced", "intl_paren"):
        return f"+{code} {n[:2]} {n[2:5]} {n[5:7]} {n[7:]}"
    if habit in ("intl_00", "compact"):
        return f"00{code}{n}"
    if habit == "excel":
        return f"{code}{n}"
    return e164


def typo(name: str, random: Callable[[], float]) -> str:
    """One slip of the keyboard: two letters swapped, one dropped or one doubled."""
    if len(name) < 3:
        return name + name[-1:]
    position = 1 + int(random() * (len(name) - 2))  # the initial is rarely the one mistyped
    kind = random()
    if kind < 1 / 3 and name[position] != name[position + 1]:
        return name[:position] + name[position + 1] + name[position] + name[position + 2 :]
    if kind < 2 / 3:
        return name[:position] + name[position + 1 :]
    return name[:position] + name[position] + name[position:]


def broken_email(email: str, draw: float) -> str:
    """An address that no validator accepts, as forms without checks collect them."""
    local, _, domain = email.partition("@")
    if draw < 0.4:
        return f"{local}@"
    if draw < 0.8:
        if "." in local:
            return f"{local.replace('.', ' ', 1)}@{domain}"
        return f"{local[:2]} {local[2:]}@{domain}"
    return f"{local}{domain}"  # the @ forgotten


def _upper_email(email: str, draw: float) -> str:
    if draw < 0.5:
        local, _, domain = email.partition("@")
        return ".".join(part.capitalize() for part in local.split(".")) + "@" + domain.capitalize()
    return email.upper()


def consent_given(person_id: int, salt: int) -> bool:
    """Whether a person ticked one box for one partner: stable, about one time in two."""
    return (person_id * 2_654_435_761 + salt) % 1_000_003 % 100 < 55


class Renderer:
    """Renders people as rows (lists in the style's column order) with the style's noise."""

    def __init__(self, style: FileStyle, noise: Noise, rng: Random, salt: str) -> None:
        self.style = style
        self.noise = noise
        self.random = rng.random
        self.missing = noise.missing  # read for nearly every cell: kept at hand
        self.date = DATE_FORMATS[style.date_format]
        self.salt = salt
        self.cells: list[Callable[[Person], str]] = [
            getattr(self, f"_cell_{field}") for field, _ in style.columns
        ]
        self.consent_salts = {
            purpose: zlib.crc32(f"{salt}:{purpose}".encode())
            for purpose in ("newsletter", "sms", "partner_offers")
        }
        # The row being rendered: names (after noise), whether typed without accents, id.
        self.first = self.last = self.external = ""
        self.plain = False

    def row(self, person: Person, external: str) -> list[str]:
        self.external = external
        self._names(person)
        return [cell(person) for cell in self.cells]

    def _names(self, person: Person) -> None:
        first, last = person.first_name, person.last_name
        random, noise, style = self.random, self.noise, self.style
        if random() < noise.typo:
            if random() < 0.5:
                first = typo(first, random)
            else:
                last = typo(last, random)
        self.plain = style.accents_dropped > 0 and random() < style.accents_dropped
        if self.plain:
            first, last = strip_accents(first), strip_accents(last)
        case = style.name_case
        if case == "upper":
            first, last = first.upper(), last.upper()
        elif case == "upper_last":
            last = last.upper()
        elif case == "typed":
            draw = random()
            if draw < 0.15:
                first, last = first.lower(), last.lower()
            elif draw < 0.3:
                first, last = first.upper(), last.upper()
        if random() < noise.swapped_names:
            first, last = last, first
        self.first, self.last = first, last

    def _text(self, value: str) -> str:
        if self.plain:
            value = strip_accents(value)
        return value.upper() if self.style.name_case == "upper" else value

    # -- one method per field of valley.FIELDS ---------------------------------------

    def _cell_external_id(self, person: Person) -> str:
        return self.external

    def _cell_first_name(self, person: Person) -> str:
        return self.first

    def _cell_last_name(self, person: Person) -> str:
        return self.last

    def _cell_civility(self, person: Person) -> str:
        if self.random() < self.missing:
            return ""
        return self.style.civilities[0 if person.gender == "F" else 1]

    def _cell_gender(self, person: Person) -> str:
        if self.random() < self.missing:
            return ""
        return self.style.genders[0 if person.gender == "F" else 1]

    def _cell_email(self, person: Person) -> str:
        email = person.email
        if email is None or self.random() < self.missing:
            return ""
        noise = self.noise
        draw = self.random()
        if draw < noise.invalid_email:
            return broken_email(email, self.random())
        draw -= noise.invalid_email
        if draw < noise.email_case:
            return _upper_email(email, self.random())
        draw -= noise.email_case
        if draw < noise.email_spaces:
            return f" {email} " if draw < noise.email_spaces / 2 else f"{email} "
        return email

    def _phone(self, phone: str | None) -> str:
        if phone is None or self.random() < self.missing:
            return ""
        habits = self.style.phone_habits
        habit = habits[0]
        if len(habits) > 1 and self.random() < self.noise.other_phone_habit:
            habit = habits[1 + int(self.random() * (len(habits) - 1))]
        return format_phone(phone, habit)

    def _cell_phone(self, person: Person) -> str:
        return self._phone(person.phone)

    def _cell_mobile(self, person: Person) -> str:
        phone = person.phone
        return self._phone(phone if phone and not _is_french_landline(phone) else None)

    def _cell_landline(self, person: Person) -> str:
        phone = person.phone
        return self._phone(phone if phone and _is_french_landline(phone) else None)

    def _cell_birth_date(self, person: Person) -> str:
        birth = person.birth_date
        if birth is None or self.random() < self.missing:
            return ""
        if self.random() < self.noise.impossible_date:
            # 30 or 31 February, or the 31st of a month of thirty days.
            day = birth.day
            month, day = (2, 30 + day % 2) if day % 3 == 0 else ((4, 6, 9, 11)[day % 4], 31)
            return self.date(f"{birth.year:04d}-{month:02d}-{day:02d}")
        return self.date(birth.isoformat())

    def _cell_address(self, person: Person) -> str:
        if self.random() < self.missing:
            return ""
        address = person.address_line1
        if self.random() < self.noise.abbreviation:
            for word, short in _ABBREVIATIONS:
                if word in address:
                    address = address.replace(word, short, 1)
                    break
        return self._text(address)

    def _cell_postcode(self, person: Person) -> str:
        if self.random() < self.missing:
            return ""
        postcode = person.postal_code
        return postcode.lstrip("0") if self.style.excel_numbers else postcode

    def _cell_city(self, person: Person) -> str:
        if self.random() < self.missing:
            return ""
        city = person.city
        if city.startswith("Saint-") and self.random() < 0.2:
            city = "St-" + city[6:]
        return self._text(city)

    def _cell_country(self, person: Person) -> str:
        country = person.country
        if country == "FR" and self.style.france_blank or self.random() < self.missing:
            return ""
        form = self.style.country_names
        if self.random() < self.noise.other_country_form:
            form = _COUNTRY_FORMS[int(self.random() * 3)]
        if form == "iso2":
            return country
        name = COUNTRY_NAMES[country][0 if form == "fr" else 1]
        return self._text(name)

    def _cell_language(self, person: Person) -> str:
        if self.random() < self.missing:
            return ""
        return person.language.upper() if self.style.language_upper else person.language

    def _cell_profession(self, person: Person) -> str:
        return "" if self.random() < self.missing else person.profession

    def _cell_interests(self, person: Person) -> str:
        return "" if self.random() < self.missing else ", ".join(person.interests)

    def _cell_children(self, person: Person) -> str:
        return "" if self.random() < self.missing else str(person.children)

    def _cell_preferred_season(self, person: Person) -> str:
        if self.random() < self.missing:
            return ""
        return self.style.seasons[SEASONS.index(person.preferred_season)]

    def _consent(self, person: Person, purpose: str) -> str:
        given = consent_given(person.person_id, self.consent_salts[purpose])
        return self.style.yes_no[0 if given else 1]

    def _cell_consent_newsletter(self, person: Person) -> str:
        return self._consent(person, "newsletter")

    def _cell_consent_sms(self, person: Person) -> str:
        return self._consent(person, "sms")

    def _cell_consent_partner_offers(self, person: Person) -> str:
        return self._consent(person, "partner_offers")


def _is_french_landline(phone: str) -> bool:
    return phone.startswith("+33") and phone[3] not in "67"
