"""An export dates each report as STIX 2.1 §3.2 asks (SQLite and PostgreSQL): `created` is the same
for every version (the first the user could see), `modified` is the version exported."""

from __future__ import annotations

from datetime import timedelta

from tearline import clock
from tearline.fixtures import Demo
from tearline.ingest import export_bundle
from tearline.node import Node
from tests.federation.edits import edit_first_portion


def _convoy(node: Node, demo: Demo) -> dict[str, str]:
    bundle = export_bundle(node, "ana.analyst")
    return next(o for o in bundle["objects"] if o["id"] == demo.reports["convoy"])


def test_a_new_version_keeps_the_reports_created_and_moves_its_modified(node: Node, demo: Demo) -> None:
    first = _convoy(node, demo)
    assert first["created"] == first["modified"]

    edited_at = clock.now() + timedelta(hours=3)
    with clock.frozen_at(edited_at):
        edit_first_portion(node, demo.reports["convoy"])
    second = _convoy(node, demo)

    assert second["created"] == first["created"]
    assert second["modified"] == clock.stix_timestamp(edited_at) > first["modified"]
    assert second["published"] == second["modified"]
