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

What a partner sees of a shared customer it did not bring follows the purposes the person
granted (current consent states, granted to the tourist office or jointly, or to the reading
partner itself), field by field (``PURPOSE_FIELDS``, docs/privacy.md):

- ``partner_offers`` (the base: why the customer is visible at all): civility, names, language,
  e-mail (to send the partner's offers), town, département, region and country;
- ``sms`` granted too: the phone numbers;
- ``profiling`` granted too: the qualification (interests, preferred season, family
  situation, number of children).

No purpose lets a partner read the birth date, gender, profession, postal address or custom
attributes of a customer it did not bring, nor any other partner's source records,
activities or partner-controlled consents. A field hidden this way is *shown* as hidden
(``hidden`` in rows and API answers, "non partagé" on pages and in CSV files), never as an
empty value. A partner's own customers (a ``CustomerLink``) stay fully visible.
``customer_scope`` says which view applies, ``customers_readable_fields`` which fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Exists, Expression, F, OuterRef, Q, QuerySet
from django.http import Http404

from cordee.customers.models import Customer, CustomerLink
from cordee.partners.models import Partner, User

SHARING_PURPOSE = "partner_offers"

# What each purpose granted lets a partner read of a customer it did not bring (see the
# module's docstring). The partner_offers set is the base every shared customer shows.
PURPOSE_FIELDS: dict[str, frozenset[str]] = {
    SHARING_PURPOSE: frozenset(
        {
            "id",
            "civility",
            "first_name",
            "last_name",
            "email",
            "city",
            "departement",
            "region",
            "country",
            "language",
            "created_at",
            "updated_at",
            # Why the partner sees the customer at all: not personal data.
            "shares_with_partners",
        }
    ),
    "sms": frozenset({"phone", "phone_other"}),
    "profiling": frozenset({"interests", "preferred_season", "family_situation", "children"}),
}
SHARED_FIELDS = PURPOSE_FIELDS[SHARING_PURPOSE]
# The golden record's fields a reader can be shown (a hidden one is named as hidden).
CUSTOMER_FIELDS = frozenset(
    {
        "civility", "first_name", "last_name", "email", "phone", "phone_other", "birth_date",
        "gender", "address_line1", "address_line2", "postal_code", "city", "departement",
        "region", "country", "language", "profession", "family_situation", "children",
        "interests", "preferred_season", "attributes",
    }
)  # fmt: skip
# The purposes that widen the base: looked up in the consent states of shared customers.
_WIDENING = tuple(slug for slug in PURPOSE_FIELDS if slug != SHARING_PURPOSE)


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
    those it brought for a partner; the others are shared customers (``customers_readable_fields``)."""
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


def customers_granted_purposes(actor: Actor, ids: Iterable[int]) -> dict[int, set[str]]:
    """Of the purposes that widen a partner's view (``sms``, ``profiling``), those each of
    ``ids`` granted: to the tourist office, jointly, or to the reading partner. One query
    for the whole set (a list page, an export chunk), whatever its size."""
    from cordee.partners.models import PartnerKind
    from cordee.privacy.models import ConsentState, ConsentStatus, ControllerKind

    wanted = set(ids)
    granted: dict[int, set[str]] = {pk: set() for pk in wanted}
    if not wanted or actor.partner is None:
        return granted
    states = ConsentState.objects.filter(
        Q(controller__kind=PartnerKind.HUB)
        | Q(purpose__controller=ControllerKind.JOINT)
        | Q(controller_id=actor.partner.pk),
        customer_id__in=wanted,
        status=ConsentStatus.GRANTED,
        purpose__slug__in=_WIDENING,
    )
    for customer_id, slug in states.values_list("customer_id", "purpose__slug"):
        granted[customer_id].add(slug)
    return granted


def customers_readable_fields(actor: Actor, ids: Iterable[int]) -> dict[int, frozenset[str] | None]:
    """Per customer of ``ids`` (already through the gate): the fields the actor may read,
    ``None`` meaning all of them (the office; a partner's own customers). Two queries at most
    for the whole set: the partner's links, then the purposes granted by the others."""
    wanted = set(ids)
    full = customers_fully_visible(actor, wanted)
    readable: dict[int, frozenset[str] | None] = dict.fromkeys(full)
    shared = wanted - full
    if shared:
        for pk, slugs in customers_granted_purposes(actor, shared).items():
            readable[pk] = SHARED_FIELDS.union(*(PURPOSE_FIELDS[slug] for slug in slugs))
    return readable


def customer_readable_fields(actor: Actor, customer: Customer) -> frozenset[str] | None:
    """The fields the actor may read of one customer (``None``: all)."""
    return customers_readable_fields(actor, [customer.pk])[customer.pk]


def readable_condition(actor: Actor, field: str) -> Q:
    """Keeps, of customers already through the gate, those of which the actor may read ``field``.

    For a search on that field: finding a shared customer by a phone or a postcode it did not
    agree to share would tell the value. Added to a search that matches a handful of rows
    (keyed hash, postcode), so the per-row probes stay cheap.
    """
    from cordee.partners.models import PartnerKind
    from cordee.privacy.models import ConsentState, ConsentStatus, ControllerKind

    if actor.sees_everything or field in SHARED_FIELDS:
        return Q()
    if actor.partner is None:
        return Q(pk__in=[])
    condition = Q(
        Exists(CustomerLink.objects.filter(partner=actor.partner, customer_id=OuterRef("pk")))
    )
    slugs = [s for s in _WIDENING if field in PURPOSE_FIELDS[s]]
    if slugs:
        granted = ConsentState.objects.filter(
            Q(controller__kind=PartnerKind.HUB)
            | Q(purpose__controller=ControllerKind.JOINT)
            | Q(controller_id=actor.partner.pk),
            customer_id=OuterRef("pk"),
            status=ConsentStatus.GRANTED,
            purpose__slug__in=slugs,
        )
        condition |= Q(Exists(granted))
    return condition


def customer_scope(actor: Actor, customer: Customer) -> str:
    """``"full"`` or ``"shared"``: which view of ``customer`` the actor has."""
    return "full" if customer.pk in customers_fully_visible(actor, [customer.pk]) else "shared"


# Keys of a customer row that are not fields of the golden record: never hidden.
_ROW_EXTRAS = frozenset({"id", "sources", "hidden"})


def row_redact(row: dict[str, Any], *, readable: frozenset[str] | None) -> dict[str, Any]:
    """A customer row as the actor may read it: each field outside ``readable`` set to None and
    named in ``row["hidden"]`` (so that a hidden value never reads as an empty one)."""
    if readable is None:
        return row
    hidden = sorted(k for k in row if k not in readable and k not in _ROW_EXTRAS)
    out = {k: (None if k in hidden else v) for k, v in row.items()}
    out["hidden"] = hidden
    return out


def rows_redact(actor: Actor, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    readable = customers_readable_fields(actor, [row["id"] for row in rows])
    return [row_redact(row, readable=readable[row["id"]]) for row in rows]


def customer_redacted(actor: Actor, customer: Customer) -> Customer:
    """The customer, with the fields the actor may not read set to None and listed in its
    ``hidden`` attribute (a copy, never saved)."""
    readable = customer_readable_fields(actor, customer)
    if readable is None:
        return customer
    copy = Customer.objects.get(pk=customer.pk)
    hidden = []
    for field in copy._meta.concrete_fields:
        if field.name not in readable and field.name not in _ROW_EXTRAS:
            setattr(copy, field.attname, None)
            if field.name in CUSTOMER_FIELDS:
                hidden.append(field.name)
    copy.hidden = sorted(hidden)  # type: ignore[attr-defined]
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
