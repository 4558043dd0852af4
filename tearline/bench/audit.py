"""`tearline bench audit`: the audit log's appends and proofs, against pymerkle's SqliteTree.

Measured on a throw-away node per database (SQLite file, or a fresh PostgreSQL database):

- appends per second with durable commits: one entry per commit (one writer, and several writers
  at once), and batches of entries per commit; SQLite runs with `synchronous=FULL`, PostgreSQL
  with its defaults (`fsync` and `synchronous_commit` on);
- the log is then filled to N entries with large batches, and inclusion and consistency proofs
  at size N are timed one by one inside an open read transaction (the log's own work), and
  again each in a read transaction of its own (what an API request adds: on PostgreSQL, a
  pool pre-ping, BEGIN and ROLLBACK round trips);
- every timed proof is checked against the root.

pymerkle's `SqliteTree` (optional, GPL, benchmark only: `pip install '.[bench]'`) gets the same
entries in the same run: `append_entry` commits each entry, `append_entries` a batch.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tearline.audit import leaf_hash, log, verify_consistency, verify_inclusion
from tearline.audit.event import AuditEvent
from tearline.bench.databases import bench_target, describe
from tearline.node import Node, init_node

Progress = Callable[[str, int, int], None]
FILL_BATCH = 10_000


@dataclass(frozen=True)
class AuditBenchConfig:
    entries: int = 1_000_000
    single: int = 2_000
    batched: int = 50_000
    batch: int = 100
    writers: int = 4
    proofs: int = 500
    pymerkle: bool = True
    pymerkle_proofs: int = 50
    seed: int = 1


@dataclass
class Rates:
    """Entries per second, and the median proof times in seconds."""

    single: float = 0.0
    concurrent: float = 0.0
    batched: float = 0.0
    fill: float = 0.0
    inclusion: float = 0.0
    consistency: float = 0.0
    inclusion_tx: float = 0.0
    consistency_tx: float = 0.0
    size: int = 0


@dataclass
class AuditBenchResult:
    label: str
    where: str
    ours: Rates
    pymerkle: Rates | None = None
    pymerkle_note: str = ""
    checked: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def ratio(self, name: str, higher_is_better: bool = True) -> float | None:
        if self.pymerkle is None:
            return None
        ours, theirs = getattr(self.ours, name), getattr(self.pymerkle, name)
        if not ours or not theirs:
            return None
        return float(ours / theirs if higher_is_better else theirs / ours)


def entry(i: int) -> bytes:
    """A realistic entry (~300 bytes): who read which report under which marking."""
    return AuditEvent(
        actor=f"analyst{i % 50}@US-DEMO-NARC",
        action="report.read",
        objects=[f"report--{i % 9973:08d}-0000-4000-8000-000000000000"],
        marking="SECRET//REL TO USA, MEX",
        policy_version="equivalence-v1",
        rule=None,
        outcome="allowed",
        time=datetime(2026, 1, 1, tzinfo=UTC),
        node="USA/US-DEMO-NARC",
        detail={"serial": i},
    ).canonical()


def _event(i: int) -> AuditEvent:
    return AuditEvent.from_canonical(entry(i))


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def _single(node: Node, start: int, count: int) -> float:
    events = [_event(start + i) for i in range(count)]
    began = time.perf_counter()
    for event in events:
        with node.db.write() as session:
            log.record(session, event, node.config.name)
    return _rate(count, time.perf_counter() - began)


def _concurrent(node: Node, start: int, count: int, writers: int) -> float:
    share = count // writers
    events = [_event(start + i) for i in range(share * writers)]

    def work(w: int) -> None:
        for event in events[w * share : (w + 1) * share]:
            with node.db.write() as session:
                log.record(session, event, node.config.name)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _rate(share * writers, time.perf_counter() - began)


def _batched(node: Node, start: int, count: int, batch: int, progress: Progress, label: str) -> float:
    done, elapsed = 0, 0.0
    while done < count:
        n = min(batch, count - done)
        events = [_event(start + done + i) for i in range(n)]  # built outside the timing
        began = time.perf_counter()
        with node.db.write() as session:
            log.record_many(session, events, node.config.name)
        elapsed += time.perf_counter() - began
        done += n
        if done % (batch * 50) == 0 or done == count:
            progress(label, done, count)
    return _rate(count, elapsed)


def _timed(call: Callable[..., object], *args: Any) -> float:
    began = time.perf_counter()
    call(*args)
    return time.perf_counter() - began


def _proofs(node: Node, size: int, samples: int, rng: random.Random) -> dict[str, float]:
    """Median times: each proof inside an open read transaction, and each in a transaction of its own."""
    positions = [(rng.randrange(size), rng.randrange(1, size)) for _ in range(samples)]
    times: dict[str, list[float]] = {"inclusion": [], "consistency": [], "inclusion_tx": [], "consistency_tx": []}
    with node.db.read() as session:
        for index, old in positions:
            times["inclusion"].append(_timed(log.prove_inclusion, session, index, size))
            times["consistency"].append(_timed(log.prove_consistency, session, old, size))
    for index, old in positions:
        times["inclusion_tx"].append(_timed(_in_read, node, log.prove_inclusion, index, size))
        times["consistency_tx"].append(_timed(_in_read, node, log.prove_consistency, old, size))
    return {name: statistics.median(values) for name, values in times.items()}


def _in_read(node: Node, call: Callable[..., object], *args: Any) -> object:
    with node.db.read() as session:
        return call(session, *args)


def _check_proofs(node: Node, size: int, samples: int, rng: random.Random) -> int:
    """The proofs the bench timed, made again at the same positions and checked against the root."""
    checked = 0
    with node.db.read() as session:
        root = log.root_at(session, size)
        for _ in range(samples):
            index, old = rng.randrange(size), rng.randrange(1, size)
            path = log.prove_inclusion(session, index, size)
            checked += verify_inclusion(leaf_hash(log.read_leaf(session, index).data), index, size, path, root)
            proof = log.prove_consistency(session, old, size)
            checked += verify_consistency(old, size, log.root_at(session, old), root, proof)
    return checked


def measure_ours(url: str, config: AuditBenchConfig, progress: Progress) -> AuditBenchResult:
    rng = random.Random(config.seed)
    with bench_target(url) as target:
        node = init_node(target.data_dir, "USA", "US-DEMO-NARC", target.database_url)
        try:
            rates = Rates()
            rates.single = _single(node, 0, config.single)
            progress("one entry per commit", config.single, config.single)
            written = config.single
            if config.writers > 1:
                rates.concurrent = _concurrent(node, written, config.single, config.writers)
                written += config.single // config.writers * config.writers
            rates.batched = _batched(node, written, config.batched, config.batch, progress, "batched")
            written += config.batched
            rest = max(config.entries - written, 0)
            rates.fill = _batched(node, written, rest, FILL_BATCH, progress, "fill") if rest else 0.0
            rates.size = max(config.entries, written)
            state = rng.getstate()
            medians = _proofs(node, rates.size, config.proofs, rng)
            rates.inclusion, rates.consistency = medians["inclusion"], medians["consistency"]
            rates.inclusion_tx, rates.consistency_tx = medians["inclusion_tx"], medians["consistency_tx"]
            rng.setstate(state)
            checked = _check_proofs(node, rates.size, config.proofs, rng)
        finally:
            node.close()
    return AuditBenchResult(target.label, describe(url), rates, checked=checked)


def pymerkle_missing() -> str | None:
    try:
        import pymerkle  # noqa: F401
    except ImportError:
        return "pymerkle is not installed (it is GPL, so only the bench extra has it): pip install '.[bench]'"
    return None


def _median_time(call: Callable[[int], object], arguments: list[int]) -> float:
    times = []
    for argument in arguments:
        began = time.perf_counter()
        call(argument)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def _pymerkle_appends(tree: Any, config: AuditBenchConfig, rates: Rates, progress: Progress) -> int:
    entries = [entry(i) for i in range(config.single)]
    began = time.perf_counter()
    for data in entries:
        tree.append_entry(data)  # one commit per entry
    rates.single = _rate(config.single, time.perf_counter() - began)
    progress("pymerkle one entry per commit", config.single, config.single)
    elapsed = 0.0
    for first in range(0, config.batched, config.batch):
        chunk = [entry(config.single + first + i) for i in range(min(config.batch, config.batched - first))]
        began = time.perf_counter()
        tree.append_entries(chunk)  # one commit per batch
        elapsed += time.perf_counter() - began
    rates.batched = _rate(config.batched, elapsed)
    return config.single + config.batched


def measure_pymerkle(config: AuditBenchConfig, size: int, progress: Progress) -> Rates:
    """The same entries through pymerkle's SqliteTree, in a temporary file."""
    from pymerkle import SqliteTree

    rng = random.Random(config.seed)
    rates = Rates(size=size)
    with tempfile.TemporaryDirectory(prefix="tl-bench-pymerkle-") as tmp:
        tree = SqliteTree(str(Path(tmp) / "pymerkle.db"))
        try:
            done = _pymerkle_appends(tree, config, rates, progress)
            began = time.perf_counter()
            for first in range(done, size, FILL_BATCH):
                tree.append_entries([entry(i) for i in range(first, min(first + FILL_BATCH, size))])
                progress("pymerkle fill", min(first + FILL_BATCH, size), size)
            rates.fill = _rate(max(size - done, 0), time.perf_counter() - began)
            n = tree.get_size()
            # pymerkle counts leaves from 1.
            indexes = [rng.randrange(1, n + 1) for _ in range(config.pymerkle_proofs)]
            rates.inclusion = _median_time(lambda i: tree.prove_inclusion(i, n), indexes)
            olds = [rng.randrange(1, n) for _ in range(config.pymerkle_proofs)]
            rates.consistency = _median_time(lambda m: tree.prove_consistency(m, n), olds)
        finally:
            tree.close()
    return rates


def run_audit_bench(urls: list[str], config: AuditBenchConfig, progress: Progress) -> list[AuditBenchResult]:
    """Our log on each database, then pymerkle once at the largest size, shared by every result."""
    results = [measure_ours(url, config, progress) for url in urls]
    missing = pymerkle_missing() if config.pymerkle else "skipped: --no-pymerkle"
    theirs = None if missing else measure_pymerkle(config, max(r.ours.size for r in results), progress)
    for result in results:
        result.pymerkle, result.pymerkle_note = theirs, missing or ""
    return results
