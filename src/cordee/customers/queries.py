"""Finding customers fast in a base of a million: every search is an index range or an exact hash."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from cordee.collect import normalise as norm
from cordee.customers.models import Customer, CustomerLink, SourceRecord
from cordee.privacy.crypto import email_index, phone_index

PAGE_SIZE = 50
# Counting every match of a two-letter search in a million customers costs more than the
# page itself; beyond this the list says "more than 1,000".
COUNT_CAP = 1_000
_PHONE_LIKE = re.compile(r"^[+()\d][\d\s.()/-]{5,}$")
_POSTCODE = re.compile(r"^\d{5}$")
ORDER = ("last_name_key", "first_name_key", "id")


def _prefix(column: str, text: str) -> Q:
    """A prefix match written as an index range (plus LIKE to stay exact under any collation)."""
    upper = text[:-1] + chr(ord(text[-1]) + 1)
    return Q(**{f"{column}__gte": text, f"{column}__lt": upper, f"{column}__startswith": text})


def search_condition(query: str) -> tuple[Q, str]:
    """Turn what a person typed into a condition, and say how it was understood."""
    text = query.strip()
    if not text:
        return Q(), ""
    if "@" in text:
        try:
            email = norm.email(text)
        except norm.InvalidValue:
            email = text.lower()
        return Q(email_hash=email_index(email or "")), "email"
    if _POSTCODE.match(text):
        return Q(postal_code=text), "postal_code"
    if _PHONE_LIKE.match(text):
        try:
            phone = norm.phone(text)
        except norm.InvalidValue:
            phone = None
        if phone:
            return Q(phone_hash=phone_index(phone)), "phone"
    tokens = norm.fold(text).split()
    if not tokens:
        return Q(pk__in=[]), "name"
    whole = " ".join(tokens)
    condition = (
        _prefix("last_name_key", whole)
        | _prefix("first_name_key", whole)
        | _prefix("city_key", whole)
    )
    if len(tokens) > 1:
        for i in range(1, len(tokens)):
            first, last = " ".join(tokens[:i]), " ".join(tokens[i:])
            condition |= Q(first_name_key=first) & _prefix("last_name_key", last)
            condition |= Q(last_name_key=" ".join(tokens[:i])) & _prefix(
                "first_name_key", " ".join(tokens[i:])
            )
    return condition, "name"


@dataclass
class Filters:
    q: str = ""
    city: str = ""
    departement: str = ""
    country: str = ""
    partner: int | None = None

    def active(self) -> bool:
        return bool(self.q or self.city or self.departement or self.country or self.partner)


@dataclass
class Page:
    customers: list[Customer]
    count: int
    count_capped: bool
    next_cursor: str | None
    prev_cursor: str | None
    understood_as: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


# The field a search reads, by how it was understood (the others read names and towns).
SEARCHED_FIELD = {"phone": "phone", "postal_code": "postal_code"}


def customer_filter(
    qs: QuerySet[Customer], filters: Filters, readable: Callable[[str], Q] | None = None
) -> tuple[QuerySet[Customer], str]:
    """``readable(field)`` (the gate's ``readable_condition``) keeps a search on a field to
    the customers whose field the reader may read."""
    condition, understood = search_condition(filters.q)
    qs = qs.filter(condition)
    if readable is not None and understood in SEARCHED_FIELD:
        qs = qs.filter(readable(SEARCHED_FIELD[understood]))
    if filters.city:
        city = norm.fold(filters.city)
        if city:
            qs = qs.filter(_prefix("city_key", city))
    if filters.departement:
        qs = qs.filter(departement=filters.departement.strip().upper())
    if filters.country:
        qs = qs.filter(country=filters.country.strip().upper())
    if filters.partner:
        qs = qs.filter(
            Exists(CustomerLink.objects.filter(customer=OuterRef("pk"), partner_id=filters.partner))
        )
    return qs, understood


def encode_cursor(customer: Customer) -> str:
    raw = json.dumps([customer.last_name_key, customer.first_name_key, customer.pk])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str, int] | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        last, first, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if isinstance(last, str) and isinstance(first, str) and isinstance(pk, int):
            return last, first, pk
    except (ValueError, TypeError):
        pass
    return None


def _after(key: tuple[str, str, int]) -> Q:
    last, first, pk = key
    # The redundant first term is what the database turns into a range of customer_name_idx;
    # the OR alone is read as a filter over every row before the cursor.
    return Q(last_name_key__gte=last) & (
        Q(last_name_key__gt=last)
        | Q(last_name_key=last, first_name_key__gt=first)
        | Q(last_name_key=last, first_name_key=first, id__gt=pk)
    )


def _before(key: tuple[str, str, int]) -> Q:
    last, first, pk = key
    return Q(last_name_key__lte=last) & (
        Q(last_name_key__lt=last)
        | Q(last_name_key=last, first_name_key__lt=first)
        | Q(last_name_key=last, first_name_key=first, id__lt=pk)
    )


def customer_page(
    visible: QuerySet[Customer],
    filters: Filters,
    *,
    after: str = "",
    before: str = "",
    count_visible: Callable[[int], int] | None = None,
    readable: Callable[[str], Q] | None = None,
) -> Page:
    """One page of customers in name order, with keyset cursors (deep pages stay fast).

    ``count_visible(cap)``, when given, counts ``visible`` itself (the gate's
    ``customers_visible_count``, faster for a partner than walking its customers); it is used
    when no filter narrows the list.
    """
    qs, understood = customer_filter(visible, filters, readable)
    if count_visible is not None and not filters.active():
        count = count_visible(COUNT_CAP + 1)
    else:
        count = qs.order_by()[: COUNT_CAP + 1].count()
    page_qs = qs
    after_key = decode_cursor(after) if after else None
    before_key = decode_cursor(before) if before and not after_key else None
    if before_key:
        rows = list(
            page_qs.filter(_before(before_key)).order_by(*(f"-{c}" for c in ORDER))[: PAGE_SIZE + 1]
        )
        has_more_before = len(rows) > PAGE_SIZE
        rows = list(reversed(rows[:PAGE_SIZE]))
        has_more_after = True
    else:
        if after_key:
            page_qs = page_qs.filter(_after(after_key))
        rows = list(page_qs.order_by(*ORDER)[: PAGE_SIZE + 1])
        has_more_after = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        has_more_before = after_key is not None
    return Page(
        customers=rows,
        count=min(count, COUNT_CAP),
        count_capped=count > COUNT_CAP,
        next_cursor=encode_cursor(rows[-1]) if rows and has_more_after else None,
        prev_cursor=encode_cursor(rows[0]) if rows and has_more_before else None,
        understood_as=understood,
    )


def customer_sources(customer: Customer) -> list[SourceRecord]:
    return list(
        SourceRecord.objects.filter(customer=customer)
        .select_related("partner", "batch")
        .order_by("-collected_at", "-pk")
    )
