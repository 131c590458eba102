"""Broken and hostile definitions are refused with a clear French message; SQL stays data."""

from __future__ import annotations

import datetime as dt

import pytest

from cordee.privacy.access import Actor
from cordee.segments.compiler import definition_queryset
from cordee.segments.definition import DefinitionError, definition_check
from cordee.segments.services import segment_save


def refused(definition) -> str:
    with pytest.raises(DefinitionError) as info:
        definition_check(definition)
    return " | ".join(info.value.errors)


def test_unknown_field_is_named():
    assert "champ inconnu « password »" in refused({"field": "password", "op": "eq", "value": "x"})


def test_wrong_types_are_explained():
    assert "valeur numérique attendue" in refused({"field": "children", "op": "gt", "value": "2"})
    assert "date attendue au format AAAA-MM-JJ" in refused(
        {"field": "created_at", "op": "gt", "value": "hier"}
    )
    assert "opérateur « like »" in refused({"field": "city", "op": "like", "value": "x"})
    assert "liste de deux bornes" in refused({"field": "age", "op": "between", "value": [18]})
    assert "« all » attend une liste" in refused({"all": {"field": "gender"}})
    assert "valeur « Z » inconnue" in refused({"field": "gender", "op": "eq", "value": "Z"})
    assert "une condition doit être un objet JSON" in refused(["gender"])


def test_deep_nesting_is_refused_without_recursion_error():
    node: dict = {"field": "gender", "op": "eq", "value": "F"}
    for _ in range(1000):
        node = {"not": node}
    assert "trop d'imbrications" in refused(node)


def test_a_thousand_conditions_are_refused():
    many = {"any": [{"field": "city", "op": "eq", "value": f"v{i}"} for i in range(1000)]}
    assert "trop de conditions" in refused(many)


def test_control_characters_and_huge_values_are_refused():
    assert "caractères de contrôle" in refused({"field": "city", "op": "eq", "value": "a\x00b"})
    assert "200 caractères au plus" in refused({"field": "city", "op": "eq", "value": "x" * 5000})


@pytest.mark.parametrize(
    "value",
    [
        "'; DROP TABLE customers_customer; --",
        '" OR 1=1 --',
        "<script>alert(1)</script>",
        "%' OR '1'='1",
    ],
)
def test_sql_and_html_in_values_are_harmless_parameters(destination, value):
    from cordee.customers.models import Customer

    Customer.objects.create(first_name="Élodie", city="Annecy")
    definition = {"any": [{"field": "city", "op": "eq", "value": value},
                          {"field": "city", "op": "contains", "value": value}]}  # fmt: skip
    qs = definition_queryset(definition, Actor.system("test"), today=dt.date(2024, 9, 1))
    assert qs.count() == 0
    assert Customer.objects.count() == 1


def test_a_segment_that_includes_itself_is_refused(destination):
    actor = Actor.system("test")
    with pytest.raises(DefinitionError, match="s'inclut lui-même"):
        segment_save(
            actor=actor, slug="boucle", name="Boucle",
            definition={"field": "segment", "op": "in", "value": "boucle"},
        )  # fmt: skip
    a = segment_save(
        actor=actor, slug="a", name="A", definition={"field": "gender", "op": "eq", "value": "F"}
    )
    segment_save(
        actor=actor, slug="b", name="B", definition={"field": "segment", "op": "in", "value": "a"}
    )
    with pytest.raises(DefinitionError, match="s'inclut lui-même"):
        segment_save(
            actor=actor, slug="a", name="A", segment=a,
            definition={"field": "segment", "op": "in", "value": "b"},
        )  # fmt: skip


def test_unknown_segment_and_season_are_named(destination):
    with pytest.raises(DefinitionError, match="segment inconnu « nulle-part »"):
        definition_queryset(
            {"field": "segment", "op": "in", "value": "nulle-part"}, Actor.system("test")
        )
    with pytest.raises(DefinitionError, match="saison inconnue"):
        definition_queryset(
            {"field": "loyalty_group", "op": "eq", "value": "fidele", "season": "ete-1900"},
            Actor.system("test"),
        )
