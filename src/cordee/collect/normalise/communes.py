"""French communes by postcode and name, from the official list shipped as package data.

The list (npm ``codes-postaux``, see data/LICENCE-codes-postaux.txt) is rebuilt with
scripts/build_communes.py; it is read once, on first use.
"""

from __future__ import annotations

import csv
import gc
import gzip
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from .errors import InvalidValue
from .places import departement_of, postcode, region_of
from .text import lookup_key


@dataclass(frozen=True, slots=True)
class Commune:
    """One (commune, postcode) pair; a commune with several postcodes appears once per code."""

    insee: str
    name: str
    postcode: str
    departement: str
    region: str  # '' for Saint-Pierre-et-Miquelon, which belongs to no region


_Named = tuple[Commune, tuple[str, ...]]  # a commune and the keys of its names


@dataclass(frozen=True)
class _Index:
    communes: tuple[Commune, ...]
    by_postcode: dict[str, tuple[_Named, ...]]
    by_name: dict[str, tuple[Commune, ...]]


# La Poste writes 'ROCHE SUR YON (LA)'; people write 'La Roche-sur-Yon' or 'Roche sur Yon'.
_TRAILING_ARTICLE = re.compile(r"\s*\((la|le|les|l')\)\s*$", re.IGNORECASE)
_ARTICLES = ("la ", "le ", "les ", "l ")
_CEDEX = re.compile(r"(?:^| )cedex(?: [0-9]+)?$")


def city_key(city: str) -> str:
    """The key two spellings of one commune share: no accents, 'St' = 'Saint', no article,
    hyphens as spaces, no 'CEDEX 3' suffix."""
    if "(" in city:
        city = _TRAILING_ARTICLE.sub("", city)
    key = lookup_key(city)
    if "cedex" in key:
        key = _CEDEX.sub("", key)
    return key.partition(" ")[2] if key.startswith(_ARTICLES) else key


@cache
def _index() -> _Index:
    # 35,000 new objects at once would set the cyclic garbage collector off dozens of
    # times for nothing (they are all kept): pausing it halves the load time.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _load()
    finally:
        if was_enabled:
            gc.enable()


def _load() -> _Index:
    communes: list[Commune] = []
    by_postcode: defaultdict[str, list[_Named]] = defaultdict(list)
    by_name: defaultdict[str, list[Commune]] = defaultdict(list)
    regions: dict[str, str] = {}
    data = resources.files("cordee.collect.normalise").joinpath("data/communes.csv.gz")
    with data.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8", newline="") as text:
        rows = csv.reader(text)
        next(rows)  # header
        for insee, name, code, departement, label in rows:
            region = regions.get(departement)
            if region is None:
                region = regions[departement] = region_of(departement) or ""
            commune = Commune(insee, name, code, departement, region)
            keys = (city_key(name), city_key(label)) if label else (city_key(name),)
            communes.append(commune)
            by_postcode[code].append((commune, keys))
            for key in keys:
                by_name[key].append(commune)
    return _Index(
        communes=tuple(communes),
        by_postcode={k: tuple(v) for k, v in by_postcode.items()},
        by_name={k: tuple(v) for k, v in by_name.items()},
    )


def all_communes() -> Iterator[Commune]:
    """Every (commune, postcode) pair, ordered by postcode."""
    return iter(_index().communes)


def communes_for_postcode(code: str) -> list[Commune]:
    """The communes a French postcode serves; [] for an unknown or malformed code."""
    normalised = _postcode_or_none(code)
    named = _index().by_postcode.get(normalised, ()) if normalised else ()
    return [commune for commune, _keys in named]


@lru_cache(maxsize=1 << 14)
def commune_lookup(postcode: str | None, city: str | None) -> Commune | None:
    """The commune a (postcode, city) pair most likely means, or None when unsure.

    Tried in order: postcode and name; the postcode's only commune; the name within the
    postcode's département; the name alone when one commune in France bears it (then
    the pair with the commune's lowest postcode).
    """
    index = _index()
    code = _postcode_or_none(postcode)
    key = city_key(city) if city and len(city) <= 100 else ""
    candidates = index.by_postcode.get(code, ()) if code else ()
    if candidates and key:
        found = _by_name_among(candidates, key)
        if found is not None:
            return found
    if len(candidates) == 1:
        return candidates[0][0]
    if not key:
        return None
    named = index.by_name.get(key, ())
    if code and (departement := departement_of(code)):
        in_departement = tuple(c for c in named if c.departement == departement)
        if _one_commune(in_departement):
            return in_departement[0]
    return named[0] if _one_commune(named) else None


def _by_name_among(candidates: tuple[_Named, ...], key: str) -> Commune | None:
    for commune, keys in candidates:
        if key in keys:
            return commune
    # 'Chamonix' for 'Chamonix-Mont-Blanc': accepted when only one commune starts so.
    prefix = key + " "
    starting = [c for c, keys in candidates if any(k.startswith(prefix) for k in keys)]
    return starting[0] if len(starting) == 1 else None


def _one_commune(communes: tuple[Commune, ...]) -> bool:
    return bool(communes) and all(c.insee == communes[0].insee for c in communes)


def _postcode_or_none(raw: str | None) -> str | None:
    # A lookup is a best effort: a malformed postcode is just a missing one.
    try:
        return postcode(raw)
    except InvalidValue:
        return None
