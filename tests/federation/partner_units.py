"""A partner's pushes to the MEX node through its TAXII inbox, in process: the genuine release the US
node sends, and units of every kind built (and signed by the US node) with chosen faults."""

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
from tearline.db.release_tables import ConsentRequest, OutboxMessage
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

SENDER = ("USA", "US-DEMO-NARC")
TAXII = "application/taxii+json;version=2.1"
DROP = object()  # as a change's value: take the key out


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


def sealed(world: World, kind: str, payload: dict[str, Any], objects: list[dict[str, Any]] | None = None) -> Unit:
    at = clock.stix_timestamp(clock.now())
    return seal_unit(world.us.signing_key(), SENDER, "MEX", kind, payload, objects or [], at, f"faulty-{kind}")


def resealed(world: World, unit: Unit, **changes: Any) -> Unit:
    """The unit with its seal changed, signed again by the US node: a partner's own (faulty) word."""
    seal = unsigned(unit.seal)
    for path, value in changes.items():
        put(seal, path, value)
    seal["signature"] = base64.b64encode(world.us.signing_key().sign(canonical(seal))).decode()
    return Unit(seal, unit.objects)


def consent_request(world: World, **changes: Any) -> Unit:
    payload: dict[str, Any] = {
        "id": "consent-request--8b0a3f64-1c49-4f0e-9d55-2f5b7a1c9e01",
        "requester": {"nation": "USA", "agency": "US-DEMO-NARC"},
        "grantor": {"nation": "MEX", "agency": "MX-DEMO-FIA"},
        "recipient": {"nation": "CAN", "agency": "CA-DEMO-BORDER"},
        "item_hashes": ["ab" * 32],
        "purpose": "Onward release to the Canadian border agency",
    }
    for path, value in changes.items():
        put(payload, path, value)
    return sealed(world, "consent-request", payload)


def release(world: World, **changes: Any) -> Unit:
    payload = copy.deepcopy(world.release.payload)
    for path, value in changes.items():
        put(payload, path, value)
    return sealed(world, "release", payload, world.release.objects)


def consent_body(**changes: Any) -> dict[str, Any]:
    """A consent the US node grants (signed by `consent_answer`), answering a request MEX sent it."""
    body: dict[str, Any] = {
        "id": "consent--0e6f1a2b-7c3d-4e5f-8a9b-0c1d2e3f4a5b",
        "grantor": {"nation": "USA", "agency": "US-DEMO-NARC"},
        "recipient": {"nation": "CAN", "agency": None},
        "item_hashes": ["cd" * 32],
        "purpose": "Onward",
        "expires_at": clock.stix_timestamp(clock.now() + timedelta(days=365)),
        "request": REQUEST_ID,
    }
    for path, value in changes.items():
        put(body, path, value)
    return body


REQUEST_ID = "consent-request--5d2c7e10-3a8b-4c61-b0f2-7e9a4d6c1b23"


def consent_answer(world: World, payload_changes: dict[str, Any] | None = None, **changes: Any) -> Unit:
    """A grant answering a request the MEX node sent to the US node (filed here by hand); `changes`
    change the consent body (signed after), `payload_changes` the message around it."""
    with world.mex.db.write() as session:
        session.add(
            ConsentRequest(
                id=REQUEST_ID, direction="out", requester_nation="MEX", requester_agency="MX-DEMO-FIA",
                grantor_nation="USA", grantor_agency="US-DEMO-NARC", recipient_nation="CAN",
                recipient_agency=None, item_hashes=["cd" * 32], purpose="Onward", created_at=clock.now(),
            )
        )  # fmt: skip
    body = consent_body(**changes)
    signature = base64.b64encode(world.us.signing_key().sign(canonical(body))).decode()
    payload: dict[str, Any] = {"request": REQUEST_ID, "answer": "granted", "consent": body, "signature": signature}
    for path, value in (payload_changes or {}).items():
        put(payload, path, value)
    return sealed(world, "consent-answer", payload)


def recall(world: World, **changes: Any) -> Unit:
    payload: dict[str, Any] = {"release": world.release.payload["release"]["id"], "report": "report--x"}
    for path, value in changes.items():
        put(payload, path, value)
    return sealed(world, "recall", payload)


def consent_revoke(world: World, **changes: Any) -> Unit:
    payload: dict[str, Any] = {"consent": "consent--0e6f1a2b-7c3d-4e5f-8a9b-0c1d2e3f4a5b"}
    for path, value in changes.items():
        put(payload, path, value)
    return sealed(world, "consent-revoke", payload)


def put(payload: Any, path: str, value: Any) -> None:
    """Set (or, with DROP, take out) the value at `path`, its keys joined by `__` (`release__id`);
    a key of digits indexes a list."""
    *parents, last = path.split("__")
    for key in parents:
        payload = payload[int(key)] if key.isdigit() else payload[key]
    where: Any = int(last) if last.isdigit() else last
    if value is DROP:
        del payload[where]
    else:
        payload[where] = value


Build = Callable[[World], Unit]
