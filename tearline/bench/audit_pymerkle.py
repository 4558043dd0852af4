"""pymerkle's `SqliteTree`, driven the way `tearline bench audit` drives our log (benchmark only).

pymerkle is GPL-3.0: it is never a dependency of tearline, only of the `bench` extra, and it is
imported here only when a benchmark asks for it.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tearline.bench.threads import timed_threads

Entry = Callable[[int], bytes]
FILL_BATCH = 10_000


def pymerkle_missing() -> str | None:
    try:
        import pymerkle  # noqa: F401
    except ImportError:
        return "pymerkle is not installed (it is GPL, so only the bench extra has it): pip install '.[bench]'"
    return None


class PymerkleTree:
    """A `SqliteTree` in a file (its defaults: rollback journal, `synchronous=FULL`), fed our entries."""

    def __init__(self, path: Path, entry: Entry) -> None:
        from pymerkle import SqliteTree

        self.tree: Any = SqliteTree(str(path))
        self.entry = entry
        self.next = 0

    def single(self, count: int) -> float:
        """Seconds for `count` `append_entry` calls: one commit each."""
        entries = [self.entry(self.next + i) for i in range(count)]
        began = time.perf_counter()
        for data in entries:
            self.tree.append_entry(data)
        self.next += count
        return time.perf_counter() - began

    def threaded(self, count: int, threads: int) -> float:
        """Seconds for `count` `append_entry` calls from `threads` threads at once (its tree lock takes turns)."""
        share = max(count // threads, 1)
        entries = [self.entry(self.next + i) for i in range(share * threads)]

        def work(t: int) -> None:
            for data in entries[t * share : (t + 1) * share]:
                self.tree.append_entry(data)

        elapsed = timed_threads(work, threads)
        self.next += len(entries)
        return elapsed

    def batched(self, count: int, batch: int) -> float:
        """Seconds for `count` entries through `append_entries`, `batch` at a time: one commit each."""
        elapsed = 0.0
        for first in range(0, count, batch):
            chunk = [self.entry(self.next + first + i) for i in range(min(batch, count - first))]
            began = time.perf_counter()
            self.tree.append_entries(chunk)
            elapsed += time.perf_counter() - began
        self.next += count
        return elapsed

    def fill(self, size: int, progress: Callable[[str, int, int], None]) -> float:
        """Entries per second, filling to `size` in large batches."""
        start, began = self.next, time.perf_counter()
        while self.next < size:
            count = min(FILL_BATCH, size - self.next)
            self.tree.append_entries([self.entry(self.next + i) for i in range(count)])
            self.next += count
            progress("pymerkle fill", self.next, size)
        elapsed = time.perf_counter() - began
        return (self.next - start) / elapsed if elapsed > 0 else 0.0

    def proofs(self, samples: int, seed: int) -> tuple[float, float]:
        """Median seconds of inclusion and consistency proofs at the current size (leaves count from 1)."""
        rng = random.Random(seed)
        n = self.tree.get_size()
        inclusion = [_timed(self.tree.prove_inclusion, rng.randrange(1, n + 1), n) for _ in range(samples)]
        consistency = [_timed(self.tree.prove_consistency, rng.randrange(1, n), n) for _ in range(samples)]
        return statistics.median(inclusion), statistics.median(consistency)

    def close(self) -> None:
        self.tree.close()


def _timed(call: Callable[..., object], *args: Any) -> float:
    began = time.perf_counter()
    call(*args)
    return time.perf_counter() - began
