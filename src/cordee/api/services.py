"""The API's write path: what a partner's system sends goes through the same intake as a file.

normalise (cordee.collect.intake) → source record → attached to a customer
(cordee.customers.services) → audit row, in one transaction per call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from cordee.api.schemas import CustomerIn
from cordee.collect.intake import normalise_fields
from cordee.customers.incoming import IncomingRecord
from cordee.customers.models import Channel, Customer, SourceRecord
from cordee.customers.services import source_records_attach
from cordee.partners.models import APIKey
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log

CANONICAL_FIELDS = (
    "external_id", "card_number", "civility", "first_name", "last_name", "email", "phone", "birth_date",
    "gender", "address_line1", "address_line2", "postal_code", "city", "region", "country",
    "language", "profession", "family_situation", "children", "interests", "preferred_season",
)  # fmt: skip


@dataclass
class Submitted:
    index: int
    status: str  # created, matched, unchanged, rejected
    customer_id: int | None = None
    warnings: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _as_text(item: CustomerIn) -> tuple[dict[str, str], dict[str, str]]:
    """The fields and consents as the text a file's cells would hold (what the intake reads)."""
    fields = {}
    for name in CANONICAL_FIELDS:
        value = getattr(item, name)
        if value is not None and value != "":
            fields[name] = value
    consents = {
        slug: "oui" if given else "non"
        for slug, given in sorted((item.consents or {}).items())
        if given is not None
    }
    return fields, consents


def customers_submit(
    *, key: APIKey, actor: Actor, items: Sequence[CustomerIn], ip: str | None = None
) -> list[Submitted]:
    """Create or update customers from what a partner's system sent, one record per item.

    A record already received from this partner (same content) is recognised and changes
    nothing: sending the same body twice gives the same customer, never a duplicate.
    """
    outcomes = [Submitted(index=i, status="rejected") for i in range(len(items))]
    records: list[IncomingRecord] = []
    positions: list[int] = []
    for i, item in enumerate(items):
        fields, consents = _as_text(item)
        normalised = normalise_fields(fields, consents or None)
        outcomes[i].warnings = normalised.warnings
        if normalised.error:
            outcomes[i].errors = [normalised.error]
            continue
        # The raw record keeps what was sent, in the canonical order (so that the same body,
        # whatever its key order, is recognised as the same record).
        raw = dict(fields) | {f"consent_{slug}": answer for slug, answer in consents.items()}
        records.append(
            IncomingRecord(raw=raw, data=normalised.data, external_id=normalised.external_id)
        )
        positions.append(i)

    with transaction.atomic():
        started = timezone.now()
        # One record is matched as it arrives; a bulk call is a file's batch, left to the
        # batch run (``cordee resolve``).
        result = source_records_attach(
            partner=key.partner,
            channel=Channel.API,
            records=records,
            arrival=actor if len(items) == 1 else None,
        )
        already = _customers_of_known_records(key, records, result.customer_ids)
        owners = [
            cid if cid is not None else already.get(r.fingerprint)
            for r, cid in zip(records, result.customer_ids, strict=True)
        ]
        fresh = set(
            Customer.objects.filter(
                pk__in={o for o in owners if o is not None}, created_at__gte=started
            ).values_list("pk", flat=True)
        )
        for position, record_owner, stored in zip(
            positions, owners, result.customer_ids, strict=True
        ):
            outcome = outcomes[position]
            outcome.customer_id = record_owner
            if stored is None:
                outcome.status = "unchanged"
            elif record_owner in fresh:
                outcome.status = "created"
                fresh.discard(record_owner)  # later records of this call for it are matches
            else:
                outcome.status = "matched"
        counts = {
            s: sum(1 for o in outcomes if o.status == s)
            for s in ("created", "matched", "unchanged", "rejected")
        }
        single = outcomes[0] if len(outcomes) == 1 else None
        audit_log(
            actor=actor,
            action="customer.api_submit",
            obj=Customer(pk=single.customer_id) if single and single.customer_id else None,
            ip=ip,
            records=len(items),
            **counts,
        )
    return outcomes


def _customers_of_known_records(
    key: APIKey, records: Sequence[IncomingRecord], stored: Sequence[int | None]
) -> dict[str, int]:
    """The customer each record received before (skipped by the attach step) belongs to."""
    fingerprints = {r.fingerprint for r, cid in zip(records, stored, strict=True) if cid is None}
    if not fingerprints:
        return {}
    rows = SourceRecord.objects.filter(
        partner=key.partner, fingerprint__in=fingerprints, customer__isnull=False
    ).values_list("fingerprint", "customer_id")
    return {fp: cid for fp, cid in rows if cid is not None}
