"""Everything a user may see, as one STIX 2.1 bundle."""

from __future__ import annotations

from typing import Any

from tearline import journal
from tearline.ingest.store import principal_named
from tearline.node import Node
from tearline.stix.encode import bundle_for
from tearline.store.reader_versions import visible_reports


def export_bundle(node: Node, username: str) -> dict[str, Any]:
    """A bundle of every report `username` may see, as the read path shows it to them."""
    with node.db.read() as session:
        principal = principal_named(session, username, "user")
    reader = node.reader(principal)
    with node.db.read() as session:
        views = list(visible_reports(session, reader, node.table(session)))
        objects = [v.stix_id for v in views] + [o.stix_id for v in views for o in v.objects]
        event = journal.event_of(session, node, principal, "export", objects)
    # An export is a read like any other: audited, and returned only once its entry is durable.
    journal.record_read(node, event)
    workspaces = {v.stix_id: v.workspace for v in views if v.workspace}
    return bundle_for(views, node.config.nation, node.config.agency, workspaces)
