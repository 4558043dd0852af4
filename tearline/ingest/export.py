"""Everything a user may see, as one STIX 2.1 bundle."""

from __future__ import annotations

from typing import Any

from tearline import journal
from tearline.ingest.store import principal_named
from tearline.node import Node
from tearline.stix.encode import bundle_for
from tearline.store.reads import visible_reports


def export_bundle(node: Node, username: str) -> dict[str, Any]:
    """A bundle of every report `username` may see, as the read path shows it to them."""
    with node.db.write() as session:
        principal = principal_named(session, username, "user")
        reader = node.reader(principal, session)
        views = list(visible_reports(session, reader, node.table(session)))
        # An export is a read like any other: audited, in the same transaction.
        objects = [v.stix_id for v in views] + [o.stix_id for v in views for o in v.objects]
        journal.record(session, node, principal, "export", objects)
    workspaces = {v.stix_id: v.workspace for v in views if v.workspace}
    return bundle_for(views, node.config.nation, node.config.agency, workspaces)
