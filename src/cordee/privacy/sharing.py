"""The sharing flag: ``Customer.shares_with_partners``, derived from the consent states.

A partner sees the customers it brought and those whose current consent to ``partner_offers``
is granted and whose processing is not restricted (``access``). Asked row by row on a list
page, "is the consent granted?" was an
index probe into the consent states for every customer walked; the flag answers it from the
customer's own row. It is derived data, like the consent states it follows: every write of a
consent state calls ``customers_sharing_sync`` for the customers it touched, in the same
transaction (the consent services, the bulk import, a merge, an unmerge, a split, the
rebuild of the states), and ``sharing_check`` finds and repairs any drift
(``cordee privacy check-sharing``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction

from cordee.core.bulk import chunked
from cordee.customers.models import Customer
from cordee.privacy.access import SHARING_PURPOSE, Actor
from cordee.privacy.audit import audit_log
from cordee.privacy.models import ConsentState, ConsentStatus, Purpose

_CHUNK = 5_000


def _derived_sql() -> tuple[str, list[str]]:
    """SQL (and its parameters) true when the customer row ``c`` should be shared."""
    states = connection.ops.quote_name(ConsentState._meta.db_table)
    purposes = connection.ops.quote_name(Purpose._meta.db_table)
    # A restricted customer (Art. 18, ``privacy.objection``) is shared with nobody: only the
    # partners that brought it keep seeing it, as the data are kept, not processed further.
    sql = (
        f"(c.restricted_at IS NULL AND EXISTS (SELECT 1 FROM {states} s "  # noqa: S608
        f"WHERE s.customer_id = c.id AND s.purpose_id = "
        f"(SELECT id FROM {purposes} WHERE slug = %s) AND s.status = %s))"
    )
    return sql, [SHARING_PURPOSE, str(ConsentStatus.GRANTED.value)]


def _update(where: str, params: list[Any]) -> int:
    """Set the flag to the derived state where it differs, among the rows ``where`` selects."""
    table = connection.ops.quote_name(Customer._meta.db_table)
    derived, derived_params = _derived_sql()
    # Only the rows whose flag is wrong are written: a customer whose state did not change
    # costs a probe, not a new row version.
    sql = (
        f"UPDATE {table} AS c SET shares_with_partners = NOT shares_with_partners "  # noqa: S608
        f"WHERE {where} AND c.shares_with_partners <> ({derived})"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [*params, *derived_params])
        return int(cur.rowcount)


def customers_sharing_sync(customer_ids: Iterable[int] | None = None) -> int:
    """Bring the flag of these customers (all when ``None``) in line with their consent states.

    Called in the transaction that wrote the states. Returns how many flags changed.
    """
    if customer_ids is None:
        return _update("1 = 1", [])
    ids = sorted(set(customer_ids))
    changed = 0
    for part in chunked(ids, _CHUNK):
        if connection.vendor == "postgresql":
            changed += _update("c.id = ANY(%s)", [list(part)])
        else:
            changed += _update(f"c.id IN ({', '.join(['%s'] * len(part))})", list(part))
    return changed


def sharing_mismatches(limit: int = 20) -> tuple[int, list[int]]:
    """How many customers have a flag that differs from their consent states, and a few ids."""
    table = connection.ops.quote_name(Customer._meta.db_table)
    derived, params = _derived_sql()
    where = f"c.shares_with_partners <> ({derived})"
    with connection.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {table} c WHERE {where}", params)  # noqa: S608
        count = int(cur.fetchone()[0])
        cur.execute(
            f"SELECT c.id FROM {table} c WHERE {where} ORDER BY c.id LIMIT %s",  # noqa: S608
            [*params, limit],
        )
        ids = [int(row[0]) for row in cur.fetchall()]
    return count, ids


def sharing_check(*, repair: bool, actor: Actor) -> tuple[int, list[int]]:
    """Compare every customer's flag with its consent states; with ``repair``, fix them.

    Returns the number of wrong flags found and the first of their ids. A repair leaves an
    audit row (the count, no personal data).
    """
    count, ids = sharing_mismatches()
    if repair and count:
        with transaction.atomic():
            fixed = customers_sharing_sync()
            audit_log(
                actor=actor,
                action="privacy.sharing_repair",
                customers=fixed,
            )
    return count, ids
