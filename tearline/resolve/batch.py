"""Batch resolution: standardise every record, train the model by EM (a batch too small to train on is
scored with `reference`'s model), score blocked pairs, cluster."""

from __future__ import annotations

import contextlib
import csv
import os
import stat
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tearline.errors import InvalidInput, Problem
from tearline.resolve import model, reference
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
    reference: bool = False  # scored with the reference model: too few records to train on

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
        raise InvalidInput(Problem("input", f"{len(records)} record(s) given: the model is trained on at least two "
                                            "(a single record is its own entity; `tearline resolve` writes it so)"))
    df = standardise(records, progress)
    small = len(records) < reference.MIN_TRAINING_RECORDS and model_settings is None
    if small:  # EM cannot learn from a handful of pairs (`tearline.resolve.reference`)
        trained = reference.reference_model()
        progress("score", 0, 1)
        pairs = reference.score_all_pairs(df)
    else:
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
    return Resolution(list(records), entity_ids, probabilities, pairs, trained, small)


def unique_record_ids(records: Sequence[PersonRecord]) -> list[PersonRecord]:
    """Records whose ids repeat across sources are written as `source:id`, so that each row is one record.

    An id that repeats within one source is refused (`tearline.resolve.mapping` names the files and lines
    of both); so is an id that `source:id` would make equal to another record's."""
    per_source = Counter((r.source, r.record_id) for r in records)
    repeated = sorted(key for key, n in per_source.items() if n > 1)
    if repeated:
        raise InvalidInput([Problem("record_id", f"{rid!r} is the id of {per_source[source, rid]} records of source "
                                                 f"{source!r}: each record of a source needs its own id", source)
                            for source, rid in repeated])
    seen = Counter(r.record_id for r in records)
    out = []
    for record in records:
        if seen[record.record_id] > 1:
            record = PersonRecord(f"{record.source}:{record.record_id}", record.source, record.name, record.dob,
                                  record.sex, record.phones, record.national_id, record.address, record.raw)
        out.append(record)
    written: dict[str, PersonRecord] = {}
    problems = []
    for before, after in zip(records, out, strict=True):
        if after.record_id in written:
            other = written[after.record_id]
            problems.append(Problem("record_id", f"{before.record_id!r} (source {before.source!r}) would be written "
                                                 f"{after.record_id!r}, as is {other.record_id!r} (source "
                                                 f"{other.source!r}): an id repeated across sources is written "
                                                 "source:id; rename one of them", before.source))
        written.setdefault(after.record_id, before)
    if problems:
        raise InvalidInput(problems)
    return out


def write_clusters(resolution: Resolution, out: Path) -> None:
    """record_id,entity_id,match_probability a record, written whole or not at all (see write_rows)."""
    write_rows(resolution.rows(), out)


def write_rows(rows: Iterable[tuple[str, str, float]], out: Path) -> None:
    """The output CSV, written to a temporary file beside `out` and renamed over it: an interrupted run
    leaves `out` as it was, never half-written."""
    try:
        fd, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    except OSError as err:
        raise InvalidInput(Problem("--out", f"cannot be written in {out.parent}: {err.strerror}", str(out))) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(("record_id", "entity_id", "match_probability"))
            writer.writerows(rows)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, _mode(out))
        os.replace(temporary, out)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(err, OSError):
            raise InvalidInput(Problem("--out", f"cannot be written: {err.strerror}", str(out))) from None
        raise


def _mode(out: Path) -> int:
    """The permissions `out` has, or those a new file gets under the umask (mkstemp's are 0600)."""
    try:
        return stat.S_IMODE(out.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
