"""Tearline generation: what of a report version may go to a recipient, and what stays home.

The keep rule per item is `tearline.markings.release.release_rule`; this module applies it to a
whole version, withholds relationships whose ends stay home, replaces source-sensitive fields
by the source grade, renumbers what is kept, and rolls the tearline's own banner up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tearline.errors import InvalidInput, Problem
from tearline.markings.banner import render, roll_up
from tearline.markings.marking import Marking, Registry
from tearline.markings.release import Maker, Recipient, Withheld, consents_covering, release_rule
from tearline.markings.scheme import EquivalenceTable
from tearline.markings.visibility import Cover
from tearline.store.content import VersionContent, VersionItem

RELATIONSHIP_END = "relationship-end-withheld"


class TearlineRefused(InvalidInput):
    """No tearline can be made; the reason says why (empty, or a source without a grade)."""

    code = "tearline_refused"


@dataclass(frozen=True)
class KeptItem:
    kind: str  # title, portion or object
    number: int  # renumbered among kept items of its kind (objects keep their STIX id)
    original_position: int
    hash: str
    marking: Marking
    text: str
    stix_id: str | None = None
    stix_type: str | None = None
    body: dict[str, Any] = field(default_factory=dict)
    source_ref: str | None = None
    target_ref: str | None = None
    observed_at: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class WithheldItem:
    kind: str
    position: int
    hash: str
    rule: str
    stix_id: str | None = None


@dataclass(frozen=True)
class Tearline:
    report: str
    version: int
    recipient: Recipient
    kept: tuple[KeptItem, ...]
    withheld: tuple[WithheldItem, ...]
    banner: str
    level: int
    consents_used: tuple[Cover, ...]
    predicate: str = ""
    review_due: datetime | None = None

    @property
    def kept_hashes(self) -> list[str]:
        return [k.hash for k in self.kept]

    @property
    def empty(self) -> bool:
        """Nothing but (at most) the title would leave: such a tearline is never released."""
        return not [k for k in self.kept if k.kind != "title"]

    @property
    def earliest_consent_expiry(self) -> datetime | None:
        return min((c.expires_at for c in self.consents_used), default=None)


@dataclass(frozen=True)
class TearlineContext:
    maker: Maker
    registry: Registry
    table: EquivalenceTable
    consents: tuple[Cover, ...]
    now: datetime
    # The releases that delivered received items here (DESIGN §3.3 rule 5): a received item is
    # live, and so may leave, only while one of them is unrecalled and unexpired.
    deliveries: tuple[Cover, ...] = ()


def tearline_for(
    content: VersionContent, recipient: Recipient, ctx: TearlineContext, *, allow_empty: bool = False
) -> Tearline:
    """The tearline of one report version for one recipient (DESIGN §3.5).

    An empty tearline is refused; `allow_empty` returns it instead (with no banner), so that the
    holder can see what is withheld and ask the originators for consent. It is never released.
    """
    if recipient.nation == ctx.maker.nation:
        raise TearlineRefused(Problem("recipient.nation", "sharing within one nation is not a release"))
    covers = _CoverIndex(ctx.consents + ctx.deliveries)
    decisions = {id(item): _decide(item, recipient, ctx, content.version_id, covers) for item in content.items}
    _withhold_dangling_relationships(content.items, decisions)
    kept_items = [item for item in content.items if decisions[id(item)][0] is None]
    withheld = tuple(
        WithheldItem(i.kind, i.position, i.hash, str(decisions[id(i)][0]), i.stix_id)
        for i in content.items
        if decisions[id(i)][0] is not None
    )
    empty = not [i for i in kept_items if i.kind != "title"]
    if empty and not allow_empty:
        raise TearlineRefused(nothing_leaves(recipient, withheld))
    kept = _renumber(kept_items)
    used = {id(c): c for item in kept_items for c in decisions[id(item)][1]}
    rolled = roll_up([k.marking for k in kept], ctx.maker.nation, ctx.table) if kept else None
    ours = _record_is_ours(content, ctx.maker.nation)
    return Tearline(
        report=content.stix_id,
        version=content.number,
        recipient=recipient,
        kept=kept,
        withheld=withheld,
        banner=render(rolled, ctx.maker.nation, ctx.table) if rolled else "",
        level=rolled.common_level if rolled else -1,
        # The record's own fields are unmarked text of whoever made the record: a partner's predicate
        # and review date are not among the hashes a consent covers, so they never go on (third-party rule).
        predicate=content.predicate if ours else "",
        review_due=content.review_due if ours else None,
        consents_used=tuple(used.values()),
    )


def _record_is_ours(content: VersionContent, nation: str) -> bool:
    """Whether the record (its title, predicate and review date) was made by this node's nation."""
    title = next((i for i in content.items if i.kind == "title"), None)
    return title is not None and not title.received and title.marking.originator_nation == nation


def recipient_name(recipient: Recipient) -> str:
    return f"{recipient.nation}/{recipient.agency}" if recipient.agency else recipient.nation


def nothing_leaves(recipient: Recipient, withheld: Iterable[WithheldItem]) -> Problem:
    """Why an empty tearline is refused (DESIGN §3.5): the recipient, and the rules that keep the items
    home with how many each keeps. Give only the withheld items the reader may see."""
    counts = Counter(w.rule for w in withheld)
    why = ", ".join(f"{rule} ({n} {'item' if n == 1 else 'items'})" for rule, n in sorted(counts.items()))
    reason = f"nothing of this report may go to {recipient_name(recipient)}"
    return Problem("recipient", f"{reason}: withheld by {why}" if why else reason)


class _CoverIndex:
    """Consents and deliveries by the item hash or version they name, so that each item looks only at its own."""

    def __init__(self, covers: Iterable[Cover]) -> None:
        self.by_hash: dict[str, list[Cover]] = {}
        self.by_version: dict[int, list[Cover]] = {}
        for cover in covers:
            if cover.item_hash is not None:
                self.by_hash.setdefault(cover.item_hash, []).append(cover)
            if cover.version_id is not None:
                self.by_version.setdefault(cover.version_id, []).append(cover)

    def naming(self, item_hash: str, version_id: int) -> list[Cover]:
        found = self.by_hash.get(item_hash, []) + self.by_version.get(version_id, [])
        return list({id(c): c for c in found}.values())  # a cover naming both is one cover


def _decide(
    item: VersionItem, recipient: Recipient, ctx: TearlineContext, version_id: int, index: _CoverIndex
) -> tuple[str | None, list[Cover]]:
    covers = index.naming(item.hash, version_id)
    if item.withdrawn or (item.received and not _delivered_live(item, covers, ctx.now, version_id)):
        return str(Withheld.NOT_LIVE), []
    covering = consents_covering(covers, item.marking, recipient, item.hash, version_id, ctx.now)
    rule = release_rule(item.marking, recipient, ctx.maker, ctx.registry, ctx.table, covering)
    if rule is not None:
        return str(rule), []
    if item.marking.originator_nation != ctx.maker.nation:
        return None, covering  # the third-party rule: every covering consent of the originator is used
    if "ORCON" in item.marking.controls and item.marking.originator_agency != ctx.maker.agency:
        # ORCON alone: only the originator agency's consents naming an agency are used
        return None, [c for c in covering if c.grantor_agency == item.marking.originator_agency and c.agency]
    return None, []


def _delivered_live(item: VersionItem, covers: list[Cover], now: datetime, version_id: int) -> bool:
    return any(c.kind == "delivery" and c.live(now) and c.covers_item(item.hash, version_id) for c in covers)


def _withhold_dangling_relationships(
    items: list[VersionItem], decisions: dict[int, tuple[str | None, list[Cover]]]
) -> None:
    withheld_one = True
    while withheld_one:  # until no kept item refers to a withheld one (an end may itself have ends)
        withheld_one = False
        kept_ids = {i.stix_id for i in items if i.kind == "object" and decisions[id(i)][0] is None}
        for item in items:
            ends = [ref for ref in (item.source_ref, item.target_ref) if ref]
            if decisions[id(item)][0] is None and any(ref not in kept_ids for ref in ends):
                decisions[id(item)] = (RELATIONSHIP_END, [])
                withheld_one = True


def _renumber(items: Iterable[VersionItem]) -> tuple[KeptItem, ...]:
    out: list[KeptItem] = []
    counters = {"title": 0, "portion": 0, "object": 0}
    for item in items:
        counters[item.kind] += 1
        text, body = _without_source(item)
        out.append(
            KeptItem(
                item.kind,
                counters[item.kind],
                item.position,
                item.hash,
                item.marking,
                text,
                item.stix_id,
                item.stix_type,
                body,
                item.source_ref,
                item.target_ref,
            )
        )
    return tuple(out)


def _without_source(item: VersionItem) -> tuple[str, dict[str, Any]]:
    """Source-sensitive fields become the grade; with no grade there is no tearline."""
    marking = item.marking
    if not marking.source_fields:
        return item.text, dict(item.body)
    if not marking.source_grade:
        where = item.stix_id or f"{item.kind} {item.position}"
        raise TearlineRefused(Problem("source_grade", "a source-sensitive item without a source grade", item=where))
    grade = f"[source grade {marking.source_grade}]"
    body = {k: (grade if k in marking.source_fields else v) for k, v in item.body.items()}
    text = grade if {"text", "name"} & set(marking.source_fields) else item.text
    return text, body
