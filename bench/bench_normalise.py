"""Microseconds per call of each normaliser, on inputs shaped like a partner's file.

    .venv/bin/python bench/bench_normalise.py [--calls 200000]

"distinct" runs every call on a new value with the caches emptied (the worst case);
"file-like" draws values with the repetition a real file has (first names, dates,
countries and towns repeat; e-mails and phones do not). Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from cordee.collect import normalise as n  # noqa: E402

FIRST = [
    "JEAN-LUC",
    "ÉLODIE",
    "marie",
    "Pierre",
    "CAMILLE",
    "lucas",
    "Hélène",
    "NADIA",
    "françois",
    "Zoé",
    "Anaïs",
    "Théo",
]
LAST = ["DUPONT", "de la fontaine", "Martin", "LE GOFF", "o'brien", "VAN DER BERG", "Lefèvre"]
SYLLABLES = ["mar", "tin", "du", "pont", "fèv", "re", "ber", "gé", "ro", "lan", "bois", "reau"]
DOMAINS = ["gmail.com", "orange.fr", "Hotmail.FR", "free.fr", "wanadoo.fr", "exemple.ch"]
COUNTRIES = ["France", "FR", "Allemagne", "Belgique", "UK", "Suisse", "Pays-Bas", "ESP", "usa"]
CIVILITIES = ["M.", "Mme", "Monsieur", "Madame", "Mr", "Mlle"]
LANGUAGES = ["fr", "FR", "fr-FR", "anglais", "de_DE", "Français"]
AREAS = ["14", "45", "38", "29", "55", "61", "78", "89", "70", "99"]  # 01 4x, 04 5x, 06 1x...


def last_name(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return rng.choice(LAST)
    name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
    return name.upper() if rng.random() < 0.6 else name.capitalize()


def phone_number(rng: random.Random) -> str:
    area = rng.choice(AREAS)
    rest = "".join(str(rng.randrange(10)) for _ in range(7))
    style = rng.random()
    if style < 0.5:
        return f"0{area[0]} {area[1]}{rest[0]} {rest[1:3]} {rest[3:5]} {rest[5:]}"
    if style < 0.8:
        return f"0{area}{rest}"
    if style < 0.95:
        return f"+33 {area}{rest}"
    return f"+49 30 {rest}"


def inputs(rng: random.Random, count: int) -> dict[str, list[str]]:
    """Realistic raw values, ``count`` of each, mostly distinct where files have them so."""
    ascii_first = [n.fold(name).replace(" ", "-") for name in FIRST]
    postcodes = [c.postcode for c in n.all_communes()]
    return {
        "email": [
            f" {rng.choice(ascii_first)}.{i}{rng.choice(['', 'X'])}@{rng.choice(DOMAINS)} "
            for i in range(count)
        ],
        "phone": [phone_number(rng) for _ in range(count)],
        "name_first": [rng.choice(FIRST) for _ in range(count)],
        "name_last": [last_name(rng) for _ in range(count)],
        "date": [
            f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1940, 2010)}"
            for _ in range(count)
        ],
        "country": [rng.choice(COUNTRIES) for _ in range(count)],
        "civility": [rng.choice(CIVILITIES) for _ in range(count)],
        "language": [rng.choice(LANGUAGES) for _ in range(count)],
        "postcode": [rng.choice(postcodes).lstrip("0") for _ in range(count)],
    }


def towns(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """(postcode, city) as partners write them: zero lost, capitals, spaces for hyphens;
    a file's customers come from a few thousand towns."""
    communes = list(n.all_communes())
    places = [rng.choice(communes) for _ in range(2000)]
    chosen = (rng.choice(places) for _ in range(count))
    return [(p.postcode.lstrip("0"), p.name.upper().replace("-", " ")) for p in chosen]


def per_call[T](func: Callable[[T], object], values: Sequence[T]) -> float:
    start = time.perf_counter()
    for value in values:
        try:  # noqa: SIM105 (contextlib.suppress would add its own cost to each call)
            func(value)
        except n.InvalidValue:
            pass
    return (time.perf_counter() - start) / len(values) * 1e6


def clear_caches() -> None:
    """Empty the per-value caches (not the tables built once)."""
    for cached in (
        n.text.fold,
        n.text.lookup_key,
        n.text._person_name,
        n.dates._parse,
        n.codes.country,
        n.codes.language,
        n.places._french_postcode,
        n.places.departement_of,
        n.communes.commune_lookup,
    ):
        cached.cache_clear()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200_000)
    args = parser.parse_args()
    rng = random.Random(42)
    data = inputs(rng, args.calls)
    pairs = towns(rng, args.calls)
    n.commune_lookup("74400", "Chamonix")  # load the tables once, outside the timings
    n.country("France")
    n.language("fr")

    # (name, function, values, calls per file line)
    cases: list[tuple[str, Callable[[str], object], list[str], int]] = [
        ("email", n.email, data["email"], 1),
        ("phone", n.phone, data["phone"], 1),
        ("phone_kind", n.phone_kind, ["+33612345678", "+33450123456"] * (args.calls // 2), 1),
        ("person_name (first)", n.person_name, data["name_first"], 1),
        ("person_name (last)", n.person_name, data["name_last"], 1),
        ("fold (last names)", n.fold, data["name_last"], 2),
        ("date", n.date, data["date"], 0),
        ("birth_date", n.birth_date, data["date"], 1),
        ("country", n.country, data["country"], 1),
        ("civility", n.civility, data["civility"], 1),
        ("gender", n.gender, ["F", "M", "Homme", "Femme"] * (args.calls // 4), 1),
        ("language", n.language, data["language"], 1),
        ("postcode", n.postcode, data["postcode"], 1),
    ]
    print(f"{'function':<24}{'distinct µs':>12}{'file-like µs':>14}")
    total = 0.0
    for name, func, values, per_line in cases:
        unique = list(dict.fromkeys(values))
        clear_caches()
        # A few distinct values cannot give a steady figure: those are all cache hits.
        distinct = f"{per_call(func, unique):.2f}" if len(unique) >= 1000 else "-"
        clear_caches()
        typical = per_call(func, values)
        total += typical * per_line
        print(f"{name:<24}{distinct:>12}{typical:>14.2f}")

    def lookup(pair: tuple[str, str]) -> object:
        return n.commune_lookup(*pair)

    clear_caches()
    lookup_distinct = per_call(lookup, list(dict.fromkeys(pairs)))
    clear_caches()
    typical = per_call(lookup, pairs)
    total += typical
    print(f"{'commune_lookup':<24}{lookup_distinct:>12.2f}{typical:>14.2f}")
    print(f"{'one line, all fields':<24}{'':>12}{total:>14.2f}")
    start = time.perf_counter()
    n.communes._index.cache_clear()
    n.communes._index()
    print(f"commune list load: {(time.perf_counter() - start) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
