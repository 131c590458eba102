"""Where the valley's visitors come from, and the numbers and mailboxes they use there."""

from __future__ import annotations

import math
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from cordee.collect.normalise import Commune


@dataclass(frozen=True, slots=True)
class Place:
    country: str  # ISO 3166-1 alpha-2
    postcode: str
    city: str
    language: str  # ISO 639-1, the language a household from there speaks
    landline_zone: str  # French landlines start with the zone's digit; "" abroad


# Share of visitors by country of residence: a French Alpine valley, near Switzerland.
COUNTRIES: dict[str, float] = {
    "FR": 70,
    "CH": 6,
    "BE": 6,
    "DE": 4,
    "NL": 4,
    "GB": 4,
    "IT": 3,
    "ES": 1.5,
    "US": 1.5,
}

# Real cities with one of their real postcodes: (postcode, city, language, weight).
FOREIGN_CITIES: dict[str, tuple[tuple[str, str, str, float], ...]] = {
    "BE": (
        ("1000", "Bruxelles", "fr", 5),
        ("1050", "Ixelles", "fr", 2),
        ("4000", "Liège", "fr", 2),
        ("5000", "Namur", "fr", 1),
        ("6000", "Charleroi", "fr", 1),
        ("1300", "Wavre", "fr", 1),
        ("2000", "Antwerpen", "nl", 3),
        ("9000", "Gent", "nl", 2),
        ("3000", "Leuven", "nl", 1.5),
        ("8000", "Brugge", "nl", 1),
        ("3500", "Hasselt", "nl", 1),
        ("2800", "Mechelen", "nl", 1),
    ),
    "CH": (
        ("1201", "Genève", "fr", 5),
        ("1003", "Lausanne", "fr", 3),
        ("2000", "Neuchâtel", "fr", 1),
        ("1700", "Fribourg", "fr", 1),
        ("1950", "Sion", "fr", 1),
        ("1820", "Montreux", "fr", 1),
        ("8001", "Zürich", "de", 4),
        ("3011", "Bern", "de", 2),
        ("4051", "Basel", "de", 2),
        ("6003", "Luzern", "de", 1),
        ("8400", "Winterthur", "de", 1),
        ("6900", "Lugano", "it", 1),
    ),
    "DE": (
        ("10115", "Berlin", "de", 4),
        ("80331", "München", "de", 4),
        ("20095", "Hamburg", "de", 2),
        ("50667", "Köln", "de", 2),
        ("60311", "Frankfurt am Main", "de", 2),
        ("70173", "Stuttgart", "de", 2),
        ("40213", "Düsseldorf", "de", 1),
        ("79098", "Freiburg im Breisgau", "de", 1.5),
        ("04109", "Leipzig", "de", 1),
        ("01067", "Dresden", "de", 1),
        ("90403", "Nürnberg", "de", 1),
    ),
    "NL": (
        ("1017 CT", "Amsterdam", "nl", 4),
        ("3011 AD", "Rotterdam", "nl", 2),
        ("2511 CV", "Den Haag", "nl", 2),
        ("3511 LX", "Utrecht", "nl", 2),
        ("5611 EM", "Eindhoven", "nl", 1),
        ("9711 LM", "Groningen", "nl", 1),
        ("2011 RD", "Haarlem", "nl", 1),
        ("2311 EZ", "Leiden", "nl", 1),
    ),
    "GB": (
        ("SW7 2AZ", "London", "en", 3),
        ("N1 9GU", "London", "en", 2),
        ("SE1 7PB", "London", "en", 2),
        ("M1 1AE", "Manchester", "en", 1.5),
        ("BS1 4DJ", "Bristol", "en", 1),
        ("LS1 4DY", "Leeds", "en", 1),
        ("EH1 1YZ", "Edinburgh", "en", 1),
        ("OX1 2JD", "Oxford", "en", 1),
        ("CB2 1TN", "Cambridge", "en", 1),
    ),
    "IT": (
        ("20121", "Milano", "it", 4),
        ("10121", "Torino", "it", 3),
        ("00184", "Roma", "it", 2),
        ("16121", "Genova", "it", 1),
        ("50122", "Firenze", "it", 1),
        ("40121", "Bologna", "it", 1),
        ("11100", "Aosta", "it", 1),
    ),
    "ES": (
        ("28013", "Madrid", "es", 3),
        ("08001", "Barcelona", "es", 3),
        ("46001", "Valencia", "es", 1),
        ("41001", "Sevilla", "es", 1),
        ("48001", "Bilbao", "es", 1),
        ("50001", "Zaragoza", "es", 1),
    ),
    "US": (
        ("10001", "New York", "en", 4),
        ("02108", "Boston", "en", 2),
        ("94103", "San Francisco", "en", 2),
        ("60601", "Chicago", "en", 1),
        ("98101", "Seattle", "en", 1),
        ("80202", "Denver", "en", 1),
    ),
}

# Approximate population of each metropolitan département, in thousands. Overseas
# départements are left out: few of their residents holiday in the Alps, and their phone
# numbers follow other plans.
_POPULATION = """
01:660 02:530 03:335 04:165 05:140 06:1100 07:330 08:270 09:155 10:310 11:375 12:280
13:2050 14:700 15:145 16:350 17:660 18:300 19:240 2A:160 2B:180 21:535 22:600 23:115
24:415 25:545 26:520 27:600 28:430 29:920 30:750 31:1430 32:190 33:1650 34:1200 35:1100
36:220 37:610 38:1270 39:260 40:420 41:330 42:765 43:228 44:1450 45:680 46:175 47:330
48:77 49:820 50:495 51:565 52:172 53:307 54:733 55:184 56:760 57:1045 58:203 59:2610
60:830 61:280 62:1460 63:665 64:690 65:230 66:480 67:1145 68:765 69:1880 70:235 71:550
72:565 73:440 74:830 75:2150 76:1255 77:1420 78:1450 79:375 80:570 81:390 82:260
83:1080 84:560 85:690 86:440 87:372 88:362 89:335 90:140 91:1300 92:1625 93:1660
94:1410 95:1250
"""
DEPARTEMENT_POPULATION: dict[str, int] = {
    code: int(count) for code, count in (pair.split(":") for pair in _POPULATION.split())
}

# How much more (or less) than average the people of a département holiday here: the
# Paris region and the big cities ski, the neighbouring départements come for the day.
_AFFINITY_DEFAULT = 0.8
DEPARTEMENT_AFFINITY: dict[str, float] = {
    **dict.fromkeys(("75", "77", "78", "91", "92", "93", "94", "95"), 1.6),
    **dict.fromkeys(("73", "74", "38"), 3.0),
    **dict.fromkeys(("69", "01"), 2.5),
    **dict.fromkeys(("42", "26", "05"), 1.8),
    **dict.fromkeys(("07", "04", "25", "39"), 1.4),
    **dict.fromkeys(("13", "21", "63", "71", "67"), 1.3),
    **dict.fromkeys(("06", "31", "33", "34", "35", "44", "59"), 1.1),
}

# Big cities draw a share of their département's visitors whatever the number of its
# villages (names compared without accents or case; arrondissements included).
BIG_CITIES = frozenset(
    {
        "paris", "lyon", "marseille", "toulouse", "nice", "nantes", "strasbourg",
        "montpellier", "bordeaux", "lille", "rennes", "grenoble", "annecy", "chambery",
        "saint-etienne", "dijon", "clermont-ferrand", "reims", "le havre", "toulon", "angers",
        "tours", "orleans", "metz", "nancy", "rouen", "caen", "besancon", "villeurbanne",
        "boulogne-billancourt", "versailles", "aix-en-provence", "valence", "limoges",
        "perpignan", "brest", "mulhouse", "amiens",
    }
)  # fmt: skip
_BIG_CITY_SHARE = 0.35

# French landline numbers start with the digit of one of five zones.
_ZONES = {
    "1": "75 77 78 91 92 93 94 95",
    "3": "02 08 10 21 25 39 51 52 54 55 57 58 59 60 62 67 68 70 71 80 88 89 90",
    "4": "01 03 04 05 06 07 11 13 15 2A 2B 26 30 34 38 42 43 48 63 66 69 73 74 83 84",
    "5": "09 12 16 17 19 23 24 31 32 33 40 46 47 64 65 79 81 82 86 87",
}
LANDLINE_ZONE: dict[str, str] = {
    departement: zone for zone, codes in _ZONES.items() for departement in codes.split()
}
_ZONE_DEFAULT = "2"  # the north-west


def plain(text: str) -> str:
    """Lower case without accents: how names are compared, not how they are shown."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _departement_code(raw: str) -> str:
    code = raw.strip().upper()
    return code.zfill(2) if code.isdigit() else code


def _arrondissement_of(name: str) -> str | None:
    """'Paris 11e Arrondissement' -> 'Paris': nobody writes the arrondissement as a town."""
    head, _, tail = name.partition(" ")
    if tail[:1].isdigit() and plain(head) in BIG_CITIES:
        return head
    return None


def _is_big_city(name: str) -> bool:
    return plain(name) in BIG_CITIES or _arrondissement_of(name) is not None


def french_places(communes: Iterable[Commune]) -> tuple[list[Place], list[float]]:
    """Each (commune, postcode) of metropolitan France with its weight as a visitor origin.

    A commune with several postcodes is a large one: listing it once per postcode already
    gives it more weight than a village.
    """
    by_departement: dict[str, list[Commune]] = {}
    for commune in communes:
        code = _departement_code(commune.departement)
        if code in DEPARTEMENT_POPULATION:
            by_departement.setdefault(code, []).append(commune)
    places: list[Place] = []
    weights: list[float] = []
    for code, rows in sorted(by_departement.items()):
        total = DEPARTEMENT_POPULATION[code] * DEPARTEMENT_AFFINITY.get(code, _AFFINITY_DEFAULT)
        big = [_is_big_city(row.name) for row in rows]
        city_share = _BIG_CITY_SHARE if any(big) else 0.0
        per_row = total * (1 - city_share) / len(rows)
        per_city = total * city_share / max(1, sum(big))
        zone = LANDLINE_ZONE.get(code, _ZONE_DEFAULT)
        for row, is_big in zip(rows, big, strict=True):
            city = _arrondissement_of(row.name) or row.name
            places.append(Place("FR", row.postcode, city, "fr", zone))
            weights.append(per_row + (per_city if is_big else 0.0))
    return places, weights


def origins(communes: Iterable[Commune]) -> tuple[list[Place], list[float]]:
    """Every place a visitor may come from, weighted by the country's share of visitors
    and the place's share of its country."""
    places, weights = french_places(communes)
    french_total = sum(weights)
    weights = [weight * COUNTRIES["FR"] / french_total for weight in weights]
    for country, rows in FOREIGN_CITIES.items():
        total = sum(row[3] for row in rows)
        for postcode, city, language, weight in rows:
            places.append(Place(country, postcode, city, language, ""))
            weights.append(weight * COUNTRIES[country] / total)
    return places, weights


# Mailbox providers by country, with rough market shares.
EMAIL_PROVIDERS: dict[str, dict[str, float]] = {
    "FR": {
        "gmail.com": 30, "orange.fr": 15, "hotmail.fr": 9, "free.fr": 8, "yahoo.fr": 6,
        "wanadoo.fr": 6, "laposte.net": 5, "sfr.fr": 5, "icloud.com": 5, "outlook.fr": 4,
        "live.fr": 3, "outlook.com": 2, "bbox.fr": 1, "neuf.fr": 1,
    },
    "BE": {
        "gmail.com": 35, "telenet.be": 15, "hotmail.com": 15, "skynet.be": 10,
        "outlook.be": 5, "proximus.be": 5, "icloud.com": 5,
    },
    "CH": {
        "gmail.com": 35, "bluewin.ch": 30, "hotmail.ch": 10, "gmx.ch": 10, "icloud.com": 5,
        "sunrise.ch": 5,
    },
    "DE": {
        "gmx.de": 25, "web.de": 25, "gmail.com": 25, "t-online.de": 15, "outlook.de": 5,
        "icloud.com": 5,
    },
    "NL": {
        "gmail.com": 35, "hotmail.com": 20, "ziggo.nl": 15, "kpnmail.nl": 10,
        "outlook.com": 10, "icloud.com": 5,
    },
    "GB": {
        "gmail.com": 35, "hotmail.co.uk": 15, "outlook.com": 10, "btinternet.com": 10,
        "yahoo.co.uk": 10, "icloud.com": 10, "sky.com": 5,
    },
    "IT": {
        "gmail.com": 40, "libero.it": 20, "hotmail.it": 10, "yahoo.it": 10,
        "virgilio.it": 10, "outlook.it": 5,
    },
    "ES": {
        "gmail.com": 45, "hotmail.es": 20, "yahoo.es": 10, "outlook.es": 10,
        "telefonica.net": 5,
    },
    "US": {
        "gmail.com": 45, "yahoo.com": 15, "icloud.com": 15, "outlook.com": 10, "aol.com": 5,
        "hotmail.com": 5,
    },
}  # fmt: skip


class NumberPlan:
    """Valid numbers of one country and kind: a prefix, then free digits."""

    __slots__ = ("capacity", "country_code", "digits", "multiplier", "prefixes", "span")

    def __init__(self, country_code: str, prefixes: tuple[str, ...], digits: int) -> None:
        self.country_code = country_code
        self.prefixes = prefixes
        self.digits = digits
        self.span = 10**digits
        self.capacity = len(prefixes) * self.span
        # Multiplying by a number prime to the capacity, modulo the capacity, is a bijection:
        # distinct keys get distinct numbers that still look random. The multiplier differs
        # per plan, so that a person's mobile and a household's landline share no digits.
        multiplier = 0x9E3779B97F4A7C15 + zlib.crc32(" ".join(prefixes).encode()) * 2_654_435_761
        while math.gcd(multiplier, self.capacity) != 1:
            multiplier += 1
        self.multiplier = multiplier

    def number(self, key: int) -> str:
        """The E.164 number of `key`, distinct for every key below the plan's capacity."""
        slot = (key * self.multiplier + 7_919) % self.capacity
        span = self.span
        return f"+{self.country_code}{self.prefixes[slot // span]}{slot % span:0{self.digits}d}"


def _range(first: int, last: int) -> tuple[str, ...]:
    return tuple(str(prefix) for prefix in range(first, last + 1))


MOBILE_PLANS: dict[str, NumberPlan] = {
    "FR": NumberPlan("33", (*_range(60, 62), *_range(64, 68), *_range(73, 78)), 7),
    "BE": NumberPlan("32", _range(470, 499), 6),
    "CH": NumberPlan("41", _range(76, 79), 7),
    "DE": NumberPlan("49", ("160", "162", "163", *_range(170, 179)), 7),
    "NL": NumberPlan("31", (*_range(61, 65), "68"), 7),
    "GB": NumberPlan("44", ("740", "741", "742", "743", "744", "746", "747", "748", "749"), 7),
    "IT": NumberPlan("39", ("320", "328", "333", "335", "338", "340", "347", "348", "349",
                            "366", "380", "388", "389", "392", "393"), 7),
    "ES": NumberPlan("34", _range(60, 69), 7),
    # An American exchange never starts with 0 or 1.
    "US": NumberPlan("1", tuple(f"{area}{first}" for area in ("212", "646", "617", "415",
                                "312", "206", "303") for first in range(2, 10)), 6),
}  # fmt: skip

LANDLINE_PLANS: dict[str, NumberPlan] = {
    "1": NumberPlan("33", _range(10, 19), 7),
    "2": NumberPlan("33", (*_range(20, 25), *_range(27, 29)), 7),
    "3": NumberPlan("33", _range(30, 39), 7),
    "4": NumberPlan("33", _range(41, 49), 7),
    "5": NumberPlan("33", _range(50, 58), 7),
}
