"""Items named by their hashes (what a consent request asks for), as the reader may see them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tearline.db.models import Portion, StixObject
from tearline.markings.marking import Marking
from tearline.store.filters import Reader, object_visible, portion_visible
from tearline.store.reads import markings_by_id, markings_hiding_source, portion_text, source_withheld


@dataclass(frozen=True)
class NamedItem:
    hash: str
    kind: str  # "portion" or "object"
    text: str
    marking: Marking


def items_by_hash(session: Session, reader: Reader, hashes: Sequence[str]) -> list[NamedItem]:
    """The current items with these hashes that the reader may see; hidden ones are simply absent."""
    wanted = list(dict.fromkeys(hashes))
    if not wanted:
        return []
    portions = session.execute(
        select(Portion.hash, Portion.text, Portion.marking_id).where(Portion.hash.in_(wanted), portion_visible(reader))
    ).all()
    objects = session.execute(
        select(StixObject.hash, StixObject.name, StixObject.marking_id).where(
            StixObject.hash.in_(wanted), object_visible(reader, StixObject)
        )
    ).all()
    ids = {m for _, _, m in portions} | {m for _, _, m in objects}
    markings = markings_by_id(session, ids)
    hidden = markings_hiding_source(session, reader, ids)
    found = [NamedItem(h, "portion", portion_text(t, markings[m], m in hidden), markings[m]) for h, t, m in portions]
    for h, name, m in objects:
        shown = (
            source_withheld(markings[m].source_grade) if m in hidden and "name" in markings[m].source_fields else name
        )
        found.append(NamedItem(h, "object", shown, markings[m]))
    order = {h: i for i, h in enumerate(wanted)}
    return sorted(found, key=lambda item: order[item.hash])
