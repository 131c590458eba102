"""The golden record: derived from source records by survivorship, never typed over them.

Survivorship, field by field (:func:`survivorship`), among the customer's source records
that give the field a value:

1. a manual correction wins (a source record whose data says ``"correction": true``,
   written by :func:`cordee.customers.merging.customer_correct`);
2. then the source most trusted for that field (:data:`FIELD_TRUST`): the lift operator or
   the ski school for a birth date (they check it for the child and senior fares), the
   accommodation for the postal address (they send the invoice there), a form the person
   filled in for the e-mail;
3. then the most recent;
4. then the most complete (the longest value).

The customer remembers which source record each value came from (``provenance``). A file
import applies the fast incremental rule (:func:`apply_record`: the newest value wins);
every merge, unmerge and resolution run recomputes the whole rule from the records
(:func:`customers_golden_recompute`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cordee.collect.normalise import departement_of, fold
from cordee.customers.models import GOLDEN_FIELDS
from cordee.privacy.crypto import email_index, phone_index
from cordee.privacy.encryption import encrypt

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


# Columns of customer_values() stored encrypted (cordee.privacy.fields.EncryptedCharField).
ENCRYPTED_COLUMNS = ("email", "phone", "phone_other", "address_line1", "address_line2")
_ENCRYPTED_AT = tuple(GOLDEN_COLUMNS.index(c) for c in ENCRYPTED_COLUMNS)


def stored_values(values: tuple[Any, ...], sealed: dict[str, str] | None = None) -> tuple[Any, ...]:
    """customer_values() as the table stores them, for writers that bypass the ORM (COPY).

    ``sealed``: ciphertexts already made for some of these values (a record's data).
    """
    out = list(values)
    for i in _ENCRYPTED_AT:
        if value := out[i]:
            known = sealed.get(value) if sealed else None
            out[i] = known if known is not None else encrypt(value)
    return tuple(out)


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


# -- survivorship ----------------------------------------------------------------------------

_ADDRESS = ("address_line1", "address_line2", "postal_code", "city", "region", "country")
_ACCOMMODATION = {"kind:hotel": 3, "kind:campsite": 3, "kind:rental": 3}
# How much each source is trusted for each field: "kind:<partner kind>" or "channel:<channel>",
# the higher the more trusted; the best of a record's kind and channel counts. A field or a
# source absent from the table counts 0: then the most recent value wins.
FIELD_TRUST: dict[str, dict[str, int]] = {
    "birth_date": {"kind:lift_operator": 3, "kind:ski_school": 3, **_ACCOMMODATION},
    **{name: {**_ACCOMMODATION, "channel:form": 1} for name in _ADDRESS},
    "email": {"channel:form": 3, "channel:contest": 2, "channel:survey": 2, "channel:email": 2},
    "phone": {"channel:phone": 3, "channel:desk": 2, **_ACCOMMODATION},
    "first_name": {**_ACCOMMODATION, "kind:ski_school": 2, "channel:form": 2},
    "last_name": {**_ACCOMMODATION, "kind:ski_school": 2, "channel:form": 2},
    "civility": {"channel:form": 2, **_ACCOMMODATION},
    "language": {"channel:form": 3},
    "interests": {"channel:form": 3, "channel:survey": 3},
    "preferred_season": {"channel:form": 3, "channel:survey": 3},
}


@dataclass(frozen=True, slots=True)
class GoldenSource:
    """One source record as survivorship weighs it."""

    id: int
    data: dict[str, Any]
    partner_kind: str
    channel: str
    collected_at: dt.datetime


def trust(field_name: str, source: GoldenSource) -> int:
    table = FIELD_TRUST.get(field_name)
    if not table:
        return 0
    return max(
        table.get(f"kind:{source.partner_kind}", 0), table.get(f"channel:{source.channel}", 0)
    )


def _completeness(value: Any) -> int:
    return len(value) if isinstance(value, (str, list, dict)) else 1


def survivorship(
    sources: Sequence[GoldenSource],
) -> tuple[dict[str, Any], dict[str, int]]:
    """The golden values and their provenance, by the rule of the module's docstring."""
    golden: dict[str, Any] = {}
    provenance: dict[str, int] = {}
    for name in GOLDEN_FIELDS:
        candidates = [s for s in sources if not is_empty(s.data.get(name))]
        if not candidates:
            continue
        ranked = sorted(
            candidates,
            key=lambda s: (
                s.data.get("correction") is True,
                trust(name, s),
                s.collected_at,
                _completeness(s.data[name]),
                s.id,
            ),
            reverse=True,
        )
        golden[name] = ranked[0].data[name]
        provenance[name] = ranked[0].id
        if name == "phone":
            other = next((s for s in ranked if s.data["phone"] != golden["phone"]), None)
            if other is not None:
                golden["phone_other"] = other.data["phone"]
                provenance["phone_other"] = other.id
    return golden, provenance


def customers_golden_recompute(customer_ids: Iterable[int]) -> int:
    """Recompute the golden record of these customers from their source records.

    Set-based: one read of the records per chunk, one bulk update. Returns how many
    customers were rewritten. A customer left without any source record keeps its values
    (it was entered by hand, or its records were erased one by one).
    """
    from django.utils import timezone

    from cordee.core.bulk import bulk_update_rows, chunked
    from cordee.customers.models import Customer, SourceRecord

    ids = sorted(set(customer_ids))
    columns = (*GOLDEN_COLUMNS, *DERIVED_COLUMNS, "provenance", "updated_at")
    now = timezone.now()
    done = 0
    for part in chunked(ids, 2_000):
        by_customer: dict[int, list[GoldenSource]] = {}
        rows = SourceRecord.objects.filter(customer_id__in=part).values_list(
            "customer_id", "pk", "data", "partner__kind", "channel", "collected_at"
        )
        for customer_id, pk, data, kind, channel, collected_at in rows:
            by_customer.setdefault(customer_id, []).append(
                GoldenSource(
                    pk, data if isinstance(data, dict) else {}, kind, channel, collected_at
                )
            )
        updates = []
        for customer_id, sources in by_customer.items():
            golden, provenance = survivorship(sources)
            updates.append((*customer_values(golden), provenance, now, customer_id))
        done += bulk_update_rows(Customer, columns, updates) if updates else 0
    return done
