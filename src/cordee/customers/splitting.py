"""Setting apart what an exact key joined and is several people: the split (issue 3).

A hotel's front-desk e-mail, a family's shared phone: intake joins such records on the exact
key, and resolution finds them to be several people. A split moves groups of a customer's
source records to new customers, with what came through them, and leaves a ``split`` entry
per new customer in the ledger; merging the two again undoes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cordee.core.bulk import chunked
from cordee.core.signals import activities_changed, customers_changed
from cordee.customers.golden import customers_golden_recompute
from cordee.customers.merging import _iso, _lock, _move, consent_states_recompute
from cordee.customers.models import (
    Customer,
    CustomerLink,
    MergeEvent,
    MergeKind,
    ResolutionRun,
    SourceRecord,
)
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log

__all__ = ["customer_split"]


def customer_split(
    *,
    customer_id: int,
    groups: Sequence[Sequence[int]],
    actor: Actor | None = None,
    run: ResolutionRun | None = None,
) -> list[MergeEvent]:
    """Set groups of a customer's source records apart, each as a new customer.

    For what an exact key joined and resolution says is several people (a hotel's front
    desk e-mail shared by its guests). Each group takes along what came through its records
    (activities, consent events) and gets a link to its records' partners; the ledger holds
    one ``split`` entry per new customer, and merging the two again undoes it. A constant
    number of statements per group, whatever the customer's size.
    """
    from cordee.activities.models import Activity
    from cordee.privacy.models import ConsentEvent

    actor = actor or Actor.system("resolve")
    wanted = [sorted(set(group)) for group in groups if group]
    events: list[MergeEvent] = []
    with transaction.atomic():
        if not _lock([customer_id]):
            raise ValidationError(_("Le client n° %(id)s n'existe plus.") % {"id": customer_id})
        if not wanted:
            return events
        fresh = Customer.objects.bulk_create([Customer() for _group in wanted])
        created: list[int] = []
        for new, ids in zip(fresh, wanted, strict=True):
            sources = _move(SourceRecord, "customer_id", customer_id, new.pk, ids)
            if not sources:
                continue
            moved: dict[str, Any] = {"source_records": sources}
            for name, model in (("activities", Activity), ("consent_events", ConsentEvent)):
                followers = model._default_manager.filter(
                    customer_id=customer_id, source_record_id__in=sources
                ).values_list("pk", flat=True)
                moved[name] = _move(model, "customer_id", customer_id, new.pk, list(followers))
            created.append(new.pk)
            events.append(
                MergeEvent(
                    kind=MergeKind.SPLIT,
                    actor=actor.user,
                    actor_label=actor.label[:150],
                    run=run,
                    survivor_id=customer_id,
                    absorbed_id=new.pk,
                    moved=moved,
                )
            )
        empty = [c.pk for c in fresh if c.pk not in set(created)]
        Customer.objects.filter(pk__in=empty).delete()
        removed = _split_links(customer_id, created)
        if events:
            events[0].moved["links_removed"] = removed
        consent_states_recompute([customer_id, *created])
        customers_golden_recompute([customer_id, *created])
        MergeEvent.objects.bulk_create(events)
        audit_log(
            actor=actor,
            action="customer.split",
            obj=Customer(pk=customer_id),
            new_customers=len(created),
            run=run.pk if run else None,
        )
        touched = [customer_id, *created]
        transaction.on_commit(
            lambda: (
                customers_changed.send(
                    sender=Customer, customer_ids=touched, partner_id=None, created=False
                ),
                activities_changed.send(sender=Customer, customer_ids=touched),
            )
        )
    return events


def _split_links(old: int, created: Sequence[int]) -> list[list[Any]]:
    """Link the new customers to their records' partners; the old one keeps a link only to
    partners it still has a record of. Returns the links the old one lost."""
    first_seen: dict[tuple[int, int], dt.datetime] = {}
    for part in chunked(list(created), 2_000):
        rows = SourceRecord.objects.filter(customer_id__in=part).values_list(
            "customer_id", "partner_id", "collected_at"
        )
        for customer, partner, collected in rows:
            key = (customer, partner)
            if key not in first_seen or collected < first_seen[key]:
                first_seen[key] = collected
    CustomerLink.objects.bulk_create(
        [
            CustomerLink(customer_id=c, partner_id=p, first_seen=f)
            for (c, p), f in first_seen.items()
        ],
        batch_size=2_000,
    )
    still = set(
        SourceRecord.objects.filter(customer_id=old).values_list("partner_id", flat=True).distinct()
    )
    gone = CustomerLink.objects.filter(customer_id=old).exclude(partner_id__in=still)
    removed = [[p, _iso(f)] for p, f in gone.values_list("partner_id", "first_seen")]
    gone.delete()
    return removed
