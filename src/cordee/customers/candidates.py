"""One incoming record against the whole base: the likely existing customers (issue 3).

For the desk, the API and the forms, before a duplicate is created. Candidates come from
SQL on the customers' indexed keys (e-mail and phone keyed hashes, folded surname with the
first name or the birth year, postcode with the birth date), a handful of index look-ups;
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

from django.db.models import QuerySet

from cordee.collect.normalise import fold
from cordee.customers.matching.evidence import pair_evidence
from cordee.customers.matching.features import SourceInput, build_features, is_placeholder_key
from cordee.customers.models import GOLDEN_FIELDS, Customer
from cordee.privacy.crypto import email_index, phone_index

__all__ = ["Candidate", "customer_candidates"]

# At most this many customers per key: a common name in a big town must not flood the scorer.
PER_KEY = 25
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


def _candidate_ids(
    data: Mapping[str, Any], base: QuerySet[Customer], exact_only: bool
) -> list[int]:
    email, phone = _text(data, "email"), _text(data, "phone")
    bad_email, bad_phone = is_placeholder_key(email, phone)
    lookups: list[dict[str, Any]] = []
    if email and not bad_email:
        lookups.append({"email_hash": email_index(email)})
    if phone and not bad_phone:
        lookups.append({"phone_hash": phone_index(phone)})
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
            lookups.append({"last_name_key": last, "first_name_key": first})
            lookups.append({"last_name_key": first, "first_name_key": last})  # swapped
        if last and birth_date:
            lookups.append({"last_name_key": last, "birth_year": birth_date.year})
        if birth_date and postcode:
            lookups.append({"postal_code": postcode, "birth_date": birth_date})
    found: dict[int, None] = {}
    for lookup in lookups:
        for pk in base.filter(**lookup).values_list("pk", flat=True)[:PER_KEY]:
            found[pk] = None
    return list(found)


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
    from cordee.customers.matching.score import pair_probability

    model = stored_model()
    ids = _candidate_ids(incoming, base, exact_only=model is None)
    if not ids:
        return []
    rows = list(Customer.objects.filter(pk__in=ids).values("pk", *GOLDEN_FIELDS))
    golden = [{k: _as_data(v) for k, v in row.items() if k in _COMPARED} for row in rows]
    features = build_features(
        [SourceInput("incoming", "", incoming)]
        + [
            SourceInput("base", str(row["pk"]), data)
            for row, data in zip(rows, golden, strict=True)
        ],
        max_sharing=len(rows) + 1,  # no sharing rule among one record's candidates
    ).to_pylist()
    mine = features[0]
    scored = []
    for row, data, theirs in zip(rows, golden, features[1:], strict=True):
        probability: float | None = None
        if model is not None:
            probability = pair_probability(model, mine, theirs)[1]
            if probability < min_probability:
                continue
        scored.append(Candidate(row["pk"], probability, pair_evidence(incoming, data)))
    scored.sort(key=lambda c: -(c.probability if c.probability is not None else 1.0))
    return scored[:limit]
