"""Seals: what makes a unit of federation traffic the sending node's word.

A unit is either a release (the tearline's STIX objects) or a message (consent request or
answer, recall, cosignature). Its seal is one STIX object of the custom type `x-tearline-seal`
that names the sender, the kind, the payload and the SHA-256 of every object of the unit in a
canonical encoding, signed with the sending node's Ed25519 key. The receiver checks the
signature and every digest before it stores anything, so a unit arrives whole or not at all,
whether it came by push or by pull, and whoever relayed it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tearline.errors import Forbidden
from tearline.stix import ids

SEAL_TYPE = "x-tearline-seal"
EXT_SEAL = ids.stix_id("extension-definition", "seal")
DEFINITION_TYPE = "extension-definition"


def seal_definition() -> dict[str, Any]:
    """The extension-definition of the seal type, served with seals (a consumer needs it to read a
    new-sdo, STIX 2.1 §7.3); shaped like tearline's other definitions (`tearline.stix.definitions`)."""
    return {
        "type": DEFINITION_TYPE,
        "spec_version": "2.1",
        "id": EXT_SEAL,
        "created": ids.DEFINED,
        "modified": ids.DEFINED,
        "created_by_ref": ids.TEARLINE_IDENTITY,
        "name": "tearline seal",
        "description": "A node's signed word for a unit of federation traffic: kind, sender, destination, "
        "payload, the SHA-256 of every object the unit covers, and an Ed25519 signature.",
        "schema": "tearline STIX profile v1: see docs/federation.md, section 'Sealed units'",
        "version": "1.0.0",
        "extension_types": ["new-sdo"],
    }


def is_seal_definition(obj: dict[str, Any]) -> bool:
    """The seal's definition travels beside seals, covered by none: a receiver takes it as read."""
    return obj.get("type") == DEFINITION_TYPE and obj.get("id") == EXT_SEAL


def canonical(value: Any) -> bytes:
    """One encoding for signing: sorted keys, no spaces, UTF-8 (RFC 8785 for our value space:
    strings, integers, lists and objects; the seal never carries floats)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(obj: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(obj)).hexdigest()


def version_of(obj: dict[str, Any]) -> str:
    """The TAXII version of an object: `modified`, else `created`, else the fixed definition time."""
    return str(obj.get("modified") or obj.get("created") or ids.DEFINED)


@dataclass(frozen=True)
class Unit:
    """A sealed unit: its seal and the objects it covers, in order."""

    seal: dict[str, Any]
    objects: list[dict[str, Any]]

    @property
    def kind(self) -> str:
        return str(self.seal["kind"])

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = self.seal["payload"]
        return payload


def seal_unit(
    key: Ed25519PrivateKey,
    sender: tuple[str, str],
    destination: str,
    kind: str,
    payload: dict[str, Any],
    objects: list[dict[str, Any]],
    at: str,
    name: str,
) -> Unit:
    """Seal `objects` and `payload` as one unit; `name` makes the seal's id (one per outbox message)."""
    body: dict[str, Any] = {
        "type": SEAL_TYPE,
        "spec_version": "2.1",
        "id": ids.stix_id(SEAL_TYPE, name),
        "created": at,
        "modified": at,
        "created_by_ref": ids.node_identity_id(*sender),
        "kind": kind,
        "sender": {"nation": sender[0], "agency": sender[1]},
        "destination": destination,
        "payload": payload,
        "extensions": {EXT_SEAL: {"extension_type": "new-sdo"}},
    }
    if objects:  # a message (recall, consent) covers no object, and STIX 2.1 allows no empty list
        body["object_digests"] = [{"id": o["id"], "version": version_of(o), "sha256": digest(o)} for o in objects]
    body["signature"] = base64.b64encode(key.sign(canonical(body))).decode()
    return Unit(body, objects)


def unsigned(seal: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in seal.items() if k != "signature"}


def verify_unit(unit: Unit, key: Ed25519PublicKey) -> None:
    """Raise Forbidden unless `key` signed the seal and every object matches its digest."""
    try:
        key.verify(base64.b64decode(str(unit.seal.get("signature", "")), validate=True), canonical(unsigned(unit.seal)))
    except (InvalidSignature, ValueError):
        raise Forbidden(f"seal {unit.seal.get('id')} is not signed by the sending node", rule="bad-signature") from None
    # A seal that covers no object may leave `object_digests` out: STIX allows no empty list.
    listed = unit.seal.get("object_digests", [])
    whole = isinstance(listed, list) and all(
        isinstance(d, dict) and isinstance(d.get("id"), str) and isinstance(d.get("sha256"), str) for d in listed
    )
    if not whole or digests_named(unit.seal) != [(str(o.get("id")), digest(o)) for o in unit.objects]:
        raise Forbidden(f"seal {unit.seal.get('id')} does not match the objects it covers", rule="bad-digest")


def units_of(objects: list[dict[str, Any]]) -> tuple[list[Unit], list[dict[str, Any]]]:
    """Group objects into sealed units, in any order: each seal claims the objects it names.

    Returns the units and the objects no seal here names (a unit whose seal has not arrived yet,
    or strays). A seal whose objects are not all here makes a unit that fails verification.
    Objects shared by several units (marking definitions, identities) may appear once for all;
    digests pick the right copy. The seal's own extension-definition is no stray: it is left out.
    """
    seen = {
        (str(o.get("id")), digest(o)): o for o in objects if o.get("type") != SEAL_TYPE and not is_seal_definition(o)
    }
    units: list[Unit] = []
    used: set[tuple[str, str]] = set()
    for seal in (o for o in objects if o.get("type") == SEAL_TYPE):
        wanted = digests_named(seal)
        units.append(Unit(seal, [seen[w] for w in wanted if w in seen]))
        used.update(w for w in wanted if w in seen)
    rest = [o for key, o in seen.items() if key not in used]
    return units, rest


def digests_named(seal: dict[str, Any]) -> list[tuple[str, str]]:
    """The (id, sha256) of each object the seal covers; a malformed list names none (whoever reads the
    seal next refuses it, naming the field), so that one partner's faulty seal fails alone."""
    found = seal.get("object_digests", [])  # absent: the seal covers no object
    if not isinstance(found, list):
        return []
    return [(str(d.get("id")), str(d.get("sha256"))) for d in found if isinstance(d, dict)]


def new_name() -> str:
    return str(uuid.uuid4())
