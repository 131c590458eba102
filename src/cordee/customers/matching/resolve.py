"""Resolution: scored pairs, the household rule, three zones, clusters.

:func:`resolve` takes the feature table of a base (``features.build_features``), trains
the model on it unless one is given, scores the blocked pairs and sorts every pair worth
keeping into one of four zones:

``merge``
    match probability >= ``Thresholds.merge`` (0.99, a match weight of about +6.6 bits)
    and nothing contradicts it: merged automatically. At that level one automatic merge
    in a hundred would be wrong if the model were perfectly calibrated; it is not (EM
    over-estimates on name-rich data), and the measured precision is higher.
``review``
    ``Thresholds.review`` (0.80) <= probability < 0.99, or a merge-level pair whose merge
    would put two records that contradict each other in one customer: a person decides.
``household``
    the two records share a contact detail (e-mail, phone, or address and postcode) but
    say they are two people: different first names (beyond a typo; twins share surname
    and birth date but not their first name), or clearly different birth dates (a
    parent and a child both called Jean Martin). Linked as a household, never merged,
    whatever the score.
``apart``
    everything else below 0.80: not reported.

Clustering is connected components over the ``merge`` pairs, taken from the strongest,
with a cannot-link constraint: two clusters are not joined when a record of one and a
record of the other contradict each other (first names or birth dates, as above). This
stops the classic chain where a record without a birth date links a father and his son.
Two records of one partner with the same external id are the same record imported
twice: always one customer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "Resolution",
    "Thresholds",
    "ZONES",
    "birth_dates_compatible",
    "first_names_compatible",
    "is_household_pair",
    "resolve",
]

ZONES = ("merge", "review", "household", "apart")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Match probabilities that bound the zones (see the module's docstring)."""

    merge: float = 0.99
    review: float = 0.80

    def __post_init__(self) -> None:
        if not 0 < self.review <= self.merge < 1:
            raise ValueError("thresholds must satisfy 0 < review <= merge < 1")


PAIRS_SCHEMA = pa.schema(
    [
        ("unique_id_l", pa.int64()),
        ("unique_id_r", pa.int64()),
        ("match_weight", pa.float64()),
        ("match_probability", pa.float64()),
        ("zone", pa.string()),
        ("reason", pa.string()),
    ]
)


@dataclass(slots=True)
class Resolution:
    pairs: pa.Table  # PAIRS_SCHEMA: the pairs in the merge, review and household zones
    clusters: pa.Table  # unique_id, cluster_id (the smallest unique_id of the cluster)
    model: dict[str, Any] = field(repr=False)

    def cluster_ids(self) -> list[int]:
        """The cluster of each record, indexed by unique_id (0..n-1)."""
        ids: list[int] = self.clusters.column("cluster_id").to_pylist()
        return ids

    def zone_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(ZONES[:3], 0)
        for zone in self.pairs.column("zone").to_pylist():
            counts[zone] += 1
        return counts


# -- the household rule ----------------------------------------------------------------


def _within_one_edit(a: str, b: str) -> bool:
    """At most one letter inserted, dropped, changed, or two neighbours swapped."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la > lb:
        a, b, la, lb = b, a, lb, la
    start = 0
    while start < la and a[start] == b[start]:
        start += 1
    if la == lb:
        if a[start + 1 :] == b[start + 1 :]:
            return True  # one letter changed
        return (
            start + 1 < la
            and a[start] == b[start + 1]
            and a[start + 1] == b[start]
            and a[start + 2 :] == b[start + 2 :]
        )
    return a[start:] == b[start + 1 :]  # one letter more in b


def _within_two_edits(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 2:
        return False
    # Optimal string alignment distance, rows of a small table: names are short.
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            cost = char_a != char_b
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1] <= 2


def first_names_compatible(a: str | None, b: str | None) -> bool:
    """Whether two folded first names can be one person's: unknown, equal, a typo apart
    (two for names of eight letters or more: each file may hold its own typo), or one a
    part of the other ("jean" and "jean luc")."""
    if a is None or b is None or a == b or _within_one_edit(a, b):
        return True
    if min(len(a), len(b)) >= 8 and _within_two_edits(a, b):
        return True
    words_a, words_b = set(a.split()), set(b.split())
    return words_a <= words_b or words_b <= words_a


def birth_dates_compatible(a: str | None, b: str | None) -> bool:
    """Whether two ISO birth dates can be one person's: unknown, equal, two of day / month /
    year equal (a typo), or day and month swapped."""
    if a is None or b is None or a == b:
        return True
    year, month, day = a[:4] == b[:4], a[5:7] == b[5:7], a[8:10] == b[8:10]
    if year + month + day >= 2:
        return True
    return year and a[5:7] == b[8:10] and a[8:10] == b[5:7]


def _names_compatible(
    first_a: str | None, last_a: str | None, first_b: str | None, last_b: str | None
) -> bool:
    if first_names_compatible(first_a, first_b):
        return True
    # First and last name swapped in one of the files.
    return first_a is not None and first_a == last_b and last_a == first_b


def is_household_pair(left: dict[str, Any], right: dict[str, Any]) -> str | None:
    """Why two records sharing a contact detail are two people, or None.

    `left` and `right` hold the feature columns (first_name, last_name, birth_date, email,
    phone, address, postcode).
    """
    shared = (
        left.get("email") is not None
        and left.get("email") == right.get("email")
        or left.get("phone") is not None
        and left.get("phone") == right.get("phone")
        or left.get("address") is not None
        and left.get("address") == right.get("address")
        and left.get("postcode") == right.get("postcode")
    )
    if not shared:
        return None
    if not _names_compatible(
        left.get("first_name"),
        left.get("last_name"),
        right.get("first_name"),
        right.get("last_name"),
    ):
        return "shared contact, different first names"
    if not birth_dates_compatible(left.get("birth_date"), right.get("birth_date")):
        return "shared contact, different birth dates"
    return None


# -- clustering ------------------------------------------------------------------------


class _Clusters:
    """Union-find with a cannot-link check between the members of two clusters."""

    def __init__(self, features: pa.Table) -> None:
        self.first: list[str | None] = features.column("first_name").to_pylist()
        self.last: list[str | None] = features.column("last_name").to_pylist()
        self.birth: list[str | None] = features.column("birth_date").to_pylist()
        size = features.num_rows
        self.parent = list(range(size))
        self.members: dict[int, list[int]] = {}

    def find(self, item: int) -> int:
        parent = self.parent
        root = item
        while parent[root] != root:
            root = parent[root]
        while parent[item] != root:
            parent[item], item = root, parent[item]
        return root

    def _members(self, root: int) -> list[int]:
        return self.members.get(root) or [root]

    def _contradict(self, a: int, b: int) -> bool:
        return not (
            birth_dates_compatible(self.birth[a], self.birth[b])
            and _names_compatible(self.first[a], self.last[a], self.first[b], self.last[b])
        )

    def union(self, a: int, b: int, *, check: bool = True) -> bool:
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return True
        members_a, members_b = self._members(root_a), self._members(root_b)
        if check and any(self._contradict(x, y) for x in members_a for y in members_b):
            return False
        if len(members_a) < len(members_b):
            root_a, root_b, members_a, members_b = root_b, root_a, members_b, members_a
        self.parent[root_b] = root_a
        self.members[root_a] = members_a + members_b
        self.members.pop(root_b, None)
        return True

    def ambiguous(self, item: int, neighbours: list[int]) -> bool:
        """Whether `item`'s neighbours lie in clusters that contradict each other."""
        roots = list(dict.fromkeys(self.find(n) for n in [item, *neighbours]))
        for index, root_a in enumerate(roots):
            for root_b in roots[index + 1 :]:
                members_b = self._members(root_b)
                if any(self._contradict(x, y) for x in self._members(root_a) for y in members_b):
                    return True
        return False

    def ids(self) -> list[int]:
        roots = [self.find(item) for item in range(len(self.parent))]
        smallest: dict[int, int] = {}
        for item, root in enumerate(roots):
            smallest.setdefault(root, item)  # items come in order: the first is the smallest
        return [smallest[root] for root in roots]


# -- resolve ---------------------------------------------------------------------------

_PAIR_COLUMNS = (
    "first_name",
    "last_name",
    "birth_date",
    "email",
    "phone",
    "address",
    "postcode",
)


def _candidate_pairs(linker: Any, thresholds: Thresholds, backend: str) -> pa.Table:
    """Scored pairs above the review threshold or sharing a contact detail."""
    from cordee.customers.matching.backends import predictions_table

    predictions = linker.inference.predict()
    sides = ", ".join(f'"{name}_l", "{name}_r"' for name in _PAIR_COLUMNS)
    shared = (
        '"email_l" = "email_r" OR "phone_l" = "phone_r"'
        ' OR ("address_l" = "address_r" AND "postcode_l" = "postcode_r")'
    )
    return predictions_table(
        predictions,
        where=f"match_probability >= {thresholds.review!r} OR {shared}",
        columns=f"unique_id_l, unique_id_r, match_weight, match_probability, {sides}",
        backend=backend,
    )


def _same_source_pairs(features: pa.Table) -> list[tuple[int, int]]:
    first_seen: dict[tuple[str, str], int] = {}
    pairs = []
    for unique_id, key in enumerate(
        zip(
            features.column("partner").to_pylist(),
            features.column("external_id").to_pylist(),
            strict=True,
        )
    ):
        if not key[1]:
            continue
        earlier = first_seen.setdefault(key, unique_id)
        if earlier != unique_id:
            pairs.append((earlier, unique_id))
    return pairs


def resolve(
    features: pa.Table,
    *,
    model: dict[str, Any] | None = None,
    thresholds: Thresholds | None = None,
    backend: str | None = None,
    linked: Sequence[tuple[int, int]] = (),
) -> Resolution:
    """Score, zone and cluster the records of `features` (``unique_id`` = 0..n-1).

    Without `model`, one is trained on `features` itself (see ``model.train``). `backend`
    is where Splink runs (default: the ``CORDEE_RESOLUTION_BACKEND`` setting); the
    clustering and the zones are Python, the same whatever the backend. `linked` are pairs
    a deterministic key joins (the loyalty card), unless their names or birth dates
    contradict.
    """
    from cordee.customers.matching import model as matching_model
    from cordee.customers.matching.backends import backend_name, release

    backend = backend_name(backend)

    thresholds = thresholds or Thresholds()
    size = features.num_rows
    if list(features.column("unique_id").to_pylist()) != list(range(size)):
        raise ValueError("unique_id must be 0..n-1 in order: use build_features")
    clusters = _Clusters(features)
    rows: dict[str, list[Any]] = {name: [] for name in PAIRS_SCHEMA.names}

    def add(left: int, right: int, weight: float, probability: float, zone: str, why: str) -> None:
        rows["unique_id_l"].append(left)
        rows["unique_id_r"].append(right)
        rows["match_weight"].append(weight)
        rows["match_probability"].append(probability)
        rows["zone"].append(zone)
        rows["reason"].append(why)

    for left, right in _same_source_pairs(features):
        clusters.union(left, right, check=False)
        add(left, right, float("inf"), 1.0, "merge", "same partner and external id")
    for left, right in linked:
        if 0 <= left < size and 0 <= right < size and clusters.union(left, right):
            add(left, right, float("inf"), 1.0, "merge", "same loyalty card")

    if size >= 2:
        if model is None:
            model = matching_model.train(features, backend=backend)
        linker = matching_model.linker_for(features, model, backend=backend)
        try:
            candidates = _candidate_pairs(linker, thresholds, backend)
        finally:
            release(backend)
        _zone_pairs(candidates, thresholds, clusters, add)
    return Resolution(
        pairs=pa.table(rows, schema=PAIRS_SCHEMA),
        clusters=pa.table(
            {
                "unique_id": pa.array(range(size), pa.int64()),
                "cluster_id": pa.array(clusters.ids(), pa.int64()),
            }
        ),
        model=model or {},
    )


def _zone_pairs(
    candidates: pa.Table, thresholds: Thresholds, clusters: _Clusters, add: Any
) -> None:
    # Strongest first: a weak link must not claim a record a strong one would have joined.
    # Ties are broken by the records' order, and weights compared to 10^-9: the order is
    # then the same whatever the backend (Spark's rows come in no particular order, and
    # its floating-point sums may differ from DuckDB's in the last bits).
    rounded = pc.round(candidates.column("match_weight"), 9)
    ordered = candidates.append_column("_order", rounded).sort_by(
        [("_order", "descending"), ("unique_id_l", "ascending"), ("unique_id_r", "ascending")]
    )
    merges: list[tuple[int, int, float, float]] = []
    for batch in ordered.to_batches(100_000):
        columns: dict[str, Sequence[Any]] = batch.to_pydict()
        lefts, rights = columns["unique_id_l"], columns["unique_id_r"]
        weights, probabilities = columns["match_weight"], columns["match_probability"]
        for index, (left, right) in enumerate(zip(lefts, rights, strict=True)):
            left_side = {name: columns[f"{name}_l"][index] for name in _PAIR_COLUMNS}
            right_side = {name: columns[f"{name}_r"][index] for name in _PAIR_COLUMNS}
            probability = probabilities[index]
            weight = weights[index]
            household = is_household_pair(left_side, right_side)
            if household:
                add(left, right, weight, probability, "household", household)
            elif probability >= thresholds.merge:
                merges.append((left, right, weight, probability))
            elif probability >= thresholds.review:
                add(left, right, weight, probability, "review", "score")
    _merge(merges, clusters, add)


def _merge(merges: list[tuple[int, int, float, float]], clusters: _Clusters, add: Any) -> None:
    """Join the merge-zone pairs, records with a birth date first.

    A record without a birth date that matches two clusters which contradict each other
    (a father and his son, both Jean Martin at one address) could be either: it is sent
    to review instead of joining the first one it meets.
    """
    birth = clusters.birth
    neighbours: dict[int, list[int]] = {}
    later = []
    for pair in merges:
        left, right = pair[0], pair[1]
        if birth[left] is None or birth[right] is None:
            later.append(pair)
            for one, other in ((left, right), (right, left)):
                if birth[one] is None:
                    neighbours.setdefault(one, []).append(other)
            continue
        _join(pair, clusters, add)
    for pair in later:
        left, right, weight, probability = pair
        if any(
            clusters.ambiguous(one, neighbours[one]) for one in (left, right) if one in neighbours
        ):
            add(left, right, weight, probability, "review", "could be either of two people")
            continue
        _join(pair, clusters, add)


def _join(pair: tuple[int, int, float, float], clusters: _Clusters, add: Any) -> None:
    left, right, weight, probability = pair
    if clusters.union(left, right):
        add(left, right, weight, probability, "merge", "score")
    else:
        add(left, right, weight, probability, "review", "would join contradicting records")
