"""Scoring one pair in Python with the stored model's weights, the way Splink would.

For the single incoming record (desk, API, form): Splink's own ``predict`` costs hundreds of
milliseconds to set up, too slow for a desk. The comparison levels below mirror
``model._comparisons`` level for level (same order, same rules); the weights are the trained
model's m and u probabilities, with the term-frequency adjustment of exact names and
postcodes from the frequencies the model stored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["comparison_levels", "jaro_winkler", "pair_probability"]


def jaro_winkler(a: str, b: str) -> float:
    """Jaro-Winkler similarity (prefix scale 0.1, up to 4 characters), as DuckDB computes it."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    window = max(max(len(a), len(b)) // 2 - 1, 0)
    a_flags = [False] * len(a)
    b_flags = [False] * len(b)
    matches = 0
    for i, char in enumerate(a):
        for j in range(max(0, i - window), min(len(b), i + window + 1)):
            if not b_flags[j] and b[j] == char:
                a_flags[i] = b_flags[j] = True
                matches += 1
                break
    if not matches:
        return 0.0
    a_matched = [c for c, f in zip(a, a_flags, strict=True) if f]
    b_matched = [c for c, f in zip(b, b_flags, strict=True) if f]
    transpositions = sum(x != y for x, y in zip(a_matched, b_matched, strict=True)) / 2
    jaro = (matches / len(a) + matches / len(b) + (matches - transpositions) / matches) / 3
    prefix = 0
    for x, y in zip(a[:4], b[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return jaro + prefix * 0.1 * (1 - jaro)


def _name_level(field: str, left: Mapping[str, Any], right: Mapping[str, Any]) -> int:
    a, b = left.get(field), right.get(field)
    if a is None or b is None:
        return 0
    if a == b:
        return 1
    if left.get("first_name") == right.get("last_name") and left.get("last_name") == right.get(
        "first_name"
    ):
        return 2
    similarity = jaro_winkler(a, b)
    return 3 if similarity >= 0.95 else 4 if similarity >= 0.88 else 5


def _birth_level(a: str | None, b: str | None) -> int:
    if a is None or b is None:
        return 0
    if a == b:
        return 1
    ya, ma, da = a[:4], a[5:7], a[8:10]
    yb, mb, db = b[:4], b[5:7], b[8:10]
    if ya == yb and ma == db and da == mb:
        return 2
    if (ya == yb) + (ma == mb) + (da == db) >= 2:
        return 3
    return 4


def _exact_level(a: Any, b: Any) -> int:
    if a is None or b is None:
        return 0
    return 1 if a == b else 2


def _place_level(left: Mapping[str, Any], right: Mapping[str, Any]) -> int:
    pa, pb = left.get("postcode"), right.get("postcode")
    ca, cb = left.get("commune"), right.get("commune")
    if (pa is None or pb is None) and (ca is None or cb is None):
        return 0
    if pa is not None and pa == pb:
        return 1
    if ca is not None and ca == cb:
        return 2
    if pa is not None and pb is not None and pa[:2] == pb[:2]:
        return 3
    return 4


def _address_level(left: Mapping[str, Any], right: Mapping[str, Any]) -> int:
    a, b = left.get("address"), right.get("address")
    if a is None or b is None:
        return 0
    if a == b:
        return 1
    shared = len(set(left.get("address_tokens") or ()) & set(right.get("address_tokens") or ()))
    return 2 if shared >= 2 else 3 if shared >= 1 else 4


def comparison_levels(left: Mapping[str, Any], right: Mapping[str, Any]) -> dict[str, int]:
    """The level of each comparison (its index in the model's list; 0 is "null")."""
    return {
        "first_name": _name_level("first_name", left, right),
        "last_name": _name_level("last_name", left, right),
        "birth_date": _birth_level(left.get("birth_date"), right.get("birth_date")),
        "email": _exact_level(left.get("email"), right.get("email")),
        "phone": _exact_level(left.get("phone"), right.get("phone")),
        "place": _place_level(left, right),
        "address": _address_level(left, right),
    }


_TF_COLUMN = {"first_name": "first_name", "last_name": "last_name", "place": "postcode"}


_NOT_OBSERVED = "level not observed in training dataset"


def _default_m(levels: int, index: int) -> float:
    """Splink's default m for a level left untrained: 0.95 for the first (exact) level, the
    rest shared among the others."""
    return 0.95 if index == 1 else 0.05 / (levels - 1)


def _probability(level: dict[str, Any], name: str, default: float | None) -> float | None:
    value = level.get(name)
    if value == _NOT_OBSERVED:
        return 1e-6
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return default
    return float(value)


_FLOORS: dict[int, tuple[Mapping[str, Any], dict[str, float]]] = {}


def _floors(model: Mapping[str, Any]) -> dict[str, float]:
    """The rarest frequency of each column (what an unseen value counts), once per model."""
    from cordee.customers.matching.model import TF_KEY

    cached = _FLOORS.get(id(model))
    if cached is not None and cached[0] is model:
        return cached[1]
    frequencies: Mapping[str, Mapping[str, float]] = model.get(TF_KEY) or {}
    floors = {column: min(known.values()) for column, known in frequencies.items() if known}
    _FLOORS.clear()  # one model at a time in practice
    _FLOORS[id(model)] = (model, floors)
    return floors


def pair_probability(
    model: Mapping[str, Any], left: Mapping[str, Any], right: Mapping[str, Any]
) -> tuple[float, float]:
    """(match weight, match probability) of two feature rows under the trained model."""
    from cordee.customers.matching.model import TF_KEY

    prior = float(model.get("probability_two_random_records_match", 1e-4))
    weight = math.log2(prior / (1 - prior))
    levels = comparison_levels(left, right)
    frequencies: Mapping[str, Mapping[str, float]] = model.get(TF_KEY) or {}
    floors = _floors(model)
    for comparison in model["comparisons"]:
        name = comparison["output_column_name"]
        index = levels.get(name, 0)
        if index == 0:
            continue
        all_levels = comparison["comparison_levels"]
        level = all_levels[index]
        counted = sum(1 for one in all_levels if not one.get("is_null_level"))
        m = _probability(level, "m_probability", _default_m(counted, index))
        u = _probability(level, "u_probability", None)
        if m is None or u is None or m <= 0 or u <= 0:
            continue
        weight += math.log2(m / u)
        column = _TF_COLUMN.get(name)
        if index == 1 and column and level.get("tf_adjustment_column") and column in frequencies:
            known = frequencies[column]
            value = left.get(column)
            tf = known.get(value, floors.get(column, u)) if value is not None else u
            weight += math.log2(u / max(tf, 1e-12))
    probability = 2**weight / (1 + 2**weight)
    return weight, probability
