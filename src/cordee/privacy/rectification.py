"""Rectification (Art. 16): a correction the person asked for, recorded as a new source record.

Source records are never edited (ARCHITECTURE.md rule 2): the correction is one more record
of the desk channel from the tourist office, marked ``"correction": true``, that overlays the
golden record. When the customers app provides ``customer_correct`` (the merge-ledger work),
it is used, so that the golden record is recomputed by its survivorship rules; otherwise the
same record is written here and overlaid on the golden values directly.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.collect import normalise as norm
from cordee.customers.golden import apply_record, derived_columns
from cordee.customers.models import Customer, SourceRecord
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log
from cordee.privacy.crypto import email_index, phone_index
from cordee.privacy.requests import clean_text
from cordee.privacy.services import hub_partner

# What a person may ask to correct from the desk, and how each value is read.
RECTIFIABLE: dict[str, Callable[[str], Any]] = {
    "first_name": norm.person_name,
    "last_name": norm.person_name,
    "email": norm.email,
    "phone": norm.phone,
    "address_line1": lambda v: clean_text(v, 200),
    "address_line2": lambda v: clean_text(v, 200),
    "postal_code": norm.postcode,
    "city": lambda v: clean_text(v, 100),
    "country": norm.country,
    "language": norm.language,
}


def _customer_correct() -> Callable[..., SourceRecord] | None:
    for module in ("cordee.customers.merging", "cordee.customers.services"):
        try:
            found = getattr(importlib.import_module(module), "customer_correct", None)
        except ImportError:
            continue
        if callable(found):
            return found
    return None


def rectification_values(field: str, value: str) -> dict[str, Any]:
    """The correction as golden values, normalised like an import; a clear error otherwise."""
    reader = RECTIFIABLE.get(field)
    if reader is None:
        raise ValidationError(
            _("Ce champ ne peut pas être corrigé ici : %(f)s") % {"f": field[:40]}
        )
    text = clean_text(value, 300)
    if not text:
        raise ValidationError(_("Indiquez la nouvelle valeur."))
    try:
        normalised = reader(text)
    except norm.InvalidValue as exc:
        raise ValidationError(str(exc.message)) from None
    if not normalised:
        raise ValidationError(_("Valeur illisible : %(v)s") % {"v": text[:60]})
    return {field: normalised}


def customer_rectify(*, customer: Customer, field: str, value: str, actor: Actor) -> SourceRecord:
    values = rectification_values(field, value)
    hub = hub_partner()
    correct = _customer_correct()
    if correct is not None:
        return correct(customer=customer, values=values, actor=actor, partner=hub)
    now = timezone.now()
    raw = {k: str(v) for k, v in values.items()}
    fingerprint = hashlib.blake2b(
        json.dumps([now.isoformat(), customer.pk, raw], sort_keys=True).encode(), digest_size=16
    ).hexdigest()
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        record = SourceRecord.objects.create(
            customer=locked,
            partner=hub,
            channel="desk",
            collected_at=now,
            raw=raw,
            data={**values, "correction": True},
            fingerprint=fingerprint,
            email_hash=email_index(str(values.get("email") or "")),
            phone_hash=phone_index(str(values.get("phone") or "")),
        )
        golden = {f: getattr(locked, f) for f in RECTIFIABLE} | {
            "phone_other": locked.phone_other,
            "birth_date": locked.birth_date,
        }
        provenance = dict(locked.provenance or {})
        apply_record(golden, provenance, values, record.pk)
        for name, v in golden.items():
            setattr(locked, name, v)
        for name, v in derived_columns(
            {
                **{
                    f: getattr(locked, f)
                    for f in (
                        "last_name",
                        "first_name",
                        "city",
                        "email",
                        "phone",
                        "postal_code",
                        "country",
                    )
                },
                "birth_date": locked.birth_date,
            }
        ).items():
            setattr(locked, name, v)
        locked.provenance = provenance
        locked.save()
        audit_log(actor=actor, action="customer.correct", obj=locked, fields=sorted(values))
    return record
