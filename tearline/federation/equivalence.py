"""Equivalence-table versions signed by partner nodes (DESIGN §3.1).

A change to a partner's column takes effect only as a version that partner signed. A partner signs
the table's canonical text as a C2SP signed note, with its node key (the one `tearline audit vkey`
prints and that we registered with `tearline peer add`); we check each signature against the
registered key of the signer's nation and record who signed. The text opens with its own header
line, which no checkpoint of any log can, so a table signature can never pass for a checkpoint.

The text also names the version it replaces on the submitting node (its log origin and version
number), and a signature counts only while that version is the one in force: a table a partner
signed once cannot be submitted again after it was replaced.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tearline import journal
from tearline.audit.errors import NoteError
from tearline.audit.keys import Verifier, parse_verifier_key
from tearline.audit.log import log_origin, node_log_signer
from tearline.audit.note import NoteSignature, parse_note, sign_note
from tearline.db.federation_tables import Peer
from tearline.db.models import EquivalenceVersion, Principal
from tearline.errors import InvalidInput, Problem, TearlineError
from tearline.markings.scheme import EquivalenceTable
from tearline.node import Node
from tearline.store import registry as reg

HEADER = "tearline equivalence table v2"
# The form before signatures named the version they replace; recognised only to ask for a new one.
UNBOUND_HEADER = "tearline equivalence table v1"
ACTION = "equivalence.change"
SEQUENCE_RULE = "equivalence-signature-sequence"
# How far past the version in force we look when telling a signer which version it signed for:
# a partner told a wrong number is usually a few off, and each guess is one Ed25519 verification.
LOOKAHEAD = 8


class SignatureOutOfSequence(InvalidInput):
    """A valid signature over this table, made to replace another version than the one in force."""

    rule = SEQUENCE_RULE

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "rule": self.rule}


@dataclass(frozen=True)
class Succession:
    """The version of a node's table that a signed table replaces: it ties a signature to one place in the sequence."""

    origin: str
    version: int

    def line(self) -> str:
        return f"replaces {self.origin} v{self.version}"


@dataclass(frozen=True)
class PartnerSignature:
    """A verified signature: the signing nation, its key name and id, and the signature line itself."""

    nation: str
    key: str
    key_id: str
    line: str

    def as_dict(self) -> dict[str, str]:
        return {"key": self.key, "key_id": self.key_id, "signature": self.line}


def table_from_json(data: Mapping[str, Any]) -> EquivalenceTable:
    """A table as admins write it (`{"agreements": [...]}`); any version number in it is ignored."""
    try:
        return EquivalenceTable.from_dict({**data, "version": 0})
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise InvalidInput(Problem("agreements", f"malformed table: {err}")) from None


def node_origin(node: Node) -> str:
    """The node's log origin (`tearline.<nation>.<agency>/log`): the name partners sign a table for."""
    return log_origin(node.config.nation, node.config.agency)


def succession_for(origin: str, version: int) -> Succession:
    """The version a partner says it signs to replace, as given on the command line."""
    if not origin or any(c.isspace() for c in origin):
        raise InvalidInput(Problem("for", f"{origin!r} is not a log origin such as tearline.usa.us-demo-narc/log"))
    if version < 0:
        raise InvalidInput(Problem("replaces", "a version number is 0 or more"))
    return Succession(origin, version)


def _agreements_json(table: EquivalenceTable) -> str:
    return json.dumps([a.as_dict() for a in table.agreements], sort_keys=True, separators=(",", ":"))


def canonical_text(table: EquivalenceTable, replaces: Succession) -> str:
    """What partners sign: a header line, the version replaced, then the agreements as canonical JSON
    in their order (the first agreement serving a pair decides, so order is part of the meaning)."""
    return f"{HEADER}\n{replaces.line()}\n{_agreements_json(table)}\n"


def _unbound_text(table: EquivalenceTable) -> str:
    return f"{UNBOUND_HEADER}\n{_agreements_json(table)}\n"


def sign_table(node: Node, table: EquivalenceTable, replaces: Succession) -> str:
    """This node's signature line over the table replacing that version (for the partner that will submit it)."""
    note = sign_note(canonical_text(table, replaces), [node_log_signer(node)])
    return parse_note(note).signatures[0].line()


def _known_keys(session: Session, node: Node) -> dict[tuple[str, bytes], tuple[str, Verifier]]:
    """Every key we accept a table signature from, by (name, key id): each peer's, and our own."""
    known: dict[tuple[str, bytes], tuple[str, Verifier]] = {}
    own = node_log_signer(node).verifier
    known[(own.name, own.key_id)] = (node.config.nation, own)
    for peer in session.scalars(select(Peer)):
        verifier = parse_verifier_key(peer.vkey)
        known[(verifier.name, verifier.key_id)] = (peer.nation, verifier)
    return known


def _parse_line(text: str, line: str, number: int) -> NoteSignature:
    try:
        return parse_note(text + "\n" + line.strip() + "\n").signatures[0]
    except NoteError as err:
        reason = f"line {number} is not a signed-note signature line: {err}"
        raise InvalidInput(Problem("signatures", reason)) from None


def _refusal(
    table: EquivalenceTable, replaces: Succession, signature: bytes, verifier: Verifier, signer: str
) -> InvalidInput:
    """Why a known signer's signature does not verify, naming the version it was made for when we can tell."""
    if verifier.verify(_unbound_text(table).encode(), signature):
        reason = f"signed in the old form ({UNBOUND_HEADER}), which names no version replaced: ask for a new signature"
        return SignatureOutOfSequence(Problem("signatures", f"{signer}: {reason}"))
    for version in range(replaces.version + LOOKAHEAD):
        guess = Succession(replaces.origin, version)
        if version != replaces.version and verifier.verify(canonical_text(table, guess).encode(), signature):
            reason = f"signed to replace v{version}, but v{replaces.version} is in force: ask for a new signature"
            return SignatureOutOfSequence(Problem("signatures", f"{signer}: {reason}"))
    reason = f"does not verify over this table as the successor of v{replaces.version} of {replaces.origin}"
    return InvalidInput(Problem("signatures", f"{signer}: {reason} (another table or node, or altered)"))


def verify_signatures(
    session: Session, node: Node, table: EquivalenceTable, lines: Sequence[str], replaces: Succession
) -> list[PartnerSignature]:
    """Check every signature line over this table replacing that version; refuse the first unknown or bad
    one, naming its signer."""
    text = canonical_text(table, replaces)
    known = _known_keys(session, node)
    verified: dict[str, PartnerSignature] = {}
    for number, line in enumerate(lines, start=1):
        sig = _parse_line(text, line, number)
        signer = f"{sig.name} ({sig.key_id.hex()})"
        if (sig.name, sig.key_id) not in known:
            reason = f"signature by {signer}: unknown signer, no registered peer has this key (`tearline peer add`)"
            raise InvalidInput(Problem("signatures", reason))
        nation, verifier = known[(sig.name, sig.key_id)]
        if not verifier.verify(text.encode(), sig.signature):
            raise _refusal(table, replaces, sig.signature, verifier, f"signature by {signer} of {nation}")
        verified.setdefault(nation, PartnerSignature(nation, sig.name, sig.key_id.hex(), sig.line().rstrip("\n")))
    return list(verified.values())


def store_signed_table(
    session: Session, node: Node, table: EquivalenceTable, lines: Sequence[str], actor: str
) -> tuple[int, list[PartnerSignature]]:
    """Verify the signatures, then store the version; a partner's changed column needs its signature.

    The version in force is read under the lock that storing the next one needs, so of two submissions
    signed to replace the same version only the first can pass."""
    replaces = Succession(node_origin(node), reg.lock_equivalence_sequence(session))
    signed = verify_signatures(session, node, table, lines, replaces)
    partners = [s for s in signed if s.nation != node.config.nation]
    version = reg.set_equivalence_table(
        session,
        node.identity,
        table,
        actor,
        frozenset(s.nation for s in partners),
        signatures={s.nation: s.as_dict() for s in partners},
        replaces=replaces.version,
    )
    return version, partners


def audit_objects(version: int | None, signed: Sequence[PartnerSignature]) -> list[str]:
    """What the audit entry names: the version made and each partner that signed it."""
    head = [f"equivalence-v{version}"] if version is not None else []
    return head + [f"signed-by:{s.nation}:{s.key}" for s in signed]


def submit_table(
    node: Node, table: EquivalenceTable, lines: Sequence[str], actor: Principal | str
) -> tuple[int, list[str]]:
    """Store a new version and its audit entry in one transaction; a refusal is audited too.

    The version records its author by username (as the API does): `username@agency`, as the audit
    entry names a principal, may be longer than `created_by` holds."""
    author = actor if isinstance(actor, str) else actor.username
    try:
        with node.db.write() as session:
            version, signed = store_signed_table(session, node, table, lines, author)
            journal.record(session, node, actor, ACTION, audit_objects(version, signed))
            return version, [s.nation for s in signed]
    except TearlineError as err:
        with node.db.write() as session:
            rule = getattr(err, "rule", None) or err.code
            journal.record(session, node, actor, ACTION, [], rule=rule, outcome="denied")
        raise


def version_signers(session: Session) -> tuple[int, dict[str, Any]]:
    """The current version number and the partners recorded as having signed it."""
    row = session.scalars(select(EquivalenceVersion).order_by(EquivalenceVersion.version.desc()).limit(1)).first()
    return (row.version, dict(row.signatures or {})) if row else (0, {})
