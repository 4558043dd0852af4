"""`tearline resolve-train`: the command an operator runs to train and keep the node's model."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tearline.audit.search import Query, search
from tearline.cli.main import app
from tearline.errors import NotFound
from tearline.fixtures import WORKSPACE
from tearline.node import SERVICE_ACCOUNT, Node
from tearline.resolve import arrivals, bench, incremental
from tests.web.support import login, report_body
from tests.web.test_resolve_api import _person

RUNNER = CliRunner()


def test_resolve_train_keeps_a_model_and_resolves_the_persons_that_waited(node: Node, client: TestClient) -> None:
    ana = login(client, "ana.analyst")
    people = [
        _person(r.raw.get("full_name") or f"{r.raw.get('given_names', '')} {r.raw.get('surname', '')}",
                ["USA", "MEX"], phones=r.raw.get("phones", ""), dob=r.dob.iso() if r.dob else "",
                national_id=r.national_id or "")
        for r in bench.spanish(families=20, seed=5).records
    ]  # fmt: skip
    assert (
        client.post("/api/reports", json=report_body(objects=people, workspace=WORKSPACE), headers=ana).status_code
        == 201
    )
    assert arrivals.drain(node).waiting >= len(people)  # no model yet: the persons wait

    result = RUNNER.invoke(app, ["resolve-train", "--data", str(node.data_dir)])

    assert result.exit_code == 0, result.output
    with node.db.read() as session:
        model_id = incremental.kept_model_id(session)
        hits = search(session, Query(actor=SERVICE_ACCOUNT, action="entity.train", limit=10)).hits
    assert f"kept model {model_id}: trained on " in result.output
    assert "resolved " in result.output  # the arrivals that waited, right after
    assert [h.event.objects for h in hits] == [(f"model:{model_id}",)]
    assert arrivals.drain(node).waiting == 0


def test_resolve_train_on_too_few_persons_says_why_and_keeps_nothing(node: Node) -> None:
    result = RUNNER.invoke(app, ["resolve-train", "--data", str(node.data_dir)])

    assert result.exit_code != 0
    assert "persons" in result.output and "training needs at least" in result.output
    assert "the node holds 0" in result.output  # the operator, who reads the whole store, is told how many
    with node.db.read() as session, pytest.raises(NotFound):
        incremental.kept_model_id(session)



def test_arrivals_left_waiting_are_counted_in_words_that_agree(
    node: Node, client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    from tearline.cli.resolve import _counted, resolve_arrivals

    assert _counted(1, "person waits", "persons wait") == "1 person waits"
    assert _counted(0, "decision", "decisions") == "0 decisions"
    ana = login(client, "ana.analyst")
    person = _person("Rosalba Quintero Ibarra", ["USA", "MEX"], dob="1979-02-11")
    assert client.post("/api/reports", json=report_body(objects=[person], workspace=WORKSPACE),
                       headers=ana).status_code == 201

    resolve_arrivals(node)  # no model yet: the persons wait (this one and the node's own)

    out = " ".join(capsys.readouterr().out.split())
    waiting = re.search(r"; (\d+) (person waits|persons wait) for a model", out)
    assert waiting is not None, out
    assert (waiting.group(1) == "1") == (waiting.group(2) == "person waits")
