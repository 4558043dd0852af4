"""A seal that covers no object may leave `object_digests` out (STIX 2.1 allows no empty list):
the reader takes its absence for "no object", and still refuses objects such a seal does not name."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tearline.errors import Forbidden
from tearline.federation.seal import Unit, canonical, digests_named, seal_unit, units_of, unsigned, verify_unit

KEY = Ed25519PrivateKey.generate()
AT = "2026-11-23T12:00:00.000Z"
PERSON = {"type": "identity", "spec_version": "2.1", "id": "identity--00000000-0000-4000-8000-000000000001",
          "created": AT, "modified": AT, "name": "Persona ficticia", "identity_class": "individual"}  # fmt: skip


def _recall_without_digests() -> Unit:
    """A recall sealed as a writer that omits the empty list seals it."""
    unit = seal_unit(KEY, ("USA", "US-DEMO-NARC"), "MEX", "recall", {"release": "r"}, [], AT, "recall-1")
    seal = {k: v for k, v in unsigned(unit.seal).items() if k != "object_digests"}
    seal["signature"] = base64.b64encode(KEY.sign(canonical(seal))).decode()
    return Unit(seal, [])


def test_a_seal_without_object_digests_covers_no_object() -> None:
    unit = _recall_without_digests()
    verify_unit(unit, KEY.public_key())
    assert digests_named(unit.seal) == []
    (found,), rest = units_of([unit.seal])
    assert found.seal == unit.seal and found.objects == [] and rest == []


def test_objects_next_to_a_seal_without_object_digests_are_not_covered() -> None:
    unit = _recall_without_digests()
    with pytest.raises(Forbidden) as refused:
        verify_unit(Unit(unit.seal, [PERSON]), KEY.public_key())
    assert refused.value.rule == "bad-digest"
    (found,), rest = units_of([unit.seal, PERSON])
    assert found.objects == [] and rest == [PERSON]
