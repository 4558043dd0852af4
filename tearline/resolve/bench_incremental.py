"""Incremental matching measured: arrivals scored against N resolved persons in a fresh SQLite file.

The resolved persons and the arrivals come from the generated Spanish-name set (different seeds);
the model is trained on a separate sample. Throughput adds arrivals in batches of 100; latency
adds them one at a time, each in its own transaction, as an arriving partner record would be.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from tearline import clock
from tearline.db.engine import make_engine, sqlite_url
from tearline.db.resolve_tables import ResolveDecision, ResolveMember, ResolveModel
from tearline.resolve import batch, bench, incremental
from tearline.resolve.records import feature_row

Advance = Callable[[str, int, int], None]


@dataclass
class IncrementalResult:
    entities: int
    arrivals: int
    records_per_second: float
    p50_ms: float
    p95_ms: float
    merges: int
    reviews: int


def _families_for(records: int) -> int:
    return records // 4 + 5  # the generator yields about 5.8 records per family: enough, with a margin


def run_incremental(entities: int, arrivals: int = 1000, singles: int = 200,
                    advance: Advance | None = None) -> IncrementalResult:
    step = advance or (lambda name, done, total: None)
    trained = batch.resolve(bench.spanish(families=300, seed=21).records).trained
    resolver = incremental.IncrementalResolver(trained)
    existing = bench.spanish(families=_families_for(entities), seed=22).records[:entities]
    incoming = bench.spanish(families=_families_for(arrivals + singles), seed=23).records[: arrivals + singles]
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(sqlite_url(Path(tmp) / "resolve.db"))
        for table in (ResolveModel, ResolveMember, ResolveDecision):
            table.__table__.create(engine)  # type: ignore[attr-defined]
        with Session(engine) as session, session.begin():
            rows = []
            for n, record in enumerate(existing):
                features = feature_row(record, 0)
                features.pop("unique_id")
                rows.append({"stix_id": f"identity--{uuid.uuid4()}", "entity_id": f"entity--{uuid.uuid4()}",
                             "features": features, "created_at": clock.now(), **incremental._keys(features)})
                if len(rows) == 5000 or n == len(existing) - 1:
                    session.execute(insert(ResolveMember), rows)
                    rows = []
                    step("resolved persons", n + 1, len(existing))
        arriving = [(f"identity--{uuid.uuid4()}", r) for r in incoming]
        timed = time_arrivals(engine, resolver.add, arriving, arrivals, step)
        engine.dispose()
    return IncrementalResult(
        entities=len(existing), arrivals=len(arriving), records_per_second=timed.records_per_second,
        p50_ms=timed.p50_ms, p95_ms=timed.p95_ms, merges=sum(1 for o in timed.outcomes if o.merged_with),
        reviews=sum(1 for o in timed.outcomes if o.reviews))


@dataclass
class TimedArrivals:
    records_per_second: float  # the first arrivals, in batches of 100
    p50_ms: float  # the rest, one at a time
    p95_ms: float
    outcomes: list[Any]


def time_arrivals(engine: Engine, add: Callable[[Session, list[Any], str], list[Any]], arriving: list[Any],
                  batched: int, step: Advance) -> TimedArrivals:
    """The first `batched` arrivals in batches of 100, then the rest one at a time, each batch and
    each single arrival in a transaction of its own."""
    outcomes: list[Any] = []
    started = time.perf_counter()
    for i in range(0, batched, 100):
        with Session(engine) as session, session.begin():
            outcomes += add(session, arriving[i : i + 100], "bench")
        step("arrivals in batches of 100", min(i + 100, batched), batched)
    throughput = batched / (time.perf_counter() - started)
    latencies = []
    singles = arriving[batched:]
    for j, one in enumerate(singles):
        began = time.perf_counter()
        with Session(engine) as session, session.begin():
            outcomes += add(session, [one], "bench")
        latencies.append((time.perf_counter() - began) * 1000)
        step("single arrivals", j + 1, len(singles))
    return TimedArrivals(throughput, statistics.median(latencies), statistics.quantiles(latencies, n=20)[18], outcomes)
