"""Erasure (Art. 17): the person goes from every table, a pseudonymous tombstone stays.

``customer_erase`` is one transaction: an erasure interrupted half-way rolls back whole and
the next run starts again from the beginning; a second run on an erased customer finds
nothing and changes nothing. What it reaches:

- the golden record and, through the database cascade, its links, activities, consent
  history and consent states;
- every source record of the person, and the unattached ones with the same keyed e-mail or
  phone hash;
- the import report rows that hold the person's cells (the warnings on their lines, the
  rejected lines naming their e-mail or phone), and any dry-run file still waiting for
  confirmation that contains their e-mail (the partner uploads it again);
- the API's idempotency rows whose stored response names the customer;
- the merge ledger's snapshots (``merge_ledger_erase`` of the customers app, when present);
- the free text of the person's data-subject requests (the requests themselves stay).

The audit trail holds no personal data (only the customer's number): it is kept.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.core.signals import customer_erased
from cordee.customers.models import Customer, CustomerLink, SourceRecord
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log
from cordee.privacy.models import (
    ConsentEvent,
    DataSubjectRequest,
    ErasureTombstone,
)

REASON_MAX = 300


@dataclass
class ErasureResult:
    customer_ref: int
    tombstone: ErasureTombstone
    counts: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


def _merge_ledger_eraser() -> Callable[[int], int] | None:
    """The customers app's ledger eraser, if the merge ledger is built (guarded: it may not be)."""
    for module in ("cordee.customers.ledger", "cordee.customers.merging"):
        try:
            found = getattr(importlib.import_module(module), "merge_ledger_erase", None)
        except ImportError:
            continue
        if callable(found):
            return found
    return None


def _clean_reason(reason: str) -> str:
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in reason or "").split())
    return text[:REASON_MAX]


def _issue_rows(records: Sequence[tuple[int | None, int | None]], needles: list[str]) -> int:
    """Delete the import report rows that hold the person's data; returns how many."""
    from cordee.collect.models import ImportIssue, IssueLevel

    deleted = 0
    lines: dict[int, set[int]] = {}
    for batch_id, line in records:
        if batch_id is not None and line is not None:
            lines.setdefault(batch_id, set()).add(line)
    for batch_id, numbers in lines.items():
        deleted += ImportIssue.objects.filter(batch_id=batch_id, line__in=numbers).delete()[0]
    for needle in needles:
        candidates = ImportIssue.objects.filter(level=IssueLevel.ERROR, cells__icontains=needle)
        ids = [
            pk
            for pk, cells in candidates.values_list("pk", "cells")
            if any(needle.lower() in str(c).lower() for c in cells or [])
        ]
        deleted += ImportIssue.objects.filter(pk__in=ids).delete()[0]
    return deleted


def _pending_files(needles: list[str]) -> list[Path]:
    """Dry-run uploads still kept for confirmation that contain the person's e-mail or phone."""
    from cordee.collect.models import ImportBatch

    found = []
    for batch_id, stored in ImportBatch.objects.exclude(stored_path="").values_list(
        "pk", "stored_path"
    ):
        path = Path(stored)
        try:
            content = path.read_bytes().lower()
        except OSError:
            continue
        if any(n.lower().encode() in content for n in needles):
            ImportBatch.objects.filter(pk=batch_id).update(stored_path="")
            found.append(path)
    return found


def _idempotency_rows(customer_id: int, needles: list[str]) -> int:
    from cordee.api.models import IdempotentRequest

    pattern = re.compile(rf'"(?:id|customer_id)":\s*{customer_id}\b')
    condition = Q(body__contains=str(customer_id))
    for needle in needles:
        condition |= Q(body__icontains=needle)
    ids = [
        pk
        for pk, body in IdempotentRequest.objects.filter(condition).values_list("pk", "body")
        if pattern.search(body) or any(n.lower() in body.lower() for n in needles)
    ]
    return IdempotentRequest.objects.filter(pk__in=ids).delete()[0]


def customer_erase(
    *,
    customer: Customer,
    actor: Actor,
    reason: str,
    request: DataSubjectRequest | None = None,
) -> ErasureResult:
    """Erase ``customer`` everywhere and leave a tombstone; see the module's docstring."""
    reason = _clean_reason(reason)
    if not reason:
        from django.core.exceptions import ValidationError

        raise ValidationError(_("Indiquez le motif de l'effacement."))
    customer_id = int(customer.pk)
    counts: dict[str, int] = {}
    with transaction.atomic():
        locked = Customer.objects.select_for_update().filter(pk=customer_id).first()
        if locked is None:
            raise Customer.DoesNotExist(_("Ce client n'existe plus (déjà effacé ?)."))
        email_hash, phone_hash = locked.email_hash, locked.phone_hash
        hashes = Q(customer_id=customer_id)
        if email_hash:
            hashes |= Q(customer__isnull=True, email_hash=email_hash)
        if phone_hash:
            hashes |= Q(customer__isnull=True, phone_hash=phone_hash)
        records = SourceRecord.objects.filter(hashes)
        record_lines = list(records.values_list("batch_id", "line"))
        partner_ids = sorted(
            set(
                CustomerLink.objects.filter(customer_id=customer_id).values_list(
                    "partner_id", flat=True
                )
            )
        )
        purposes = sorted(
            set(
                ConsentEvent.objects.filter(customer_id=customer_id).values_list(
                    "purpose__slug", flat=True
                )
            )
        )
        counts["consent_events"] = ConsentEvent.objects.filter(customer_id=customer_id).count()
        counts["activities"] = locked.activities.count()
        needles = [v for v in (locked.email, locked.phone) if v and len(v) >= 6]
        counts["import_issues"] = _issue_rows(record_lines, needles)
        counts["idempotency_rows"] = _idempotency_rows(customer_id, needles)
        eraser = _merge_ledger_eraser()
        counts["merge_ledger_entries"] = eraser(customer_id) if eraser is not None else 0
        counts["source_records"] = records.count()
        records.delete()
        locked.delete()
        counts["requests_redacted"] = (
            DataSubjectRequest.objects.filter(customer_ref=customer_id)
            .exclude(message="")
            .update(message="")
        )
        files = _pending_files(needles)
        counts["pending_files"] = len(files)
        tombstone = ErasureTombstone.objects.create(
            erased_at=timezone.now(),
            customer_ref=customer_id,
            request=request,
            reason=reason,
            actor_label=actor.label[:150],
            email_hash=email_hash,
            phone_hash=phone_hash,
            purposes=purposes,
            counts=counts,
        )
        audit_log(
            actor=actor,
            action="customer.erase",
            obj=None,
            customer=customer_id,
            tombstone=tombstone.pk,
            request=request.pk if request else None,
            counts=counts,
        )
        transaction.on_commit(
            lambda: customer_erased.send(
                sender=Customer, customer_id=customer_id, partner_ids=partner_ids
            )
        )
    # Files go after the commit: a rolled-back erasure must not have lost a partner's upload.
    for path in files:
        path.unlink(missing_ok=True)
    return ErasureResult(
        customer_ref=customer_id, tombstone=tombstone, counts=counts, files=[str(p) for p in files]
    )


def erased_hashes(*, email_hashes: set[str], phone_hashes: set[str]) -> set[str]:
    """Of these keyed hashes, those of erased people (a re-import must not revive their consents)."""
    found: set[str] = set()
    email_hashes.discard("")
    phone_hashes.discard("")
    if email_hashes:
        found |= set(
            ErasureTombstone.objects.filter(email_hash__in=email_hashes).values_list(
                "email_hash", flat=True
            )
        )
    if phone_hashes:
        found |= set(
            ErasureTombstone.objects.filter(phone_hash__in=phone_hashes).values_list(
                "phone_hash", flat=True
            )
        )
    return found


def tombstone_for(*, email_hash: str = "", phone_hash: str = "") -> ErasureTombstone | None:
    condition = Q(pk__in=[])
    if email_hash:
        condition |= Q(email_hash=email_hash)
    if phone_hash:
        condition |= Q(phone_hash=phone_hash)
    return ErasureTombstone.objects.filter(condition).order_by("-erased_at").first()
