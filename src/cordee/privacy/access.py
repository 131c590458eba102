"""The one gate through which every read of customer data passes (ARCHITECTURE.md, rule 1).

Pages, exports, the CLI, the API and segments obtain customers here and nowhere else.

Who sees whom:

- the tourist office's staff (and the system: CLI, tasks) see every customer;
- a partner sees the customers it brought (a ``CustomerLink``) **and** those whose current
  consent to ``partner_offers`` ("sharing with the destination's partners") is granted,
  whoever collected it: the purpose is a joint one, so a "yes" given at the hotel's desk or
  on the office's site is the same agreement to be known by every partner;
- anybody else sees nobody.

What a partner sees of a shared customer it did not bring follows the words the person
agreed to (the ``partner_offers`` wording: "mes coordonnées et mes centres d'intérêt"):
identity, contact details, interests and family composition (``SHARED_FIELDS``). It does not
see the birth date, gender, profession or custom attributes, nor any other partner's source
records, activities or partner-controlled consents. ``customer_scope`` says which view applies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404

from cordee.customers.models import Customer, CustomerLink
from cordee.partners.models import Partner, User
from cordee.privacy.models import ConsentState, ConsentStatus, Purpose

SHARING_PURPOSE = "partner_offers"

# What the partner_offers wording lets a partner read of a customer it did not bring.
SHARED_FIELDS = frozenset(
    {
        "id",
        "civility",
        "first_name",
        "last_name",
        "email",
        "phone",
        "phone_other",
        "address_line1",
        "address_line2",
        "postal_code",
        "city",
        "departement",
        "region",
        "country",
        "language",
        "interests",
        "preferred_season",
        "family_situation",
        "children",
        "created_at",
        "updated_at",
    }
)


@dataclass(frozen=True)
class Actor:
    """Who is reading: a signed-in user, or the system itself (CLI run by an operator, tasks)."""

    user: User | None
    partner: Partner | None
    sees_everything: bool
    label: str

    @classmethod
    def for_user(cls, user: User) -> Actor:
        everything = bool(user.is_superuser or user.is_hub_user)
        return cls(user=user, partner=user.partner, sees_everything=everything, label=user.username)

    @classmethod
    def system(cls, label: str = "cli") -> Actor:
        return cls(user=None, partner=None, sees_everything=True, label=label)

    @classmethod
    def for_partner(cls, partner: Partner, label: str) -> Actor:
        return cls(user=None, partner=partner, sees_everything=partner.is_hub, label=label)


class _ProbedExists(Exists):
    """EXISTS evaluated as one index probe per candidate row, never as a hash of the whole set.

    PostgreSQL may turn an EXISTS under an OR into a "hashed SubPlan" that reads every
    customer a partner brought before returning the first row of a page: 30 ms at 50,000
    links, and growing with the partner. A list page reads ~50 rows; probing the (partner,
    customer) and (purpose, status, customer) indexes per row costs microseconds. ``OFFSET 0``
    stops the planner from rewriting the EXISTS (it does not simplify a subquery with an
    OFFSET) and changes nothing else.
    """

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="EXISTS(%(subquery)s OFFSET 0)", **extra)


_SHARING_PURPOSE_SQL = f"SELECT id FROM {Purpose._meta.db_table} WHERE slug = %s LIMIT 1"  # noqa: S608


def _sharing_purpose_id() -> RawSQL:
    # A scalar subquery: PostgreSQL evaluates it once (an InitPlan) and then probes the
    # consent_state_audience_idx (purpose, status, customer) with a constant. Written as SQL:
    # the gate's condition is compiled for every list, and the ORM's subquery cost more to
    # compile than the page costs to read. (The slug is unique.)
    return RawSQL(_SHARING_PURPOSE_SQL, (SHARING_PURPOSE,))  # noqa: S611


def shared_condition() -> Q:
    """The customers who agreed to be shared with the destination's partners (current state)."""
    granted = ConsentState.objects.filter(
        customer=OuterRef("pk"), purpose_id=_sharing_purpose_id(), status=ConsentStatus.GRANTED
    )
    return Q(_ProbedExists(granted))


def brought_condition(partner: Partner) -> Q:
    return Q(_ProbedExists(CustomerLink.objects.filter(customer=OuterRef("pk"), partner=partner)))


def customers_visible_to(actor: Actor, purpose: str | None = None) -> QuerySet[Customer]:
    """Every customer the actor may see: one SQL condition, whatever the read path."""
    qs = Customer.objects.all()
    if actor.sees_everything:
        return qs
    if actor.partner is None:
        return qs.none()
    # Sharing first: it admits more customers than one partner's links (30 % against 5 % in
    # bench/bench_gate.py), so fewer rows need the second probe.
    return qs.filter(shared_condition() | brought_condition(actor.partner))


def customers_visible_count(actor: Actor, *, cap: int) -> int:
    """How many customers the actor sees, counted up to ``cap`` (the list's "more than 1,000").

    The same set as ``customers_visible_to``, counted from the gate's own indexes rather than
    by walking customers and probing each (4.3x the hub's list at a million customers): for
    a partner, at most ``cap`` sharing customers (an index-only range of
    consent_state_audience_idx) and at most ``cap`` of its links (customer_link_unique). If
    either reaches ``cap``, so does their union; otherwise both are whole and the union is
    exact. Each consent state and link belongs to an existing customer (foreign keys).
    """
    if actor.sees_everything:
        return Customer.objects.order_by()[:cap].count()
    if actor.partner is None or cap <= 0:
        return 0
    # One round trip, two capped counts (one row back; the ORM would compile two queries,
    # which costs more than running them). Table names come from the models, values are
    # parameters.
    sql = (
        "SELECT (SELECT COUNT(*) FROM (SELECT DISTINCT customer_id FROM "  # noqa: S608
        f"{ConsentState._meta.db_table} WHERE purpose_id = ({_SHARING_PURPOSE_SQL}) "
        "AND status = %s LIMIT %s) s), "
        f"(SELECT COUNT(*) FROM (SELECT customer_id FROM {CustomerLink._meta.db_table} "
        "WHERE partner_id = %s LIMIT %s) b)"
    )
    params: list[str | int] = [
        SHARING_PURPOSE,
        str(ConsentStatus.GRANTED.value),
        cap,
        int(actor.partner.pk),
        cap,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        shared_count, brought_count = cursor.fetchone()
    if shared_count >= cap or brought_count >= cap:
        return cap
    shared = ConsentState.objects.filter(
        purpose_id=_sharing_purpose_id(), status=ConsentStatus.GRANTED
    ).values_list("customer_id", flat=True)
    brought = CustomerLink.objects.filter(partner=actor.partner).values_list(
        "customer_id", flat=True
    )
    return min(cap, len(set(shared) | set(brought)))


def customer_for(actor: Actor, customer_id: int | str, purpose: str | None = None) -> Customer:
    """The customer if the actor may see it, else 404 — the same answer as for one that does not exist."""
    try:
        pk = int(customer_id)
    except (TypeError, ValueError):
        raise Http404 from None
    try:
        return customers_visible_to(actor, purpose).get(pk=pk)
    except (Customer.DoesNotExist, OverflowError):
        raise Http404 from None


def customers_fully_visible(actor: Actor, ids: Iterable[int]) -> set[int]:
    """Of ``ids`` (already through the gate), those the actor sees in full: all for the hub,
    those it brought for a partner; the others are shared customers, seen through SHARED_FIELDS."""
    wanted = set(ids)
    if actor.sees_everything:
        return wanted
    if actor.partner is None or not wanted:
        return set()
    return set(
        CustomerLink.objects.filter(partner=actor.partner, customer_id__in=wanted).values_list(
            "customer_id", flat=True
        )
    )


def customer_scope(actor: Actor, customer: Customer) -> str:
    """``"full"`` or ``"shared"``: which view of ``customer`` the actor has."""
    return "full" if customer.pk in customers_fully_visible(actor, [customer.pk]) else "shared"


def _blank(value: Any) -> Any:
    if isinstance(value, list):
        return []
    if isinstance(value, dict):
        return {}
    if isinstance(value, str):
        return ""
    return None


def row_redact(row: dict[str, Any], *, full: bool) -> dict[str, Any]:
    """A customer row as the actor may read it: fields outside SHARED_FIELDS blanked."""
    if full:
        return row
    return {k: (v if k in SHARED_FIELDS or k == "sources" else _blank(v)) for k, v in row.items()}


def rows_redact(actor: Actor, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    full = customers_fully_visible(actor, [row["id"] for row in rows])
    return [row_redact(row, full=row["id"] in full) for row in rows]


def customer_redacted(actor: Actor, customer: Customer) -> Customer:
    """The customer, with the fields a shared view may not show blanked (a copy, never saved)."""
    if customer_scope(actor, customer) == "full":
        return customer
    copy = Customer.objects.get(pk=customer.pk)
    for field in copy._meta.concrete_fields:
        if field.name not in SHARED_FIELDS and field.name != "id":
            setattr(copy, field.attname, _blank(getattr(copy, field.attname)))
    copy.save = _refuse_save  # type: ignore[method-assign]
    return copy


def _refuse_save(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("A redacted customer is a view: it is never saved.")


def partners_visible_to(actor: Actor) -> QuerySet[Partner]:
    if actor.sees_everything:
        return Partner.objects.all()
    if actor.partner is None:
        return Partner.objects.none()
    return Partner.objects.filter(pk=actor.partner.pk)


def activities_visible_to(actor: Actor, customer: Customer) -> QuerySet[Any]:
    """The activities of ``customer`` (already through the gate) the actor may read.

    The office reads them all; a partner reads those it reported itself: another partner's
    stays and purchases would tell it who else knows the customer.
    """
    from cordee.activities.models import Activity

    qs = Activity.objects.filter(customer=customer)
    if actor.sees_everything:
        return qs
    if actor.partner is None:
        return qs.none()
    return qs.filter(partner=actor.partner)
