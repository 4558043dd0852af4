"""C2SP checkpoints, witness cosignatures (tlog-cosignature v1) and tlog-proof@v1 texts."""

from __future__ import annotations

import base64
import dataclasses
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tearline import clock
from tearline.audit import (
    Checkpoint,
    CosignatureSigner,
    Ed25519Signer,
    MemoryTree,
    NoteError,
    ProofError,
    TlogProof,
    cosign_checkpoint,
    cosignature_timestamp,
    open_checkpoint,
    parse_note,
    sign_checkpoint,
    verify_cosignature,
)
from tearline.audit.note import EM_DASH

ORIGIN = "usa.tearline.example/log"

# The checkpoint of c2sp.org/tlog-checkpoint and tlog-cosignature, and the message the latter shows.
SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SPEC_TIME = 1679315147
SPEC_COSIGNED_MESSAGE = "cosignature/v1\ntime 1679315147\n" + SPEC_BODY

# A public checkpoint of the transparency.dev staging CT log "arche2025h1", as published with its
# witness cosignatures; remora.n621.de is a public witness with a type 0x04 key.
PUBLIC_LOG_VKEY = "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f"
PUBLIC_WITNESS_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
PUBLIC_CHECKPOINT = "".join(
    line + "\n"
    for line in (
        "arche2025h1.staging.ct.transparency.dev",
        "1432088532",
        "U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=",
        "",
        f"{EM_DASH} arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMH"
        "bdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=",
        f"{EM_DASH} arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3Ny"
        "gNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=",
        f"{EM_DASH} remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sX"
        "Tynk5XeU/zZ0WBxtqB0DrAWfBw==",
    )
)


def log_signer() -> Ed25519Signer:
    return Ed25519Signer(ORIGIN, b"\x11" * 32)


def witness(now: int = SPEC_TIME) -> CosignatureSigner:
    return CosignatureSigner("mex.tearline.example/witness", b"\x22" * 32, now=lambda: now)


def small_log(n: int = 10) -> MemoryTree:
    tree = MemoryTree()
    for i in range(n):
        tree.append(f"release {i}".encode())
    return tree


# --- checkpoint bodies ----------------------------------------------------------------------------


def test_spec_body_parses_and_formats_back() -> None:
    cp = Checkpoint.parse(SPEC_BODY)
    assert (cp.origin, cp.size, cp.extensions) == ("example.com/behind-the-sofa", 20852163, ())
    assert cp.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert cp.to_body() == SPEC_BODY
    assert Checkpoint.parse(SPEC_BODY.encode()) == cp


def test_extension_lines_round_trip() -> None:
    cp = Checkpoint(ORIGIN, 0, b"\x00" * 32, ("ext one", "ext two"))
    assert cp.to_body() == f"{ORIGIN}\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next one\next two\n"
    assert Checkpoint.parse(cp.to_body()) == cp


@pytest.mark.parametrize(
    "body",
    [
        "example.com/log\n20852163\n",  # no root
        "example.com/log\n020852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",  # leading zero
        "example.com/log\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com/log\n18446744073709551616\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",  # 2**64
        "example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",  # unpadded base64
        "example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jx\n",  # 30 bytes
        "example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",  # no final newline
        "example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",  # empty extension
        "\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",  # empty origin
    ],
)
def test_malformed_bodies_are_refused(body: str) -> None:
    with pytest.raises(NoteError):
        Checkpoint.parse(body)


def test_sign_and_open_a_checkpoint() -> None:
    tree, log = small_log(), log_signer()
    cp = Checkpoint(ORIGIN, tree.size, tree.root())
    note = sign_checkpoint(cp, [log])
    assert note.startswith(cp.to_body() + "\n" + EM_DASH + " " + ORIGIN + " ")
    opened, verified = open_checkpoint(note, [str(log.verifier)], ORIGIN)
    assert opened == cp
    assert verified.signed_by(log.verifier) is not None
    with pytest.raises(NoteError, match="origin"):
        open_checkpoint(note, [log.verifier], "can.tearline.example/log")
    with pytest.raises(NoteError):
        open_checkpoint(note.replace(f"\n{tree.size}\n", f"\n{tree.size + 1}\n"), [log.verifier])


# --- cosignatures ---------------------------------------------------------------------------------


def test_cosignature_layout_and_message_follow_the_spec() -> None:
    w = witness()
    note = cosign_checkpoint(sign_checkpoint(Checkpoint.parse(SPEC_BODY), [log_signer()]), w)
    line = note.splitlines()[-1]
    name, encoded = line.removeprefix(EM_DASH + " ").split(" ")
    raw = base64.b64decode(encoded)
    assert name == w.name
    assert len(raw) == 4 + 8 + 64  # key id || timestamp || Ed25519 signature
    assert raw[:4] == w.key_id
    assert int.from_bytes(raw[4:12], "big") == SPEC_TIME
    # The signature is over the header line, the time line and the checkpoint body, nothing else.
    Ed25519PublicKey.from_public_bytes(w.verifier.public_key).verify(raw[12:], SPEC_COSIGNED_MESSAGE.encode())
    assert verify_cosignature(note, w.verifier) == SPEC_TIME


def test_cosignature_uses_the_node_clock_by_default() -> None:
    moment = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    w = CosignatureSigner("mex.tearline.example/witness", b"\x22" * 32)
    with clock.frozen_at(moment):
        note = cosign_checkpoint(sign_checkpoint(Checkpoint.parse(SPEC_BODY), [log_signer()]), w)
    assert verify_cosignature(note, str(w.verifier)) == int(moment.timestamp())


def test_a_public_witness_cosignature_verifies() -> None:
    assert verify_cosignature(PUBLIC_CHECKPOINT, PUBLIC_WITNESS_VKEY) == 1779573024
    cp, verified = open_checkpoint(PUBLIC_CHECKPOINT, [PUBLIC_LOG_VKEY], "arche2025h1.staging.ct.transparency.dev")
    assert cp.size == 1432088532
    assert len(verified.unverified) == 2  # the log's RFC 6962 signature and the witness's, unknown here
    clobbered = PUBLIC_CHECKPOINT.replace("1432088532", "1432088533")
    with pytest.raises(NoteError):
        verify_cosignature(clobbered, PUBLIC_WITNESS_VKEY)


def test_a_cosignature_with_a_changed_time_fails() -> None:
    w = witness()
    note = parse_note(cosign_checkpoint(sign_checkpoint(Checkpoint.parse(SPEC_BODY), [log_signer()]), w))
    cosig = note.signatures[-1]
    later = (SPEC_TIME + 1).to_bytes(8, "big") + cosig.signature[8:]
    forged = dataclasses.replace(note, signatures=(*note.signatures[:-1], dataclasses.replace(cosig, signature=later)))
    with pytest.raises(NoteError, match="does not verify"):
        verify_cosignature(forged.to_text(), w.verifier)
    assert cosignature_timestamp(later) == SPEC_TIME + 1


def test_witness_keys_are_type_4_and_not_interchangeable_with_log_keys() -> None:
    w = witness()
    assert base64.b64decode(str(w.verifier).split("+", 2)[2])[0] == 0x04
    with pytest.raises(NoteError, match="type 0x04"):
        verify_cosignature(sign_checkpoint(Checkpoint.parse(SPEC_BODY), [log_signer()]), log_signer().verifier)
    plain = Ed25519Signer(w.name, b"\x22" * 32)
    assert plain.key_id != w.key_id  # same name and key, other signature type: another key id
    with pytest.raises(NoteError, match="no signature from a known key"):
        verify_cosignature(sign_checkpoint(Checkpoint.parse(SPEC_BODY), [plain]), w.verifier)


# --- tlog-proof@v1 --------------------------------------------------------------------------------


def make_proof(index: int = 6, extra: bytes | None = b"release-id 42") -> tuple[TlogProof, MemoryTree]:
    tree = small_log()
    note = cosign_checkpoint(sign_checkpoint(Checkpoint(ORIGIN, tree.size, tree.root()), [log_signer()]), witness())
    return TlogProof(index, tuple(tree.inclusion_proof(index)), note, extra), tree


def test_tlog_proof_text_layout() -> None:
    proof, tree = make_proof()
    lines = proof.to_text().split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1"
    assert lines[1] == "extra " + base64.b64encode(b"release-id 42").decode()
    assert lines[2] == "index 6"
    hashes = lines[3 : 3 + len(proof.inclusion)]
    assert [base64.b64decode(h) for h in hashes] == tree.inclusion_proof(6)
    assert lines[3 + len(proof.inclusion)] == ""
    assert proof.to_text().endswith("\n\n" + proof.checkpoint)


def test_tlog_proof_round_trip_and_verify() -> None:
    for extra in (b"context", None):
        proof, tree = make_proof(extra=extra)
        parsed = TlogProof.parse(proof.to_text())
        assert parsed == proof
        cp, verified = parsed.verify(tree.subtree_hash(0, 6), [log_signer().verifier, witness().verifier], ORIGIN)
        assert cp.size == tree.size
        assert len(verified.signatures) == 2


def test_tlog_proof_for_a_one_entry_log_has_no_hashes() -> None:
    tree = small_log(1)
    note = sign_checkpoint(Checkpoint(ORIGIN, 1, tree.root()), [log_signer()])
    proof = TlogProof(0, (), note)
    assert proof.to_text().startswith("c2sp.org/tlog-proof@v1\nindex 0\n\n")
    assert TlogProof.parse(proof.to_text()).verify(tree.root(), [log_signer().verifier], ORIGIN)[0].size == 1


def test_tlog_proof_verification_failures() -> None:
    proof, tree = make_proof()
    keys = [log_signer().verifier]
    with pytest.raises(ProofError):
        proof.verify(tree.subtree_hash(0, 5), keys, ORIGIN)  # another entry
    with pytest.raises(ProofError):
        dataclasses.replace(proof, index=7).verify(tree.subtree_hash(0, 6), keys, ORIGIN)
    with pytest.raises(NoteError, match="origin"):
        proof.verify(tree.subtree_hash(0, 6), keys, "other.example/log")
    with pytest.raises(NoteError, match="known key"):
        proof.verify(tree.subtree_hash(0, 6), [Ed25519Signer(ORIGIN, b"\x33" * 32).verifier], ORIGIN)


def _broken(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: _broken(t, "c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"),
        lambda t: _broken(t, "index 6", "index 06"),
        lambda t: _broken(t, "index 6", "index six"),
        lambda t: _broken(t, "index 6", "idx 6"),
        lambda t: _broken(t, "extra ", "extra !"),
        lambda t: "\n".join([t.split("\n")[0], t.split("\n")[2], t.split("\n")[1], *t.split("\n")[3:]]),
        lambda t: _broken(t, "\n\n", "\n"),  # no empty line before the checkpoint
        lambda t: t.split("\n\n", 1)[0] + "\n\n",  # no checkpoint
        lambda t: _broken(t, "index 6\n", "index 6\nAAAA\n"),  # not a 32-byte hash
        lambda t: t.replace(EM_DASH, "-"),  # the checkpoint is not a signed note
    ],
)
def test_malformed_tlog_proofs_are_refused(mutate: object) -> None:
    proof, _ = make_proof()
    assert callable(mutate)
    with pytest.raises(ProofError):
        TlogProof.parse(mutate(proof.to_text()))
