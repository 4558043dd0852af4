"""RFC 9162 §2.1 Merkle tree hashing, inclusion and consistency proofs, on plain `hashlib`.

Proof generation reads hashes through a `HashSource`, which only has to answer for *complete*
subtrees: the aligned block of 2**level leaves starting at leaf index * 2**level (level 0 is a
single leaf). Every node of an RFC 9162 tree is either such a block or lies on the right edge of
the tree, and a right-edge node is rebuilt from at most log2(n) complete blocks. A store that keeps
the complete-subtree hashes (as `MemoryTree` does, level by level, like tlog tiles) therefore
answers a root or a proof in O(log n) reads, whatever the tree size.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Protocol

from tearline.audit.errors import ProofError

HASH_SIZE = 32
# RFC 9162 §2.1.1: the hash of an empty list is the hash of an empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right); the prefixes keep leaves and nodes from colliding."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n > 1): where RFC 9162 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) straight from the definition; O(n), for small trees, checks and tests."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = _split(n)
    return node_hash(root_from_leaves(leaf_hashes[:k]), root_from_leaves(leaf_hashes[k:]))


# --- reading hashes from a store ------------------------------------------------------------------


class HashSource(Protocol):
    """Where proof generation reads hashes from (a store, or `MemoryTree`)."""

    def subtree_hash(self, level: int, index: int) -> bytes:
        """MTH of leaves [index * 2**level, (index + 1) * 2**level); level 0 gives leaf hash `index`.

        Only complete blocks are asked for: the caller never requests a block that extends past the
        tree size it is working on.
        """
        ...


def complete_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """The aligned complete blocks, as (level, index), that make up leaves [start, end), largest first.

    `start` must be a multiple of the largest block (true of every RFC 9162 node and of 0), so the
    blocks follow the binary digits of end - start.
    """
    blocks: list[tuple[int, int]] = []
    position, remaining = start, end - start
    for level in range(remaining.bit_length() - 1, -1, -1):
        width = 1 << level
        if remaining & width:
            if position % width:
                raise ValueError(f"range [{start}, {end}) is not a Merkle tree node")
            blocks.append((level, position >> level))
            position += width
    return blocks


def range_hash(source: HashSource, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a node of the tree, folded right to left from its complete blocks."""
    if end <= start:
        raise ValueError("a subtree has at least one leaf")
    blocks = [source.subtree_hash(level, index) for level, index in complete_subtrees(start, end)]
    acc = blocks[-1]
    # The right-edge node splits at its largest block, then recurses on the rest: a right fold.
    for block in reversed(blocks[:-1]):
        acc = node_hash(block, acc)
    return acc


def tree_root(source: HashSource, size: int) -> bytes:
    """The root of the first `size` leaves, from at most log2(size) stored hashes."""
    if size < 0:
        raise ValueError("tree size must not be negative")
    return EMPTY_ROOT if size == 0 else range_hash(source, 0, size)


# --- proof generation (RFC 9162 §2.1.3.1 and §2.1.4.1) --------------------------------------------


def inclusion_proof(source: HashSource, index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]): sibling hashes from the leaf's sibling up to the root's child."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(range_hash(source, start + k, end))
            end = start + k
        else:
            path.append(range_hash(source, start, start + k))
            start += k
    path.reverse()  # collected root-first; the RFC lists it leaf-first
    return path


def consistency_proof(source: HashSource, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(old_size, D[new_size]) = SUBPROOF(m, D[n], true).

    Equal sizes, and an old size of 0, get the empty proof: nothing needs proving in either case
    (see `verify_append_only` for how the empty old tree is then checked).
    """
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    path: list[bytes] = []
    start, end, m, complete = 0, new_size, old_size, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            path.append(range_hash(source, start + k, end))
            end = start + k
        else:
            path.append(range_hash(source, start, start + k))
            start, m, complete = start + k, m - k, False
    if not complete:
        # The old tree's last full subtree is only given when the verifier cannot know it already.
        path.append(range_hash(source, start, end))
    path.reverse()
    return path


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) ------------------------------------------------


def _check_path(proof: Sequence[bytes]) -> None:
    for position, element in enumerate(proof):
        if len(element) != HASH_SIZE:
            raise ProofError(f"proof element {position} is {len(element)} bytes, not {HASH_SIZE}")


def _same(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def _shift_to_set_lsb(fn: int, sn: int) -> tuple[int, int]:
    """Right-shift both until LSB(fn) is set or fn is 0 (the RFC's step after a left sibling)."""
    while fn and not fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Check that `leaf` (a leaf hash) is at `index` in the tree of `size` with `root`.

    Returns True, or raises ProofError saying what did not hold.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    if len(leaf) != HASH_SIZE or len(root) != HASH_SIZE:
        raise ProofError(f"leaf hash and root must be {HASH_SIZE} bytes")
    _check_path(proof)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError(f"inclusion proof is longer than a tree of size {size} allows")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            fn, sn = _shift_to_set_lsb(fn, sn)
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"inclusion proof is shorter than a tree of size {size} needs")
    if not _same(r, root):
        raise ProofError(f"inclusion proof for leaf {index} does not lead to the root of size {size}")
    return True


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """Check that the tree of `old_size` with `old_root` is a prefix of the one of `new_size`.

    The old size must be positive: a proof "from the empty tree" proves nothing and is refused, as
    transparency-dev does. `verify_append_only` handles the empty old tree as its own case.
    Returns True, or raises ProofError.
    """
    if old_size < 0 or new_size < old_size:
        raise ProofError(f"new size {new_size} is smaller than old size {old_size}")
    if old_size == 0:
        raise ProofError("a consistency proof needs an old tree size greater than 0")
    _check_path(proof)
    if old_size == new_size:
        if proof:
            raise ProofError("sizes are equal, so the consistency proof must be empty")
        # No length check on the roots here: with equal sizes the claim is only that they match
        # (transparency-dev's vectors accept any equal byte strings in this case).
        if not _same(old_root, new_root):
            raise ProofError("sizes are equal but the roots differ")
        return True
    if not proof:
        raise ProofError("the consistency proof is empty")
    return _verify_consistency_path(old_size, new_size, old_root, new_root, proof)


def _verify_consistency_path(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2 steps 2 to 7, for 0 < old_size < new_size and a non-empty proof."""
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        # The old tree is a complete subtree of the new one, so the proof leaves its root out.
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"consistency proof is longer than sizes {old_size} and {new_size} allow")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            fn, sn = _shift_to_set_lsb(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"consistency proof is shorter than sizes {old_size} and {new_size} need")
    if not _same(fr, old_root):
        raise ProofError(f"consistency proof does not lead to the old root (size {old_size})")
    if not _same(sr, new_root):
        raise ProofError(f"consistency proof does not lead to the new root (size {new_size})")
    return True


def verify_append_only(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """Check that the new tree extends the old one, the empty old tree included.

    This is where the two vector sets are reconciled. transparency-dev refuses every consistency
    proof from size 0 (`verify_consistency` follows it); CCTV accepts an empty proof from the empty
    tree. Every tree extends the empty tree, so from size 0 the only things to check are that the
    old root really is the empty root and that the proof is empty; for new size 0 the new root must
    be the empty root too. A checkpoint verifier (a witness seeing a log's first checkpoint) calls
    this; CCTV's vectors run through it and transparency-dev's through `verify_consistency`.
    """
    if old_size != 0:
        return verify_consistency(old_size, new_size, old_root, new_root, proof)
    if new_size < 0:
        raise ProofError("tree size must not be negative")
    if not _same(old_root, EMPTY_ROOT):
        raise ProofError("old size is 0 but the old root is not the empty-tree root")
    if proof:
        raise ProofError("the consistency proof from the empty tree must be empty")
    if new_size == 0 and not _same(new_root, EMPTY_ROOT):
        raise ProofError("new size is 0 but the new root is not the empty-tree root")
    if len(new_root) != HASH_SIZE:
        raise ProofError(f"new root must be {HASH_SIZE} bytes")
    return True


# --- an in-memory tree ----------------------------------------------------------------------------


class MemoryTree:
    """An append-only tree that keeps the hash of every complete aligned block, level by level.

    `_levels[k][j]` is the hash of leaves [j * 2**k, (j + 1) * 2**k). Blocks never change once
    complete, so the same store answers roots and proofs for every past size too.
    """

    def __init__(self) -> None:
        self._levels: list[list[bytes]] = [[]]

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def append(self, data: bytes) -> int:
        """Add one entry; returns its leaf index."""
        return self.append_leaf_hash(leaf_hash(data))

    def append_leaf_hash(self, hashed: bytes) -> int:
        """Add one leaf by its hash; returns its index. Completes O(1) blocks on average."""
        if len(hashed) != HASH_SIZE:
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes")
        index = self.size
        self._levels[0].append(hashed)
        level, position = 0, index
        # A right child (odd position) completes its parent; carry up like binary addition.
        while position & 1:
            parent = node_hash(self._levels[level][position - 1], self._levels[level][position])
            level, position = level + 1, position >> 1
            if level == len(self._levels):
                self._levels.append([])
            self._levels[level].append(parent)
        return index

    def subtree_hash(self, level: int, index: int) -> bytes:
        if level < 0 or level >= len(self._levels) or not 0 <= index < len(self._levels[level]):
            raise IndexError(f"no complete subtree at level {level}, index {index}")
        return self._levels[level][index]

    def _size_or_current(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise ValueError(f"size {size} is outside 0..{self.size}")
        return size

    def root(self, size: int | None = None) -> bytes:
        """The root at `size` (default: now), from O(log n) stored hashes."""
        return tree_root(self, self._size_or_current(size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(self, index, self._size_or_current(size))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        return consistency_proof(self, old_size, self._size_or_current(new_size))
