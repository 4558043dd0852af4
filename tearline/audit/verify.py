"""End-to-end check of a log: entry bytes -> leaf hashes -> subtree hashes -> roots -> signed checkpoints.

Nothing stored is trusted but the signatures: every hash is recomputed from the entries' bytes and
compared with what the store holds (when the store's hashes are available) and with the root of
every signed checkpoint. The first disagreement names the entry, or the smallest range of entries,
that does not match.

An auditor checking a node over its API is not given the bytes of entries about what that auditor
may not see (DESIGN §3.3: the auditor role grants the reading, not the sight). For those entries
the node's leaf hash goes into the tree as given: the signed roots still hold it to the log,
though not to bytes this auditor never sees; how many they were is in the report.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from tearline.audit.checkpoint import Checkpoint
from tearline.audit.merkle import leaf_hash
from tearline.audit.store import Frontier, StoredLeaf
from tearline.errors import TearlineError

NodeReader = Callable[[int, int], dict[tuple[int, int], bytes]]

# Why a node withheld an entry's bytes from an auditor (`withheld` in GET /api/audit/leaves).
WITHHELD_HIDDEN = "hidden"  # the entry is about something the auditor may not see, or its banner is
WITHHELD_NOT_CANONICAL = "not-canonical"  # the bytes are no audit event, so what they are about is unknown


@dataclass(frozen=True)
class WithheldLeaf:
    """An entry whose bytes were withheld from the verifier: its index, its leaf hash, and why."""

    index: int
    hash: bytes
    why: str | None


class LogTampered(TearlineError):
    """The log's entries do not give the hashes stored or signed; `index` is the first bad entry, if one is."""

    status = 409
    code = "audit_log_tampered"

    def __init__(self, message: str, index: int | None, last: int | None = None) -> None:
        # `index` is None when no entry is to blame (a checkpoint's signature, say).
        where = f"entry {index}" if last is None or last == index else f"entries {index}..{last}"
        super().__init__(f"audit log check failed at {where}: {message}" if index is not None else message)
        self.index = index
        self.last = index if last is None else last


@dataclass(frozen=True)
class VerifyReport:
    """What was checked: entries, the signed checkpoints matched, and the root recomputed."""

    size: int
    root: bytes
    checkpoints: int
    signed_size: int
    search_rows: bool = False  # the search columns and rows were checked too (only with the store)
    withheld: int = 0  # entries whose bytes the verifier was not given: their leaf hashes taken as given

    def summary(self) -> str:
        root = base64.b64encode(self.root).decode()
        unsigned = self.size - self.signed_size
        tail = f"; {unsigned} newer entries are not yet in a signed checkpoint" if unsigned else ""
        searched = "; the search columns and rows match the entries" if self.search_rows else ""
        withheld = (
            f" ({self.withheld} of them from their leaf hashes alone: their bytes are withheld from this auditor)"
            if self.withheld
            else ""
        )
        return (
            f"ok: {self.size} entries recomputed{withheld}, root {root}, "
            f"{self.checkpoints} signed checkpoint(s) match (latest at size {self.signed_size}){tail}{searched}"
        )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _compare_node(level: int, position: int, hashed: bytes, stored: dict[tuple[int, int], bytes]) -> None:
    if stored.get((level, position)) != hashed:
        first, last = position << level, ((position + 1) << level) - 1
        what = "is missing" if (level, position) not in stored else "differs from the one recomputed"
        raise LogTampered(f"the stored hash of the subtree over them (level {level}) {what}", first, last)


class _Checker:
    """Streams entries in index order, keeping only the frontier (O(log n) memory)."""

    def __init__(self, checkpoints: Sequence[Checkpoint], nodes: NodeReader | None) -> None:
        self.frontier = Frontier(0)
        self.pending = sorted(checkpoints, key=lambda c: c.size)
        self.matched = 0
        self.signed_size = 0
        self.withheld = 0
        self.nodes = nodes
        self._check_signed()  # a checkpoint of the empty tree is checked before any entry

    def feed(self, batch: Sequence[StoredLeaf | WithheldLeaf]) -> None:
        start = self.frontier.size
        stored = self.nodes(start, start + len(batch)) if self.nodes is not None and batch else None
        computed: set[tuple[int, int]] = set()
        for leaf in batch:
            index = self.frontier.size
            if leaf.index != index:
                raise LogTampered(f"entry {index} is missing (the next stored entry is {leaf.index})", index)
            hashed = self._leaf_hash(leaf)
            # Stored subtrees are checked as soon as they complete, smallest first, and before the
            # signed roots: the smallest subtree that disagrees names the narrowest range of entries.
            for level, position, node in self.frontier.push(hashed):
                computed.add((level, position))
                if stored is not None:
                    _compare_node(level, position, node, stored)
            self._check_signed()
        extra = sorted(set(stored or ()) - computed)
        if extra:
            level, position = extra[0]
            raise LogTampered(f"a stored subtree hash (level {level}) has no entries behind it", position << level)

    def _leaf_hash(self, leaf: StoredLeaf | WithheldLeaf) -> bytes:
        if isinstance(leaf, WithheldLeaf):
            if leaf.why == WITHHELD_NOT_CANONICAL:
                raise LogTampered("its bytes are not an audit event (so the node withholds them)", leaf.index)
            self.withheld += 1
            return leaf.hash  # the signed roots vouch for it; the bytes behind it are not ours to see
        hashed = leaf_hash(leaf.data)
        if hashed != leaf.hash:
            raise LogTampered(
                f"its bytes hash to {_b64(hashed)} but the stored leaf hash is {_b64(leaf.hash)}", leaf.index
            )
        return hashed

    def _check_signed(self) -> None:
        while self.pending and self.pending[0].size == self.frontier.size:
            checkpoint = self.pending.pop(0)
            root = self.frontier.root()
            if root != checkpoint.root_hash:
                first = self.signed_size
                raise LogTampered(
                    f"the entries give root {_b64(root)} at size {checkpoint.size} but the signed checkpoint "
                    f"says {_b64(checkpoint.root_hash)}: an entry from {first} to {checkpoint.size - 1} was rewritten",
                    first,
                    checkpoint.size - 1,
                )
            self.matched += 1
            self.signed_size = checkpoint.size

    def finish(self, size: int, head: Frontier | None) -> VerifyReport:
        if self.frontier.size != size:
            raise LogTampered(f"entry {self.frontier.size} is missing (the log has {size})", self.frontier.size)
        if self.pending:
            missing = self.pending[0].size
            raise LogTampered(
                f"the log holds {size} entries but a signed checkpoint covers {missing}: entries were removed",
                size,
                missing - 1,
            )
        if head is not None and head.blob() != self.frontier.blob():
            raise LogTampered("the log head's frontier hashes differ from those recomputed", max(size - 1, 0))
        return VerifyReport(size, self.frontier.root(), self.matched, self.signed_size, withheld=self.withheld)


def verify_entries(
    batches: Iterable[Sequence[StoredLeaf | WithheldLeaf]],
    size: int,
    checkpoints: Sequence[Checkpoint],
    nodes: NodeReader | None = None,
    head: Frontier | None = None,
) -> VerifyReport:
    """Recompute a log of `size` entries from its batches (in order) and check it against the checkpoints.

    `checkpoints` must already be signature-verified; `nodes(start, end)` returns the stored subtree
    hashes completed by entries [start, end) and `head` is the stored frontier, when the caller has the
    store itself. A `WithheldLeaf` counts by its hash alone (see the module docstring). Raises
    LogTampered naming the first bad entry.
    """
    checker = _Checker(checkpoints, nodes)
    for batch in batches:
        checker.feed(batch)
    return checker.finish(size, head)
