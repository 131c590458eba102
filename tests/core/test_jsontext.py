"""flat_json: exactly json.dumps(value, ensure_ascii=False), whatever the value."""

from __future__ import annotations

import json
import random

import pytest

from cordee.core.jsontext import flat_json


def _dumps(value):
    return json.dumps(value, ensure_ascii=False)


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"Nom": "Dupont", "Prénom": "Zoé", "N° client": "PMS-1"},
        {"a": 'guillemet " dedans'},
        {"a": "barre \\ oblique"},
        {"a": "tab\there", "b": "ligne\nsuivante", "c": "\r\x00\x1f\x7f"},
        {'clé "drôle"': "x"},
        {"a": "\u2028\u2029 \ud800 \U0001f600 ﻿"},
        {"a": 1, "b": True, "c": None, "d": [1, "x"], "e": {"f": 1.5}},
        {1: "x"},
        {"a": "x" * 100_000},
        ["a", "b"],
        "texte",
        None,
        3,
    ],
)
def test_the_same_text_as_json_dumps(value):
    assert flat_json(value) == _dumps(value)
    assert json.loads(flat_json(value)) == json.loads(_dumps(value))


def test_a_string_subclass_goes_to_the_standard_encoder():
    class Label(str):
        pass

    value = {"a": Label("x"), Label("b"): "y"}
    assert flat_json(value) == _dumps(value)


def test_random_lines_of_hostile_text():
    rng = random.Random(7)
    alphabet = ['"', "\\", "\t", "\n", "\x00", "\x1f", "é", "\ud800", "a", " ", ":", ",", "{"]
    for _ in range(2_000):
        value = {
            "".join(rng.choices(alphabet, k=rng.randint(0, 6))): "".join(
                rng.choices(alphabet, k=rng.randint(0, 12))
            )
            for _ in range(rng.randint(0, 8))
        }
        assert flat_json(value) == _dumps(value)
