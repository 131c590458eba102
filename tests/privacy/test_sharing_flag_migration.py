"""The migration that adds the sharing flag fills it from the consent states already there."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = ("customers", "0008_source_raw_text_no_batch_index")
AFTER = ("customers", "0009_sharing_flag")


@pytest.mark.django_db(transaction=True)
def test_the_flag_is_backfilled_from_the_granted_sharing_states():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    others = [_short_of(executor, node) for node in latest if node[0] != "customers"]
    before = [node for node in others if node is not None] + [BEFORE]
    after = [node for node in others if node is not None] + [AFTER]
    executor.migrate(before)
    try:
        flags = backfilled(executor, before, after)
    finally:
        # Back to the latest state whatever happened: the tests that follow need it.
        executor = MigrationExecutor(connection)
        executor.migrate(latest)
    assert flags == {"zoe": True, "paul": False, "elodie": False}


def _short_of(executor: MigrationExecutor, node: tuple[str, str]) -> tuple[str, str] | None:
    """The latest migration of ``node``'s app that does not need the flag's migration (a later
    migration of another app may depend on it)."""
    graph = executor.loader.graph
    current: tuple[str, str] | None = node
    while current is not None and AFTER in graph.forwards_plan(current):
        parents = [p for p in graph.node_map[current].parents if p[0] == current[0]]
        current = parents[0].key if parents else None
    return current


def backfilled(executor: MigrationExecutor, before: list, after: list) -> dict[str, bool]:
    """Consent states written before the migration; the flags it leaves."""
    apps = executor.loader.project_state(before).apps
    partner = apps.get_model("partners", "Partner").objects.create(
        slug="office", name="Office", kind="hub"
    )
    purposes = apps.get_model("privacy", "Purpose").objects
    # Seeded by a migration, unless a test run emptied the tables since (transactional tests
    # flush them).
    sharing, newsletter = (
        purposes.get_or_create(
            slug=slug,
            defaults={
                "name_fr": slug,
                "description_fr": slug,
                "legal_basis": "consent",
                "controller": "joint",
                "retention_months": 36,
            },
        )[0]
        for slug in ("partner_offers", "newsletter")
    )
    customers = apps.get_model("customers", "Customer").objects
    event_model = apps.get_model("privacy", "ConsentEvent")
    state_model = apps.get_model("privacy", "ConsentState")
    people = {name: customers.create(first_name=name) for name in ("zoe", "paul", "elodie")}
    now = timezone.now()
    for name, purpose, status in (
        ("zoe", sharing, "granted"),
        ("paul", sharing, "withdrawn"),
        ("elodie", newsletter, "granted"),
    ):
        event = event_model.objects.create(
            customer=people[name],
            purpose=purpose,
            controller=partner,
            status=status,
            at=now,
            channel="desk",
        )
        state_model.objects.create(
            customer=people[name],
            purpose=purpose,
            controller=partner,
            status=status,
            at=now,
            event=event,
        )
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    apps = executor.loader.project_state(after).apps
    return dict(
        apps.get_model("customers", "Customer").objects.values_list(
            "first_name", "shares_with_partners"
        )
    )
