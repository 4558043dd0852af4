"""`tearline bench audit`: the audit log's appends and proofs, against pymerkle's SqliteTree.

Measured on a throw-away node per database (SQLite file, or a fresh PostgreSQL database):

- appends per second with durable commits: one entry per commit (one writer, and several writers
  at once), batches of entries per commit, and group commit (`Node.audit_group`): many caller
  threads, each appending one entry at a time as a read does, each answered only after the
  durable commit that holds its entry; SQLite runs with `synchronous=FULL`, PostgreSQL with its
  defaults (`fsync` and `synchronous_commit` on);
- the log is then filled to N entries with large batches, and inclusion and consistency proofs
  at size N are timed one by one inside an open read transaction (the log's own work), and
  again each in a read transaction of its own (what an API request adds: on PostgreSQL, a
  pool pre-ping, BEGIN and ROLLBACK round trips);
- every timed proof is checked against the root.

pymerkle's `SqliteTree` (optional, GPL, benchmark only: `pip install '.[bench]'`) gets the same
entries in the same run: `append_entry` commits each entry, `append_entries` a batch, and
`append_entry` is also called from as many threads as our group commit has callers (its tree lock
serialises them). Appends are measured in alternating rounds, ours then pymerkle's, so that both
see the same load on a shared machine; each database's ratios compare it with the pymerkle
rounds run beside it.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tearline.audit import leaf_hash, log, verify_consistency, verify_inclusion
from tearline.audit.event import AuditEvent
from tearline.bench.audit_pymerkle import PymerkleTree, pymerkle_missing
from tearline.bench.databases import bench_target, describe
from tearline.bench.threads import timed_threads
from tearline.node import Node, init_node

Progress = Callable[[str, int, int], None]
FILL_BATCH = 10_000
ROUNDS = 4


@dataclass(frozen=True)
class AuditBenchConfig:
    entries: int = 1_000_000
    single: int = 2_000
    batched: int = 50_000
    batch: int = 100
    writers: int = 4
    grouped: int = 20_000
    callers: int = 64
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
    group: float = 0.0
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


def event(i: int) -> AuditEvent:
    """A realistic event (~300 bytes encoded): who read which report under which marking."""
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
    )


def entry(i: int) -> bytes:
    """pymerkle's entry `i`: the canonical bytes of our event `i`, made outside its timing."""
    return event(i).canonical()


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


class _Ours:
    """Our log on one node, appending the bench entries in order."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.next = 0

    def _serials(self, count: int) -> range:
        """The serials of the next `count` events. Each event is made (and so encoded) inside the
        timing, as a node makes one per action, where pymerkle is handed its entries' bytes."""
        serials = range(self.next, self.next + count)
        self.next += count
        return serials

    def single(self, count: int) -> float:
        serials = self._serials(count)
        began = time.perf_counter()
        for i in serials:
            with self.node.db.write() as session:
                log.record(session, event(i), self.node.config.name)
        return time.perf_counter() - began

    def concurrent(self, count: int, writers: int) -> float:
        share = count // writers
        serials = self._serials(share * writers)

        def work(w: int) -> None:
            for i in serials[w * share : (w + 1) * share]:
                with self.node.db.write() as session:
                    log.record(session, event(i), self.node.config.name)

        return _rate(share * writers, timed_threads(work, writers))

    def group(self, count: int, callers: int) -> float:
        """Seconds for `count` entries from `callers` threads, each waiting for its entry's durable commit."""
        share = max(count // callers, 1)
        serials = self._serials(share * callers)
        indexes: list[list[int]] = [[] for _ in range(callers)]

        def caller(c: int) -> None:
            for i in serials[c * share : (c + 1) * share]:
                indexes[c].append(self.node.audit_group.append(event(i)))

        elapsed = timed_threads(caller, callers)
        every = sorted(i for mine in indexes for i in mine)
        if every != list(range(every[0], every[0] + len(serials))):
            raise AssertionError("group commit answered an index twice, or left a hole")
        return elapsed

    def batched(self, count: int, batch: int, progress: Progress | None = None) -> float:
        elapsed, done = 0.0, 0
        while done < count:
            serials = self._serials(min(batch, count - done))
            began = time.perf_counter()
            with self.node.db.write() as session:
                log.record_many(session, [event(i) for i in serials], self.node.config.name)
            elapsed += time.perf_counter() - began
            done += len(serials)
            if progress is not None and (done % (batch * 50) == 0 or done == count):
                progress("fill", done, count)
        return elapsed


def _alternate(
    rounds: int, total: int, ours: Callable[[int], float], theirs: Callable[[int], float] | None
) -> tuple[float, float]:
    """Rates (entries/s) of ours and theirs over `total` entries each, in alternating rounds."""
    share = max(total // rounds, 1)
    mine = other = 0.0
    for _ in range(rounds):
        mine += ours(share)
        other += theirs(share) if theirs is not None else 0.0
    return _rate(share * rounds, mine), _rate(share * rounds, other)


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


def measure(url: str, config: AuditBenchConfig, progress: Progress, pymerkle: PymerkleTree | None) -> AuditBenchResult:
    """Our log on one database, with pymerkle's append rounds interleaved when it is given."""
    with bench_target(url) as target:
        node = init_node(target.data_dir, "USA", "US-DEMO-NARC", target.database_url)
        try:
            ours, theirs, rates = _Ours(node), Rates(), Rates()
            rates.single, theirs.single = _alternate(
                ROUNDS, config.single, ours.single, pymerkle.single if pymerkle else None
            )
            progress("one entry per commit", config.single, config.single)
            if config.writers > 1:
                rates.concurrent = ours.concurrent(config.single, config.writers)
            rates.batched, theirs.batched = _alternate(
                ROUNDS,
                config.batched,
                lambda n: ours.batched(n, config.batch),
                (lambda n: pymerkle.batched(n, config.batch)) if pymerkle else None,
            )
            progress("batched", config.batched, config.batched)
            # Whole rounds of whole shares, so that every caller appends as many entries.
            grouped = max(config.grouped // (ROUNDS * config.callers), 1) * ROUNDS * config.callers
            rates.group, theirs.group = _alternate(
                ROUNDS,
                grouped,
                lambda n: ours.group(n, config.callers),
                (lambda n: pymerkle.threaded(n, config.callers)) if pymerkle else None,
            )
            progress("group commit", grouped, grouped)
            rest = max(config.entries - ours.next, 0)
            rates.fill = _rate(rest, ours.batched(rest, FILL_BATCH, progress)) if rest else 0.0
            rates.size = ours.next
            checked = _proof_figures(node, rates, config)
        finally:
            node.close()
    return AuditBenchResult(target.label, describe(url), rates, theirs if pymerkle else None, checked=checked)


def _proof_figures(node: Node, rates: Rates, config: AuditBenchConfig) -> int:
    rng = random.Random(config.seed)
    medians = _proofs(node, rates.size, config.proofs, rng)
    rates.inclusion, rates.consistency = medians["inclusion"], medians["consistency"]
    rates.inclusion_tx, rates.consistency_tx = medians["inclusion_tx"], medians["consistency_tx"]
    return _check_proofs(node, rates.size, config.proofs, random.Random(config.seed))


def run_audit_bench(urls: list[str], config: AuditBenchConfig, progress: Progress) -> list[AuditBenchResult]:
    """Each database with pymerkle's appends beside it, then pymerkle's proofs at the largest size."""
    missing = pymerkle_missing() if config.pymerkle else "skipped: --no-pymerkle"
    with tempfile.TemporaryDirectory(prefix="tl-bench-pymerkle-") as tmp:
        pymerkle = None if missing else PymerkleTree(Path(tmp) / "pymerkle.db", entry)
        try:
            results = [measure(url, config, progress, pymerkle) for url in urls]
            if pymerkle is not None:
                size = max(r.ours.size for r in results)
                fill = pymerkle.fill(size, progress)
                inclusion, consistency = pymerkle.proofs(config.pymerkle_proofs, config.seed)
                for result in results:
                    assert result.pymerkle is not None
                    result.pymerkle.size, result.pymerkle.fill = size, fill
                    result.pymerkle.inclusion, result.pymerkle.consistency = inclusion, consistency
        finally:
            if pymerkle is not None:
                pymerkle.close()
    for result in results:
        result.pymerkle_note = missing or ""
    return results
