"""Access and portability (Art. 15 and 20): everything Cordée holds about one person.

The same export serves the DPO's desk, the CLI and the visitor's preference centre: the
golden record, every source record as received, the consent history with its proofs, the
activities and the requests. Machine-readable: JSON, and CSV as (section, n°, field, value).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from cordee.customers.exports import EXPORT_FIELDS, neutralise_cell
from cordee.customers.models import Customer, SourceRecord
from cordee.privacy.models import ConsentEvent, DataSubjectRequest


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def customer_data(customer: Customer) -> dict[str, Any]:
    """All the person's data, as plain JSON-ready values."""
    from cordee.activities.models import Activity

    golden = {name: getattr(customer, name) for name in EXPORT_FIELDS}
    golden["attributes"] = customer.attributes
    sources = [
        {
            "partner": s.partner.name,
            "channel": s.channel,
            "external_id": s.external_id,
            "collected_at": s.collected_at,
            "received": s.raw,
            "normalised": s.data,
        }
        for s in SourceRecord.objects.filter(customer=customer)
        .select_related("partner")
        .order_by("collected_at", "pk")
    ]
    consents = [
        {
            "purpose": e.purpose.slug,
            "purpose_name": e.purpose.name,
            "controller": e.controller.name,
            "status": e.status,
            "at": e.at,
            "channel": e.channel,
            "wording": e.wording.text if e.wording else "",
            "wording_version": e.wording.version if e.wording else None,
            "page": e.page,
        }
        for e in ConsentEvent.objects.filter(customer=customer)
        .select_related("purpose", "controller", "wording")
        .order_by("at", "id")
    ]
    activities = [
        {
            "kind": a.kind,
            "partner": a.partner.name,
            "starts_on": a.starts_on,
            "ends_on": a.ends_on,
            "product": a.product,
            "amount": a.amount,
            "currency": a.currency,
            "quantity": a.quantity,
            "satisfaction": a.satisfaction,
            "details": a.details,
        }
        for a in Activity.objects.filter(customer=customer)
        .select_related("partner")
        .order_by("starts_on", "pk")
    ]
    requests = [
        {"kind": r.kind, "status": r.status, "received_on": r.received_on, "message": r.message}
        for r in DataSubjectRequest.objects.filter(customer_ref=customer.pk).order_by("pk")
    ]
    return _plain(
        {
            "exported_at": timezone.now(),
            "customer": golden,
            "source_records": sources,
            "consents": consents,
            "activities": activities,
            "requests": requests,
        }
    )


def customer_data_json(customer: Customer) -> str:
    return json.dumps(customer_data(customer), ensure_ascii=False, indent=2)


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, out)
    elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        for i, inner in enumerate(value):
            _flatten(f"{prefix}[{i}]", inner, out)
    elif isinstance(value, list):
        out.append((prefix, ", ".join(str(v) for v in value)))
    else:
        out.append((prefix, "" if value is None else str(value)))


def customer_data_csv(customer: Customer) -> str:
    """One row per value: (section, n°, field, value), with a BOM for spreadsheets."""
    data = customer_data(customer)
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(["section", "n", "champ", "valeur"])
    for section in ("customer", "source_records", "consents", "activities", "requests"):
        items = data[section] if isinstance(data[section], list) else [data[section]]
        for n, item in enumerate(items, start=1):
            cells: list[tuple[str, str]] = []
            _flatten("", item, cells)
            for name, value in cells:
                writer.writerow([section, str(n), neutralise_cell(name), neutralise_cell(value)])
    return "\ufeff" + stream.getvalue()
