"""One incoming record against the base: the likely existing customers."""

from __future__ import annotations

import pytest

from cordee.customers.candidates import customer_candidates
from cordee.customers.incoming import IncomingRecord
from cordee.customers.matching.features import build_features
from cordee.customers.matching.model import linker_for, load_model
from cordee.customers.matching.score import jaro_winkler, pair_probability
from cordee.customers.models import Customer
from cordee.customers.services import source_records_attach
from cordee.privacy.access import Actor, customers_visible_to

pytestmark = pytest.mark.slow

ELODIE = {
    "first_name": "Élodie", "last_name": "Martin", "email": "elodie.martin@orange.fr",
    "birth_date": "1985-03-14", "postal_code": "74000", "city": "Annecy",
}  # fmt: skip


def attach(partner, *rows):
    records = [
        IncomingRecord(raw={k: str(v) for k, v in row.items()}, data=dict(row), line=n)
        for n, row in enumerate(rows, 1)
    ]
    return source_records_attach(partner=partner, channel="import", records=records)


def test_jaro_winkler_is_duckdbs():
    import duckdb

    words = [("martin", "martins"), ("elodie", "elodi"), ("dupont", "dupond"), ("jean", "jeanne"),
             ("lefevre", "lefebvre"), ("a", "b"), ("dwayne", "duane"), ("marie", "maria")]  # fmt: skip
    for a, b in words:
        expected = duckdb.sql(f"SELECT jaro_winkler_similarity('{a}', '{b}')").fetchall()[0][0]
        assert jaro_winkler(a, b) == pytest.approx(expected, abs=1e-9), (a, b)


def test_the_python_score_is_splinks(trained_model):
    from cordee.customers.matching import evaluate
    from cordee.demo.files import build_demo_files

    model = load_model(trained_model)
    files = build_demo_files(trained_model.parent / "again", customers=300, seed=11)
    records = [r for f in files.files for r in evaluate.read_partner_file(f.path, f.partner)]
    features = build_features(records)
    predictions = linker_for(features, model).inference.predict().as_duckdbpyrelation()
    table = predictions.select("unique_id_l, unique_id_r, match_weight").arrow()
    if hasattr(table, "read_all"):
        table = table.read_all()
    rows = features.to_pylist()
    pairs = table.to_pylist()
    assert len(pairs) > 100
    for pair in pairs[:2000]:
        weight, _ = pair_probability(model, rows[pair["unique_id_l"]], rows[pair["unique_id_r"]])
        assert weight == pytest.approx(pair["match_weight"], abs=1e-6), pair


def test_elodie_typed_at_the_desk_without_her_email_is_found(destination, model_home):
    attach(destination.hotel, ELODIE)
    attach(destination.hotel, {**ELODIE, "first_name": "Jeanne", "email": "jeanne@free.fr",
                               "birth_date": "1958-06-02"})  # fmt: skip
    elodie = Customer.objects.get(first_name="Élodie")
    typed = {"first_name": "Elodie", "last_name": "MARTIN", "birth_date": "1985-03-14",
             "postal_code": "74000"}  # fmt: skip
    found = customer_candidates(typed, base=Customer.objects.all())
    assert [c.customer_id for c in found] == [elodie.pk]
    assert found[0].probability > 0.99
    assert found[0].evidence["birth_date"] == "same" and found[0].evidence["email"] == "missing"


def test_a_partner_is_never_told_of_a_customer_it_may_not_see(destination, model_home):
    attach(destination.hotel, ELODIE)
    camping = customers_visible_to(Actor.for_partner(destination.camping, "api"))
    assert customer_candidates(ELODIE, base=camping) == []


def test_placeholders_and_almost_nothing_find_nobody(destination, model_home):
    attach(destination.hotel, {"first_name": "Client", "last_name": "Anonyme",
                               "email": "test@test.com", "phone": "+33600000000"})  # fmt: skip
    base = Customer.objects.all()
    assert customer_candidates({"email": "test@test.com"}, base=base) == []
    assert customer_candidates({"phone": "+33600000000"}, base=base) == []
    assert customer_candidates({"first_name": "Client"}, base=base) == []
    assert customer_candidates({}, base=base) == []


def test_without_a_model_only_exact_keys_count(destination, settings, tmp_path):
    settings.CORDEE_HOME = tmp_path
    attach(destination.hotel, ELODIE)
    base = Customer.objects.all()
    (found,) = customer_candidates({"email": "elodie.martin@orange.fr"}, base=base)
    assert found.probability is None
    assert customer_candidates({k: v for k, v in ELODIE.items() if k != "email"}, base=base) == []
