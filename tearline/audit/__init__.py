"""The transparency audit log: RFC 9162 Merkle tree, C2SP signed notes, checkpoints and proofs.

This package's core is pure and storage-independent; a store plugs in through `HashSource`.
The node's log in its database is `tearline.audit.log` (with `store`, `verify`, `search`,
`witness` and `remote`): import those by name, since they need the database layer.
"""

from tearline.audit.checkpoint import (
    Checkpoint,
    cosign_checkpoint,
    open_checkpoint,
    sign_checkpoint,
    verify_cosignature,
)
from tearline.audit.errors import NoteError, ProofError
from tearline.audit.keys import (
    COSIGNATURE_V1,
    ED25519,
    CosignatureSigner,
    CosignatureVerifier,
    Ed25519Signer,
    Ed25519Verifier,
    Signer,
    Verifier,
    compute_key_id,
    cosignature_timestamp,
    generate_key,
    parse_signer_key,
    parse_verifier_key,
)
from tearline.audit.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    HashSource,
    MemoryTree,
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
from tearline.audit.note import NoteSignature, VerifiedNote, add_signatures, parse_note, sign_note, verify_note
from tearline.audit.tlog_proof import TlogProof

__all__ = [
    "COSIGNATURE_V1",
    "ED25519",
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Checkpoint",
    "CosignatureSigner",
    "CosignatureVerifier",
    "Ed25519Signer",
    "Ed25519Verifier",
    "HashSource",
    "MemoryTree",
    "NoteError",
    "NoteSignature",
    "ProofError",
    "Signer",
    "TlogProof",
    "VerifiedNote",
    "Verifier",
    "add_signatures",
    "compute_key_id",
    "consistency_proof",
    "cosign_checkpoint",
    "cosignature_timestamp",
    "generate_key",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "open_checkpoint",
    "parse_note",
    "parse_signer_key",
    "parse_verifier_key",
    "root_from_leaves",
    "sign_checkpoint",
    "sign_note",
    "tree_root",
    "verify_append_only",
    "verify_consistency",
    "verify_cosignature",
    "verify_inclusion",
    "verify_note",
]
