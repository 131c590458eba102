"""Identity resolution (issue 3): features, the household rule, the model, the evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest

from cordee.customers.matching import evaluate
from cordee.customers.matching.features import SourceInput, build_features
from cordee.customers.matching.model import load_model, save_model, train
from cordee.customers.matching.resolve import (
    birth_dates_compatible,
    first_names_compatible,
    resolve,
)
from cordee.demo.files import build_demo_files

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, object]:
    """About 3,000 normalised records of the partners' demo files, with their truth."""
    directory = tmp_path_factory.mktemp("demo")
    files = build_demo_files(directory, customers=1_500, seed=3)
    table = evaluate.records_table(
        record
        for file in files.files
        for record in evaluate.read_partner_file(file.path, file.partner)
    )
    return table, files.truth


@pytest.fixture(scope="module")
def base(demo: tuple[object, object]) -> list[SourceInput]:
    """The demo records, to which tests append their own."""
    table, _ = demo
    return list(evaluate.records_from_table(table))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def model(base: list[SourceInput]) -> dict[str, object]:
    return train(build_features(base))


def person(partner: str, external: str, **data: str) -> SourceInput:
    return SourceInput(partner, external, data)


def clusters_of(records: list[SourceInput], model: dict[str, object]) -> list[int]:
    return resolve(build_features(records), model=model).cluster_ids()


# -- features --------------------------------------------------------------------------


def test_placeholders_are_nulled() -> None:
    table = build_features(
        [
            person(
                "hotel",
                "1",
                first_name="Client",
                last_name="XXX",
                email="test@test.com",
                phone="+33600000000",
                birth_date="1900-01-01",
            ),
            person("hotel", "2", first_name="Anonyme", last_name="Martin", phone="+33612345678"),
            person("hotel", "3", first_name="Jeanne", last_name="Martin", email="jm@gmail.com"),
        ]
    )
    rows = table.to_pylist()
    assert rows[0]["first_name"] is None and rows[0]["last_name"] is None
    assert rows[0]["email"] is None and rows[0]["email_local"] is None
    assert rows[0]["phone"] is None and rows[0]["birth_date"] is None
    assert rows[1]["first_name"] is None and rows[1]["last_name"] == "martin"
    assert rows[1]["phone"] is None  # 06 12 34 56 78
    assert rows[2]["first_name"] == "jeanne" and rows[2]["email"] == "jm@gmail.com"


def test_over_shared_contact_details_are_nulled() -> None:
    front_desk = [
        person("hotel", str(n), first_name=f"Prénom{chr(65 + n)}", last_name="Dupont",
               email="reception@hotel-des-alpes.fr", phone="+33479000000")
        for n in range(9)
    ]  # fmt: skip
    # One person imported twelve times keeps their e-mail: it is one person, not twelve.
    same_person = [
        person(f"p{n}", str(n), first_name="Léa", last_name="Roux", email="lea.roux@free.fr")
        for n in range(12)
    ]
    table = build_features(front_desk + same_person, max_sharing=8)
    assert set(table.column("email").to_pylist()[:9]) == {None}
    assert set(table.column("phone").to_pylist()[:9]) == {None}
    assert set(table.column("email").to_pylist()[9:]) == {"lea.roux@free.fr"}
    kept = build_features(front_desk, max_sharing=9)
    assert set(kept.column("email").to_pylist()) == {"reception@hotel-des-alpes.fr"}


def test_name_swap_key_is_the_same_both_ways() -> None:
    table = build_features(
        [
            person("a", "1", first_name="Jean-Luc", last_name="Lefèvre"),
            person("b", "1", first_name="LEFEVRE", last_name="jean luc"),
        ]
    )
    keys = table.column("name_key").to_pylist()
    assert keys[0] == keys[1] == "jean lefevre luc"


# -- the household rule ----------------------------------------------------------------


def test_compatibility_rules() -> None:
    assert first_names_compatible("sebastien", "sebaastien")
    assert first_names_compatible("sebaastien", "seabstien")  # two typos, long name
    assert first_names_compatible("jean", "jean luc")
    assert not first_names_compatible("lucas", "lea")
    assert birth_dates_compatible("1980-03-14", "1980-03-15")  # a typo
    assert birth_dates_compatible("1980-03-04", "1980-04-03")  # day and month swapped
    assert not birth_dates_compatible("1970-05-02", "2001-09-17")


FAMILY = {"email": "famille.martin@orange.fr", "phone": "+33479112233", "postal_code": "73000"}


def test_twins_are_a_household_not_one_customer(base, model) -> None:
    twins = [
        person("ski", "T1", first_name="Lucas", last_name="Martin", birth_date="2015-06-01", **FAMILY),
        person("ski", "T2", first_name="Léo", last_name="Martin", birth_date="2015-06-01", **FAMILY),
        person("hotel", "T3", first_name="Lucas", last_name="MARTIN", birth_date="2015-06-01", **FAMILY),
    ]  # fmt: skip
    records = [*base, *twins]
    features = build_features(records)
    resolution = resolve(features, model=model)
    clusters = resolution.cluster_ids()
    first = len(base)
    assert clusters[first] == clusters[first + 2]  # Lucas twice: one person
    assert clusters[first] != clusters[first + 1]  # Léo is his twin
    zones = {
        (row["unique_id_l"], row["unique_id_r"]): row["zone"]
        for row in resolution.pairs.to_pylist()
        if row["unique_id_l"] >= first
    }
    assert zones[first, first + 1] == "household"


def test_parent_and_child_with_the_same_name_stay_apart(base, model) -> None:
    family = [
        person("hotel", "P1", first_name="Jean", last_name="Martin", birth_date="1972-03-09", **FAMILY),
        person("ski", "C1", first_name="Jean", last_name="Martin", birth_date="2012-11-23", **FAMILY),
        person("spa", "P2", first_name="JEAN", last_name="MARTIN", birth_date="1972-03-09", **FAMILY),
    ]  # fmt: skip
    clusters = clusters_of([*base, *family], model)
    first = len(base)
    assert clusters[first] == clusters[first + 2]
    assert clusters[first] != clusters[first + 1]


def test_a_typo_in_the_name_with_the_same_email_merges(base, model) -> None:
    pair = [
        person("hotel", "X1", first_name="Géraldine", last_name="Chauvet",
               email="geraldine.chauvet@laposte.net", postal_code="41400"),
        person("ski", "X2", first_name="Geraldnie", last_name="Chauvet",
               email="geraldine.chauvet@laposte.net"),
    ]  # fmt: skip
    clusters = clusters_of([*base, *pair], model)
    assert clusters[-1] == clusters[-2]


def test_swapped_first_and_last_name_merges(base, model) -> None:
    pair = [
        person("hotel", "S1", first_name="Maxence", last_name="Delacroix",
               phone="+33688776655", birth_date="1985-04-12"),
        person("golf", "S2", first_name="DELACROIX", last_name="Maxence",
               phone="+33688776655", birth_date="1985-04-12"),
    ]  # fmt: skip
    clusters = clusters_of([*base, *pair], model)
    assert clusters[-1] == clusters[-2]


def test_a_front_desk_email_does_not_merge_its_guests(base, model) -> None:
    guests = [
        person("hotel", f"G{n}", first_name=name, last_name=surname,
               email="reception@hotel-des-alpes.fr")
        for n, (name, surname) in enumerate(
            [("Anne", "Petit"), ("Marc", "Roy"), ("Inès", "Blanc"), ("Paul", "Noël"),
             ("Zoé", "Faure"), ("Hugo", "Brun"), ("Lina", "Roche"), ("Tom", "Colin"),
             ("Eva", "Perrin"), ("Noé", "Gaillard")]
        )
    ]  # fmt: skip
    clusters = clusters_of([*base, *guests], model)
    assert len(set(clusters[len(base) :])) == len(guests)


# -- the model -------------------------------------------------------------------------


def test_the_trained_model_round_trips_through_json(base, model, tmp_path: Path) -> None:
    path = save_model(model, tmp_path / "matching" / "model.json")
    loaded = load_model(path)
    assert loaded == model
    features = build_features(base[:600])
    before = resolve(features, model=model)
    after = resolve(features, model=loaded)
    assert before.cluster_ids() == after.cluster_ids()
    assert before.pairs.column("match_weight").to_pylist() == pytest.approx(
        after.pairs.column("match_weight").to_pylist()
    )


def test_model_is_saved_under_cordee_home_by_default(model, settings, tmp_path: Path) -> None:
    settings.CORDEE_HOME = tmp_path
    path = save_model(model)
    assert path == tmp_path / "matching" / "model.json"
    assert load_model() == model


# -- the evaluation --------------------------------------------------------------------


def test_pairwise_metrics_count_pairs_and_families() -> None:
    # Records 0-2 are person 1, 3 is person 2 (same household 10), 4 is person 3.
    persons = [1, 1, 1, 2, 3]
    households = [10, 10, 10, 10, 30]
    perfect = evaluate.pairwise_metrics([0, 0, 0, 3, 4], persons, households)
    assert (perfect.precision, perfect.recall, perfect.f1) == (1.0, 1.0, 1.0)
    assert perfect.households == 1 and perfect.families_wrongly_merged == 0.0
    fused = evaluate.pairwise_metrics([0, 0, 0, 0, 4], persons, households)
    assert fused.correct_pairs == 3 and fused.predicted_pairs == 6
    assert fused.families_wrongly_merged == 1.0
    split = evaluate.pairwise_metrics([0, 0, 2, 3, 4], persons, households)
    assert split.recall == pytest.approx(1 / 3)


def test_resolution_beats_exact_email_matching(demo, model) -> None:
    table, truth = demo
    persons, households = evaluate.truth_columns(table, truth)
    exact = evaluate.pairwise_metrics(evaluate.exact_email_clusters(table), persons, households)
    features = build_features(evaluate.records_from_table(table))
    ours = evaluate.pairwise_metrics(
        resolve(features, model=model).cluster_ids(), persons, households
    )
    assert ours.f1 >= exact.f1 + 0.15, (ours, exact)
    assert ours.f1 >= 0.95
    assert ours.families_wrongly_merged < exact.families_wrongly_merged / 4
