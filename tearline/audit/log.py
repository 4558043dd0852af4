"""The node's transparency audit log: append events, prove them, sign checkpoints, verify it all.

Every layer that writes appends with `record` (or `record_many`) inside its own write transaction
(`Database.write()`): the entry commits with the action it records, or neither does, and an entry
has no size limit. Entries are the canonical bytes of an `AuditEvent` (see `tearline.audit.event`).
An append locks the log's head row until the transaction ends (every writer of the node waits
for it), so append as late in the transaction as the action allows, and never in a read session.

An action that writes nothing (a read, a search, a TAXII page, a refused log-in) has no
transaction for its entry to ride in. Its caller hands the entry to the node's group committer
(`Node.audit_group`, `tearline.audit.group`) after its read and waits: entries of many callers
are appended together in one durable transaction (through `append_entries`, the path
`record_many` takes), and each caller returns its index only after that commit, so the response
is sent only once its entry is on disk.

The log's origin, which is also the name of the key that signs its checkpoints, is
`tearline.<nation>.<agency>/log`, lower case, with every character other than a-z, 0-9, '.' and
'-' of the agency turned into '-' (for example `tearline.usa.us-demo-narc/log`). The key is the
node's Ed25519 key from `tearline init`, as a C2SP signed-note type 0x01 key.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from tearline import clock
from tearline.audit.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from tearline.audit.errors import NoteError
from tearline.audit.event import AuditEvent
from tearline.audit.keys import CosignatureVerifier, Ed25519Signer, Verifier, parse_verifier_key
from tearline.audit.note import parse_note, verify_note
from tearline.audit.search_rows import check_search_rows
from tearline.audit.store import (
    LeafFacts,
    LockedHead,
    LogCorrupted,
    StoredLeaf,
    append_leaves,
    lock_head,
    log_size,
    prove_consistency,
    prove_inclusion,
    read_head,
    read_leaf,
    read_leaves,
    read_nodes,
    root_at,
    take_head,
)
from tearline.audit.tlog_proof import TlogProof
from tearline.audit.verify import LogTampered, VerifyReport, verify_entries
from tearline.db.audit_tables import AuditCheckpoint
from tearline.errors import InvalidInput, NotFound, Problem

if TYPE_CHECKING:
    from tearline.node import Node

__all__ = [
    "AuditEvent",
    "Entry",
    "LogTampered",
    "SignedCheckpoint",
    "StoredLeaf",
    "VerifyReport",
    "add_cosignature",
    "append_entries",
    "checkpoints",
    "encode",
    "latest_checkpoint",
    "log_origin",
    "log_signer",
    "log_size",
    "node_log_signer",
    "prove_consistency",
    "prove_inclusion",
    "read_leaf",
    "read_leaves",
    "record",
    "record_many",
    "root_at",
    "take_head",
    "tlog_proof",
    "verifier_key",
    "verify_log",
    "witness_cosignature_key",
]

VERIFY_BATCH = 5_000
# Long checks report (step, done, total) as they go: the CLI draws them as progress bars.
Progress = Callable[[str, int, int], None]


# --- appending -----------------------------------------------------------------------------------


Entry = tuple[bytes, LeafFacts]


def encode(event: AuditEvent, node_name: str) -> Entry:
    """The entry's canonical bytes and search columns; `node_name` fills in an event that names no node."""
    stamped = event if event.node else replace(event, node=node_name)
    facts = LeafFacts(stamped.actor, stamped.action, stamped.outcome, stamped.time, stamped.objects)
    return stamped.canonical(), facts


def record(session: Session, event: AuditEvent, node_name: str) -> int:
    """Append one event in the caller's transaction; returns its index. Call inside `Database.write()`.

    `node_name` is the appending node: it is written into the entry when the event names no node.
    """
    return append_leaves(session, [encode(event, node_name)])


def record_many(session: Session, events: Sequence[AuditEvent], node_name: str) -> list[int]:
    """Append events in order in the caller's transaction; returns their indexes (consecutive)."""
    return append_entries(session, [encode(event, node_name) for event in events])


def append_entries(session: Session, entries: Sequence[Entry], head: LockedHead | None = None) -> list[int]:
    """Append encoded entries in order in the caller's transaction; returns their indexes (consecutive).

    `head` is the head that `take_head` locked earlier in the same transaction, if the caller took it.
    """
    if not entries:
        return []
    first = append_leaves(session, entries, head)
    return list(range(first, first + len(entries)))


# --- keys and checkpoints ----------------------------------------------------------------------------


def log_origin(nation: str, agency: str) -> str:
    """`tearline.<nation>.<agency>/log`: the log's origin line and the name of its signing key."""
    slug = re.sub(r"[^a-z0-9.-]", "-", agency.strip().lower()) or "node"
    return f"tearline.{nation.strip().lower()}.{slug}/log"


def log_signer(origin: str, seed: bytes) -> Ed25519Signer:
    return Ed25519Signer(origin, seed)


def node_log_signer(node: Node) -> Ed25519Signer:
    """The node's checkpoint signer: its `tearline init` key, named after its log's origin."""
    origin = log_origin(node.config.nation, node.config.agency)
    return log_signer(origin, node.signing_key().private_bytes_raw())


def verifier_key(node: Node) -> str:
    """The C2SP signed-note verifier key that partners use to check this node's checkpoints."""
    return str(node_log_signer(node).verifier)


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    note: str


def _stored(row: AuditCheckpoint, origin: str) -> SignedCheckpoint:
    return SignedCheckpoint(Checkpoint(origin, row.size, bytes(row.root)), row.note)


def latest_checkpoint(session: Session, signer: Ed25519Signer) -> SignedCheckpoint:
    """The checkpoint at the log's current size, signed and stored on first request; call in a write.

    The head is locked meanwhile, so that issuing serialises with appends and one size gets one note.
    """
    if not session.connection().get_execution_options().get("tearline_write"):
        # A read snapshot cannot take the write lock later on SQLite: it fails with "database is
        # locked" whenever anyone wrote meanwhile, so this is a caller's error, refused every time.
        raise RuntimeError("latest_checkpoint may sign a checkpoint: call it in Database.write(), not read()")
    head = lock_head(session)
    last = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc()).limit(1)).first()
    if last is not None and last.size > head.size:
        raise LogTampered(
            f"the log holds {head.size} entries but it signed a checkpoint of {last.size}: entries were removed, "
            f"so no new checkpoint is signed; run `tearline audit verify --data DIR` to see what changed",
            None,
        )
    if last is not None and last.size == head.size:
        return _stored(last, signer.name)
    if last is not None:
        _check_extends(session, last, signer)
    checkpoint = Checkpoint(signer.name, head.size, head.root())
    note = sign_checkpoint(checkpoint, [signer])
    session.add(AuditCheckpoint(size=head.size, root=checkpoint.root_hash, note=note, issued_at=clock.now()))
    return SignedCheckpoint(checkpoint, note)


def _check_extends(session: Session, last: AuditCheckpoint, signer: Ed25519Signer) -> None:
    """The stored tree at the last signed size must still have the root signed then (and the note must be ours).

    A checkpoint of a larger size is then an append-only extension of the last one. O(log n): one
    signature check and the root from the stored subtree hashes at that size.
    """
    refuse = (
        f"the audit log no longer matches its signed checkpoint of size {last.size}, so no new checkpoint is "
        "signed: {why}. Run `tearline audit verify --data DIR` to find the entries that changed"
    )
    try:
        signed, _ = open_checkpoint(last.note, [signer.verifier], signer.name)
    except NoteError as err:
        raise LogTampered(refuse.format(why=f"its stored note does not verify ({err.message})"), None) from err
    if signed.size != last.size or signed.root_hash != bytes(last.root):
        raise LogTampered(refuse.format(why="its stored size or root differs from its signed note"), None)
    try:
        root = root_at(session, last.size)
    except LogCorrupted as err:
        raise LogTampered(refuse.format(why=err.message), None) from err
    if root != signed.root_hash:
        why = f"the stored tree gives root {base64.b64encode(root).decode()} at that size, not the signed one"
        raise LogTampered(refuse.format(why=why), None)


def checkpoints(session: Session, origin: str) -> list[SignedCheckpoint]:
    """Every checkpoint this node signed, smallest first (signatures not checked here)."""
    rows = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.size))
    return [_stored(row, origin) for row in rows]


def witness_cosignature_key(witness: Verifier | str, log_name: str, field: str = "witness key") -> Verifier:
    """A partner witness's key, refused (InvalidInput naming `field`) unless it is a cosignature key of another name.

    The log's own key (type 0x01) would "verify" the log's own signature and store nothing new.
    """
    try:
        key = parse_verifier_key(witness) if isinstance(witness, str) else witness
    except NoteError as err:
        raise InvalidInput(Problem(field, f"is not a verifier key ({err.message})")) from err
    if key.name == log_name:
        raise InvalidInput(
            Problem(
                field,
                f"is a key of this log ({log_name}), not the partner's witness key: ask the partner for "
                "the output of `tearline audit vkey --witness`",
            )
        )
    if not isinstance(key, CosignatureVerifier):
        raise InvalidInput(
            Problem(
                field,
                "is not a witness cosignature key (type 0x04): ask the partner for the output of "
                "`tearline audit vkey --witness`",
            )
        )
    return key


def add_cosignature(session: Session, cosigned_note: str, witness: Verifier | str, log: Verifier | str) -> int:
    """Keep a witness's cosignature on the stored checkpoint it signed; returns that checkpoint's size.

    Both our signature and the witness's are verified first, so only genuine cosignatures are served.
    """
    log_key = parse_verifier_key(log) if isinstance(log, str) else log
    witness_key = witness_cosignature_key(witness, log_key.name)
    checkpoint, _ = open_checkpoint(cosigned_note, [log_key])
    try:
        signature = verify_note(cosigned_note, [witness_key]).signed_by(witness_key)
    except NoteError as err:
        raise NoteError(
            f"the witness's answer adds no valid cosignature by {witness_key.name}+{witness_key.key_id.hex()} "
            f"({err.message}): check the witness key (the partner prints it with `tearline audit vkey --witness`); "
            "nothing was stored"
        ) from err
    row = session.get(AuditCheckpoint, checkpoint.size, with_for_update=True)
    if row is None or bytes(row.root) != checkpoint.root_hash or signature is None:
        raise NotFound(f"this node signed no checkpoint of size {checkpoint.size} with that root")
    if signature.line() not in row.note:
        row.note += signature.line()
    return checkpoint.size


def tlog_proof(session: Session, signer: Ed25519Signer, index: int) -> TlogProof:
    """A c2sp.org/tlog-proof@v1 for entry `index` against the latest checkpoint; `extra` is the entry."""
    signed = latest_checkpoint(session, signer)
    leaf = read_leaf(session, index)
    proof = prove_inclusion(session, index, signed.checkpoint.size)
    return TlogProof(index=index, inclusion=tuple(proof), checkpoint=signed.note, extra=leaf.data)


# --- verification ----------------------------------------------------------------------------------


def _batches(session: Session, size: int, batch: int, progress: Progress | None) -> Iterator[list[StoredLeaf]]:
    for start in range(0, size, batch):
        yield read_leaves(session, start, min(start + batch, size))
        if progress is not None:
            progress("entries", min(start + batch, size), size)


def _open_stored(signed: SignedCheckpoint, verifier: Verifier, origin: str) -> Checkpoint:
    """A stored checkpoint's note, verified with the key; the errors name the checkpoint, not an entry."""
    size = signed.checkpoint.size
    key = f"{verifier.name}+{verifier.key_id.hex()}"
    try:
        parsed = parse_note(signed.note)
    except NoteError as err:
        raise LogTampered(f"the stored checkpoint of size {size} is not a signed note ({err.message})", None) from err
    if not any(sig.name == verifier.name and sig.key_id == verifier.key_id for sig in parsed.signatures):
        raise LogTampered(
            f"the stored checkpoint of size {size} carries no signature from the key {key}: if that is not "
            "this node's key (`tearline audit vkey` prints it), give the right --vkey; if it is, the checkpoint's "
            "signature was removed or replaced",
            None,
        )
    try:
        checkpoint, _ = open_checkpoint(signed.note, [verifier], origin)
    except NoteError as err:
        raise LogTampered(
            f"the signature of the stored checkpoint of size {size} by {key} is bad ({err.message}): "
            "the checkpoint was altered after it was signed",
            None,
        ) from err
    if checkpoint.size != size or checkpoint.root_hash != signed.checkpoint.root_hash:
        raise LogTampered(f"the stored checkpoint row of size {size} differs from its signed note", None)
    return checkpoint


def _open_all(session: Session, verifier: Verifier, origin: str) -> list[Checkpoint]:
    return [_open_stored(signed, verifier, origin) for signed in checkpoints(session, origin)]


def verify_log(
    session: Session, verifier: Verifier | str, batch: int = VERIFY_BATCH, progress: Progress | None = None
) -> VerifyReport:
    """Recompute the whole log from its stored entries and check it against every signed checkpoint.

    Leaf bytes -> leaf hashes (against the stored ones) -> subtree hashes (against the stored
    nodes) -> roots (against each checkpoint's signed root) -> the head; then the search columns and
    rows against the entries' bytes (`tearline.audit.search_rows`). Raises LogTampered naming the
    first bad entry; run it in one read transaction so that it sees one state of the log.
    """
    key = parse_verifier_key(verifier) if isinstance(verifier, str) else verifier
    signed = _open_all(session, key, key.name)
    head = read_head(session)
    extra = read_leaves(session, head.size, head.size + 1)
    if extra:
        raise LogTampered(f"an entry is stored past the log's size {head.size}", extra[0].index)
    batches = _batches(session, head.size, batch, progress)
    report = verify_entries(batches, head.size, signed, lambda start, end: read_nodes(session, start, end), head)
    check_search_rows(session, head.size, batch, progress)
    return replace(report, search_rows=True)
