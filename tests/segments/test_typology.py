"""The 3F rules on hand-built histories (reference season: summer 2024, window of 3)."""

from __future__ import annotations

from cordee.segments.models import CustomerStats, CustomerTypology
from cordee.segments.services import stats_refresh
from cordee.segments.typology import group_explain


def group_of(customer) -> tuple[str, str]:
    row = CustomerTypology.objects.get(customer=customer, season__code="ete-2024")
    return row.group, row.reason


def test_groups_follow_the_documented_rules(history):
    elodie = history("Élodie", {2022: [(9,)], 2023: [(8,)], 2024: [(9,)]})
    jean_luc = history("Jean-Luc", {2023: [(4,)], 2024: [(5,)]})
    paul = history("Paul", {2023: [(9, 100, "stay", "business")], 2024: [(9,)]})
    rose = history("Rose", {2023: [(9,)], 2024: [(9,), (None, 0, "complaint")]})
    ines = history("Inès", {2020: [(9,)], 2021: [(9,)]})
    marc = history("Marc", {2021: [(9,)], 2023: [(3,)]})
    lea = history("Léa", {2024: [(10,)]})
    hugo = history("Hugo", {2023: [(9,)]})
    anna = history("Anna", {2019: [(9,)], 2020: [(9,)], 2021: [(9,)], 2023: [(9,)]})
    zoe = history("Zoé")
    stats_refresh(train=False)

    assert group_of(elodie) == ("fidele", "revient_satisfait")
    assert group_of(jean_luc) == ("force", "revient_insatisfait")
    assert group_of(paul) == ("force", "revient_contraint")
    assert group_of(rose) == ("force", "revient_insatisfait")
    assert group_of(ines) == ("fuyant", "absent")
    assert group_of(marc) == ("fuyant", "insatisfait")
    assert group_of(lea) == ("nouveau", "premiere_saison")
    assert group_of(hugo) == ("nouveau", "recent")
    # 2019 has no season: Anna's typed history is 2020, 2021, 2023 — once in the window after
    # twice before it.
    assert group_of(anna) == ("fuyant", "en_baisse")
    assert not CustomerTypology.objects.filter(customer=zoe).exists()
    current = dict(CustomerStats.objects.values_list("customer_id", "loyalty_group"))
    assert current[elodie.pk] == "fidele"
    assert current[zoe.pk] == "prospect"


def test_explanation_gives_the_facts(history):
    jean_luc = history("Jean-Luc", {2023: [(4, 250)], 2024: [(5, 150)]})
    stats_refresh(train=False)
    why = group_explain(jean_luc.pk)
    assert why.group == "force"
    assert "insatisfait" in why.reason
    assert any("2 saison(s) sur les 3" in f for f in why.facts)
    assert any("4.5" in f or "4,5" in f for f in why.facts)


def test_aggregates_follow_activities_changed(history, django_capture_on_commit_callbacks):
    from cordee.activities.models import Activity, Season
    from cordee.core.signals import activities_changed

    lea = history("Léa", {2024: [(10, 300)]})
    stats_refresh(train=False)
    assert CustomerStats.objects.get(customer=lea).loyalty_group == "nouveau"
    Activity.objects.create(
        customer=lea,
        partner=lea.links.first().partner,
        kind="stay",
        channel="import",
        starts_on="2023-07-03",
        season=Season.objects.get(code="ete-2023"),
        amount=200,
        satisfaction=9,
    )
    activities_changed.send(sender=None, customer_ids=[lea.pk])
    stats = CustomerStats.objects.get(customer=lea)
    assert stats.activity_count == 2
    assert stats.amount_total == 500
    assert stats.summer_seasons == 2
    assert stats.loyalty_group == "fidele"
    assert stats.rfm_r >= 1


def test_refresh_task_runs_and_trains_the_churn_model(history, settings):
    from cordee.segments.churn import churn_factors
    from cordee.segments.models import ScoringState
    from cordee.segments.tasks import segments_refresh

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    people = []
    for i in range(30):
        loyal = i % 3 != 0
        visits = {2020: [(9,)], 2021: [(9 if loyal else 3,)], 2022: [(9,)] if loyal else []}
        if loyal:
            visits[2023] = [(8,)]
            visits[2024] = [(9,)]
        people.append(history(f"P{i}", {y: v for y, v in visits.items() if v}))
    result = segments_refresh.enqueue(train=True)
    assert "churn_train" in result.return_value
    state = ScoringState.objects.get(key="churn").value
    assert 0.0 <= state["auc"] <= 1.0
    risky = CustomerStats.objects.get(customer=people[1]).churn_risk
    assert risky is not None and 0.0 <= risky <= 1.0
    assert churn_factors(people[1].pk)


def test_new_customers_get_an_empty_row_even_by_the_thousands(destination):
    from cordee.core.signals import customers_changed
    from cordee.customers.models import Customer

    created = Customer.objects.bulk_create([Customer(first_name=f"C{i}") for i in range(12_000)])
    ids = list(Customer.objects.values_list("pk", flat=True))
    assert len(ids) == len(created)
    customers_changed.send(sender=None, customer_ids=ids, partner_id=None, created=True)
    assert CustomerStats.objects.filter(loyalty_group="prospect").count() == 12_000
