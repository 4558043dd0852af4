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

from sqlalchemy import insert
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
        started = time.perf_counter()
        outcomes = []
        for i in range(0, arrivals, 100):
            with Session(engine) as session, session.begin():
                outcomes += resolver.add(session, arriving[i: i + 100], "bench")
            step("arrivals in batches of 100", min(i + 100, arrivals), arrivals)
        throughput = arrivals / (time.perf_counter() - started)
        latencies = []
        for j, one in enumerate(arriving[arrivals: arrivals + singles]):
            t = time.perf_counter()
            with Session(engine) as session, session.begin():
                outcomes += resolver.add(session, [one], "bench")
            latencies.append((time.perf_counter() - t) * 1000)
            step("single arrivals", j + 1, singles)
        engine.dispose()
    return IncrementalResult(
        entities=len(existing), arrivals=arrivals + singles, records_per_second=throughput,
        p50_ms=statistics.median(latencies), p95_ms=statistics.quantiles(latencies, n=20)[18],
        merges=sum(1 for o in outcomes if o.merged_with), reviews=sum(1 for o in outcomes if o.reviews))
