"""The page and the count computed by per-item Cedar decisions over the same portion rows.

Rows are read in id order, as the SQL page reads them, and each one is decided by the Cedar
policy of `tearline.policy.cedar_rules` with reused PolicySet and Entities handles, in batches.
Each marking's Cedar attributes are serialised once (the Cedar side's analogue of an audience).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tearline.db.models import Portion
from tearline.markings.marking import Marking
from tearline.markings.scheme import EquivalenceTable
from tearline.markings.visibility import Viewer
from tearline.policy.cedar_rules import CedarPrincipal, CedarVisibility

COUNT_BATCH = 2_000
PAGE_FETCH = 500
MIN_PAGE_BATCH = 16


class CedarBaseline:
    """Per-item Cedar decisions over portion rows, for one node."""

    def __init__(self, node_nation: str, table: EquivalenceTable, markings: dict[int, Marking]) -> None:
        self.rules = CedarVisibility(node_nation, table)
        self.attrs = {mid: self.rules.item_attrs_json(m) for mid, m in markings.items()}
        self.decisions = 0

    def principal(self, username: str, viewer: Viewer) -> CedarPrincipal:
        return self.rules.principal(username, viewer)

    def _decide(self, principal: CedarPrincipal, rows: Sequence[tuple[int, int]]) -> list[bool]:
        self.decisions += len(rows)
        return self.rules.decide_batch(principal, [(str(pid), self.attrs[mid]) for pid, mid in rows])

    def page(self, session: Session, principal: CedarPrincipal, limit: int, after_id: int = 0) -> list[int]:
        """Walk rows after `after_id` in id order, deciding each, until `limit` are allowed."""
        found: list[int] = []
        cursor = after_id
        while len(found) < limit:
            query = select(Portion.id, Portion.marking_id).where(Portion.id > cursor).order_by(Portion.id)
            rows = [(pid, mid) for pid, mid in session.execute(query.limit(PAGE_FETCH))]
            if not rows:
                break
            found += self._allowed_until(principal, rows, limit - len(found))
            cursor = rows[-1][0]
        return found[:limit]

    def _allowed_until(self, principal: CedarPrincipal, rows: list[tuple[int, int]], wanted: int) -> list[int]:
        # Batches sized to what is still missing, so that few rows past the page's end are decided.
        found: list[int] = []
        start = 0
        while start < len(rows) and len(found) < wanted:
            batch = rows[start : start + max(wanted - len(found), MIN_PAGE_BATCH)]
            found += [pid for (pid, _), ok in zip(batch, self._decide(principal, batch), strict=True) if ok]
            start += len(batch)
        return found

    def count(self, session: Session, principal: CedarPrincipal) -> int:
        """Decide every row; the number allowed."""
        query = select(Portion.id, Portion.marking_id).order_by(Portion.id)
        result = session.execute(query, execution_options={"yield_per": COUNT_BATCH})
        return sum(self._count_batch(principal, part) for part in result.partitions())

    def _count_batch(self, principal: CedarPrincipal, rows: Iterable[tuple[int, int]]) -> int:
        return sum(self._decide(principal, [(pid, mid) for pid, mid in rows]))
