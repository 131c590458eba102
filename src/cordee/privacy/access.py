"""The one gate through which every read of customer data passes (ARCHITECTURE.md, rule 1).

Pages, exports, the CLI, the API and segments obtain customers here and nowhere else.

Who sees whom:

- the tourist office's staff (and the system: CLI, tasks) see every customer;
- a partner sees the customers it brought (a ``CustomerLink``) **and** those whose current
  consent to ``partner_offers`` ("sharing with the destination's partners") is granted,
  whoever collected it: the purpose is a joint one, so a "yes" given at the hotel's desk or
  on the office's site is the same agreement to be known by every partner. That consent is
  mirrored on the customer as ``shares_with_partners`` (cordee.privacy.sharing);
- anybody else sees nobody.

What a partner sees of a shared customer it did not bring follows the words the person
agreed to (the ``partner_offers`` wording: "mes coordonnées et mes centres d'intérêt"):
identity, contact details, interests and family composition (``SHARED_FIELDS``). It does not
see the birth date, gender, profession or custom attributes, nor any other partner's source
records, activities or partner-controlled consents. ``customer_scope`` says which view applies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Expression, F, QuerySet
from django.http import Http404

from cordee.customers.models import Customer, CustomerLink
from cordee.partners.models import Partner, User

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
        # Why the partner sees the customer at all: not personal data.
        "shares_with_partners",
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


class _SharedOrBrought(Expression):
    """A partner's gate: the customer is shared, or the partner brought it.

    ``shares_with_partners OR EXISTS (a link of this partner to the customer)``: the flag is
    a column of the row being read (cordee.privacy.sharing keeps it equal to the
    ``partner_offers`` consent), so only unshared customers are probed for a link, one probe
    of customer_link_unique each.

    ``OFFSET 0``: PostgreSQL may turn an EXISTS under an OR into a "hashed SubPlan" that
    reads every customer a partner brought before returning the first row of a page (30 ms
    at 50,000 links, and growing with the partner), where a list page needs ~50 rows and a
    probe per row costs microseconds. The planner does not rewrite a subquery with an OFFSET,
    and the OFFSET changes nothing else.

    Written as one SQL template rather than ``Q(flag) | Q(Exists(...))``: every list compiles
    the gate, and the ORM took longer to compile that condition than PostgreSQL took to run
    it. The columns still come from the compiler, so the aliases stay right when the gate is
    itself a subquery.
    """

    conditional = True
    output_field = BooleanField()

    def __init__(self, partner_id: int, shared: Any = None, customer: Any = None) -> None:
        super().__init__(output_field=BooleanField())
        self.partner_id = partner_id
        self.shared = F("shares_with_partners") if shared is None else shared
        self.customer = F("pk") if customer is None else customer

    def get_source_expressions(self) -> list[Any]:
        return [self.shared, self.customer]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.shared, self.customer = exprs

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        shared, shared_params = compiler.compile(self.shared)
        customer, customer_params = compiler.compile(self.customer)
        links = connection.ops.quote_name(CustomerLink._meta.db_table)
        offset = " OFFSET 0" if connection.vendor == "postgresql" else ""
        # SQLite stores the flag as 0/1: compare it, so that the OR is between booleans.
        flag = shared if connection.features.has_native_boolean_field else f"{shared} = 1"
        sql = (
            f"({flag} OR EXISTS(SELECT 1 FROM {links} gate_link "  # noqa: S608
            f"WHERE gate_link.partner_id = %s AND gate_link.customer_id = {customer}{offset}))"
        )
        return sql, (*shared_params, *customer_params, self.partner_id)


def customers_visible_to(actor: Actor, purpose: str | None = None) -> QuerySet[Customer]:
    """Every customer the actor may see: one SQL condition, whatever the read path."""
    qs = Customer.objects.all()
    if actor.sees_everything:
        return qs
    if actor.partner is None:
        return qs.none()
    # The flag first: a column of the row, read for free, admits 30 % of the customers in
    # bench/bench_gate.py; only the others are probed for a link.
    return qs.filter(_SharedOrBrought(int(actor.partner.pk)))


_SHARED_COUNT_SQL = (
    "SELECT COUNT(*) FROM (SELECT 1 FROM {customers} "  # noqa: S608
    "WHERE shares_with_partners LIMIT %s) s"
)
_BROUGHT_UNSHARED_COUNT_SQL = (
    "SELECT COUNT(*) FROM (SELECT 1 FROM {links} l JOIN {customers} c ON c.id = l.customer_id "  # noqa: S608
    "WHERE l.partner_id = %s AND NOT c.shares_with_partners LIMIT %s) b"
)


def customers_visible_count(actor: Actor, *, cap: int) -> int:
    """How many customers the actor sees, counted up to ``cap`` (the list's "more than 1,000").

    The same set as ``customers_visible_to``, counted from the gate's own indexes rather than
    by walking customers in name order and probing each: for a partner, the shared customers
    first (an index-only range of the partial customer_shared_idx), and only when they are
    fewer than ``cap`` the customers it brought that are not shared (disjoint from the
    first, so the sum is exact).
    """
    if actor.sees_everything:
        return Customer.objects.order_by()[:cap].count()
    if actor.partner is None or cap <= 0:
        return 0
    # Plain SQL: the ORM would spend longer compiling these than PostgreSQL running them.
    # Table names come from the models, values are parameters.
    qn = connection.ops.quote_name
    tables = {
        "customers": qn(Customer._meta.db_table),
        "links": qn(CustomerLink._meta.db_table),
    }
    with connection.cursor() as cursor:
        cursor.execute(_SHARED_COUNT_SQL.format(**tables), [cap])
        shared = int(cursor.fetchone()[0])
        if shared >= cap:
            return cap
        cursor.execute(
            _BROUGHT_UNSHARED_COUNT_SQL.format(**tables), [int(actor.partner.pk), cap - shared]
        )
        return shared + int(cursor.fetchone()[0])


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
