"""A checked definition → one Django ``Q`` on customers, hence one SQL query, whatever the nesting.

Values only ever travel as query parameters. Behaviour conditions read the aggregates
(``CustomerStats``, ``CustomerSeasonStats``) when they can and the activity table (a
semi-join on an indexed, grouped subquery) when they filter on a kind, partner or product.
The result is always intersected with the privacy gate by :func:`segment_queryset`.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    TextField,
    Value,
    When,
    lookups,
)
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.activities.models import Activity, Season
from cordee.customers.models import Customer
from cordee.privacy.access import Actor, customers_visible_to, readable_condition
from cordee.privacy.models import ConsentState, ConsentStatus
from cordee.segments.definition import FIELDS, DefinitionError, definition_check
from cordee.segments.geography import departements_of
from cordee.segments.models import (
    CustomerSeasonStats,
    CustomerTypology,
    HouseholdPair,
    Segment,
    SegmentKind,
    SegmentMember,
)

MAX_SEGMENT_DEPTH = 5

# Golden-record fields compiled as they are; aggregates through the stats row (one join).
DIRECT = {
    "civility", "gender", "postal_code", "city", "departement", "country", "language",
    "profession", "family_situation", "children", "preferred_season", "created_at",
}  # fmt: skip
# The customer field a condition reads, where its name is not that field's.
_READ_FIELD = {"age": "birth_date", "region": "departement", "zone": "departement"}
# Conditions that read no field of the customer's: a consent (the gate's business), another
# segment and a household (their own conditions are guarded).
_NOT_A_FIELD = {"consent", "segment", "household"}
STATS = {
    "activity_count": "stats__activity_count",
    "amount_total": "stats__amount_total",
    "first_on": "stats__first_on",
    "last_on": "stats__last_on",
    "winter_seasons": "stats__winter_seasons",
    "summer_seasons": "stats__summer_seasons",
    "satisfaction_avg": "stats__satisfaction_avg",
    "complaints": "stats__complaints",
    "rfm_r": "stats__rfm_r",
    "rfm_f": "stats__rfm_f",
    "rfm_m": "stats__rfm_m",
    "loyalty_group": "stats__loyalty_group",
    "churn_risk": "stats__churn_risk",
}
LOOKUP = {"eq": "exact", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte", "in": "in"}


class Compiler:
    def __init__(
        self,
        actor: Actor,
        today: dt.date | None = None,
        stack: tuple[str, ...] = (),
        in_household: bool = False,
    ) -> None:
        # The reader: a household condition looks at other customers, and only ever at those
        # the reader may see (else a count would tell a partner about people it cannot see).
        self.actor = actor
        self.today = today or timezone.localdate()
        self.stack = stack  # slugs of the segments being expanded (cycle detection)
        self.in_household = in_household  # compiling the « where » of a household condition

    def compile(self, node: dict[str, Any]) -> Q:
        if not node:
            return Q()
        if "all" in node:
            q = Q()
            for child in node["all"]:
                q &= self.compile(child)
            return q
        if "any" in node:
            if not node["any"]:
                return Q(pk__in=[])
            q = Q()
            for child in node["any"]:
                q |= self.compile(child)
            return q
        if "not" in node:
            return ~self.compile(node["not"])
        return self.leaf(node)

    # Leaves -----------------------------------------------------------------------------

    def leaf(self, node: dict[str, Any]) -> Q:
        """A condition; for a partner, on the customers whose field it may read only.

        A shared customer's hidden fields (privacy.access.PURPOSE_FIELDS) must not sort it
        into a segment, or the count would tell them: "age between 30 and 35" matches only the
        customers whose birth date the partner may read (its own). Stats and activities are
        no field any purpose shares: they are read for the partner's own customers only. A
        negated condition leaves the unreadable customers all on one side, which tells
        nothing either.
        """
        q = self._leaf(node)
        name = node["field"]
        if self.actor.sees_everything or name in _NOT_A_FIELD:
            return q
        return q & readable_condition(self.actor, _READ_FIELD.get(name, name))

    def _leaf(self, node: dict[str, Any]) -> Q:
        name, op = node["field"], node["op"]
        value: Any = node.get("value")
        if name in DIRECT:
            return self.compare(name, op, value, FIELDS[name].type)
        if name == "age":
            return self.age(op, value)
        if name in ("region", "zone"):
            codes: list[str] = []
            for key in value:
                codes += departements_of(name, key) or ()
            q = Q(departement__in=codes)
            return ~q if op == "not_in" else q
        if name == "interests":
            return self.interests(op, value)
        if name == "days_since_last":
            return self.days_since_last(op, value)
        if name == "rfm_total":
            return self.compare("rfm_total", op, value, "number", expression=True)
        if "season" in node and name in ("loyalty_group", "rfm_r", "rfm_f", "rfm_m"):
            return self.in_season(name, op, value, node["season"])
        if name in STATS:
            return self.compare(STATS[name], op, value, FIELDS[name].type)
        if name == "activities":
            return self.activities(node)
        if name == "consent":
            return self.consent(node)
        if name == "segment":
            q = self.segment(value)
            return ~q if op == "not_in" else q
        if name in ("household", "household_size"):
            if self.in_household:
                raise DefinitionError(
                    [_("une condition sur le foyer ne peut pas porter sur le foyer d'un membre.")]
                )
            if name == "household":
                return self.household(node.get("where") or {})
            return self.household_size(op, value)
        raise DefinitionError([_("champ inconnu « %(name)s ».") % {"name": name}])

    def compare(self, path: str, op: str, value: Any, kind: str, expression: bool = False) -> Q:
        if kind == "date" and value is not None and op != "empty":
            value = (
                [dt.date.fromisoformat(v) for v in value]
                if isinstance(value, list)
                else dt.date.fromisoformat(value)
            )
        if expression:  # rfm_total: a sum of the stats row's columns
            return expr_q(F("stats__rfm_r") + F("stats__rfm_f") + F("stats__rfm_m"), op, value)
        if op == "empty":
            blank = Q(**{f"{path}__isnull": True})
            if kind in ("text", "choice"):
                blank |= Q(**{path: ""})
            return blank if value else ~blank
        if op == "ne":
            return ~Q(**{path: value})
        if op == "not_in":
            return ~Q(**{f"{path}__in": value})
        if op == "between":
            low, high = value
            return Q(**{f"{path}__gte": low, f"{path}__lte": high})
        if op == "contains":
            return Q(**{f"{path}__icontains": value})
        if op == "startswith":
            return Q(**{f"{path}__startswith": value})
        return Q(**{f"{path}__{LOOKUP[op]}": value})

    def age(self, op: str, value: Any) -> Q:
        # Age in the current year, from the birth year kept in clear (ARCHITECTURE.md, rule 8).
        year = self.today.year
        if op == "empty":
            return Q(birth_year__isnull=value)
        if op == "between":
            low, high = value
            return Q(birth_year__gte=year - int(high), birth_year__lte=year - int(low))
        mirrored = {"gt": "lt", "gte": "lte", "lt": "gt", "lte": "gte", "eq": "exact"}
        if op == "ne":
            return ~Q(birth_year=year - int(value)) & Q(birth_year__isnull=False)
        return Q(**{f"birth_year__{mirrored[op]}": year - int(value)})

    def interests(self, op: str, value: Any) -> Q:
        if op == "empty":
            blank = Q(interests=[]) | Q(interests__isnull=True)
            return blank if value else ~blank
        # The JSON list as text contains the quoted value: portable across SQLite (which
        # escapes non-ASCII) and PostgreSQL (which does not); interests are stored lower-case.
        from django.db.models.functions import Lower

        needle = str(value).lower()
        text = Lower(Cast("interests", TextField()))
        found = Q(lookups.Contains(text, json.dumps(needle)))
        if json.dumps(needle) != json.dumps(needle, ensure_ascii=False):
            found |= Q(lookups.Contains(text, json.dumps(needle, ensure_ascii=False)))
        return ~found if op == "not_contains" else found

    def days_since_last(self, op: str, value: Any) -> Q:
        def day(n: Any) -> dt.date:
            return self.today - dt.timedelta(days=int(n))

        path = "stats__last_on"
        if op == "empty":
            return Q(**{f"{path}__isnull": value})
        if op == "between":
            low, high = value
            return Q(**{f"{path}__lte": day(low), f"{path}__gte": day(high)})
        mirrored = {"gt": "lt", "gte": "lte", "lt": "gt", "lte": "gte", "eq": "exact"}
        if op == "ne":
            return ~Q(**{path: day(value)})
        return Q(**{f"{path}__{mirrored[op]}": day(value)})

    def in_season(self, name: str, op: str, value: Any, code: str) -> Q:
        season = Season.objects.filter(code=code).first()
        if season is None:
            raise DefinitionError([_("saison inconnue « %(code)s ».") % {"code": code[:40]}])
        if name == "loyalty_group":
            rows = CustomerTypology.objects.filter(customer_id=OuterRef("pk"), season=season)
            values = value if isinstance(value, list) else [value]
            exists_in = Q(Exists(rows.filter(group__in=values)))
            if "prospect" in values:  # a prospect has no typology row
                exists_in |= ~Q(Exists(rows))
            return ~exists_in if op in ("ne", "not_in") else exists_in
        attended = CustomerSeasonStats.objects.filter(customer_id=OuterRef("pk"), season=season)
        return Q(Exists(attended.filter(self.compare(name, op, value, "number"))))

    # Behaviour --------------------------------------------------------------------------

    def activities(self, node: dict[str, Any]) -> Q:
        """``metric op value`` over the customer's activities that match the filters.

        A customer without a matching activity has a count and amount of 0 and no recency:
        when the comparison holds for 0 the condition is written as NOT IN (those for whom it
        does not hold), so that the grouped subquery only ever reads customers who have
        matching activities.
        """
        metric, op, value = node.get("metric", "count"), node["op"], node["value"]
        raw = any(
            k in node
            for k in ("kind", "partner", "partner_kind", "product", "since_days", "from", "to")
        )
        seasons = self.season_ids(node)
        if raw:
            rows: QuerySet[Any] = Activity.objects.all()
            if seasons is not None:
                rows = rows.filter(season_id__in=seasons)
            rows = self.activity_filters(rows, node)
            measures = {
                "count": Count("id"),
                "amount": Sum("amount"),
                "seasons": Count("season_id", distinct=True),
                "days_since_last": Max("starts_on"),
            }
        elif seasons is None and metric != "seasons":
            # Over all time: the customer's own stats row answers, no grouping at all.
            column = {"count": "activity_count", "amount": "amount_total"}.get(metric)
            if column is None:
                return self.days_since_last(op, value)
            return self.compare(f"stats__{column}", op, value, "number")
        else:
            return self.season_window(metric, op, value, seasons)
        grouped = rows.order_by().values("customer_id").annotate(m=measures[metric])
        if metric == "days_since_last":
            # Recency: only customers with a matching activity have one.
            return Q(pk__in=grouped.filter(self.recency(op, value)).values("customer_id"))
        holds_for_zero = _holds(op, value, 0)
        test = self.compare(
            "m",
            op,
            Decimal(str(value)) if metric == "amount" and not isinstance(value, list) else value,
            "number",
        )
        if holds_for_zero:
            return ~Q(pk__in=grouped.filter(~test).values("customer_id"))
        return Q(pk__in=grouped.filter(test).values("customer_id"))

    def season_window(self, metric: str, op: str, value: Any, seasons: list[int] | None) -> Q:
        """A measure over some seasons, from the per-season rows (a few million at most,
        not the activities): a grouped semi-join, like the activity conditions. (A correlated
        look-up per customer was measured 3× slower than this at a million customers.)"""
        if metric == "seasons" and seasons is not None:
            return self.seasons_attended(op, value, seasons)
        rows = CustomerSeasonStats.objects.all()
        if seasons is not None:
            rows = rows.filter(season_id__in=seasons)
        measure = {
            "count": Sum("activity_count"),
            "amount": Sum("amount"),
            "seasons": Count("id"),
            "days_since_last": Max("last_on"),
        }[metric]
        grouped = rows.order_by().values("customer_id").annotate(m=measure)
        if metric == "days_since_last":
            return Q(pk__in=grouped.filter(self.recency(op, value)).values("customer_id"))
        test = self.compare("m", op, value, "number")
        if _holds(op, value, 0):
            return ~Q(pk__in=grouped.filter(~test).values("customer_id"))
        return Q(pk__in=grouped.filter(test).values("customer_id"))

    def seasons_attended(self, op: str, value: Any, seasons: list[int]) -> Q:
        """How many of ``seasons`` the customer came in, read from their stats row (the ids
        of the seasons attended): a test on one row, evaluated after the customer's cheaper
        conditions, instead of grouping the per-season rows of every customer. (At a million
        customers the grouping cost more than the rest of a compound segment together.)"""
        if not seasons:
            came: Any = Value(0)
        else:
            came = sum(
                (
                    Case(
                        When(stats__seasons_attended__contains=f" {int(pk)} ", then=Value(1)),
                        default=Value(0),
                    )
                    for pk in seasons
                ),
                start=Value(0),
            )
        q = expr_q(came, op, value)
        if _holds(op, value, 0):  # a customer without a stats row came in none
            q |= Q(stats__isnull=True)
        return q

    def recency(self, op: str, value: Any) -> Q:
        def day(n: Any) -> dt.date:
            return self.today - dt.timedelta(days=int(n))

        if op == "between":
            low, high = value
            return Q(m__lte=day(low), m__gte=day(high))
        mirrored = {"gt": "lt", "gte": "lte", "lt": "gt", "lte": "gte", "eq": "exact"}
        if op == "ne":
            return ~Q(m=day(value))
        return Q(**{f"m__{mirrored[op]}": day(value)})

    def season_ids(self, node: dict[str, Any]) -> list[int] | None:
        if "season" in node:
            season = Season.objects.filter(code=node["season"]).first()
            if season is None:
                raise DefinitionError(
                    [_("saison inconnue « %(code)s ».") % {"code": node["season"][:40]}]
                )
            return [season.pk]
        if "seasons" not in node:
            return None
        spec = node["seasons"]
        started = Season.objects.filter(kind=spec["kind"], starts_on__lte=self.today)
        return list(started.order_by("-starts_on").values_list("pk", flat=True)[: spec["last"]])

    def activity_filters(self, rows: QuerySet[Any], node: dict[str, Any]) -> QuerySet[Any]:
        def many(key: str) -> list[Any]:
            return node[key] if isinstance(node[key], list) else [node[key]]

        if "kind" in node:
            rows = rows.filter(kind__in=many("kind"))
        if "partner" in node:
            rows = rows.filter(partner__slug__in=many("partner"))
        if "partner_kind" in node:
            rows = rows.filter(partner__kind__in=many("partner_kind"))
        if "product" in node:
            rows = rows.filter(product__icontains=node["product"])
        if "since_days" in node:
            rows = rows.filter(starts_on__gte=self.today - dt.timedelta(days=node["since_days"]))
        if "from" in node:
            rows = rows.filter(starts_on__gte=dt.date.fromisoformat(node["from"]))
        if "to" in node:
            rows = rows.filter(starts_on__lte=dt.date.fromisoformat(node["to"]))
        return rows

    # Consent and other segments ----------------------------------------------------------

    def consent(self, node: dict[str, Any]) -> Q:
        granted = ConsentState.objects.filter(
            customer=OuterRef("pk"), status=ConsentStatus.GRANTED, purpose__slug=node["purpose"]
        )
        if "controller" in node:
            granted = granted.filter(controller__slug=node["controller"])
        q = Q(Exists(granted))
        return ~q if node["op"] == "not_granted" else q

    # Households ---------------------------------------------------------------------------

    def members(self) -> QuerySet[Any]:
        """Household pairs whose other member the reader may see."""
        if self.actor.sees_everything:
            return HouseholdPair.objects.all()
        return HouseholdPair.objects.filter(
            member_id__in=customers_visible_to(self.actor).values("pk")
        )

    def household(self, where: dict[str, Any]) -> Q:
        """Another member of the customer's household, visible to the reader, matches
        ``where`` (any member when empty): a semi-join on the pairs view, whose members are
        read through the same gate as the segment itself."""
        pairs = self.members()
        if where:
            nested = Compiler(self.actor, self.today, self.stack, in_household=True)
            matching = customers_visible_to(self.actor).filter(nested.compile(where))
            pairs = HouseholdPair.objects.filter(member_id__in=matching.values("pk"))
        return Q(pk__in=pairs.values("customer_id"))

    def household_size(self, op: str, value: Any) -> Q:
        """The customer plus the members of their household the reader may see (1: alone)."""
        grouped = (
            self.members()
            .order_by()
            .values("customer_id")
            .annotate(m=Count("member_id", distinct=True) + 1)
        )
        if op == "empty":  # every customer has a size (1 when alone)
            return Q(pk__in=[]) if value else Q()
        test = self.compare("m", op, value, "number")
        if _holds(op, value, 1):
            return ~Q(pk__in=grouped.filter(~test).values("customer_id"))
        return Q(pk__in=grouped.filter(test).values("customer_id"))

    def segment(self, slug: str) -> Q:
        if slug in self.stack:
            raise DefinitionError(
                [
                    _(
                        "le segment « %(slug)s » s'inclut lui-même (directement ou par un autre segment)."
                    )
                    % {"slug": slug[:60]}
                ]
            )
        if len(self.stack) >= MAX_SEGMENT_DEPTH:
            raise DefinitionError(
                [
                    _("trop de segments imbriqués les uns dans les autres (%(max)s au plus).")
                    % {"max": MAX_SEGMENT_DEPTH}
                ]
            )
        # Only a segment the reader may use: the office's and, for a partner, its own (another
        # partner's segment is its business, not even its existence is told).
        candidates = Segment.objects.filter(slug=slug)
        if not self.actor.sees_everything:
            candidates = candidates.filter(Q(owner__isnull=True) | Q(owner=self.actor.partner))
        other = candidates.first()
        if other is None:
            raise DefinitionError([_("segment inconnu « %(slug)s ».") % {"slug": slug[:60]}])
        if other.kind == SegmentKind.FROZEN:
            return Q(
                Exists(SegmentMember.objects.filter(segment=other, customer_id=OuterRef("pk")))
            )
        definition_check(other.definition)
        return Compiler(self.actor, self.today, (*self.stack, slug), self.in_household).compile(
            other.definition
        )


def expr_q(expr: Any, op: str, value: Any) -> Q:
    """``expr op value`` as a Q, for expressions that are not model fields."""
    if op == "between":
        return Q(lookups.GreaterThanOrEqual(expr, value[0])) & Q(
            lookups.LessThanOrEqual(expr, value[1])
        )
    if op == "empty":
        q = Q(lookups.IsNull(expr, True))
        return q if value else ~q
    if op == "ne":
        return ~Q(lookups.Exact(expr, value))
    classes: dict[str, Any] = {
        "eq": lookups.Exact,
        "gt": lookups.GreaterThan,
        "gte": lookups.GreaterThanOrEqual,
        "lt": lookups.LessThan,
        "lte": lookups.LessThanOrEqual,
    }
    return Q(classes[op](expr, value))


def _holds(op: str, value: Any, x: float) -> bool:
    if op == "between":
        return float(value[0]) <= x <= float(value[1])
    v = float(value)
    return {
        "eq": x == v, "ne": x != v, "gt": x > v, "gte": x >= v, "lt": x < v, "lte": x <= v,
    }[op]  # fmt: skip


def definition_q(
    definition: dict[str, Any],
    *,
    actor: Actor,
    slug: str | None = None,
    today: dt.date | None = None,
) -> Q:
    """Check and compile a definition (``slug``: the segment being defined, for cycles) for
    ``actor``, whose view bounds what household conditions may look at."""
    definition_check(definition)
    return Compiler(actor, today, (slug,) if slug else ()).compile(definition or {})


def definition_queryset(
    definition: dict[str, Any],
    actor: Actor,
    *,
    slug: str | None = None,
    today: dt.date | None = None,
) -> QuerySet[Customer]:
    """The customers matching ``definition`` among those ``actor`` may see: one query."""
    return segment_base(actor).filter(definition_q(definition, actor=actor, slug=slug, today=today))


def segment_base(actor: Actor) -> QuerySet[Customer]:
    """Whom a segment may hold: the customers ``actor`` may see, less those whose processing
    is restricted (Art. 18, cordee.privacy.objection) — not in a count, a preview, an export
    or an audience built from a segment, until the DPO lifts the restriction."""
    return customers_visible_to(actor).filter(restricted_at__isnull=True)


def segment_queryset(
    segment: Segment, actor: Actor, *, today: dt.date | None = None
) -> QuerySet[Customer]:
    """A segment's members as ``actor`` may see them (a frozen list: its members, gated)."""
    visible = segment_base(actor)
    if segment.kind == SegmentKind.FROZEN:
        return visible.filter(
            Exists(SegmentMember.objects.filter(segment=segment, customer_id=OuterRef("pk")))
        )
    return visible.filter(
        definition_q(segment.definition, actor=actor, slug=segment.slug, today=today)
    )
