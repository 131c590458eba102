"""The golden record: derived from source records by survivorship, never typed over them.

For now the rule is simple and explicit: for each field, the most recent non-empty value
wins, and the customer remembers which source record it came from. Identity resolution
will refine it (trust per source and field, completeness, manual corrections).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from cordee.collect.normalise import departement_of, fold
from cordee.customers.models import GOLDEN_FIELDS
from cordee.privacy.crypto import email_index, phone_index

# The customer columns the bulk path writes from the golden values, besides the id.
GOLDEN_COLUMNS = (*GOLDEN_FIELDS, "phone_other")
DERIVED_COLUMNS = (
    "last_name_key",
    "first_name_key",
    "city_key",
    "email_hash",
    "phone_hash",
    "birth_year",
    "departement",
)


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def apply_record(
    golden: dict[str, Any], provenance: dict[str, int], data: dict[str, Any], source_id: int
) -> bool:
    """Overlay one (newer) source record on the golden values. Returns whether anything changed."""
    changed = False
    for field in GOLDEN_FIELDS:
        value = data.get(field)
        if is_empty(value):
            continue
        previous = golden.get("phone") if field == "phone" else None
        if previous and previous != value and golden.get("phone_other") != previous:
            # Keep the previous number as the other phone rather than losing it.
            golden["phone_other"] = previous
            provenance["phone_other"] = provenance.get("phone", source_id)
        if golden.get(field) != value:
            golden[field] = value
            provenance[field] = source_id
            changed = True
        elif field not in provenance:
            provenance[field] = source_id
    return changed


def derived_columns(golden: dict[str, Any]) -> dict[str, Any]:
    """Search keys and coarse attributes computed from the golden values."""
    birth = golden.get("birth_date")
    if isinstance(birth, str) and birth:
        birth_year: int | None = int(birth[:4])
    elif isinstance(birth, dt.date):
        birth_year = birth.year
    else:
        birth_year = None
    postal_code = golden.get("postal_code") or ""
    country = golden.get("country") or ""
    departement = ""
    if postal_code and country in ("", "FR"):
        departement = departement_of(postal_code) or ""
    return {
        "last_name_key": fold(golden.get("last_name") or "")[:100],
        "first_name_key": fold(golden.get("first_name") or "")[:100],
        "city_key": fold(golden.get("city") or "")[:100],
        "email_hash": email_index(golden.get("email") or ""),
        "phone_hash": phone_index(golden.get("phone") or ""),
        "birth_year": birth_year,
        "departement": departement,
    }


def golden_value(field_name: str, value: Any) -> Any:
    """A golden value as its column stores it."""
    if field_name == "interests":
        return value or []
    if field_name in ("birth_date", "children"):
        return value if value not in ("", None) else None
    return value if value is not None else ""


# customer_values() is golden_value() over GOLDEN_COLUMNS, unrolled: it runs once per
# imported line.
_COLUMN_DEFAULTS = tuple((f, golden_value(f, None)) for f in GOLDEN_COLUMNS)
_BIRTH_DATE = GOLDEN_COLUMNS.index("birth_date")
_CHILDREN = GOLDEN_COLUMNS.index("children")
_INTERESTS = GOLDEN_COLUMNS.index("interests")


def customer_values(golden: dict[str, Any]) -> tuple[Any, ...]:
    """The values of GOLDEN_COLUMNS then DERIVED_COLUMNS for these golden values."""
    get = golden.get
    values = [default if (v := get(f)) is None else v for f, default in _COLUMN_DEFAULTS]
    if values[_BIRTH_DATE] == "":
        values[_BIRTH_DATE] = None
    if values[_CHILDREN] == "":
        values[_CHILDREN] = None
    if not values[_INTERESTS]:
        values[_INTERESTS] = []
    derived = derived_columns(golden)
    values.extend([derived[c] for c in DERIVED_COLUMNS])
    return tuple(values)


def first_record_values(data: dict[str, Any]) -> tuple[tuple[Any, ...], tuple[str, ...]]:
    """The customer a record creates on its own: its column values and the fields it provides.

    What apply_record gives from an empty golden record, computed directly. Pure work (no
    database, no source id yet), so a bulk path computes it in its worker processes: most
    new customers of a batch have exactly one record in it.
    """
    get = data.get
    golden = {
        name: value
        for name in GOLDEN_FIELDS
        if (value := get(name))
        or (value is not None and value != "" and value != [] and value != {})
    }
    return customer_values(golden), tuple(golden)


def golden_from_records(
    records: Iterable[tuple[int, dict[str, Any]]],
) -> tuple[dict[str, Any], dict[str, int]]:
    """Recompute a golden record from scratch: records as (source_id, data), oldest first."""
    golden: dict[str, Any] = {}
    provenance: dict[str, int] = {}
    for source_id, data in records:
        apply_record(golden, provenance, data, source_id)
    return golden, provenance
