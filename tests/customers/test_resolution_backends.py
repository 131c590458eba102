"""Identity resolution on Spark: the same model, the same zones, the same merges (issue 3).

The Spark tests start a local Spark (``local[2]``, Debian's Java 17): opt in with
``CORDEE_TEST_SPARK=1``. The tests of the error messages run always.
"""

from __future__ import annotations

import io
import os
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from cordee.customers.matching import backends
from cordee.customers.models import Customer, ResolutionRun, SourceRecord
from cordee.customers.resolution import resolution_run

spark = pytest.mark.skipif(
    os.environ.get("CORDEE_TEST_SPARK") != "1", reason="Spark: set CORDEE_TEST_SPARK=1"
)


# -- the setting and its errors (always run) ---------------------------------------------


def test_an_unknown_backend_is_refused_before_anything_is_written(destination, settings):
    settings.CORDEE_RESOLUTION_BACKEND = "hadoop"
    with pytest.raises(CommandError, match="Moteur de rapprochement inconnu « hadoop »"):
        call_command("resolve", stdout=io.StringIO())
    assert not ResolutionRun.objects.exists()


@pytest.mark.parametrize("name", ["", "\x00", "duckdb; DROP TABLE x", "x" * 10_000])
def test_hostile_backend_names_are_a_clear_error(name):
    if name == "":
        assert backends.backend_name(name) == "duckdb"  # unset means the default
        return
    with pytest.raises(backends.BackendUnavailable, match="Moteur de rapprochement inconnu"):
        backends.backend_name(name)


def test_spark_without_java_says_so(destination, settings, monkeypatch, tmp_path):
    # Without the spark extra, pyspark is what is missing first (the test below).
    pytest.importorskip("pyspark", reason="pyspark is an optional extra (cordee[spark])")
    settings.CORDEE_RESOLUTION_BACKEND = "spark"
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on this PATH
    with pytest.raises(CommandError, match="Java 17"):
        call_command("resolve", stdout=io.StringIO())
    assert not ResolutionRun.objects.exists()


def test_spark_without_pyspark_says_so(destination, settings, monkeypatch):
    settings.CORDEE_RESOLUTION_BACKEND = "spark"
    monkeypatch.setitem(sys.modules, "pyspark", None)  # what an install without the extra has
    with pytest.raises(CommandError, match=r"pyspark.*cordee\[spark\]"):
        call_command("resolve", stdout=io.StringIO())
    assert not ResolutionRun.objects.exists()


# -- the same results on both (opt-in) ---------------------------------------------------


@pytest.fixture(scope="module")
def demo_features(tmp_path_factory):
    from cordee.customers.matching import evaluate
    from cordee.customers.matching.features import build_features
    from cordee.demo.files import build_demo_files

    files = build_demo_files(tmp_path_factory.mktemp("demo"), customers=600, seed=11)
    records = [
        record
        for file in files.files
        for record in evaluate.read_partner_file(file.path, file.partner)
    ]
    return records, build_features(records)


@spark
@pytest.mark.slow
def test_spark_scores_zones_and_clusters_like_duckdb(demo_features, trained_model):
    from cordee.customers.matching.model import load_model
    from cordee.customers.matching.resolve import resolve

    _, features = demo_features
    model = load_model(trained_model)
    on_duckdb = resolve(features, model=model, backend="duckdb")
    on_spark = resolve(features, model=model, backend="spark")

    def pairs(resolution):
        return {
            (p["unique_id_l"], p["unique_id_r"]): (p["zone"], p["reason"], p["match_probability"])
            for p in resolution.pairs.to_pylist()
        }

    left, right = pairs(on_duckdb), pairs(on_spark)
    assert on_duckdb.zone_counts()["merge"] > 100  # a base where there is something to find
    assert left.keys() == right.keys()
    for key, (zone, reason, probability) in left.items():
        assert right[key][:2] == (zone, reason), key
        assert right[key][2] == pytest.approx(probability, abs=1e-9), key
    assert on_spark.cluster_ids() == on_duckdb.cluster_ids()


@spark
@pytest.mark.slow
def test_a_model_trained_on_spark_resolves_on_duckdb(tmp_path):
    """Training's random sampling differs between the backends (the u probabilities move a
    little); its SQL is stored in Spark's dialect and rewritten for DuckDB."""
    from cordee.customers.matching import evaluate
    from cordee.customers.matching.features import build_features
    from cordee.customers.matching.model import train
    from cordee.customers.matching.resolve import resolve
    from cordee.demo.files import build_demo_files

    # A smaller base: each EM iteration is a Spark job, seconds even in local mode.
    files = build_demo_files(tmp_path, customers=250, seed=13)
    features = build_features(
        [r for f in files.files for r in evaluate.read_partner_file(f.path, f.partner)]
    )
    model = train(features, backend="spark")
    assert model["sql_dialect"] == "spark"
    on_duckdb = resolve(features, model=model, backend="duckdb")
    reference = resolve(features, model=train(features, backend="duckdb"), backend="duckdb")
    assert on_duckdb.zone_counts()["merge"] > 50
    same = sum(
        a == b for a, b in zip(on_duckdb.cluster_ids(), reference.cluster_ids(), strict=True)
    )
    assert same / features.num_rows > 0.99


def _attach_demo(records, partners):
    from cordee.customers.incoming import IncomingRecord
    from cordee.customers.services import source_records_attach

    by_partner: dict[str, list[IncomingRecord]] = {}
    for record in records:
        data = dict(record.data)
        by_partner.setdefault(record.partner, []).append(
            IncomingRecord(
                raw={k: str(v) for k, v in data.items()},
                data=data,
                external_id=record.external_id,
            )
        )
    for slug, rows in by_partner.items():
        source_records_attach(partner=partners[slug], channel="import", records=rows)


def _people() -> set[frozenset[int]]:
    """Who ended up with whom: each customer as the set of its source records."""
    groups: dict[int, set[int]] = {}
    for record, customer in SourceRecord.objects.values_list("pk", "customer_id"):
        groups.setdefault(customer, set()).add(record)
    return {frozenset(g) for g in groups.values()}


@spark
@pytest.mark.slow
def test_cordee_resolve_on_spark_merges_what_duckdb_merges(
    destination, settings, model_home, demo_features
):
    from cordee.partners.models import Partner, PartnerKind

    records, _ = demo_features
    partners = {
        slug: Partner.objects.get_or_create(slug=slug, defaults={"name": slug, "kind": kind})[0]
        for slug, kind in (
            (slug, PartnerKind.HOTEL) for slug in sorted({r.partner for r in records})
        )
    }
    _attach_demo(records, partners)
    customers = Customer.objects.count()

    settings.CORDEE_RESOLUTION_BACKEND = "duckdb"
    with transaction.atomic():
        reference = resolution_run()
        expected = _people()
        transaction.set_rollback(True)  # back to the base before resolution
    assert reference.merged > 20 and Customer.objects.count() == customers

    settings.CORDEE_RESOLUTION_BACKEND = "spark"
    run = resolution_run()
    assert (run.merged, run.split, run.to_review, run.households) == (
        reference.merged,
        reference.split,
        reference.to_review,
        reference.households,
    )
    assert _people() == expected
