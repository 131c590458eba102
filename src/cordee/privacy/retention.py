"""The retention purge: people whose data has outlived its purpose go (Art. 5(1)(e)).

Two rules, from the purposes' own retention periods:

- a **prospect** (no stay, purchase, ticket, lesson, rental or meal on record) goes when
  nothing came from them or about them for ``CORDEE_PROSPECT_RETENTION_MONTHS`` months
  (36 by default: the CNIL's usual rule for prospects, "3 ans après le dernier contact");
- a **customer** (who bought something) goes after the ``orders`` purpose's retention
  (60 months: the contract and its proof), counted from the last contact too.

"Contact" is any of: a source record received, an activity, a consent event (a yes or a no
the person said). The people found are erased in batches by ``customers_erase`` (tombstone
and all, the same as a single erasure), so the purge is idempotent: a second run finds nobody
new, and one interrupted half-way finishes the job. ``--dry-run`` only counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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
    # What went, summed over the tombstones (source records, activities, ...).
    erased_counts: dict[str, int] = field(default_factory=dict)


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
    batch_size: int | None = None,
) -> PurgeReport:
    """Count (dry run) or erase the customers past their retention; see the module docstring.

    The candidates are listed once per rule, then erased ``batch_size`` at a time by
    ``customers_erase``, each batch one transaction that checks the rule again on the rows it
    locks: someone who came back since the list was made stays. Interrupted, the next run
    erases what is left.
    """
    from cordee.privacy.erasure import BATCH_SIZE, COUNT_KEYS, customers_erase

    report = PurgeReport(dry_run=dry_run, rules=purge_rules(now))
    report.erased_counts = dict.fromkeys(COUNT_KEYS, 0)
    for rule in report.rules:
        candidates = purge_candidates(rule)
        if dry_run:
            report.counts[rule.reason] = candidates.count()
            continue
        ids = list(candidates.order_by("pk").values_list("pk", flat=True))
        report.counts[rule.reason] = len(ids)
        before = report.erased

        def step(n: int, before: int = before) -> None:
            if progress is not None:
                progress(before + n)

        done = customers_erase(
            customer_ids=ids,
            actor=actor,
            reason=f"retention:{rule.reason}",
            restrict=purge_candidates(rule),
            batch_size=batch_size or BATCH_SIZE,
            progress=step,
        )
        report.erased += len(done.erased)
        for key, n in done.counts.items():
            report.erased_counts[key] = report.erased_counts.get(key, 0) + n
    details: dict[str, Any] = {"counts": report.counts, "erased": report.erased}
    if not dry_run:
        details["erased_counts"] = report.erased_counts
    audit_log(
        actor=actor,
        action="retention.purge_dry_run" if dry_run else "retention.purge",
        **details,
    )
    return report
