"""How good a resolution is, against the demo generator's ground truth.

Pairwise precision, recall and F1 count pairs of records: a pair is true when both records
are the same person, predicted when both land in the same cluster. "Families wrongly
merged" is the share of households (with at least two people among the records) where
two different people of the household ended up in one cluster: the failure a shared
CRM must never make, a couple or twins fused into one customer.

Three methods run on the same records: ``exact_email`` (one customer per normalised
e-mail, what most CRMs do), ``plain_splink`` (Splink with its default comparisons, no
domain rules) and ``cordee`` (this package). Each method returns a cluster id per record.
"""

from __future__ import annotations

import resource
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from cordee.customers.matching.features import SourceInput, build_features
from cordee.demo.truth import GroundTruth

__all__ = [
    "Metrics",
    "MethodResult",
    "NORMALISED_FIELDS",
    "exact_email_clusters",
    "pairwise_metrics",
    "plain_splink_clusters",
    "read_partner_file",
    "records_from_table",
    "records_table",
    "run_method",
]

# The normalised fields identity resolution reads: the rest of a record's data is not needed.
NORMALISED_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "birth_date",
    "address_line1",
    "postal_code",
    "city",
    "country",
)


def read_partner_file(path: Path, partner: str) -> Iterator[SourceInput]:
    """The records of one partner file, normalised the way the import does, rejects skipped."""
    from cordee.collect.columns import recognise
    from cordee.collect.intake import normalise_fields
    from cordee.collect.reader import open_table

    with open_table(path) as table:
        plan = recognise(table.headers)
        fields = list(plan.fields.items())
        for batch in table.batches():
            for row in batch:
                if row.error:
                    continue
                cells = row.cells
                normalised = normalise_fields({name: cells[index] for name, index in fields})
                if normalised.error:
                    continue
                yield SourceInput(partner, normalised.external_id, normalised.data)


def records_table(records: Iterable[SourceInput]) -> pa.Table:
    """Records as a compact Arrow table (partner, external_id, the NORMALISED_FIELDS)."""
    names = ("partner", "external_id", *NORMALISED_FIELDS)
    columns: dict[str, list[Any]] = {name: [] for name in names}
    for record in records:
        columns["partner"].append(record.partner)
        columns["external_id"].append(record.external_id)
        data = record.data
        for name in NORMALISED_FIELDS:
            value = data.get(name)
            columns[name].append(None if value is None else str(value))
    return pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})


def records_from_table(table: pa.Table) -> Iterator[SourceInput]:
    fields = [name for name in NORMALISED_FIELDS if name in table.column_names]
    for batch in table.to_batches(50_000):
        rows = batch.to_pydict()
        for index, partner in enumerate(rows["partner"]):
            data = {name: rows[name][index] for name in fields if rows[name][index] is not None}
            yield SourceInput(partner, rows["external_id"][index], data)


# -- metrics ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Metrics:
    records: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    households: int  # with at least two people among the records
    households_merged: int  # of which two different people share a cluster

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def families_wrongly_merged(self) -> float:
        return self.households_merged / self.households if self.households else 0.0


def _pairs(count: int) -> int:
    return count * (count - 1) // 2


def pairwise_metrics(
    clusters: Sequence[int], persons: Sequence[int], households: Sequence[int]
) -> Metrics:
    """Scores a clustering: `clusters[i]`, `persons[i]`, `households[i]` for record i."""
    if not len(clusters) == len(persons) == len(households):
        raise ValueError("clusters, persons and households must be aligned")
    by_cluster = Counter(clusters)
    by_person = Counter(persons)
    by_both = Counter(zip(clusters, persons, strict=True))
    # Households with two people or more among the records...
    people_of: dict[int, set[int]] = {}
    for person, household in zip(persons, households, strict=True):
        people_of.setdefault(household, set()).add(person)
    families = {household for household, people in people_of.items() if len(people) > 1}
    # ...and those where a cluster holds two of their people.
    seen: dict[tuple[int, int], int] = {}
    merged: set[int] = set()
    for cluster, person, household in zip(clusters, persons, households, strict=True):
        if household not in families or household in merged:
            continue
        other = seen.setdefault((cluster, household), person)
        if other != person:
            merged.add(household)
    return Metrics(
        records=len(clusters),
        true_pairs=sum(_pairs(n) for n in by_person.values()),
        predicted_pairs=sum(_pairs(n) for n in by_cluster.values()),
        correct_pairs=sum(_pairs(n) for n in by_both.values()),
        households=len(families),
        households_merged=len(merged),
    )


def truth_columns(table: pa.Table, truth: GroundTruth) -> tuple[list[int], list[int]]:
    """(person ids, household ids) of the records of `table`, in its order."""
    persons = [
        truth.person_id(partner, external)
        for partner, external in zip(
            table.column("partner").to_pylist(),
            table.column("external_id").to_pylist(),
            strict=True,
        )
    ]
    return persons, [truth.household_id(person) for person in persons]


# -- methods ---------------------------------------------------------------------------


def exact_email_clusters(table: pa.Table) -> list[int]:
    """One customer per normalised e-mail; a record without one stays alone."""
    ids: dict[str, int] = {}
    clusters = []
    for position, raw in enumerate(table.column("email").to_pylist()):
        email = raw.strip().lower() if raw else None
        clusters.append(ids.setdefault(email, position) if email else position)
    return clusters


def plain_splink_clusters(table: pa.Table, *, threshold: float = 0.9, seed: int = 1) -> list[int]:
    """Splink as its tutorials set it up: default comparisons, no domain rules, no nulling
    of placeholders, trained by random sampling + EM, clustered at `threshold`."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    data = pa.table(
        {
            "unique_id": pa.array(range(table.num_rows), pa.int64()),
            "first_name": table.column("first_name"),
            "surname": table.column("last_name"),
            "dob": table.column("birth_date"),
            "email": table.column("email"),
            "phone": table.column("phone"),
            "postcode": table.column("postal_code"),
            "city": table.column("city"),
        }
    )
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "surname"),
            block_on("email"),
            block_on("dob"),
        ],
        comparisons=[
            cl.NameComparison("first_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.EmailComparison("email"),
            cl.ExactMatch("phone"),
            cl.ExactMatch("postcode"),
            cl.ExactMatch("city"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(data), settings, log_level="WARNING")
    linker.training.estimate_probability_two_random_records_match(
        [block_on("email"), block_on("first_name", "surname", "dob")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name", "surname")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    predictions = linker.inference.predict(threshold_match_probability=threshold / 2)
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    )
    rows = clustered.as_duckdbpyrelation().select("unique_id, cluster_id").fetchall()
    clusters = list(range(table.num_rows))
    rank: dict[Any, int] = {}
    for unique_id, cluster in rows:
        clusters[unique_id] = rank.setdefault(cluster, unique_id)
    return clusters


def cordee_clusters(table: pa.Table) -> list[int]:
    """This package: features, the trained domain model, the household rule."""
    from cordee.customers.matching.resolve import resolve

    features = build_features(records_from_table(table))
    return resolve(features).cluster_ids()


METHODS: dict[str, Callable[[pa.Table], list[int]]] = {
    "exact_email": exact_email_clusters,
    "plain_splink": plain_splink_clusters,
    "cordee": cordee_clusters,
}
METHOD_LABELS = {
    "exact_email": "Exact normalised e-mail",
    "plain_splink": "Plain Splink (default comparisons)",
    "cordee": "Cordée (Splink + domain rules)",
}


@dataclass(frozen=True, slots=True)
class MethodResult:
    method: str
    metrics: Metrics
    seconds: float
    peak_rss_mib: float  # of the whole process so far: run one method per process


def run_method(
    method: str, table: pa.Table, persons: Sequence[int], households: Sequence[int]
) -> MethodResult:
    start = time.perf_counter()
    clusters = METHODS[method](table)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return MethodResult(method, pairwise_metrics(clusters, persons, households), seconds, peak)
