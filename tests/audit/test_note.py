"""C2SP signed notes and their keys: spec and reference-implementation vectors, round trips, refusals."""

from __future__ import annotations

import base64
import hashlib

import pytest

from tearline.audit import (
    COSIGNATURE_V1,
    ED25519,
    CosignatureVerifier,
    Ed25519Signer,
    Ed25519Verifier,
    NoteError,
    NoteSignature,
    add_signatures,
    compute_key_id,
    generate_key,
    parse_note,
    parse_signer_key,
    parse_verifier_key,
    sign_note,
    verify_note,
)
from tearline.audit.note import EM_DASH, MAX_SIGNATURES

# The worked example of c2sp.org/signed-note ("Verifier keys").
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    f"{EM_DASH} example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)

# The example of golang.org/x/mod/sumdb/note, the reference implementation (package doc and tests).
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_LINE = (
    f"{EM_DASH} PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_LINE = (
    f"{EM_DASH} EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)
GO_NOTE = GO_TEXT + "\n" + PETER_LINE


def signer(name: str = "tearline.example/log", fill: int = 7) -> Ed25519Signer:
    return Ed25519Signer(name, bytes([fill]) * 32)


# --- keys -----------------------------------------------------------------------------------------


def test_key_id_is_the_first_four_bytes_of_the_spec_hash() -> None:
    key = parse_verifier_key(GO_VKEY)
    expected = hashlib.sha256(b"PeterNeumann" + b"\x0a" + b"\x01" + key.public_key).digest()[:4]
    assert key.key_id == expected == bytes.fromhex("c74f20a3")
    assert compute_key_id("PeterNeumann", ED25519, key.public_key) == expected
    # The signature type byte is part of the hash: the same key as a witness key has another id.
    assert compute_key_id("PeterNeumann", COSIGNATURE_V1, key.public_key) != expected


def test_spec_and_reference_key_strings_round_trip() -> None:
    for vkey in (SPEC_VKEY, GO_VKEY, ENOCH_VKEY):
        assert str(parse_verifier_key(vkey)) == vkey
    skey = parse_signer_key(GO_SKEY)
    assert skey.signer_key() == GO_SKEY
    assert str(skey.verifier) == GO_VKEY


def test_generated_keys_parse_back() -> None:
    for key_type, verifier_class in ((ED25519, Ed25519Verifier), (COSIGNATURE_V1, CosignatureVerifier)):
        skey, vkey = generate_key("partner.example/w1", key_type)
        assert skey.startswith("PRIVATE+KEY+partner.example/w1+")
        parsed = parse_signer_key(skey)
        assert type(parsed.verifier) is verifier_class
        assert str(parsed.verifier) == vkey == str(parse_verifier_key(vkey))


def test_a_signer_never_shows_its_seed() -> None:
    key = parse_signer_key(GO_SKEY)
    seed_b64 = GO_SKEY.rsplit("+", 1)[1]
    assert seed_b64 not in repr(key)
    assert "PRIVATE" not in repr(key)


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # id does not match
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # short id
        "PeterNeumann+c74f20a3+Alpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # type 0x02
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",  # key too short
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW!",  # not base64
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space in name
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # empty name
        "PeterNeumann",
    ],
)
def test_malformed_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(NoteError):
        parse_verifier_key(vkey)


def test_malformed_signer_keys_are_refused() -> None:
    with pytest.raises(NoteError):
        parse_signer_key(GO_VKEY)
    with pytest.raises(NoteError):
        parse_signer_key(GO_SKEY.replace("c74f20a3", "c74f20a4"))


# --- known answers --------------------------------------------------------------------------------


def test_signing_reproduces_the_reference_note() -> None:
    # Ed25519 is deterministic, so the reference signature must come out byte for byte.
    assert sign_note(GO_TEXT, [parse_signer_key(GO_SKEY)]) == GO_NOTE


def test_spec_example_verifies() -> None:
    verified = verify_note(SPEC_NOTE, [SPEC_VKEY])
    assert verified.text == "This is an example message.\n"
    assert [s.name for s in verified.signatures] == ["example.com/foo"]


def test_unknown_signatures_are_ignored() -> None:
    note = GO_NOTE + ENOCH_LINE
    verified = verify_note(note, [ENOCH_VKEY])
    assert [s.name for s in verified.signatures] == ["EnochRoot"]
    assert [s.name for s in verified.unverified] == ["PeterNeumann"]
    both = verify_note(note, [GO_VKEY, ENOCH_VKEY])
    assert [s.name for s in both.signatures] == ["PeterNeumann", "EnochRoot"]


# --- round trips and refusals ---------------------------------------------------------------------


def test_round_trip_with_several_signers_and_blank_lines_in_the_text() -> None:
    log, other = signer(), signer("partner.example/log", 9)
    text = "first line\n\nafter a blank line\n"
    note = sign_note(text, [log, other])
    verified = verify_note(note.encode(), [log.verifier, other.verifier])
    assert verified.text == text
    assert len(verified.signatures) == 2
    assert parse_note(note).text == text


def test_a_tampered_body_fails() -> None:
    log = signer()
    note = sign_note("origin\n42\n", [log])
    with pytest.raises(NoteError, match="does not verify"):
        verify_note(note.replace("42", "43"), [log.verifier])


def test_a_tampered_signature_fails() -> None:
    log = signer()
    note = parse_note(sign_note("hello\n", [log]))
    raw = bytearray(note.signatures[0].signature)
    raw[10] ^= 1
    forged = "hello\n\n" + NoteSignature(log.name, log.key_id, bytes(raw)).line()
    with pytest.raises(NoteError, match="does not verify"):
        verify_note(forged, [log.verifier])


def test_a_wrong_key_fails() -> None:
    note = sign_note("hello\n", [signer()])
    impostor = signer(fill=8)  # same name, other key: another key id, so an unknown signature
    with pytest.raises(NoteError, match="no signature from a known key"):
        verify_note(note, [impostor.verifier])
    with pytest.raises(NoteError, match="no signature from a known key"):
        verify_note(note, [])


def test_repeated_signatures_count_once_and_ambiguous_verifiers_are_refused() -> None:
    log = signer()
    note = sign_note("hello\n", [log])
    doubled = note + note.split("\n\n", 1)[1]
    assert len(verify_note(doubled, [log.verifier]).signatures) == 1
    with pytest.raises(NoteError, match="share the name"):
        verify_note(note, [log.verifier, str(log.verifier)])


@pytest.mark.parametrize(
    "note",
    [
        "no blank line\n" + PETER_LINE,
        GO_TEXT + "\n",  # no signatures
        GO_NOTE[:-1],  # last signature line without newline
        GO_TEXT + "\n" + PETER_LINE.replace(EM_DASH, "-"),
        GO_TEXT + "\n" + PETER_LINE.replace("x08go", "x08g!"),
        GO_TEXT + "\n" + f"{EM_DASH} PeterNeumann AAAA\n",  # shorter than a key id and one byte
        GO_TEXT + "\n" + f"{EM_DASH} PeterNeumann\n",
        GO_TEXT.replace("\n", "\r\n", 1) + "\n" + PETER_LINE,  # control character
        GO_TEXT + "\n" + PETER_LINE + "\n",  # blank line after the signatures
        GO_TEXT + "\n" + PETER_LINE * (MAX_SIGNATURES + 1),
    ],
)
def test_malformed_notes_are_refused(note: str) -> None:
    with pytest.raises(NoteError):
        verify_note(note, [GO_VKEY])


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(NoteError, match="UTF-8"):
        verify_note(b"\xff\xfe\n\n" + PETER_LINE.encode(), [GO_VKEY])


def test_at_least_sixteen_signatures_are_accepted() -> None:
    signers = [signer(f"w{i}.example", i + 1) for i in range(16)]
    note = sign_note("hello\n", signers)
    assert len(verify_note(note, [s.verifier for s in signers]).signatures) == 16


@pytest.mark.parametrize("text", ["no final newline", "", "tab\tinside\n"])
def test_signing_refuses_a_bad_text(text: str) -> None:
    with pytest.raises(NoteError):
        sign_note(text, [signer()])


def test_signing_needs_a_signer() -> None:
    with pytest.raises(NoteError, match="at least one"):
        sign_note("hello\n", [])


def test_add_signatures_keeps_the_existing_ones() -> None:
    log, witness = signer(), signer("witness.example", 3)
    note = add_signatures(sign_note("hello\n", [log]), [witness])
    assert add_signatures(note, [witness]) == note  # the same key is not added twice
    verified = verify_note(note, [log.verifier, witness.verifier])
    assert [s.name for s in verified.signatures] == [log.name, witness.name]
    line = note.splitlines()[-1]
    assert line.startswith(f"{EM_DASH} witness.example ")
    assert base64.b64decode(line.split(" ")[-1])[:4] == witness.key_id
