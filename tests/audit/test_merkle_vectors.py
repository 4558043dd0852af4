"""Known-answer vectors for RFC 9162 hashing and proofs: transparency-dev/merkle and C2SP CCTV.

The data is a verbatim copy kept in tests/data/merkle (see its README for provenance). Every file
and every entry is run, the wantErr cases included.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tearline.audit import (
    MemoryTree,
    ProofError,
    verify_append_only,
    verify_consistency,
    verify_inclusion,
)

DATA = Path(__file__).parent.parent / "data" / "merkle"
TDEV = DATA / "transparency-dev"
CCTV = DATA / "c2sp-cctv"

# The leaves behind transparency-dev's happy paths: the RFC 6962 reference test leaves.
TDEV_LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")
]


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def hashes(items: list[str] | None) -> list[bytes]:
    return [b64(item) for item in items or []]


def vector_files(kind: str) -> list[Path]:
    files = sorted((TDEV / kind).rglob("*.json"))
    assert files, f"no {kind} vectors found under {TDEV}"
    return files


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def tdev_id(path: Path) -> str:
    return str(path.relative_to(TDEV))


def cctv(name: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = load(CCTV / f"{name}.json")
    assert entries
    return entries


def tdev_tree() -> MemoryTree:
    tree = MemoryTree()
    for leaf in TDEV_LEAVES:
        tree.append(leaf)
    return tree


# --- transparency-dev ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", vector_files("inclusion"), ids=tdev_id)
def test_transparency_dev_inclusion(path: Path) -> None:
    v = load(path)
    args = (b64(v["leafHash"]), v["leafIdx"], v["treeSize"], hashes(v["proof"]), b64(v["root"]))
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        assert verify_inclusion(*args) is True


@pytest.mark.parametrize("path", vector_files("consistency"), ids=tdev_id)
def test_transparency_dev_consistency(path: Path) -> None:
    # Through the strict verifier: transparency-dev refuses every proof from size 0.
    v = load(path)
    args = (v["size1"], v["size2"], b64(v["root1"]), b64(v["root2"]), hashes(v["proof"]))
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        assert verify_consistency(*args) is True


def test_transparency_dev_roots_come_from_the_reference_leaves() -> None:
    tree = tdev_tree()
    happy = [load(p) for p in vector_files("inclusion") if p.name == "happy-path.json"]
    for v in happy:
        assert tree.root(v["treeSize"]) == b64(v["root"])
        assert tree.subtree_hash(0, v["leafIdx"]) == b64(v["leafHash"])


@pytest.mark.parametrize("path", [p for p in vector_files("inclusion") if p.name == "happy-path.json"], ids=tdev_id)
def test_generated_inclusion_proof_equals_transparency_dev(path: Path) -> None:
    v = load(path)
    assert tdev_tree().inclusion_proof(v["leafIdx"], v["treeSize"]) == hashes(v["proof"])


@pytest.mark.parametrize("path", [p for p in vector_files("consistency") if p.name == "happy-path.json"], ids=tdev_id)
def test_generated_consistency_proof_equals_transparency_dev(path: Path) -> None:
    v = load(path)
    tree = tdev_tree()
    assert tree.root(v["size1"]) == b64(v["root1"])
    assert tree.root(v["size2"]) == b64(v["root2"])
    assert tree.consistency_proof(v["size1"], v["size2"]) == hashes(v["proof"])


# --- C2SP CCTV -------------------------------------------------------------------------------------


def cctv_tree() -> MemoryTree:
    tree = MemoryTree()
    for entry in cctv("merkle_tree"):
        tree.append(entry["leaf_data"].encode())
    return tree


def test_cctv_merkle_tree_leaf_and_root_hashes() -> None:
    tree = MemoryTree()
    for entry in cctv("merkle_tree"):
        index = tree.append(entry["leaf_data"].encode())
        assert tree.subtree_hash(0, index) == b64(entry["leaf_hash"])
        assert tree.root() == b64(entry["root_hash"])


def _cctv_inclusion(v: dict[str, Any]) -> bool:
    return verify_inclusion(
        b64(v["leaf_hash"]), v["leaf_index"], v["tree_size"], hashes(v["inclusion_path"]), b64(v["root_hash"])
    )


def _cctv_consistency(v: dict[str, Any]) -> bool:
    # Through verify_append_only, which treats the empty old tree separately (see its docstring):
    # CCTV's valid proofs from size 0 hold there, while verify_consistency refuses size 0.
    return verify_append_only(
        v["old_size"], v["new_size"], b64(v["old_root"]), b64(v["new_root"]), hashes(v["consistency_path"])
    )


@pytest.mark.parametrize("v", cctv("inclusion-valid"), ids=lambda v: f"{v['leaf_index']}-of-{v['tree_size']}")
def test_cctv_valid_inclusion(v: dict[str, Any]) -> None:
    assert _cctv_inclusion(v) is True
    assert cctv_tree().inclusion_proof(v["leaf_index"], v["tree_size"]) == hashes(v["inclusion_path"])


@pytest.mark.parametrize("v", cctv("inclusion-invalid"), ids=lambda v: v["comment"])
def test_cctv_invalid_inclusion(v: dict[str, Any]) -> None:
    with pytest.raises(ProofError):
        _cctv_inclusion(v)


@pytest.mark.parametrize("v", cctv("consistency-valid"), ids=lambda v: f"{v['old_size']}-to-{v['new_size']}")
def test_cctv_valid_consistency(v: dict[str, Any]) -> None:
    assert _cctv_consistency(v) is True
    assert cctv_tree().consistency_proof(v["old_size"], v["new_size"]) == hashes(v["consistency_path"])


@pytest.mark.parametrize("v", cctv("consistency-invalid"), ids=lambda v: f"{v['old_size']}-to-{v['new_size']}")
def test_cctv_invalid_consistency(v: dict[str, Any]) -> None:
    with pytest.raises(ProofError):
        _cctv_consistency(v)


def test_the_two_sets_disagree_only_on_size_zero() -> None:
    """The documented disagreement: CCTV's 0 -> n proofs are refused by the strict verifier."""
    from_empty = [v for v in cctv("consistency-valid") if v["old_size"] == 0]
    assert from_empty
    for v in from_empty:
        with pytest.raises(ProofError, match="greater than 0"):
            verify_consistency(
                v["old_size"], v["new_size"], b64(v["old_root"]), b64(v["new_root"]), hashes(v["consistency_path"])
            )
    for v in cctv("consistency-valid"):
        if v["old_size"] > 0:
            assert verify_consistency(
                v["old_size"], v["new_size"], b64(v["old_root"]), b64(v["new_root"]), hashes(v["consistency_path"])
            )
