"""The `holdings` collection: everything the caller may read on this node, as STIX 2.1, read-only.

Objects and reports are rendered exactly as an export renders them. A collection must let a
consumer resolve every marking it serves, so each national marking-definition is placed just
before the first report version (in the caller's view) whose items use it, and tearline's own
definitions (identities, extension and TLP 2.0 definitions) before the caller's first version.
An object's `date_added` is the creation time of the report version that holds it, in the
caller's view of versions: a version that changed nothing the caller sees is none of theirs
(DESIGN §3.3), so a report and its objects stand, in order and in time, at the first version of
the run that looks the same to them (`tearline.store.held_runs`), and a hidden edit moves nothing
they are served. The order is the store's keyset order, so paging is stable while reports are
added. `created` is the same for every version of an object (a report's: the first version the
caller saw), and an object an edit left unchanged keeps its `modified` (STIX 2.1 §3.2).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tearline import clock
from tearline.db.federation_tables import Peer
from tearline.markings.scheme import EquivalenceTable
from tearline.stix import ids
from tearline.stix.checks import parse_stix_time
from tearline.stix.definitions import (
    extension_definition,
    marking_definition,
    node_identity,
    tearline_identity,
    tlp_definition,
)
from tearline.stix.objects import stix_object
from tearline.stix.reports import stix_report
from tearline.store import held_runs
from tearline.store import holdings as held
from tearline.store.held_runs import Standings
from tearline.store.holdings import Key, Selection
from tearline.store.reads import markings_by_id
from tearline.taxii.collections import AddResult, Caller, Collection, Filters, ObjectPage, TaxiiObject, register
from tearline.taxii.errors import BadRequest

DEFINITION_RANK = 0
# Every extension an object served here may use: markings, reports, persons, custom types.
HELD_EXTENSIONS = (ids.EXT_MARKING, ids.EXT_REPORT, ids.EXT_PERSON, *ids.NEW_SDO.values())
DEFINITION_TYPES = frozenset({"identity", "extension-definition", "marking-definition"})


def holdings_id(nation: str, agency: str) -> str:
    """The collection's id: the same on every start of the node, distinct between nodes."""
    return str(uuid.uuid5(ids.NAMESPACE, f"taxii-holdings:{nation}:{agency}"))


@dataclass(frozen=True)
class _Walk:
    """A page's reports and objects where they stand for the reader, and where the walk stopped."""

    units: list[_Entry]
    boundary: Key | None  # the first unit left for the next page, in the order of current versions
    examined: Key | None  # the last unit walked before it
    beyond: list[int]  # current versions past the boundary whose reports stand before it


@dataclass(frozen=True)
class _Entry:
    key: Key
    obj: TaxiiObject
    marking_id: int | None = None  # an object's, so that its definition need not be looked up again


def encode_cursor(key: Key) -> str:
    return f"{key.version_id}.{key.rank}.{key.stix_id}"


def decode_cursor(text: str | None) -> Key | None:
    """The position a `next` value names; anything this server could not have given is a 400, before
    it reaches a query (a number too large for the column failed there with a 500)."""
    if text is None:
        return None
    parts = text.split(".", 2)
    if len(parts) != 3 or not all(_digits(p) for p in parts[:2]):
        raise BadRequest(f"next {text!r} is not a page this server gave")
    version, rank = int(parts[0]), int(parts[1])
    # The id goes into a query as text: one longer than any stored id is no page of ours.
    if version > held.LAST_VERSION or rank > held.OBJECT_RANK or len(parts[2]) > 128:
        raise BadRequest(f"next {text!r} is not a page this server gave")
    return Key(version, rank, parts[2])


def _digits(text: str) -> bool:
    """ASCII digits only: int() also takes a sign, spaces, underscores and other scripts' digits,
    and refuses more than 4,300 of them with a ValueError, so the length is bounded first."""
    return text.isascii() and text.isdigit() and len(text) <= 12


class Holdings:
    """The node's own holdings, for its own principals (a partner node reads its feed instead)."""

    can_read = True
    can_write = False

    def __init__(self, caller: Caller) -> None:
        config = caller.node.config
        self.id = holdings_id(config.nation, config.agency)
        self.title = f"Holdings of {config.name}"
        self.description = "Every report and object you may read on this node, with its markings."
        self._nation, self._agency = config.nation, config.agency
        self._creator = ids.node_identity_id(config.nation, config.agency)

    def page(self, session: Session, caller: Caller, filters: Filters, limit: int, after: str | None) -> ObjectPage:
        cursor = decode_cursor(after)
        if filters.spec_versions and "2.1" not in filters.spec_versions:
            return ObjectPage([], False)
        standings = held_runs.Standings(session, caller.reader)
        # A walk can serve nothing and yet have more to walk: each unit it met stood, for this reader,
        # before the cursor (a version that changed nothing they see). An empty page that says `more`
        # would count those units for them, one page each (DESIGN §3.3), so the walk goes on here
        # until it serves something or reaches the end. The cursor moves forward on every walk.
        while True:
            kept, more, last = self._walk_once(session, caller, filters, limit, cursor, standings)
            if kept or not more or last is None or (cursor is not None and last <= cursor):
                break
            cursor = last
        next_cursor = encode_cursor(last) if more and last is not None else None
        return ObjectPage([e.obj for e in kept], more and next_cursor is not None, next_cursor)

    def _walk_once(
        self, session: Session, caller: Caller, filters: Filters, limit: int, cursor: Key | None, standings: Standings
    ) -> tuple[list[_Entry], bool, Key | None]:
        """One walk of up to `limit` units after the cursor: what it serves, whether more lies beyond,
        and where the next walk starts."""
        sel = Selection(filters.types, filters.ids, filters.added_after)
        walk = self._units(session, caller, sel, cursor, limit, standings)
        definitions = self._definitions(session, caller, filters, cursor, walk, standings)
        entries = sorted(walk.units + definitions, key=_key)
        entries = [e for e in entries if cursor is None or e.key > cursor]
        more = walk.boundary is not None or len(entries) > limit
        entries = entries[:limit]
        # With nothing left to serve (each unit walked stood before the cursor for this reader),
        # the walk still moves on: past the last unit walked, all before the boundary.
        last = entries[-1].key if entries else walk.examined
        return _versions(session, caller, entries, filters.versions, standings), more, last

    def add(self, session: Session, caller: Caller, envelope: dict[str, Any]) -> AddResult:
        raise NotImplementedError("the holdings collection is read-only")

    # -- reports and objects -------------------------------------------------------------------

    def _units(
        self, session: Session, caller: Caller, sel: Selection, cursor: Key | None, limit: int, standings: Standings
    ) -> _Walk:
        """Up to `limit` reports and objects after the cursor, each where it stands for the reader.

        The walk is in the order of current versions; a report whose last versions changed nothing
        the reader sees stands at the first version of that run (`tearline.store.held_runs`), so it
        may move back into this page from past its end (`spanning`), or back before the cursor,
        where it was served already.
        """
        reader = caller.reader
        objects = held.held_objects(session, reader, sel, cursor, limit + 1)
        until = objects[limit].key.version_id if len(objects) > limit else None
        reports = held.held_reports(session, reader, sel, cursor, limit + 1, until)
        merged: list[tuple[Key, Any]] = sorted(
            [(r.key, r) for r in reports] + [(o.key, o) for o in objects], key=lambda pair: pair[0]
        )
        boundary = merged[limit][0] if len(merged) > limit else None
        walked = merged[:limit]
        beyond: list[int] = []
        if boundary is not None:
            low = cursor.version_id if cursor is not None else 0
            moved = standings.of(held_runs.spanning(session, low, boundary.version_id))
            beyond = sorted(v for v, standing in moved.items() if standing.start < boundary.version_id)
            seen = {key for key, _ in walked}
            walked += [(r.key, r) for r in held_runs.reports_at(session, reader, sel, beyond) if r.key not in seen]
            walked += [(o.key, o) for o in held_runs.objects_at(session, reader, sel, beyond) if o.key not in seen]
        stand = standings.of({key.version_id for key, _ in walked})
        times = held.version_stamps(session, {key.version_id for key, _ in walked})
        table = caller.node.table(session) if walked else None
        out = [self._unit(session, caller, table, (key, item), stand[key.version_id], times) for key, item in walked]
        after = sel.added_after
        return _Walk(
            [e for e in out if after is None or e.obj.date_added > after],
            boundary,
            merged[limit - 1][0] if boundary is not None else None,
            beyond,
        )

    def _unit(
        self,
        session: Session,
        caller: Caller,
        table: EquivalenceTable | None,
        unit: tuple[Key, Any],
        standing: held_runs.Standing,
        times: dict[int, held.VersionTimes],
    ) -> _Entry:
        """One report or object where it stands for the reader, dated by the version it stands at."""
        key, item = unit
        stamps = times[key.version_id]
        place = Key(standing.start, key.rank, key.stix_id)
        if isinstance(item, held.HeldObject):
            created, modified = stamps.objects[key.stix_id]
            body = stix_object(item.view, clock.stix_timestamp(created), self._creator, clock.stix_timestamp(modified))
            return _Entry(place, TaxiiObject(key.stix_id, body["modified"], standing.start_at, body), item.marking_id)
        assert table is not None
        view = held.current_report_view(session, caller.reader, table, key.version_id)
        # Created when the reader first saw the report, modified when what they see of it last changed.
        seen = replace(stamps, created=standing.first_at, modified=standing.start_at)
        body = stix_report(view, self._creator, view.workspace, seen)
        return _Entry(place, TaxiiObject(key.stix_id, body["modified"], standing.start_at, body))

    # -- definitions ---------------------------------------------------------------------------

    def _definitions(
        self,
        session: Session,
        caller: Caller,
        filters: Filters,
        cursor: Key | None,
        walk: _Walk,
        standings: Standings,
    ) -> list[_Entry]:
        """Definitions placed between the cursor and the boundary, as the filters admit them."""
        if filters.types and not DEFINITION_TYPES & set(filters.types):
            return []
        reader = caller.reader
        first = self._first_version(session, filters, cursor)
        if first is None:
            return []
        last = walk.boundary.version_id if walk.boundary is not None else None
        # Without a type or id filter the page holds every visible object strictly inside the range:
        # only the two versions at its edges need their objects' markings read again.
        unfiltered = not filters.types and not filters.ids
        edges = {first} | ({last} if last is not None else set())
        stored = held.markings_used(session, reader, first, last, edges if unfiltered and last is not None else None)
        for version in walk.beyond:  # reports past the range that stand inside it for this reader
            stored |= held.markings_used(session, reader, version, version, None)
        used = _where_they_stand(stored, standings, first)
        if unfiltered:
            used |= {(e.key.version_id, e.marking_id) for e in walk.units if e.marking_id is not None}
        if not used:
            return []
        start = min(v for v, _ in used)
        seen = held.markings_seen_before(session, reader, start, {m for _, m in used})
        prelude = not seen and self._is_first(session, caller, filters, cursor, start)
        fresh: dict[int, set[int]] = {}
        for version, marking in sorted(used):
            if marking not in seen:
                seen.add(marking)
                fresh.setdefault(version, set()).add(marking)
        wanted = {m for ms in fresh.values() for m in ms}
        markings = markings_by_id(session, wanted) if wanted else {}
        times = held.version_times(session, [*fresh, start])
        out: list[_Entry] = []
        if prelude:  # in a fixed order: identities before the definitions they create
            out += [self._definition(start, times[start], f"0{i:02d}", b) for i, b in enumerate(self._prelude())]
        for version, marking_ids in fresh.items():
            for marking_id in marking_ids:
                body = marking_definition(markings[marking_id])
                out.append(self._definition(version, times[version], f"1{body['id']}", body))
        return [e for e in out if _admitted(e.obj, filters)]

    def _first_version(self, session: Session, filters: Filters, cursor: Key | None) -> int | None:
        if cursor is not None:
            return cursor.version_id
        if filters.added_after is not None:
            return held.first_version_after(session, filters.added_after)
        return 0

    def _is_first(self, session: Session, caller: Caller, filters: Filters, cursor: Key | None, start: int) -> bool:
        """Is `start` the caller's first version? (It is when reading from the very beginning.)"""
        if cursor is None and filters.added_after is None:
            return True
        first = held.first_visible_version(session, caller.reader)
        return held_runs.first_in_view(session, caller.reader, first) == start

    def _prelude(self) -> list[dict[str, Any]]:
        return [
            tearline_identity(),
            node_identity(self._nation, self._agency),
            *[extension_definition(e) for e in HELD_EXTENSIONS],
            *[tlp_definition(name) for name in ids.TLP2_IDS],
        ]

    @staticmethod
    def _definition(version: int, added: Any, place: str, body: dict[str, Any]) -> _Entry:
        """A definition's key sorts by `place` among the definitions of its version."""
        modified = body.get("modified", body["created"])
        return _Entry(Key(version, DEFINITION_RANK, place), TaxiiObject(body["id"], modified, added, body))


def _key(entry: _Entry) -> Key:
    return entry.key


def _admitted(obj: TaxiiObject, filters: Filters) -> bool:
    if filters.types and obj.body["type"] not in filters.types:
        return False
    if filters.ids and obj.stix_id not in filters.ids:
        return False
    return filters.added_after is None or obj.date_added > filters.added_after


def _where_they_stand(stored: set[tuple[int, int]], standings: Standings, first: int) -> set[tuple[int, int]]:
    """(version, marking) pairs of stored rows moved to where their report stands for the reader;
    a pair whose report stands before `first` was placed on an earlier page."""
    stand = standings.of({v for v, _ in stored})
    moved = {(stand[v].start if v in stand else v, m) for v, m in stored}
    return {(v, m) for v, m in moved if v >= first}


def _versions(
    session: Session, caller: Caller, entries: list[_Entry], versions: tuple[str, ...], standings: Standings
) -> list[_Entry]:
    """TAXII `match[version]`: an object held in several reports has one version per report."""
    if "all" in versions:
        return entries
    objects = [e.obj.stix_id for e in entries if e.key.rank == held.OBJECT_RANK]
    copies = held.other_copies(session, caller.reader, objects) if objects else {}
    stand = standings.of({v for found in copies.values() for v in found})
    placed = {i: [stand[v].start if v in stand else v for v in found] for i, found in copies.items()}
    return [e for e in entries if _wanted(e, placed.get(e.obj.stix_id, [e.key.version_id]), versions)]


def _wanted(entry: _Entry, copies: list[int], versions: tuple[str, ...]) -> bool:
    here = entry.key.version_id
    return (
        ("last" in versions and here == max(copies))
        or ("first" in versions and here == min(copies))
        or _instant(entry.obj.modified) in {_instant(v) for v in versions}
    )


def _instant(text: str) -> datetime | str:
    """A version as an instant, so that two spellings of one time match; `first` and the like stay."""
    return parse_stix_time(text) or text


def holdings_for(session: Session, caller: Caller) -> list[Collection]:
    """Every principal of the node sees the holdings collection; a partner node's account does not."""
    is_peer = session.scalar(select(Peer.nation).where(Peer.principal_id == caller.principal.id))
    return [] if is_peer else [Holdings(caller)]


register(holdings_for)
