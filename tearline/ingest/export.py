"""Everything a user may see, as one STIX 2.1 bundle."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tearline.db.models import Report, Workspace
from tearline.ingest.store import principal_named
from tearline.node import Node
from tearline.stix.encode import bundle_for
from tearline.store.reads import visible_reports


def export_bundle(node: Node, username: str) -> dict[str, Any]:
    """A bundle of every report `username` may see, as the read path shows it to them."""
    with node.db.read() as session:
        principal = principal_named(session, username, "user")
    reader = node.reader(principal)
    with node.db.read() as session:
        views = list(visible_reports(session, reader, node.table(session)))
        workspaces = _workspace_slugs(session, (v.stix_id for v in views))
    return bundle_for(views, node.config.nation, node.config.agency, workspaces)


def _workspace_slugs(session: Session, report_ids: Iterable[str]) -> dict[str, str]:
    # ReportView does not carry its workspace yet; this read belongs in tearline.store.reads.
    wanted = set(report_ids)
    rows = session.execute(select(Report.stix_id, Workspace.slug).join(Workspace, Report.workspace_id == Workspace.id))
    return {stix_id: slug for stix_id, slug in rows if stix_id in wanted}
