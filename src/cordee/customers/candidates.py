"""One incoming record against the whole base: the likely existing customers (issue 3).

For the desk, the API and the forms, before a duplicate is created. Candidates come from
SQL on the customers' indexed keys (e-mail and phone keyed hashes, folded surname with the
first name or its first two letters, birth date with the postcode), a handful of index
range scans;
each is then scored in Python with the stored model's weights
(:mod:`cordee.customers.matching.score`). Without a trained model only the exact e-mail and
phone keys count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.db.models import Q, QuerySet

from cordee.collect.normalise import fold
from cordee.customers.matching.evidence import pair_evidence
from cordee.customers.matching.features import (
    clean_birth_date,
    clean_card_number,
    clean_name,
    feature_row,
    is_placeholder_key,
)
from cordee.customers.models import Customer
from cordee.privacy.crypto import email_index, phone_index

__all__ = ["Candidate", "customer_candidates"]

# At most this many customers scored: a common name in a big town must not flood the scorer.
CANDIDATES = 100
EXACT_CANDIDATES = 25
# Below this probability a candidate is not worth a warning.
MIN_PROBABILITY = 0.5
_COMPARED = (
    "first_name",
    "last_name",
    "birth_date",
    "email",
    "phone",
    "postal_code",
    "city",
    "address_line1",
)


@dataclass(frozen=True, slots=True)
class Candidate:
    customer_id: int
    probability: float | None  # None without a trained model (exact key only)
    evidence: dict[str, str]
    # Why the two are two people sharing a contact detail (the household rule), or None.
    household: str | None = None


@lru_cache(maxsize=4)
def _model_at(path: Path, mtime: float) -> dict[str, Any]:
    from cordee.customers.matching.model import load_model

    return load_model(path)


def stored_model() -> dict[str, Any] | None:
    """The trained model, read once per change of its file; None before the first training."""
    from cordee.customers.matching.model import default_model_path

    path = default_model_path()
    try:
        return _model_at(path, path.stat().st_mtime)
    except FileNotFoundError:
        return None


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


def _lookups(
    data: Mapping[str, Any], exact_only: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The index look-ups worth running for this record (placeholders run none): the exact
    keys, then the broader ones."""
    email, phone = _text(data, "email"), _text(data, "phone")
    bad_email, bad_phone = is_placeholder_key(email, phone)
    exact: list[dict[str, Any]] = []
    lookups: list[dict[str, Any]] = []
    if email and not bad_email:
        exact.append({"email_hash": email_index(email)})
    if phone and not bad_phone:
        exact.append({"phone_hash": phone_index(phone)})
    if not exact_only:
        last = fold(_text(data, "last_name"))[:100]
        first = fold(_text(data, "first_name"))[:100]
        birth = data.get("birth_date")
        birth_date: dt.date | None = None
        if isinstance(birth, dt.date):
            birth_date = birth
        elif isinstance(birth, str) and birth:
            try:
                birth_date = dt.date.fromisoformat(birth[:10])
            except ValueError:
                birth_date = None
        postcode = _text(data, "postal_code")
        if last and first:
            # Range scans of the (surname, first name) index: the first name's first three
            # letters (a typo further on), then the two names swapped.
            prefix = first[:3]
            after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
            lookups.append(
                {"last_name_key": last, "first_name_key__gte": prefix, "first_name_key__lt": after}
            )
            lookups.append({"last_name_key": first, "first_name_key": last})
        if birth_date and postcode:
            lookups.append({"birth_date": birth_date, "postal_code": postcode})
    return exact, lookups


def _rows(
    base: QuerySet[Customer], lookups: list[dict[str, Any]], limit: int, skip: set[int]
) -> list[dict[str, Any]]:
    if not lookups:
        return []
    # One round trip per kind of key: PostgreSQL ORs the index scans (a bitmap per key).
    condition = Q()
    for lookup in lookups:
        condition |= Q(**lookup)
    found = base.filter(condition).values("pk", *_COMPARED)[: limit + len(skip)]
    return [row for row in found if row["pk"] not in skip][:limit]


def _card_holder(incoming: Mapping[str, Any], base: QuerySet[Customer]) -> dict[str, Any] | None:
    """The holder of the loyalty card the record carries, when the card was issued, the
    holder is in ``base`` and neither first name nor birth date contradicts: that customer
    is the record's person, whatever the rest says (a deterministic key)."""
    from cordee.customers.matching.resolve import birth_dates_compatible, first_names_compatible

    card = clean_card_number(incoming.get("card_number"))
    if card is None:
        return None
    row = base.filter(loyalty_card__number=card).values("pk", *_COMPARED).first()
    if row is None:
        return None
    birth = row["birth_date"]
    fits = first_names_compatible(
        clean_name(incoming.get("first_name")), clean_name(row["first_name"])
    ) and birth_dates_compatible(
        clean_birth_date(incoming.get("birth_date")),
        clean_birth_date(birth.isoformat() if isinstance(birth, dt.date) else birth),
    )
    return row if fits else None


def _as_data(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def customer_candidates(
    incoming: Mapping[str, Any],
    *,
    base: QuerySet[Customer],
    limit: int = 5,
    min_probability: float = MIN_PROBABILITY,
) -> list[Candidate]:
    """The customers of ``base`` the incoming record most likely is, best first.

    ``incoming`` is normalised data (the canonical field names, as a source record's
    ``data``); ``base`` is what the caller may see (``customers_visible_to``), minus the
    record's own customer if it already has one.
    """
    from cordee.customers.matching.resolve import is_household_pair
    from cordee.customers.matching.score import pair_probability

    model = stored_model()
    holder = _card_holder(incoming, base)
    exact, broad = _lookups(incoming, exact_only=model is None)
    rows = _rows(base, exact, EXACT_CANDIDATES, set())
    rows += _rows(base, broad, CANDIDATES, {row["pk"] for row in rows})
    mine = feature_row(incoming)
    scored = []
    if holder is not None:
        data = {k: _as_data(v) for k, v in holder.items() if k != "pk"}
        evidence = pair_evidence(incoming, data) | {"loyalty_card": "same"}
        scored.append(Candidate(holder["pk"], 1.0, evidence))
        rows = [row for row in rows if row["pk"] != holder["pk"]]
    for row in rows:
        data = {k: _as_data(v) for k, v in row.items() if k != "pk"}
        probability: float | None = None
        theirs = feature_row(data)
        if model is not None:
            probability = pair_probability(model, mine, theirs)[1]
            if probability < min_probability:
                continue
        household = is_household_pair(mine, theirs)
        scored.append(Candidate(row["pk"], probability, pair_evidence(incoming, data), household))
    scored.sort(key=lambda c: -(c.probability if c.probability is not None else 1.0))
    return scored[:limit]
