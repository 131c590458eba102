"""Exports of golden records, streamed in chunks so that a million customers fit in little memory."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import IO, Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from cordee.customers.models import Customer, SourceRecord
from cordee.privacy.access import Actor, customers_readable_fields, row_redact

EXPORT_FIELDS = (
    "id", "civility", "first_name", "last_name", "email", "phone", "phone_other", "birth_date",
    "gender", "address_line1", "address_line2", "postal_code", "city", "region", "country",
    "language", "profession", "family_situation", "children", "interests", "preferred_season",
    "created_at", "updated_at",
)  # fmt: skip
CHUNK = 2_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "|")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d[\d .]*$")


def neutralise_cell(value: str) -> str:
    """Stop a spreadsheet from executing a cell (CSV injection); plain numbers such as an E.164 phone stay."""
    if value and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def iter_customer_rows(
    customers: QuerySet[Customer], *, actor: Actor, with_sources: bool = False
) -> Iterator[dict[str, Any]]:
    """Golden records as dicts with the canonical names, ordered by id, chunk by chunk.

    As ``actor`` may read them: a partner gets the shared view of customers it did not bring
    (the fields their consents allow, the others None and named in ``hidden``) and only its
    own source records (the gate, ``cordee.privacy.access``).
    """
    last_id = 0
    base = customers.order_by("pk")
    while True:
        chunk = list(base.filter(pk__gt=last_id).values(*EXPORT_FIELDS)[:CHUNK])
        if not chunk:
            return
        last_id = chunk[-1]["id"]
        readable = customers_readable_fields(actor, [row["id"] for row in chunk])
        sources: dict[int, list[dict[str, str]]] = defaultdict(list)
        if with_sources:
            ids = [row["id"] for row in chunk]
            records = SourceRecord.objects.filter(customer_id__in=ids)
            if not actor.sees_everything:
                records = records.filter(partner=actor.partner)
            for src in records.order_by("collected_at", "pk").values_list(
                "customer_id", "partner__slug", "channel", "external_id", "collected_at"
            ):
                sources[src[0]].append(
                    {
                        "partner": src[1],
                        "channel": src[2],
                        "external_id": src[3],
                        "collected_at": src[4].isoformat(),
                    }
                )
        for row in chunk:
            out = {k: _plain(v) for k, v in row.items()}
            if with_sources:
                out["sources"] = sources.get(row["id"], [])
            yield row_redact(out, readable=readable[row["id"]])


def hidden_cell() -> str:
    """What a CSV cell holds for a field the reader may not see: never an empty, real-looking value."""
    return _("non partagé")


def csv_cells(row: dict[str, Any], header: list[str] | tuple[str, ...]) -> list[str]:
    """One row's cells, neutralised, hidden fields marked as such."""
    hidden = set(row.get("hidden") or ())
    cells = []
    for name in header:
        value = row.get(name, "")
        if name in hidden:
            value = hidden_cell()
        elif name == "interests":
            value = ", ".join(value)
        elif name == "sources":
            value = json.dumps(value, ensure_ascii=False)
        cells.append(neutralise_cell(str(value)))
    return cells


def write_csv(rows: Iterator[dict[str, Any]], stream: IO[str], *, with_sources: bool) -> int:
    header = list(EXPORT_FIELDS) + (["sources"] if with_sources else [])
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow(csv_cells(row, header))
        count += 1
    return count


def write_jsonl(rows: Iterator[dict[str, Any]], stream: IO[str]) -> int:
    count = 0
    for row in rows:
        stream.write(json.dumps(row, ensure_ascii=False))
        stream.write("\n")
        count += 1
    return count
