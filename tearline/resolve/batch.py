"""Batch resolution: standardise every record, train the model by EM, score blocked pairs, cluster."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tearline.errors import InvalidInput, Problem
from tearline.resolve import model
from tearline.resolve.records import PersonRecord, feature_row

Step = Callable[[str, int, int], None]
STEPS = ("standardise", "train", "score", "cluster")


def _no_progress(step: str, done: int, total: int) -> None:
    return None


@dataclass
class Resolution:
    """Each record's entity and the probability of the strongest link holding it there (0 alone)."""

    records: list[PersonRecord]
    entity_ids: list[str]
    probabilities: list[float]
    pairs: pd.DataFrame
    trained: model.TrainedModel

    def rows(self) -> list[tuple[str, str, float]]:
        return list(zip([r.record_id for r in self.records], self.entity_ids, self.probabilities, strict=True))


def standardise(records: Sequence[PersonRecord], progress: Step = _no_progress) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for i, record in enumerate(records):
        rows.append(feature_row(record, i))
        if i % 1000 == 0:
            progress("standardise", i, len(records))
    progress("standardise", len(records), len(records))
    return model.frame(rows)


def resolve(records: Sequence[PersonRecord], *, threshold: float = model.UPPER_THRESHOLD,
            model_settings: dict[str, Any] | None = None, progress: Step = _no_progress,
            backend: model.Backend = model.DUCKDB) -> Resolution:
    """Resolve records into entities (connected components of links at or above `threshold`).

    `backend` runs Splink: DuckDB in this process by default, or Spark (`tearline.resolve.spark`).
    """
    if len(records) < 2:
        raise InvalidInput(Problem("input", "at least two records are needed to resolve"))
    df = standardise(records, progress)
    progress("train", 0, 1)
    trained, linker = model.train(df, model_settings, backend=backend)
    progress("train", 1, 1)
    progress("score", 0, 1)
    pairs = model.predict(linker)
    progress("score", 1, 1)
    ids = list(range(len(records)))
    clustering = model.cluster(ids, pairs, threshold)
    names: dict[int, str] = {}
    entity_ids = [names.setdefault(clustering.entity_of[i], f"E{len(names) + 1:06d}") for i in ids]
    progress("cluster", 1, 1)
    probabilities = [round(clustering.best_link.get(i, 0.0), 6) for i in ids]
    return Resolution(list(records), entity_ids, probabilities, pairs, trained)


def unique_record_ids(records: Sequence[PersonRecord]) -> list[PersonRecord]:
    """Records whose ids repeat across sources are written as `source:id`, so that each row is one record."""
    seen: dict[str, int] = {}
    for record in records:
        seen[record.record_id] = seen.get(record.record_id, 0) + 1
    out = []
    for record in records:
        if seen[record.record_id] > 1:
            record = PersonRecord(f"{record.source}:{record.record_id}", record.source, record.name, record.dob,
                                  record.sex, record.phones, record.national_id, record.address, record.raw)
        out.append(record)
    counts = Counter(r.record_id for r in out)
    repeated = sorted(rid for rid, n in counts.items() if n > 1)
    if repeated:
        raise InvalidInput([Problem("record_id", f"{rid!r} appears more than once in one source") for rid in repeated])
    return out


def write_clusters(resolution: Resolution, out: Path) -> None:
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("record_id", "entity_id", "match_probability"))
        writer.writerows(resolution.rows())
