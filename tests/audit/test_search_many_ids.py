"""An auditor's search over an entry that names tens of thousands of objects (an ingest names
every object it stored) answers, on SQLite and on PostgreSQL. The check of what the auditor may
see put every id into one IN list, past the 32,766 parameters SQLite takes and the 65,535
PostgreSQL takes, and the search failed.
"""

from __future__ import annotations

from sqlalchemy import select

from tearline import journal
from tearline.audit.search import EntrySight, Query, search
from tearline.db.models import Principal
from tearline.node import Node
from tearline.store.principals import add_principal

IDS = [f"indicator--{i:08d}-0000-4000-8000-000000000000" for i in range(70_000)]


def test_a_search_over_an_entry_naming_70000_objects_answers(node: Node) -> None:
    with node.db.write() as session:
        add_principal(session, "ida.auditor", "USA", "US-DEMO-NARC", "SECRET", roles=["auditor"])
        journal.record(session, node, journal.NODE_ADMIN, "ingest", IDS)
    with node.db.read() as session:
        auditor = session.scalar(select(Principal).where(Principal.username == "ida.auditor"))
        assert auditor is not None
        session.expunge(auditor)
    reader = node.reader(auditor)
    with node.db.read() as session:
        hits = search(session, Query(actor=journal.NODE_ADMIN, action="ingest"), EntrySight(session, reader)).hits
    assert len(hits) == 1 and len(hits[0].event.objects) == len(IDS)  # names of nothing stored hide nothing
