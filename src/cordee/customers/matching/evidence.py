"""The evidence of a pair, field by field, as a person reads it: same, close, different.

Stored with each merge and each pair to review, and shown beside the score. Verdicts only,
never the values: the customers' own pages show those to whoever may see them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cordee.customers.matching.features import (
    clean_birth_date,
    clean_email,
    clean_name,
    clean_phone,
)
from cordee.customers.matching.resolve import birth_dates_compatible, first_names_compatible

__all__ = ["EVIDENCE_FIELDS", "SAME", "CLOSE", "DIFFERENT", "MISSING", "pair_evidence"]

SAME, CLOSE, DIFFERENT, MISSING = "same", "close", "different", "missing"
# The fields compared, in the order the review page shows them.
EVIDENCE_FIELDS = (
    "first_name",
    "last_name",
    "birth_date",
    "email",
    "phone",
    "address_line1",
    "postal_code",
    "city",
)


def _words(value: object) -> set[str]:
    folded = clean_name(value)
    return set(folded.split()) if folded else set()


def _verdict(field: str, left: Mapping[str, Any], right: Mapping[str, Any]) -> str:
    a, b = left.get(field), right.get(field)
    if field in ("first_name", "last_name", "city"):
        x, y = clean_name(a), clean_name(b)
        if x is None or y is None:
            return MISSING
        if x == y:
            return SAME
        other = "last_name" if field == "first_name" else "first_name"
        if field != "city" and x == clean_name(right.get(other)):
            return CLOSE  # first and last name swapped
        return CLOSE if first_names_compatible(x, y) else DIFFERENT
    if field == "birth_date":
        x, y = clean_birth_date(a), clean_birth_date(b)
        if x is None or y is None:
            return MISSING
        return SAME if x == y else CLOSE if birth_dates_compatible(x, y) else DIFFERENT
    if field in ("email", "phone"):
        clean = clean_email if field == "email" else clean_phone
        x, y = clean(a), clean(b)
        if x is None or y is None:
            return MISSING
        return SAME if x == y else DIFFERENT
    if field == "address_line1":
        wx, wy = _words(a), _words(b)
        if not wx or not wy:
            return MISSING
        return SAME if wx == wy else CLOSE if len(wx & wy) >= 2 else DIFFERENT
    x, y = str(a or "").strip(), str(b or "").strip()
    if not x or not y:
        return MISSING
    return SAME if x == y else DIFFERENT


def pair_evidence(left: Mapping[str, Any], right: Mapping[str, Any]) -> dict[str, str]:
    """``{field: verdict}`` for two records' normalised data (or two golden records)."""
    return {field: _verdict(field, left, right) for field in EVIDENCE_FIELDS}
