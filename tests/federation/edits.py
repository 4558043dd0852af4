"""A report edit for tests: a new version whose first portion's text changed and nothing else."""

from __future__ import annotations

from tearline.node import Node
from tearline.store.content import version_content
from tearline.store.drafts import ObjectDraft, PortionDraft, ReportDraft
from tearline.store.reports import edit_report
from tests.release.support import p

EDIT = " (amended: the convoy left two hours later)"


def edit_first_portion(node: Node, report: str) -> None:
    """A new version of `report` whose first portion's text changed and nothing else."""
    with node.db.write() as session:
        content = version_content(session, report)
        title = next(i for i in content.items if i.kind == "title")
        portions = sorted((i for i in content.items if i.kind == "portion"), key=lambda i: i.position)
        objects = [i for i in content.items if i.kind == "object"]
        draft = ReportDraft(
            stix_id=report,
            title=PortionDraft(title.text, title.marking),
            portions=tuple(PortionDraft(i.text + (EDIT if n == 0 else ""), i.marking) for n, i in enumerate(portions)),
            objects=tuple(
                ObjectDraft(
                    i.stix_id or "", i.stix_type or "", dict(i.body), i.marking, name=i.text,
                    observed_at=i.observed_at, latitude=i.latitude, longitude=i.longitude,
                    source_ref=i.source_ref, target_ref=i.target_ref,
                )
                for i in objects
            ),
            predicate=content.predicate,
            need_to_know=content.need_to_know,
            review_due=content.review_due,
        )
        editor = p(session, "ana.analyst")
        edit_report(session, report, draft, editor, node.identity, node.registry(session), True)
