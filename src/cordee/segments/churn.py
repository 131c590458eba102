"""Churn risk: the probability that a customer does not come back next season of the same kind.

Learned from past seasons: the facts of the 3F typology at season S (seasons attended in the
window and before, seasons since the last visit, activities, spend, satisfaction, complaints,
constraint) and whether the customer came in season S+1. A logistic regression on
standardised features: its coefficients are the factors shown to the CRM team, and a
customer's own factors are the coefficient × their standardised value. The model is trained on
the older seasons and evaluated on the most recent completed one (held out), beside a
baseline that only looks at recency.
"""

# SQL here is assembled from table names, fixed fragments and integer keys only; every value
# travels as a query parameter.
# ruff: noqa: S608

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection
from django.utils.translation import gettext_lazy as _

from cordee.activities.models import Season
from cordee.core.bulk import copy_line
from cordee.segments.aggregates import CHURN_TABLE, _in, _table, chunks, churn_scores_table
from cordee.segments.models import (
    CustomerSeasonStats,
    CustomerTypology,
    ScoringState,
)
from cordee.segments.typology import next_season, reference_season, typology_seasons

FEATURES = (
    ("came_recent", _("saisons fréquentées récemment")),
    ("came_before", _("saisons fréquentées auparavant")),
    ("seasons_total", _("ancienneté (saisons en tout)")),
    ("seasons_since_last", _("saisons depuis la dernière venue")),
    ("activities", _("nombre d’activités")),
    ("amount", _("dépense")),
    ("satisfaction", _("satisfaction")),
    ("no_satisfaction", _("satisfaction inconnue")),
    ("complaints", _("réclamations")),
    ("constrained", _("venues contraintes")),
)
FEATURE_NAMES = [name for name, _label in FEATURES]


def _features(
    season: Season, customer_ids: list[int] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer ids, feature matrix, came back next season) for the customers typed in ``season``."""
    nxt = next_season(season)
    typology, season_stats = _table(CustomerTypology), _table(CustomerSeasonStats)
    where, ids = _in("t.customer_id", customer_ids)
    came = "0"
    params: list[Any] = []
    if nxt is not None:
        came = f"CASE WHEN EXISTS (SELECT 1 FROM {season_stats} n WHERE n.customer_id = t.customer_id AND n.season_id = %s) THEN 1 ELSE 0 END"
        params.append(nxt.pk)
    with connection.cursor() as cur:
        cur.execute(
            f"""
            SELECT t.customer_id, t.came_recent, t.came_before, t.seasons_total,
                   t.seasons_since_last, t.activities, t.amount, t.satisfaction_avg,
                   t.complaints, t.constrained, {came}
            FROM {typology} t WHERE t.season_id = %s AND {where}
            ORDER BY t.customer_id
            """,
            [*params, season.pk, *ids],
        )
        rows = cur.fetchall()
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros((0, len(FEATURES))), np.zeros(0)
    raw = np.array(
        [
            (
                r[1], r[2], r[3], r[4] or 0, r[5], float(r[6] or 0),
                7.0 if r[7] is None else float(r[7]), 1.0 if r[7] is None else 0.0,
                r[8], r[9],
            )
            for r in rows
        ],
        dtype=float,
    )  # fmt: skip
    # Spend and activity counts are long-tailed: the log keeps a few big spenders from
    # dominating the fit.
    raw[:, 4] = np.log1p(raw[:, 4])
    raw[:, 5] = np.log1p(np.maximum(raw[:, 5], 0))
    ids_out = np.array([r[0] for r in rows], dtype=np.int64)
    labels = np.array([r[10] for r in rows], dtype=float)
    return ids_out, raw, labels


@dataclass
class ChurnReport:
    trained_on: list[str]
    held_out: str
    auc: float
    baseline_auc: float
    rows_train: int
    rows_test: int
    factors: list[tuple[str, float]]


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    if len(set(labels.tolist())) < 2:
        return float("nan")
    return float(roc_auc_score(labels, scores))


def churn_train() -> ChurnReport | None:
    """Fit on the older typed seasons, evaluate on the latest completed one, store the model.

    The final model is refitted on every season whose next season is known, the held-out one
    included, and scores the reference season.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    ref = reference_season()
    if ref is None:
        return None
    seasons = [s for s in typology_seasons() if s.kind == ref.kind and s.starts_on < ref.starts_on]
    if len(seasons) < 2:
        return None
    held_out, train_seasons = seasons[-1], seasons[:-1]
    parts = [_features(s) for s in train_seasons]
    x_train = np.vstack([p[1] for p in parts])
    y_train = 1.0 - np.concatenate([p[2] for p in parts])  # 1 = did not come back
    _ids, x_test, came_test = _features(held_out)
    y_test = 1.0 - came_test
    if len(set(y_train.tolist())) < 2 or len(x_test) == 0:
        return None

    def fit(x: np.ndarray, y: np.ndarray) -> tuple[StandardScaler, LogisticRegression]:
        # BLAS in one thread: on a busy machine its second thread spins waiting for work,
        # which cost twice the CPU of the fit (and more wall time) for ten columns. The
        # coefficients move in their 12th digit (another order of the partial sums); no
        # rounded risk changed on a 200k-customer base.
        with threadpool_limits(limits=1, user_api="blas"):
            scaler = StandardScaler().fit(x)
            model = LogisticRegression(max_iter=500).fit(scaler.transform(x), y)
        return scaler, model

    scaler, model = fit(x_train, y_train)
    auc = _auc(y_test, model.predict_proba(scaler.transform(x_test))[:, 1])
    baseline = _auc(y_test, x_test[:, FEATURE_NAMES.index("seasons_since_last")])
    # The model that scores today's customers learns from every season with a known sequel.
    scaler, model = fit(np.vstack([x_train, x_test]), np.concatenate([y_train, y_test]))
    state = {
        "mean": scaler.mean_.tolist(),
        "scale": [s if s else 1.0 for s in scaler.scale_.tolist()],
        "coef": model.coef_[0].tolist(),
        "intercept": float(model.intercept_[0]),
        "season_id": ref.pk,
        "auc": auc,
        "baseline_auc": baseline,
        "held_out": held_out.name,
        "trained_on": [s.name for s in train_seasons],
    }
    ScoringState.objects.update_or_create(key="churn", defaults={"value": state})
    factors = sorted(zip(FEATURE_NAMES, state["coef"], strict=True), key=lambda f: -abs(f[1]))
    return ChurnReport(
        trained_on=state["trained_on"],
        held_out=held_out.name,
        auc=auc,
        baseline_auc=baseline,
        rows_train=len(x_train),
        rows_test=len(x_test),
        factors=factors,
    )


def _model() -> dict[str, Any] | None:
    row = ScoringState.objects.filter(key="churn").first()
    return row.value if row else None


def _probabilities(state: dict[str, Any], x: np.ndarray) -> np.ndarray:
    z = (x - np.array(state["mean"])) / np.array(state["scale"])
    logit = z @ np.array(state["coef"]) + state["intercept"]
    # A far-off logit overflows exp() to infinity, which gives the right limit (0); the bulk
    # path in SQL clamps the logit to the same end.
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-logit))


def churn_score(customer_ids: list[int] | None = None) -> int:
    """Score the customers typed in the reference season into the connection's scratch
    table, which the customer stats rebuild reads (others: unknown risk)."""
    churn_scores_table()
    where, ids = _in("cid", customer_ids)
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {CHURN_TABLE} WHERE {where}", ids)
    state = _model()
    ref = reference_season()
    if state is None or ref is None:
        return 0
    if customer_ids is None and connection.vendor == "postgresql":
        return _churn_score_bulk_pg(state, ref)
    cids, x, _came = _features(ref, customer_ids)
    if len(cids) == 0:
        return 0
    pairs = list(
        zip(cids.tolist(), [round(float(r), 4) for r in _probabilities(state, x)], strict=True)
    )
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            with cur.cursor.copy(f"COPY {CHURN_TABLE} (cid, risk) FROM STDIN") as copy:
                for block in chunks(pairs, 20_000):
                    copy.write("".join(copy_line(p) + "\n" for p in block))
        else:
            cur.executemany(f"INSERT INTO {CHURN_TABLE} (cid, risk) VALUES (%s, %s)", pairs)
    return len(pairs)


def _churn_score_bulk_pg(state: dict[str, Any], ref: Season) -> int:
    """:func:`churn_score` of everyone on PostgreSQL: the same features and the same formula
    (:func:`_features`, :func:`_probabilities`, rounded to 4 decimals), computed where the
    rows are — fetching 700k rows into Python to send 700k risks back cost more than the
    arithmetic. The logit is clamped to ±700 (PostgreSQL's ``exp`` refuses to overflow or
    underflow where numpy gives 0 or infinity): the rounded probability is the same."""
    features = (
        "t.came_recent", "t.came_before", "t.seasons_total", "COALESCE(t.seasons_since_last, 0)",
        "LN(1 + CAST(t.activities AS double precision))",
        "LN(1 + GREATEST(CAST(t.amount AS double precision), 0))",
        "COALESCE(t.satisfaction_avg, 7.0)",
        "CASE WHEN t.satisfaction_avg IS NULL THEN 1.0 ELSE 0.0 END",
        "t.complaints", "t.constrained",
    )  # fmt: skip
    terms, params = [], []
    for expr, mean, scale, coef in zip(
        features, state["mean"], state["scale"], state["coef"], strict=True
    ):
        terms.append(
            f"(CAST({expr} AS double precision) - CAST(%s AS double precision)) "
            "/ CAST(%s AS double precision) * CAST(%s AS double precision)"
        )
        params += [float(mean), float(scale), float(coef)]
    logit = f"({' + '.join(terms)} + CAST(%s AS double precision))"
    params.append(float(state["intercept"]))
    risk = f"1.0 / (1.0 + EXP(LEAST(700.0, GREATEST(-700.0, -{logit}))))"
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {CHURN_TABLE} (cid, risk) "
            f"SELECT t.customer_id, CAST(ROUND(CAST({risk} AS numeric), 4) AS double precision) "
            f"FROM {_table(CustomerTypology)} t WHERE t.season_id = %s",
            [*params, ref.pk],
        )
        return int(cur.rowcount)


@dataclass
class Factor:
    label: str
    weight: float  # > 0 pushes towards leaving


def churn_factors(customer_id: int) -> list[Factor]:
    """The three facts that weigh most in this customer's risk, in their direction."""
    state = _model()
    ref = reference_season()
    if state is None or ref is None:
        return []
    _cids, x, _came = _features(ref, [customer_id])
    if len(x) == 0:
        return []
    z = (x[0] - np.array(state["mean"])) / np.array(state["scale"])
    contributions = z * np.array(state["coef"])
    order = sorted(range(len(FEATURES)), key=lambda i: -abs(contributions[i]))[:3]
    return [
        Factor(label=str(FEATURES[i][1]), weight=round(float(contributions[i]), 2))
        for i in order
        if not math.isclose(contributions[i], 0.0)
    ]
