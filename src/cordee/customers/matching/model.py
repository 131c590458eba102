"""The Splink model: what is compared, how pairs are found, how the weights are learned.

Blocking (which pairs are scored at all) is deterministic and chosen for the ways a
partner's file gets a person wrong: a pair is scored when the two records share an
e-mail, a phone, a surname and birth date, a first name and birth date, first name + surname
+ birth year, a postcode and the first three letters of the surname, or all their name
words (which catches first and last name swapped).

Comparisons (how a scored pair is weighed) follow the same habits:

- first and last name: exact (with term-frequency adjustment: two "Martin" say less than
  two "Zylberstein"), swapped, Jaro-Winkler >= 0.95 (one typo, mostly), >= 0.88,
  different. A different first name is evidence *against*, with a floor on its penalty
  (:data:`DIFFERENT_FIRST_NAME_WEIGHT`): within a household the surname, address, e-mail
  and phone are shared and the first name is what differs;
- birth date: exact, day and month swapped, two of day/month/year equal (a typo),
  different — the last one with a floor on its penalty (:data:`DIFFERENT_BIRTH_DATE_WEIGHT`),
  because a parent and a child with the same name are told apart by their birth dates;
- e-mail: exact, different (the local part is made of the names: not compared apart);
- phone: exact, different;
- place: postcode exact (term-frequency adjusted), commune exact, same département;
- address: street words and number shared (two or more, one), with set m probabilities.

Edit distances (Levenshtein, Damerau-Levenshtein) are avoided: DuckDB computes them at a
few microseconds a pair, 10 to 40 times Jaro-Winkler, and u estimation scores millions.

The model is trained on the base itself, without labels: u probabilities by random
sampling, m probabilities by expectation-maximisation in two blocked sessions (on e-mail,
then on surname + birth date), so that each comparison is estimated at least once.
"""

from __future__ import annotations

import json
import math
import secrets
from pathlib import Path
from typing import Any

import pyarrow as pa

__all__ = [
    "BLOCKING_RULES",
    "DIFFERENT_BIRTH_DATE_WEIGHT",
    "DIFFERENT_FIRST_NAME_WEIGHT",
    "default_model_path",
    "linker_for",
    "load_model",
    "save_model",
    "settings",
    "train",
]

# The weight (log2 of the Bayes factor) of "both birth dates known and different" is at
# most this: about 1 chance in 250 that two records of one person disagree on it.
DIFFERENT_BIRTH_DATE_WEIGHT = -8.0
# "Different first name" (not a typo, not swapped) weighs at least this against.
DIFFERENT_FIRST_NAME_WEIGHT = -5.0
PENALTY_FLOORS = {
    "birth_date": DIFFERENT_BIRTH_DATE_WEIGHT,
    "first_name": DIFFERENT_FIRST_NAME_WEIGHT,
}


# The dialect the custom SQL below is written in; Splink translates it for Spark.
_SQL = "duckdb"


def _blocking_rules() -> list[Any]:
    from splink import block_on

    return [
        block_on("email"),
        block_on("phone"),
        block_on("last_name", "birth_date"),
        block_on("first_name", "birth_date"),
        block_on("first_name", "last_name", "birth_year"),
        block_on("postcode", "substr(last_name, 1, 3)"),
        block_on("name_key"),
    ]


BLOCKING_RULES = (
    "email",
    "phone",
    "last_name + birth_date",
    "first_name + birth_date",
    "first_name + last_name + birth_year",
    "postcode + first 3 letters of last_name",
    "name_key (all name words, sorted: catches swaps)",
)


def _birth_date_levels() -> list[Any]:
    import splink.comparison_level_library as cll

    # Plain string comparisons on ISO dates: DuckDB's edit distances cost microseconds a
    # pair, too slow for the millions of pairs random sampling scores.
    year, month, day = (
        'substr("birth_date_{side}", 1, 4)',
        'substr("birth_date_{side}", 6, 2)',
        'substr("birth_date_{side}", 9, 2)',
    )

    def same(part: str) -> str:
        return f"{part.format(side='l')} = {part.format(side='r')}"

    two_of_three = f"(({same(year)} AND {same(month)}) OR ({same(year)} AND {same(day)}) OR ({same(month)} AND {same(day)}))"
    day_month_swapped = (
        f"{same(year)} AND {month.format(side='l')} = {day.format(side='r')}"
        f" AND {day.format(side='l')} = {month.format(side='r')}"
    )
    return [
        cll.NullLevel("birth_date"),
        cll.ExactMatchLevel("birth_date"),
        cll.CustomLevel(day_month_swapped, "Day and month swapped", base_dialect_str=_SQL),
        cll.CustomLevel(two_of_three, "Two of day, month, year equal", base_dialect_str=_SQL),
        cll.ElseLevel().configure(label_for_charts="Different birth date"),
    ]


def _comparisons() -> list[Any]:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    swapped = cll.CustomLevel(
        '"first_name_l" = "last_name_r" AND "last_name_l" = "first_name_r"',
        label_for_charts="First and last name swapped",
        base_dialect_str=_SQL,
    )
    first_name = cl.CustomComparison(
        output_column_name="first_name",
        comparison_levels=[
            cll.NullLevel("first_name"),
            cll.ExactMatchLevel("first_name", term_frequency_adjustments=True),
            swapped,
            cll.JaroWinklerLevel("first_name", 0.95),  # one typo, mostly
            cll.JaroWinklerLevel("first_name", 0.88),
            cll.ElseLevel().configure(label_for_charts="Different first name"),
        ],
        comparison_description="First name",
    )
    # A swap is counted once, on the first name: here it is a neutral level (m = u).
    swapped_again = cll.CustomLevel(
        '"first_name_l" = "last_name_r" AND "last_name_l" = "first_name_r"',
        label_for_charts="Swapped (weighed with the first name)",
        base_dialect_str=_SQL,
    ).configure(
        m_probability=1e-4, u_probability=1e-4, fix_m_probability=True, fix_u_probability=True
    )
    last_name = cl.CustomComparison(
        output_column_name="last_name",
        comparison_levels=[
            cll.NullLevel("last_name"),
            cll.ExactMatchLevel("last_name", term_frequency_adjustments=True),
            swapped_again,
            cll.JaroWinklerLevel("last_name", 0.95),
            cll.JaroWinklerLevel("last_name", 0.88),
            cll.ElseLevel(),
        ],
        comparison_description="Last name",
    )
    birth_date = cl.CustomComparison(
        output_column_name="birth_date",
        comparison_levels=_birth_date_levels(),
        comparison_description="Birth date",
    )
    email = cl.CustomComparison(
        output_column_name="email",
        comparison_levels=[
            # No level for "same local part at another provider": local parts are made
            # of the names (jean.martin@), so among homonyms they agree by construction
            # and would count the names twice.
            cll.NullLevel("email"),
            cll.ExactMatchLevel("email"),
            cll.ElseLevel(),
        ],
        comparison_description="E-mail",
    )
    phone = cl.CustomComparison(
        output_column_name="phone",
        comparison_levels=[
            cll.NullLevel("phone"),
            cll.ExactMatchLevel("phone"),
            cll.ElseLevel(),
        ],
        comparison_description="Phone",
    )
    place = cl.CustomComparison(
        output_column_name="place",
        comparison_levels=[
            cll.And(cll.NullLevel("postcode"), cll.NullLevel("commune")),
            cll.ExactMatchLevel("postcode", term_frequency_adjustments=True),
            cll.ExactMatchLevel("commune"),
            cll.CustomLevel(
                'substr("postcode_l", 1, 2) = substr("postcode_r", 1, 2)',
                label_for_charts="Same département",
                base_dialect_str=_SQL,
            ),
            cll.ElseLevel(),
        ],
        comparison_description="Postcode and commune",
    )
    address = cl.CustomComparison(
        output_column_name="address",
        comparison_levels=[
            # Few files carry an address, too few pairs for EM to learn from: the m
            # probabilities are set (someone's address is written alike 3 times in 4,
            # and changes now and then) and only the u probabilities are learned.
            cll.NullLevel("address"),
            cll.ExactMatchLevel("address").configure(m_probability=0.75, fix_m_probability=True),
            cll.ArrayIntersectLevel("address_tokens", 2).configure(
                m_probability=0.15, fix_m_probability=True
            ),
            cll.ArrayIntersectLevel("address_tokens", 1).configure(
                m_probability=0.03, fix_m_probability=True
            ),
            cll.ElseLevel().configure(m_probability=0.07, fix_m_probability=True),
        ],
        comparison_description="Address",
    )
    return [first_name, last_name, birth_date, email, phone, place, address]


def settings() -> Any:
    """The Splink settings (untrained) of Cordée's model."""
    from splink import SettingsCreator

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        blocking_rules_to_generate_predictions=_blocking_rules(),
        comparisons=_comparisons(),
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=["partner", "external_id"],
    )


# Where the trained model keeps the term frequencies of the base it learned on.
TF_KEY = "cordee_term_frequencies"
TF_COLUMNS = ("first_name", "last_name", "postcode")


def term_frequencies(features: pa.Table) -> dict[str, dict[str, float]]:
    """How common each value of the term-frequency-adjusted columns is in `features`."""
    frequencies: dict[str, dict[str, float]] = {}
    for column in TF_COLUMNS:
        counts = features.column(column).drop_null().value_counts().to_pylist()
        total = sum(item["counts"] for item in counts) or 1
        frequencies[column] = {item["values"]: item["counts"] / total for item in counts}
    return frequencies


def linker_for(
    features: pa.Table, model: dict[str, Any] | Any, *, backend: str | None = None
) -> Any:
    """A Splink linker over `features` (from ``build_features``), with `model` (trained or
    not: a settings dict, or a ``SettingsCreator``), on `backend` (default: the
    ``CORDEE_RESOLUTION_BACKEND`` setting; see :mod:`.backends`).

    A trained model carries the term frequencies of the base it learned on: they are used
    instead of those of `features`, which may be a few records of one surname (an
    incremental run), where "martin" would look as rare as it looks common.
    """
    from splink import Linker

    from cordee.customers.matching import backends

    name = backends.backend_name(backend)
    db_api = backends.db_api(name)
    # A Spark session outlives a linker: each linker's tables get their own names.
    suffix = secrets.token_hex(4)
    frame = db_api.register(features, table_name=f"cordee_features_{suffix}")
    stored: dict[str, dict[str, float]] | None = None
    if isinstance(model, dict) and TF_KEY in model:
        stored = model[TF_KEY]
        model = {k: v for k, v in model.items() if k != TF_KEY}
    if isinstance(model, dict):
        dialect = db_api.sql_dialect.sql_dialect_str
        model = backends.for_dialect(model, dialect, settings().create_settings_dict(dialect))
    # ERROR: the levels EM could not train keep their defaults, said once per run is noise.
    linker = Linker(frame, model, log_level="ERROR")
    for column, known in (stored or {}).items():
        # A value the base never had is as rare as its rarest one.
        floor = min(known.values(), default=1.0)
        values = features.column(column).drop_null().unique().to_pylist()
        lookup = pa.table(
            {column: values, f"tf_{column}": [known.get(v, floor) for v in values]},
            schema=pa.schema([(column, pa.string()), (f"tf_{column}", pa.float64())]),
        )
        registered = db_api.register(lookup, table_name=f"cordee_tf_{column}_{suffix}")
        linker.table_management.register_term_frequency_lookup(registered, column)
    return linker


def train(
    features: pa.Table, *, seed: int = 1, max_pairs: float = 3e6, backend: str | None = None
) -> dict[str, Any]:
    """Learn the model's weights on `features` itself (no labels); returns the model dict."""
    from splink import block_on

    linker = linker_for(features, settings(), backend=backend)
    training = linker.training
    training.estimate_probability_two_random_records_match(
        [block_on("email", "first_name"), block_on("first_name", "last_name", "birth_date")],
        recall=0.8,
    )
    pairs = min(max_pairs, max(1e5, features.num_rows * (features.num_rows - 1) / 2))
    training.estimate_u_using_random_sampling(max_pairs=pairs, seed=seed)
    training.estimate_parameters_using_expectation_maximisation(block_on("email"))
    training.estimate_parameters_using_expectation_maximisation(block_on("last_name", "birth_date"))
    model: dict[str, Any] = linker.misc.save_model_to_json()
    model[TF_KEY] = term_frequencies(features)
    return _with_floors(model)


def _with_floors(model: dict[str, Any]) -> dict[str, Any]:
    """Make the contradictions weigh at least their floor against a match.

    EM learns on blocks where households abound (a family e-mail, a shared phone): there a
    different first name looks common among "matches", and its learned penalty is too
    mild. The floors are domain knowledge: one person's records rarely disagree on a
    birth date or on a first name beyond a typo.
    """
    for comparison in model["comparisons"]:
        floor = PENALTY_FLOORS.get(comparison["output_column_name"])
        if floor is None:
            continue
        level = comparison["comparison_levels"][-1]
        u = level.get("u_probability")
        m = level.get("m_probability")
        if u is None:
            continue
        ceiling = u * 2**floor
        if m is None or math.isnan(m) or m > ceiling:
            level["m_probability"] = ceiling
    return model


def default_model_path() -> Path:
    from django.conf import settings as django_settings

    return Path(django_settings.CORDEE_HOME) / "matching" / "model.json"


def save_model(model: dict[str, Any], path: Path | None = None) -> Path:
    """Write the trained model as JSON (default: ``CORDEE_HOME/matching/model.json``)."""
    path = path or default_model_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(model, indent=2, ensure_ascii=False), encoding="utf-8")
    temporary.replace(path)  # never a half-written model
    return path


def load_model(path: Path | None = None) -> dict[str, Any]:
    """Read back a model written by :func:`save_model`."""
    model: dict[str, Any] = json.loads((path or default_model_path()).read_text("utf-8"))
    return model
