"""Plain helpers for API tests: log-ins, tokens, request bodies, row counts and error shapes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tearline import clock
from tearline.db.models import MarkingRow, Portion, Principal, Report, ReportVersion, StixObject
from tearline.fixtures import WORKSPACE, Demo
from tearline.node import Node
from tearline.store import principals
from tearline.store.principals import issue_token

MISSING_REPORT = "report--00000000-0000-4000-8000-000000000000"
QUICK_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def quick_settings(patch: pytest.MonkeyPatch) -> None:
    """Cheaper, not different: argon2id at its lowest cost (the demo's eight log-ins cost ~2 s otherwise)."""
    patch.setattr(principals, "_hasher", QUICK_HASHER)


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    quick_settings(monkeypatch)
    yield


def login(client: TestClient, username: str, password: str | None = None) -> dict[str, str]:
    """Log in through the API and return bearer headers; the session cookie is dropped on purpose."""
    response = client.post(
        "/api/login", json={"username": username, "password": password or Demo.passwords()[username]}
    )
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def token_headers(node: Node, username: str) -> dict[str, str]:
    """Bearer headers for an API token made by `issue_token` (what `user add --print-token` prints)."""
    with node.db.write() as session:
        principal = session.scalar(select(Principal).where(Principal.username == username))
        assert principal is not None
        return {"Authorization": f"Bearer {issue_token(session, principal)}"}


def marking(rel_to: list[str], level: str = "SECRET", agency: str = "US-DEMO-NARC", **extra: Any) -> dict[str, Any]:
    return {"originator": {"nation": "USA", "agency": agency}, "level": level, "rel_to": rel_to, **extra}


def report_body(texts: list[str] | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid API report body: title and portions REL TO USA, MEX, one person, in the demo workspace."""
    us_mx = marking(["USA", "MEX"])
    body: dict[str, Any] = {
        "title": {"text": "Cash couriers on the Nogales corridor", "marking": us_mx},
        "portions": [{"text": t, "marking": us_mx} for t in (texts or ["Couriers cross at Nogales on Fridays."])],
        "objects": [
            {
                "id": f"identity--{uuid.uuid4()}",
                "type": "identity",
                "name": "Evaristo Luján Carmona",
                "properties": {"name": "Evaristo Luján Carmona", "identity_class": "individual"},
                "marking": us_mx,
            }
        ],
        "predicate": "Reasonable suspicion of bulk cash smuggling (fictional test case).",
        "review_due": iso(clock.now() + timedelta(days=365)),
        "workspace": WORKSPACE,
    }
    body.update(overrides)
    return body


def iso(moment: datetime) -> str:
    return clock.as_utc(moment).isoformat().replace("+00:00", "Z")


def row_counts(node: Node) -> dict[str, int]:
    """Rows of every table a report write touches."""
    with node.db.read() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Report, ReportVersion, Portion, StixObject, MarkingRow)
        }


def assert_error(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    """An error is JSON with a code and a message; a 422 lists problems, each with a field and a reason."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert isinstance(body.get("error"), str) and body["error"]
    assert isinstance(body.get("message"), str) and body["message"]
    if status == 422:
        assert body["problems"], body
        for problem in body["problems"]:
            assert problem["field"] and problem["reason"], problem
    if field is not None:
        assert field in [p["field"] for p in body["problems"]], body
    return body
