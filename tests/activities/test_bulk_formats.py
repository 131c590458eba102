"""The fast paths of the bulk writes give exactly what the general ones give."""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal

from cordee.activities.services import (
    _BY_PARTS,
    COLUMNS,
    _copy_row,
    _copy_row_generic,
    _lines_from_parts,
    copy_middle,
)
from cordee.activities.values import activity_values
from cordee.api.guard import _too_deep

NOW = dt.datetime(2026, 11, 22, 20, 41, 5, 123456, tzinfo=dt.UTC)


def _row(**changes):
    row = {
        "id": 12, "customer": 7, "partner": 3, "source_record": None, "kind": "stay",
        "channel": "api", "external_id": "R-1", "starts_on": dt.date(2026, 2, 14),
        "ends_on": None, "season": 4, "amount": Decimal("1234.50"), "currency": "EUR",
        "quantity": None, "payment_means": "", "product": "Chambre", "satisfaction": None,
        "details": {}, "due_on": None, "owner": None, "done_at": None, "batch": None,
        "created_at": NOW,
    }  # fmt: skip
    row.update(changes)
    return list(row.values())


def test_the_fast_copy_row_equals_the_general_one():
    cases = [
        _row(),
        _row(source_record=99, ends_on=dt.date(2026, 2, 21), quantity=2, satisfaction=0),
        _row(details={"chambre": "12\t\\n", "é": [1, None]}, product="Été \\ double"),
        _row(external_id="tab\there", payment_means="line\nbreak\r"),
        _row(amount=None, season=None, due_on=dt.date(2027, 1, 1), owner=5, batch=8),
        _row(done_at=NOW, kind="complaint", currency="CHF", product="😀 𝄞 \u2028"),
        _row(starts_on=dt.datetime(2026, 1, 1, 10, 0)),  # not a plain date: the general path
    ]
    for row in cases:
        assert _copy_row(list(row)) == _copy_row_generic(list(row)), row


def test_a_row_made_in_parts_holds_what_the_general_line_holds():
    # The file import's workers format the values (copy_middle); the writer adds the ids and
    # what the call shares, in another column order (_BY_PARTS).
    cases = [
        _row(),
        _row(source_record=99, ends_on=dt.date(2026, 2, 21), quantity=2, satisfaction=0),
        _row(details={"chambre": "12\t\\n", "é": [1, None]}, product="Été \\ double"),
        _row(external_id="tab\there", payment_means="line\nbreak\r", season=None),
        _row(amount=None, due_on=dt.date(2027, 1, 1), batch=8),
        _row(kind="complaint", currency="CHF", product="😀 𝄞 \u2028", amount=Decimal("-0.50")),
    ]
    names = list(COLUMNS)
    for row in cases:
        values = {
            name: row[names.index(name)]
            for name in (
                "kind", "external_id", "starts_on", "ends_on", "amount", "currency",
                "quantity", "payment_means", "product", "satisfaction", "details", "due_on",
            )
        }  # fmt: skip
        [line] = _lines_from_parts([list(row)], [copy_middle(values)])
        assert line.endswith("\n") and line.count("\n") == 1
        by_name = dict(zip(_BY_PARTS, line[:-1].split("\t"), strict=True))
        by_name |= {"owner": "\\N", "done_at": "\\N"}  # left to their default, NULL
        general = _copy_row_generic(list(row))[:-1].split("\t")
        assert [by_name[name] for name in COLUMNS] == general, row


def test_the_quick_readers_of_plain_values_read_as_the_general_ones():
    read = activity_values(
        {"kind": "Séjour", "starts_on": "14/02/2026", "amount": "1234,5", "quantity": "007",
         "product": " Chambre ", "external_id": "R-1"}
    )  # fmt: skip
    assert read.ok, read.errors
    assert read.values["kind"] == "stay" and read.values["kind"].__class__ is str
    assert read.values["amount"] == Decimal("1234.50")
    assert read.values["quantity"] == 7
    assert read.values["product"] == "Chambre" and read.values["external_id"] == "R-1"
    # Asked twice (the kind's text is then known): the same answer.
    assert activity_values({"kind": "Séjour", "starts_on": "2026-02-14"}).values["kind"] == "stay"
    for kind in ("Forfait", "Billetterie", "Rendez-vous", "Réclamation"):
        assert (
            activity_values({"kind": kind, "starts_on": "2026-02-14"}).values["kind"].__class__
            is str
        )
    refused = {
        "quantity": "1000001",
        "amount": "12,34,5",
        "product": "x" * 201,
        "external_id": "a\x00b",
    }
    for name, value in refused.items():
        read = activity_values({"kind": "stay", "starts_on": "2026-02-14", name: value})
        assert name in read.errors, (name, read.values)
    assert activity_values({"kind": "stay", "starts_on": "2026-02-14", "quantity": "²"}).errors
    # A kind refused once is refused again (an error is never remembered as a kind).
    for _ in range(2):
        assert "kind" in activity_values({"kind": "Sejjour", "starts_on": "2026-02-14"}).errors


def _old_too_deep(value, limit):  # the walk the guard used to make, over every value
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def _random_json(rng, depth):
    choice = rng.random()
    if depth > 11 or choice < 0.35:
        return rng.choice([1, "a", None, 2.5, True, "", 0])
    if choice < 0.6:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(0, 3))]
    return {f"k{i}": _random_json(rng, depth + 1) for i in range(rng.randrange(0, 3))}


def test_the_depth_check_walks_containers_only_and_decides_the_same():
    rng = random.Random(8)
    seen = set()
    for _ in range(3000):
        value = json.loads(json.dumps(_random_json(rng, 1)))
        for limit in (1, 2, 3, 5, 8):
            expected = _old_too_deep(value, limit)
            assert _too_deep(value, limit) == expected, (value, limit)
            seen.add(expected)
    assert seen == {True, False}
    assert _too_deep([[[[[[[[["deep"]]]]]]]]], 8)
    assert not _too_deep([[[[[[["x"]]]]]]], 8)
    assert not _too_deep([[[[[[[[]]]]]]]], 8)  # an empty list at depth 8 holds nothing deeper
