"""Seals (Ed25519 over a canonical encoding, with per-object digests): what verifies and what not."""

from __future__ import annotations

import copy

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from tearline.errors import Forbidden
from tearline.federation.seal import Unit, canonical, seal_unit, units_of, verify_unit

KEY = Ed25519PrivateKey.generate()
AT = "2026-11-23T12:00:00.000Z"


def _objects(n: int) -> list[dict[str, object]]:
    return [
        {"type": "identity", "spec_version": "2.1", "id": f"identity--00000000-0000-4000-8000-{i:012d}",
         "created": AT, "modified": AT, "name": f"Persona ficticia {i}", "identity_class": "individual"}
        for i in range(n)
    ]  # fmt: skip


def _unit(n: int = 3, name: str = "m1") -> Unit:
    return seal_unit(KEY, ("USA", "US-DEMO-NARC"), "MEX", "release", {"release": {"id": "r"}}, _objects(n), AT, name)


def test_a_seal_verifies_with_the_senders_key_only() -> None:
    unit = _unit()
    verify_unit(unit, KEY.public_key())
    with pytest.raises(Forbidden) as refused:
        verify_unit(unit, Ed25519PrivateKey.generate().public_key())
    assert refused.value.rule == "bad-signature"


def test_changing_any_object_or_the_payload_breaks_the_seal() -> None:
    unit = _unit()
    changed = copy.deepcopy(unit.objects)
    changed[1]["name"] = "Otra persona"
    with pytest.raises(Forbidden) as bad_object:
        verify_unit(Unit(unit.seal, changed), KEY.public_key())
    assert bad_object.value.rule == "bad-digest"
    seal = {**unit.seal, "destination": "CAN"}
    with pytest.raises(Forbidden) as bad_seal:
        verify_unit(Unit(seal, unit.objects), KEY.public_key())
    assert bad_seal.value.rule == "bad-signature"
    with pytest.raises(Forbidden):
        verify_unit(Unit(unit.seal, unit.objects[:-1]), KEY.public_key())  # an object left out


def test_the_canonical_encoding_ignores_key_order_and_keeps_unicode() -> None:
    assert canonical({"b": 1, "a": "Güero"}) == canonical({"a": "Güero", "b": 1}) == '{"a":"Güero","b":1}'.encode()


@given(order=st.permutations(list(range(7))))
def test_units_are_found_in_any_order_of_their_objects(order: list[int]) -> None:
    first, second = _unit(3, "a"), _unit(2, "b")  # the second's objects are the first's first two
    stray = {"type": "note", "id": "note--stray"}
    # Seven objects: the shared ones once plus a repeated copy, both seals, and a stray.
    everything = [*first.objects, first.seal, second.seal, stray, first.objects[0]]
    shuffled = [everything[i] for i in order]
    units, rest = units_of(shuffled)
    assert {u.seal["id"] for u in units} == {first.seal["id"], second.seal["id"]}
    for unit in units:
        verify_unit(unit, KEY.public_key())
    assert rest == [stray]
