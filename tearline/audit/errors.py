"""Errors of the audit log core. Both are 422: the input (a proof, a note) is what is wrong."""

from __future__ import annotations

from tearline.errors import TearlineError


class ProofError(TearlineError):
    """A Merkle inclusion or consistency proof, or a tlog-proof, that does not verify or is malformed."""

    status = 422
    code = "invalid_proof"


class NoteError(TearlineError):
    """A signed note, key string or checkpoint that is malformed or carries no valid known signature."""

    status = 422
    code = "invalid_note"
