"""`tearline migrate`: a node made by an older tearline is refused until its schema is brought up."""

from __future__ import annotations

from alembic import command
from typer.testing import CliRunner

from tearline.cli.main import app
from tearline.db.migrate import alembic_config, pending_revisions, schema_revisions, upgrade
from tearline.node import Node

RUNNER = CliRunner()


def test_an_older_schema_is_refused_until_migrated(node: Node) -> None:
    data = str(node.data_dir)
    _, heads = schema_revisions(node.db.engine)
    command.downgrade(alembic_config(node.db.url), "0007")  # as a node made before migration 0008

    refused = RUNNER.invoke(app, ["peer", "list", "--data", data])
    assert refused.exit_code == 2
    assert "at revision 0007" in refused.output and f"tearline migrate --data {data}" in " ".join(
        refused.output.split()
    )

    migrated = RUNNER.invoke(app, ["migrate", "--data", data])
    assert migrated.exit_code == 0, migrated.output
    assert "(was 0007)" in migrated.output
    # Each migration applied is named as it lands (a large audit log's 0010 takes a while).
    for revision in ("0008", "0009", "0010", "0011", "0012", "0013", "0014"):
        assert f"applied {revision}: " in migrated.output
    assert schema_revisions(node.db.engine) == (heads, heads)
    assert RUNNER.invoke(app, ["peer", "list", "--data", data]).exit_code == 0


def test_migrating_a_current_node_changes_nothing(node: Node) -> None:
    before = schema_revisions(node.db.engine)
    result = RUNNER.invoke(app, ["migrate", "--data", str(node.data_dir)])
    assert result.exit_code == 0, result.output
    assert "(was" not in result.output and "applied" not in result.output
    assert schema_revisions(node.db.engine) == before


def test_an_upgrade_is_told_each_migration_it_applies(node: Node) -> None:
    config = alembic_config(node.db.url)
    command.downgrade(config, "0008")
    assert set(pending_revisions(config)) == {"0009", "0010", "0011", "0012", "0013", "0014"}
    told: list[tuple[str, int, int]] = []
    upgrade(node.db.url, lambda what, done, total: told.append((what[:4], done, total)))
    assert sorted(told) == [
        ("0009", 1, 6),
        ("0010", 2, 6),
        ("0011", 3, 6),
        ("0012", 4, 6),
        ("0013", 5, 6),
        ("0014", 6, 6),
    ]
    assert pending_revisions(config) == []
