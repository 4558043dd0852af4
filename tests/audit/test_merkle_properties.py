"""Properties of tree hashing and proofs over every tree of 1..300 leaves.

Generated proofs are checked three ways: they match the RFC 9162 definitions computed naively,
they verify, and any single flipped bit (in a proof hash, a root or the leaf hash) breaks them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tearline.audit import (
    EMPTY_ROOT,
    MemoryTree,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaves,
    tree_root,
    verify_append_only,
    verify_consistency,
    verify_inclusion,
)
from tearline.audit.merkle import complete_subtrees

MAX = 300
LEAVES = [leaf_hash(f"entry {i}".encode()) for i in range(MAX)]


def build(leaves: Sequence[bytes]) -> MemoryTree:
    tree = MemoryTree()
    for hashed in leaves:
        tree.append_leaf_hash(hashed)
    return tree


TREE = build(LEAVES)


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


# --- the RFC 9162 definitions, written as literally as possible -----------------------------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), root_from_leaves(d[k:])]
    return [*ref_path(m - k, d[k:]), root_from_leaves(d[:k])]


def ref_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [root_from_leaves(d)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), root_from_leaves(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), root_from_leaves(d[:k])]


# --- hashing --------------------------------------------------------------------------------------


def test_hash_prefixes() -> None:
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"l", b"r") == hashlib.sha256(b"\x01lr").digest()
    assert root_from_leaves([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


def test_incremental_roots_match_the_definition_at_every_size() -> None:
    for n in range(MAX + 1):
        assert TREE.root(n) == root_from_leaves(LEAVES[:n]), n


def test_complete_subtrees_follow_the_binary_digits_of_the_size() -> None:
    assert complete_subtrees(0, 13) == [(3, 0), (2, 2), (0, 12)]
    assert complete_subtrees(8, 13) == [(2, 2), (0, 12)]
    assert complete_subtrees(0, 0) == []
    with pytest.raises(ValueError, match="not a Merkle tree node"):
        complete_subtrees(3, 7)


def test_stored_blocks_are_the_roots_of_their_leaves() -> None:
    for level in range(MAX.bit_length()):
        width = 1 << level
        for index in range(MAX // width):
            assert TREE.subtree_hash(level, index) == root_from_leaves(LEAVES[index * width : (index + 1) * width])
    with pytest.raises(IndexError):
        TREE.subtree_hash(9, 0)  # 512 leaves: not complete yet


# --- generation matches the definitions -----------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 65))
def test_generated_proofs_match_the_rfc_definitions(n: int) -> None:
    d = LEAVES[:n]
    for m in range(n):
        assert TREE.inclusion_proof(m, n) == ref_path(m, d)
    for m in range(1, n):
        assert TREE.consistency_proof(m, n) == ref_subproof(m, d, True)
    assert TREE.consistency_proof(n, n) == []


# --- every proof verifies -------------------------------------------------------------------------


def test_every_inclusion_proof_verifies() -> None:
    for n in range(1, MAX + 1):
        root = TREE.root(n)
        for i in range(n):
            assert verify_inclusion(LEAVES[i], i, n, TREE.inclusion_proof(i, n), root)


def test_every_consistency_proof_verifies() -> None:
    roots = [TREE.root(n) for n in range(MAX + 1)]
    for n in range(1, MAX + 1):
        assert verify_append_only(0, n, EMPTY_ROOT, roots[n], TREE.consistency_proof(0, n))
        for m in range(1, n + 1):
            assert verify_consistency(m, n, roots[m], roots[n], TREE.consistency_proof(m, n))


# --- and any single flipped bit breaks it ---------------------------------------------------------


@st.composite
def inclusion_case(draw: st.DrawFn) -> tuple[int, int, str, int, int]:
    n = draw(st.integers(1, MAX))
    i = draw(st.integers(0, n - 1))
    proof_len = len(TREE.inclusion_proof(i, n))
    targets = ["leaf", "root"] + (["proof"] if proof_len else [])
    target = draw(st.sampled_from(targets))
    element = draw(st.integers(0, proof_len - 1)) if target == "proof" else 0
    return n, i, target, element, draw(st.integers(0, 255))


@settings(max_examples=400, deadline=None)
@given(inclusion_case())
def test_a_flipped_bit_breaks_an_inclusion_proof(case: tuple[int, int, str, int, int]) -> None:
    n, i, target, element, bit = case
    leaf, root, proof = LEAVES[i], TREE.root(n), TREE.inclusion_proof(i, n)
    if target == "leaf":
        leaf = flip(leaf, bit)
    elif target == "root":
        root = flip(root, bit)
    else:
        proof[element] = flip(proof[element], bit)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, i, n, proof, root)


@st.composite
def consistency_case(draw: st.DrawFn) -> tuple[int, int, str, int, int]:
    n = draw(st.integers(1, MAX))
    m = draw(st.integers(1, n))
    proof_len = len(TREE.consistency_proof(m, n))
    targets = ["old", "new"] + (["proof"] if proof_len else [])
    target = draw(st.sampled_from(targets))
    element = draw(st.integers(0, proof_len - 1)) if target == "proof" else 0
    return m, n, target, element, draw(st.integers(0, 255))


@settings(max_examples=400, deadline=None)
@given(consistency_case())
def test_a_flipped_bit_breaks_a_consistency_proof(case: tuple[int, int, str, int, int]) -> None:
    m, n, target, element, bit = case
    old, new, proof = TREE.root(m), TREE.root(n), TREE.consistency_proof(m, n)
    if target == "old":
        old = flip(old, bit)
    elif target == "new":
        new = flip(new, bit)
    else:
        proof[element] = flip(proof[element], bit)
    with pytest.raises(ProofError):
        verify_consistency(m, n, old, new, proof)


@pytest.mark.parametrize(("i", "n"), [(0, 1), (0, 2), (6, 7), (5, 8), (12, 13), (100, 257), (299, 300)])
def test_every_bit_of_an_inclusion_proof_matters(i: int, n: int) -> None:
    root, proof = TREE.root(n), TREE.inclusion_proof(i, n)
    for bit in range(256):
        for bad_leaf, bad_root in ((flip(LEAVES[i], bit), root), (LEAVES[i], flip(root, bit))):
            with pytest.raises(ProofError):
                verify_inclusion(bad_leaf, i, n, proof, bad_root)
        for element in range(len(proof)):
            bad = [*proof[:element], flip(proof[element], bit), *proof[element + 1 :]]
            with pytest.raises(ProofError):
                verify_inclusion(LEAVES[i], i, n, bad, root)


@pytest.mark.parametrize(("m", "n"), [(1, 1), (1, 2), (3, 7), (4, 8), (6, 13), (128, 257), (299, 300)])
def test_every_bit_of_a_consistency_proof_matters(m: int, n: int) -> None:
    old, new, proof = TREE.root(m), TREE.root(n), TREE.consistency_proof(m, n)
    for bit in range(256):
        for bad_old, bad_new in ((flip(old, bit), new), (old, flip(new, bit))):
            with pytest.raises(ProofError):
                verify_consistency(m, n, bad_old, bad_new, proof)
        for element in range(len(proof)):
            bad = [*proof[:element], flip(proof[element], bit), *proof[element + 1 :]]
            with pytest.raises(ProofError):
                verify_consistency(m, n, old, new, bad)


def test_wrong_index_size_or_proof_length_fail() -> None:
    n, i = 13, 6
    proof, root = TREE.inclusion_proof(i, n), TREE.root(n)
    with pytest.raises(ProofError, match="outside"):
        verify_inclusion(LEAVES[i], n, n, proof, root)
    with pytest.raises(ProofError, match="shorter"):
        verify_inclusion(LEAVES[i], i, n, proof[:-1], root)
    with pytest.raises(ProofError, match="longer"):
        verify_inclusion(LEAVES[i], i, n, [*proof, proof[0]], root)
    with pytest.raises(ProofError):
        verify_inclusion(LEAVES[i], i + 1, n, proof, root)
    with pytest.raises(ProofError, match="bytes"):
        verify_inclusion(LEAVES[i], i, n, [*proof[:-1], b"short"], root)


def test_append_only_from_the_empty_tree() -> None:
    assert verify_append_only(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_append_only(0, 5, EMPTY_ROOT, TREE.root(5), [])
    with pytest.raises(ProofError, match="empty-tree root"):
        verify_append_only(0, 5, TREE.root(1), TREE.root(5), [])
    with pytest.raises(ProofError, match="must be empty"):
        verify_append_only(0, 5, EMPTY_ROOT, TREE.root(5), [TREE.root(1)])
    with pytest.raises(ProofError, match="new root"):
        verify_append_only(0, 0, EMPTY_ROOT, TREE.root(1), [])
    assert verify_append_only(3, 7, TREE.root(3), TREE.root(7), TREE.consistency_proof(3, 7))


def test_generation_refuses_impossible_requests() -> None:
    with pytest.raises(ValueError):
        TREE.inclusion_proof(5, 5)
    with pytest.raises(ValueError):
        TREE.consistency_proof(6, 5)
    with pytest.raises(ValueError):
        TREE.root(MAX + 1)
    with pytest.raises(ValueError):
        MemoryTree().append_leaf_hash(b"not a hash")


# --- cost: O(log n) reads from the store ----------------------------------------------------------


class CountingSource:
    def __init__(self, tree: MemoryTree) -> None:
        self.tree, self.reads = tree, 0

    def subtree_hash(self, level: int, index: int) -> bytes:
        self.reads += 1
        return self.tree.subtree_hash(level, index)


BIG = build([leaf_hash(i.to_bytes(4, "big")) for i in range(5000)])


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1), st.integers(1, n))))
def test_roots_and_proofs_read_logarithmically_many_hashes(case: tuple[int, int, int]) -> None:
    n, i, m = case
    bound = 2 * n.bit_length() + 1
    for read in (
        lambda s: tree_root(s, n),
        lambda s: inclusion_proof(s, i, n),
        lambda s: consistency_proof(s, m, n),
    ):
        source = CountingSource(BIG)
        read(source)
        assert source.reads <= bound
