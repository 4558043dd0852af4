"""A partner's unit holding a string longer than the column it would fill: refused whole, naming the
field and its limit, on every database, while the other units of the same push are applied.

Such a value used to reach an insert: PostgreSQL's DataError escaped the inbox's per-unit refusal,
so the whole push failed with a 500 (and the partner's outbox, retrying it, stalled behind it),
while SQLite stored the value whole.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tearline import clock
from tearline.audit import log
from tearline.db.federation_tables import Received, ReceivedRelease
from tearline.db.models import Grant
from tearline.db.release_tables import Consent, ConsentRequest, OutboxMessage
from tearline.federation.auth import NodeAuth
from tearline.federation.collections import inbox_id
from tearline.federation.feed import unit_for
from tearline.federation.peers import add_peer
from tearline.federation.seal import Unit, canonical, seal_unit, unsigned
from tearline.fixtures import build_demo
from tearline.node import Node
from tearline.web.app import create_app
from tests.conftest import Templates
from tests.release.support import cheap_passwords, mex_node, release_convoy_to_mexico

LONG = "x" * 300
SENDER = ("USA", "US-DEMO-NARC")
TAXII = "application/taxii+json;version=2.1"


@dataclass
class World:
    us: Node
    mex: Node
    release: Unit  # the genuine release unit the US node sends to MEX
    client: TestClient

    def push(self, *units: Unit) -> dict[str, Any]:
        objects = [o for unit in units for o in (*unit.objects, unit.seal)]
        url = f"/taxii2/tearline/collections/{inbox_id('MEX', 'MX-DEMO-FIA')}/objects/"
        headers = {"Content-Type": TAXII, "Accept": TAXII}
        answer = self.client.post(
            url, json={"objects": objects}, headers=headers, auth=NodeAuth("USA", self.us.signing_key())
        )
        assert answer.status_code == 202, answer.text
        status: dict[str, Any] = answer.json()
        return status

    def count(self, model: Any) -> int:
        with self.mex.db.read() as session:
            return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def world(
    node: Node, backend: str, templates: Templates, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    cheap_passwords(monkeypatch)
    demo = build_demo(node)
    mex = mex_node(backend, templates, tmp_path)
    with node.db.write() as session:
        add_peer(session, node, "MEX", "MX-DEMO-FIA", "http://127.0.0.1:9", log.verifier_key(mex))
    with mex.db.write() as session:
        add_peer(session, mex, "USA", "US-DEMO-NARC", "http://127.0.0.1:9", log.verifier_key(node))
    release_convoy_to_mexico(node, demo)
    with node.db.read() as session:
        message = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "release"))
        assert message is not None
        unit = unit_for(node, message)
    yield World(node, mex, unit, TestClient(create_app(mex)))
    mex.close()


def _sealed(world: World, kind: str, payload: dict[str, Any], objects: list[dict[str, Any]] | None = None) -> Unit:
    at = clock.stix_timestamp(clock.now())
    return seal_unit(world.us.signing_key(), SENDER, "MEX", kind, payload, objects or [], at, f"long-{kind}")


def _resealed(world: World, unit: Unit, **changes: Any) -> Unit:
    """The unit with its seal changed, signed again by the US node: a partner's own (faulty) word."""
    seal = {**unsigned(unit.seal), **changes}
    seal["signature"] = base64.b64encode(world.us.signing_key().sign(canonical(seal))).decode()
    return Unit(seal, unit.objects)


def _consent_request(world: World, **changes: Any) -> Unit:
    payload: dict[str, Any] = {
        "id": "consent-request--8b0a3f64-1c49-4f0e-9d55-2f5b7a1c9e01",
        "requester": {"nation": "USA", "agency": "US-DEMO-NARC"},
        "grantor": {"nation": "MEX", "agency": "MX-DEMO-FIA"},
        "recipient": {"nation": "CAN", "agency": "CA-DEMO-BORDER"},
        "item_hashes": ["ab" * 32],
        "purpose": "Onward release to the Canadian border agency",
    }
    for path, value in changes.items():
        _set(payload, path, value)
    return _sealed(world, "consent-request", payload)


def _release(world: World, **changes: Any) -> Unit:
    payload = copy.deepcopy(world.release.payload)
    for path, value in changes.items():
        _set(payload, path, value)
    return _sealed(world, "release", payload, world.release.objects)


def _consent_answer(world: World, **changes: Any) -> Unit:
    """A grant answering a request the MEX node sent to the US node (filed here by hand)."""
    request_id = "consent-request--5d2c7e10-3a8b-4c61-b0f2-7e9a4d6c1b23"
    with world.mex.db.write() as session:
        session.add(
            ConsentRequest(
                id=request_id, direction="out", requester_nation="MEX", requester_agency="MX-DEMO-FIA",
                grantor_nation="USA", grantor_agency="US-DEMO-NARC", recipient_nation="CAN",
                recipient_agency=None, item_hashes=["cd" * 32], purpose="Onward", created_at=clock.now(),
            )
        )  # fmt: skip
    body: dict[str, Any] = {
        "id": "consent--0e6f1a2b-7c3d-4e5f-8a9b-0c1d2e3f4a5b",
        "grantor": {"nation": "USA", "agency": "US-DEMO-NARC"},
        "recipient": {"nation": "CAN", "agency": None},
        "item_hashes": ["cd" * 32],
        "purpose": "Onward",
        "expires_at": clock.stix_timestamp(clock.now() + timedelta(days=365)),
        "request": request_id,
    }
    for path, value in changes.items():
        _set(body, path, value)
    signature = base64.b64encode(world.us.signing_key().sign(canonical(body))).decode()
    payload = {"request": request_id, "answer": "granted", "consent": body, "signature": signature}
    return _sealed(world, "consent-answer", payload)


def _set(payload: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split("__")
    for key in parents:
        payload = payload[key]
    payload[last] = value


Build = Callable[[World], Unit]
# (the faulty unit, the field its refusal names, the column's limit, the tables it must leave untouched)
CASES: list[tuple[str, Build, str, int, tuple[Any, ...]]] = [
    ("seal id", lambda w: _resealed(w, _consent_request(w), id=f"x-tearline-seal--{LONG}"), "seal.id", 96,
     (Received, ConsentRequest)),
    ("seal version", lambda w: _resealed(w, _consent_request(w), modified=LONG), "seal.modified", 40,
     (Received, ConsentRequest)),
    ("consent request id", lambda w: _consent_request(w, id=LONG), "id", 64, (Received, ConsentRequest)),
    ("requester agency", lambda w: _consent_request(w, requester__agency=LONG), "requester.agency", 64,
     (Received, ConsentRequest)),
    ("grantor agency", lambda w: _consent_request(w, grantor__agency=LONG), "grantor.agency", 64,
     (Received, ConsentRequest)),
    ("recipient nation", lambda w: _consent_request(w, recipient__nation="CANADA"), "recipient.nation", 3,
     (Received, ConsentRequest)),
    ("recipient agency", lambda w: _consent_request(w, recipient__agency=LONG), "recipient.agency", 64,
     (Received, ConsentRequest)),
    ("release id", lambda w: _release(w, release__id=LONG), "release.id", 64, (Received, ReceivedRelease, Grant)),
    ("release recipient agency", lambda w: _release(w, release__recipient__agency=LONG),
     "release.recipient.agency", 64, (Received, ReceivedRelease, Grant)),
    ("item hash", lambda w: _release(w, items__title="f" * 300), "items.title", 64,
     (Received, ReceivedRelease, Grant)),
    ("consent id", lambda w: _consent_answer(w, id=LONG), "consent.id", 64, (Received, Consent, Grant)),
    ("consent recipient nation", lambda w: _consent_answer(w, recipient__nation="CANADA"),
     "consent.recipient.nation", 3, (Received, Consent, Grant)),
    ("consent grantor agency", lambda w: _consent_answer(w, grantor__agency=LONG), "consent.grantor.agency", 64,
     (Received, Consent, Grant)),
]  # fmt: skip


@pytest.mark.parametrize(("build", "field", "limit", "tables"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_an_over_long_value_from_a_partner_is_refused_whole_and_the_rest_of_the_push_applies(
    world: World, build: Build, field: str, limit: int, tables: tuple[Any, ...]
) -> None:
    faulty = build(world)
    before = {model: world.count(model) for model in tables}

    status = world.push(faulty, world.release)

    failure = next(f for f in status["failures"] if f["id"] == str(faulty.seal["id"]))
    assert f"{field}: must be at most {limit} characters" in failure["message"], failure
    assert world.release.seal["id"] in {s["id"] for s in status["successes"]}, status
    genuine = {Received: 1, ReceivedRelease: 1, Grant: len(world.release.payload["items"])}
    after = {model: world.count(model) for model in tables}
    assert after == {model: before[model] + genuine.get(model, 0) for model in tables}
