"""Finding the customer an activity belongs to, for many activities at once.

Keys, tried in this order: the partner's own customer id (the ``external_id`` of a source
record it sent), the loyalty card number, the e-mail, the phone. E-mail and phone are
compared through their keyed hashes only, among the customers the partner may see; a card
is shown by its holder, so it finds the customer whoever brought them. A key shared by
several customers (a family's phone) finds nobody: the line is reported, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from cordee.activities.models import LoyaltyCard
from cordee.core.bulk import select_in
from cordee.customers.models import Customer, CustomerLink, SourceRecord
from cordee.partners.models import Partner
from cordee.privacy.crypto import email_index, phone_index

_NOT_DIGIT = re.compile(r"[\s.\-_/]")


@dataclass
class Keys:
    customer_ref: str = ""
    card_number: str = ""
    email: str = ""  # normalised
    phone: str = ""  # E.164

    def any(self) -> bool:
        return bool(self.customer_ref or self.card_number or self.email or self.phone)


@dataclass
class Found:
    customer_id: int | None
    source_record_id: int | None = None
    reason: str = ""


def card_digits(raw: str) -> str:
    return _NOT_DIGIT.sub("", raw or "")


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _unique(pairs: Sequence[tuple[Any, ...]]) -> tuple[dict[str, int], set[str]]:
    found: dict[str, int] = {}
    shared: set[str] = set()
    for key, customer_id in pairs:
        if key in found and found[key] != customer_id:
            shared.add(key)
        found[key] = customer_id
    for key in shared:
        del found[key]
    return found, shared


def customers_find(*, partner: Partner, keys: Sequence[Keys]) -> list[Found]:
    """The customer of each set of keys, or None with the reason (in French)."""
    # Only keys that can exist reach the database (PostgreSQL refuses NUL in text).
    refs = sorted({k.customer_ref for k in keys if k.customer_ref and "\x00" not in k.customer_ref})
    cards = sorted(
        {k.card_number for k in keys if k.card_number.isascii() and k.card_number.isdigit()}
    )
    emails = sorted({email_index(k.email) for k in keys if k.email})
    phones = sorted({phone_index(k.phone) for k in keys if k.phone})
    by_ref = _by_reference(partner, refs)
    by_card = dict(
        select_in(
            f"SELECT number, customer_id FROM {_qn(LoyaltyCard._meta.db_table)} "  # noqa: S608
            "WHERE number {values}",
            [],
            cards,
        )
    )
    by_email, shared_emails = _unique(_by_hash(partner, "email_hash", emails))
    by_phone, shared_phones = _unique(_by_hash(partner, "phone_hash", phones))
    out = []
    for k in keys:
        if k.customer_ref and k.customer_ref in by_ref:
            customer_id, source_id = by_ref[k.customer_ref]
            out.append(Found(customer_id, source_id))
        elif k.card_number and k.card_number in by_card:
            out.append(Found(by_card[k.card_number]))
        elif k.email and (h := email_index(k.email)) in by_email:
            out.append(Found(by_email[h]))
        elif k.phone and (h := phone_index(k.phone)) in by_phone:
            out.append(Found(by_phone[h]))
        else:
            out.append(Found(None, reason=_reason(k, shared_emails, shared_phones)))
    return out


def _reason(k: Keys, shared_emails: set[str], shared_phones: set[str]) -> str:
    if not k.any():
        return _("aucune colonne pour retrouver le client (identifiant, carte, e-mail, téléphone)")
    if k.email and email_index(k.email) in shared_emails:
        return _("plusieurs clients ont cet e-mail : précisez l'identifiant client")
    if k.phone and phone_index(k.phone) in shared_phones:
        return _("plusieurs clients ont ce téléphone : précisez l'identifiant client")
    tried = [
        str(label)
        for value, label in (
            (k.customer_ref, _("identifiant client")),
            (k.card_number, _("numéro de carte")),
            (k.email, _("e-mail")),
            (k.phone, _("téléphone")),
        )
        if value
    ]
    return _("client introuvable (cherché par %(keys)s)") % {"keys": ", ".join(tried)}


def _by_reference(partner: Partner, refs: list[str]) -> dict[str, tuple[int, int]]:
    table = _qn(SourceRecord._meta.db_table)
    rows = select_in(
        f"SELECT external_id, customer_id, id FROM {table} "  # noqa: S608
        "WHERE partner_id = %s AND customer_id IS NOT NULL AND external_id {values}",
        [partner.pk],
        refs,
        prepared=len(refs) == 1,  # the single POST's statement
    )
    found: dict[str, tuple[int, int]] = {}
    for ref, customer_id, source_id in sorted(rows, key=lambda r: r[2]):
        found[ref] = (customer_id, source_id)  # the latest record wins
    return found


def _by_hash(partner: Partner, column: str, hashes: list[str]) -> list[tuple[Any, ...]]:
    customers = _qn(Customer._meta.db_table)
    if partner.is_hub:
        sql = f"SELECT {column}, id FROM {customers} WHERE {column} {{values}}"  # noqa: S608
        return select_in(sql, [], hashes)
    links = _qn(CustomerLink._meta.db_table)
    sql = (
        f"SELECT c.{column}, c.id FROM {customers} c WHERE EXISTS ("  # noqa: S608
        f"SELECT 1 FROM {links} l WHERE l.customer_id = c.id AND l.partner_id = %s) "
        f"AND c.{column} {{values}}"
    )
    return select_in(sql, [partner.pk], hashes)
