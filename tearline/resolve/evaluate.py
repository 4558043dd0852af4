"""Measures of a resolution against known truth: pairwise and B-cubed scores, cluster counts,
homonym false merges and recall per variant class."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations


def _groups(labels: Sequence[Hashable]) -> dict[Hashable, list[int]]:
    out: dict[Hashable, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        out[label].append(i)
    return out


def pair_set(labels: Sequence[Hashable]) -> set[tuple[int, int]]:
    return {pair for members in _groups(labels).values() for pair in combinations(sorted(members), 2)}


@dataclass
class Scores:
    precision: float
    recall: float
    f1: float
    bcubed_f1: float
    predicted_clusters: int
    true_clusters: int
    largest_cluster: int
    false_pairs: int
    missed_pairs: int
    homonym_false_merge_rate: float | None = None
    homonym_pairs: int = 0
    recall_by_variant: dict[str, tuple[float, int]] = field(default_factory=dict)


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def bcubed(predicted: Sequence[Hashable], truth: Sequence[Hashable]) -> float:
    """B-cubed F1: per record, precision and recall of its predicted cluster against its true one."""
    pred_groups, true_groups = _groups(predicted), _groups(truth)
    p_sum = r_sum = 0.0
    for i in range(len(predicted)):
        mine, real = set(pred_groups[predicted[i]]), set(true_groups[truth[i]])
        both = len(mine & real)
        p_sum += both / len(mine)
        r_sum += both / len(real)
    n = len(predicted)
    return _f1(p_sum / n, r_sum / n) if n else 0.0


def score(predicted: Sequence[Hashable], truth: Sequence[Hashable], *,
          homonym_key: Sequence[Hashable | None] | None = None,
          variants: Sequence[Iterable[str]] | None = None) -> Scores:
    """Score predicted entity labels against true ones, record by record."""
    predicted_pairs, true_pairs = pair_set(predicted), pair_set(truth)
    hits = len(predicted_pairs & true_pairs)
    precision = hits / len(predicted_pairs) if predicted_pairs else 1.0
    recall = hits / len(true_pairs) if true_pairs else 1.0
    sizes = [len(m) for m in _groups(predicted).values()]
    out = Scores(precision, recall, _f1(precision, recall), bcubed(predicted, truth), len(sizes),
                 len(set(truth)), max(sizes, default=0), len(predicted_pairs - true_pairs),
                 len(true_pairs - predicted_pairs))
    if homonym_key is not None:
        out.homonym_false_merge_rate, out.homonym_pairs = homonym_rate(predicted, truth, homonym_key)
    if variants is not None:
        out.recall_by_variant = recall_by_variant(predicted_pairs, true_pairs, variants)
    return out


def homonym_rate(predicted: Sequence[Hashable], truth: Sequence[Hashable],
                 key: Sequence[Hashable | None]) -> tuple[float | None, int]:
    """Of record pairs of different persons who share a key (given name and paternal surname), the
    share placed in one entity."""
    merged = total = 0
    for members in _groups(key).values():
        if members and key[members[0]] is None:
            continue
        for a, b in combinations(members, 2):
            if truth[a] != truth[b]:
                total += 1
                merged += predicted[a] == predicted[b]
    return (merged / total if total else None), total


def recall_by_variant(predicted_pairs: set[tuple[int, int]], true_pairs: set[tuple[int, int]],
                      variants: Sequence[Iterable[str]]) -> dict[str, tuple[float, int]]:
    """Recall over true pairs in which either record shows a variant, per variant."""
    found: Mapping[str, list[int]] = defaultdict(lambda: [0, 0])
    sets = [set(v) for v in variants]
    for a, b in true_pairs:
        for variant in sets[a] | sets[b]:
            found[variant][1] += 1
            found[variant][0] += (a, b) in predicted_pairs
    return {v: (hit / n, n) for v, (hit, n) in sorted(found.items())}
