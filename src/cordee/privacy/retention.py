"""The retention purge: people whose data has outlived its purpose go (Art. 5(1)(e)).

Two rules, from the purposes' own retention periods:

- a **prospect** (no stay, purchase, ticket, lesson, rental or meal on record) goes when
  nothing came from them or about them for ``CORDEE_PROSPECT_RETENTION_MONTHS`` months
  (36 by default: the CNIL's usual rule for prospects, "3 ans après le dernier contact");
- a **customer** (who bought something) goes after the ``orders`` purpose's retention
  (60 months: the contract and its proof), counted from the last contact too.

"Contact" is any of: a source record received, an activity, a consent event (a yes or a no
the person said). Each person found is erased with ``customer_erase`` (tombstone and all), so
the purge is idempotent: a second run finds nobody new. ``--dry-run`` only counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.customers.models import Customer, SourceRecord
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log
from cordee.privacy.models import ConsentEvent, Purpose
from cordee.privacy.requests import add_months

PURCHASE_KINDS = ("stay", "purchase", "ticket", "lesson", "rental", "meal")
DEFAULT_PROSPECT_MONTHS = 36
DEFAULT_CUSTOMER_MONTHS = 60


@dataclass
class PurgeRule:
    reason: str
    label: str
    months: int
    cutoff: dt.datetime


@dataclass
class PurgeReport:
    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)
    erased: int = 0
    rules: list[PurgeRule] = field(default_factory=list)


def purge_rules(now: dt.datetime | None = None) -> list[PurgeRule]:
    now = now or timezone.now()
    prospect = int(getattr(settings, "CORDEE_PROSPECT_RETENTION_MONTHS", DEFAULT_PROSPECT_MONTHS))
    orders = (
        Purpose.objects.filter(slug="orders").values_list("retention_months", flat=True).first()
        or DEFAULT_CUSTOMER_MONTHS
    )

    def cutoff(months: int) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(add_months(now.date(), -months), dt.time()))

    return [
        PurgeRule(
            "prospect",
            _("Prospect sans contact depuis %(n)s mois") % {"n": prospect},
            prospect,
            cutoff(prospect),
        ),
        PurgeRule(
            "customer",
            _("Client sans contact depuis %(n)s mois (durée de la finalité « commandes »)")
            % {"n": orders},
            orders,
            cutoff(orders),
        ),
    ]


def _bought() -> Exists:
    from cordee.activities.models import Activity

    return Exists(Activity.objects.filter(customer=OuterRef("pk"), kind__in=PURCHASE_KINDS))


def _silent_since(cutoff: dt.datetime) -> Q:
    from cordee.activities.models import Activity

    return (
        ~Q(Exists(SourceRecord.objects.filter(customer=OuterRef("pk"), collected_at__gte=cutoff)))
        & ~Q(Exists(Activity.objects.filter(customer=OuterRef("pk"), starts_on__gte=cutoff.date())))
        & ~Q(Exists(ConsentEvent.objects.filter(customer=OuterRef("pk"), at__gte=cutoff)))
        & Q(created_at__lt=cutoff)
    )


def purge_candidates(rule: PurgeRule) -> QuerySet[Customer]:
    qs = Customer.objects.filter(_silent_since(rule.cutoff))
    if rule.reason == "prospect":
        return qs.filter(~Q(_bought()))
    return qs.filter(_bought())


def retention_purge(
    *,
    actor: Actor,
    dry_run: bool = True,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> PurgeReport:
    """Count (dry run) or erase the customers past their retention; see the module docstring."""
    from cordee.privacy.erasure import customer_erase

    report = PurgeReport(dry_run=dry_run, rules=purge_rules(now))
    for rule in report.rules:
        candidates = purge_candidates(rule)
        report.counts[rule.reason] = candidates.count()
        if dry_run:
            continue
        for customer in candidates.order_by("pk").iterator(chunk_size=500):
            try:
                customer_erase(customer=customer, actor=actor, reason=f"retention:{rule.reason}")
            except Customer.DoesNotExist:
                continue  # erased meanwhile by a request: nothing left to do
            report.erased += 1
            if progress is not None:
                progress(report.erased)
    audit_log(
        actor=actor,
        action="retention.purge_dry_run" if dry_run else "retention.purge",
        counts=report.counts,
        erased=report.erased,
    )
    return report
