"""The audit log's Merkle tree in the node's database (tables in `tearline.db.audit_tables`).

Appending takes the one-row head: `SELECT ... FOR UPDATE` on PostgreSQL; on SQLite a writer
already holds the database's write lock from `BEGIN IMMEDIATE` (`Database.write()`). The index of
the new leaf is the head's size, never a sequence value: sequences skip numbers when a transaction
aborts, and a Merkle log has no holes. Everything an append writes goes into the caller's
transaction, so an entry commits with the action it records or not at all.

The head keeps the frontier (the right-edge complete subtrees), so an append reads one row and
writes the leaf, the nodes it completes (one on average) and the head. On PostgreSQL all of that
is one statement after the head's `SELECT ... FOR UPDATE`: two round trips, however many entries.
Proofs first work out which complete subtrees they need, then fetch them all in one query.

The search rows (`audit_actor`, `audit_object`) are written in batches. Each append's leaf, nodes
and head go at the end of their tables, a page or two for a whole group; an actor or object row
goes wherever that actor or object sorts, about one page write an entry. So an append leaves
them out until INDEX_BATCH entries wait, and the append that reaches it writes the rows of every
waiting entry, sorted, in its own transaction: many entries share each page. `audit_head.indexed`
says how many entries the search tables cover; a search reads the newer ones from `audit_leaf`
(see `tearline.audit.search`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

import orjson
from sqlalchemy import Connection, Table, insert, select
from sqlalchemy.orm import Session

from tearline.audit.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    HashSource,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    tree_root,
)
from tearline.audit.pg_arrays import PgArray, bytea_array, int8_array, text_array
from tearline.clock import as_utc
from tearline.db.audit_tables import HEAD_ID, AuditHead, AuditLeaf, AuditNode
from tearline.errors import NotFound, TearlineError

T = TypeVar("T")
_LEVEL_BITS = 6
_ZERO = bytes(HASH_SIZE)
# Core tables, not ORM entities: appends and proofs are a few statements each, and the ORM's
# per-statement bookkeeping would cost more than the database work.
HEAD = cast(Table, AuditHead.__table__)
LEAF = cast(Table, AuditLeaf.__table__)
NODE = cast(Table, AuditNode.__table__)
# Room for an index column entry; longer values are cut, and searches re-check the entry's bytes.
ID_CUT = 255
ACTION_CUT = 64
OUTCOME_CUT = 16
# How many entries may wait for their search rows. A search reads fewer than this (plus one group
# of appends) from `audit_leaf` directly; an append that reaches it writes the batch's rows.
INDEX_BATCH = 512


def search_key(value: str, cut: int = ID_CUT) -> str:
    """A string as the search columns hold it: cut to `cut` characters, and NUL as U+FFFD.

    PostgreSQL text and jsonb cannot hold NUL, and SQLite's json_each stops at one: an id with a
    NUL would fail its append, or, waiting in a batch, every append after it. The columns only
    narrow the candidates, which searches re-check against the entry's bytes.
    """
    return value[:cut].replace("\x00", "\ufffd")


def _conn(session: Session) -> Connection:
    """The connection of the session's transaction (the caller's, when appending)."""
    return session.connection()


class LogCorrupted(TearlineError):
    """The stored tree is missing a hash it must have; `tearline audit verify` says where."""

    status = 500
    code = "audit_log_corrupted"


def node_key(level: int, index: int) -> int:
    """The `audit_node` key of the block of 2**level leaves starting at index * 2**level."""
    last_leaf = ((index + 1) << level) - 1
    return (last_leaf << _LEVEL_BITS) | level


def key_block(key: int) -> tuple[int, int]:
    """(level, index) of an `audit_node` key."""
    level = key & ((1 << _LEVEL_BITS) - 1)
    return level, (((key >> _LEVEL_BITS) + 1) >> level) - 1


@dataclass(frozen=True)
class LeafFacts:
    """The search columns of an entry, taken from its event."""

    actor: str
    action: str
    outcome: str
    at: datetime
    objects: Sequence[str]


@dataclass
class Frontier:
    """The complete subtrees of [0, size) as (level, hash), largest first: a binary counter of hashes."""

    size: int
    blocks: list[tuple[int, bytes]] = field(default_factory=list)

    @classmethod
    def from_blob(cls, size: int, blob: bytes) -> Frontier:
        levels = [level for level in range(size.bit_length() - 1, -1, -1) if size >> level & 1]
        if len(blob) != HASH_SIZE * len(levels):
            raise LogCorrupted(f"the audit log head holds {len(blob)} frontier bytes for size {size}")
        hashes = [blob[i * HASH_SIZE : (i + 1) * HASH_SIZE] for i in range(len(levels))]
        return cls(size, list(zip(levels, hashes, strict=True)))

    def blob(self) -> bytes:
        return b"".join(h for _, h in self.blocks)

    def push(self, hashed: bytes) -> list[tuple[int, int, bytes]]:
        """Append a leaf hash; returns the nodes it completes as (level, index, hash)."""
        leaf = self.size
        self.blocks.append((0, hashed))
        completed: list[tuple[int, int, bytes]] = []
        # Two blocks of one level merge, like carries when adding 1 in binary.
        while len(self.blocks) > 1 and self.blocks[-1][0] == self.blocks[-2][0]:
            (level, right), (_, left) = self.blocks.pop(), self.blocks.pop()
            parent = node_hash(left, right)
            self.blocks.append((level + 1, parent))
            completed.append((level + 1, leaf >> (level + 1), parent))
        self.size += 1
        return completed

    def root(self) -> bytes:
        acc = b""
        for _, block in reversed(self.blocks):
            acc = block if not acc else node_hash(block, acc)
        return acc or EMPTY_ROOT


# --- the head ----------------------------------------------------------------------------------------


def driver_style(conn: Connection, statement: str) -> str:
    """A statement written with `?` placeholders, in the driver's own parameter style."""
    return statement if conn.dialect.paramstyle == "qmark" else statement.replace("?", "%s")


def _head(session: Session, lock: bool) -> tuple[Frontier, int]:
    """The head's frontier, and how many entries the search tables cover."""
    conn = _conn(session)
    # FOR UPDATE on PostgreSQL; SQLite has no row locks, and a writer there holds the database lock.
    locking = " FOR UPDATE" if lock and conn.dialect.name != "sqlite" else ""
    row = conn.exec_driver_sql(
        driver_style(conn, f"SELECT size, frontier, indexed FROM audit_head WHERE id = ?{locking}"), (HEAD_ID,)
    ).first()
    if row is None:
        # The migration inserts the head; this covers schemas made by `create_all` (tests, tools).
        conn.execute(insert(HEAD).values(id=HEAD_ID, size=0, frontier=b"", indexed=0))
        return Frontier(0), 0
    return Frontier.from_blob(row[0], bytes(row[1])), row[2]


def lock_head(session: Session) -> Frontier:
    """The head, locked until the caller's transaction ends."""
    return _head(session, lock=True)[0]


@dataclass(frozen=True)
class LockedHead:
    """The head as `take_head` read it, locked until the transaction that read it ends; one append uses it up."""

    frontier: Frontier
    indexed: int


def take_head(session: Session) -> LockedHead:
    """Lock and read the head ahead of `append_leaves`, so that a caller can gather entries meanwhile."""
    return LockedHead(*_head(session, lock=True))


def read_head(session: Session) -> Frontier:
    return _head(session, lock=False)[0]


def indexed_entries(session: Session) -> int:
    """How many entries, from the first, have their rows in the search tables."""
    return _head(session, lock=False)[1]


def log_size(session: Session) -> int:
    return read_head(session).size


# --- appending -----------------------------------------------------------------------------------------


def append_leaves(session: Session, entries: Sequence[tuple[bytes, LeafFacts]], head: LockedHead | None = None) -> int:
    """Append entries (canonical bytes and search facts) in the caller's transaction; returns the first index.

    `head` is what `take_head` returned earlier in the same transaction; without it the head is locked here.
    """
    frontier, indexed = (head.frontier, head.indexed) if head is not None else _head(session, lock=True)
    first = frontier.size
    leaves: list[tuple[object, ...]] = []
    nodes: list[tuple[object, ...]] = []
    for offset, (data, facts) in enumerate(entries):
        index = first + offset
        hashed = leaf_hash(data)
        leaves.append((index, hashed, data, *search_columns(facts)))
        nodes += [(node_key(lv, ix), h) for lv, ix, h in frontier.push(hashed)]
    index_to = frontier.size if frontier.size - indexed >= INDEX_BATCH else indexed
    conn = _conn(session)
    if conn.dialect.name != "sqlite":
        _append_in_one_statement(conn, leaves, nodes, frontier, index_to)
    else:
        _insert_rows(conn, _INTO_LEAF, leaves)
        _insert_rows(conn, _INTO_NODE, nodes)
        conn.exec_driver_sql(driver_style(conn, _UPDATE_HEAD), (frontier.size, frontier.blob(), index_to, HEAD_ID))
    if index_to > indexed:
        _index(conn, indexed, index_to)
    return first


_INTO_LEAF = "audit_leaf (idx, hash, data, actor, action, outcome, at_us, objects)"
_INTO_NODE = "audit_node (key, hash)"
_UPDATE_HEAD = "UPDATE audit_head SET size = ?, frontier = ?, indexed = ? WHERE id = ?"


# PostgreSQL: the rows of an append go as one array a column, and the head is updated in the same
# statement. Data-modifying WITH clauses run whether or not they are referenced. `%b` sends the
# parameters in binary: text arrays of bytea would be escaped element by element. Each array is
# packed by `tearline.audit.pg_arrays` (psycopg's list dumper cost 3.4 µs an entry, in the leader).
_APPEND_ALL = """
WITH leaves AS (
    INSERT INTO audit_leaf (idx, hash, data, actor, action, outcome, at_us, objects)
    SELECT * FROM unnest(
        %b::bigint[], %b::bytea[], %b::bytea[], %b::text[], %b::text[], %b::text[], %b::bigint[], %b::text[]
    )
), nodes AS (
    INSERT INTO audit_node (key, hash) SELECT * FROM unnest(%b::bigint[], %b::bytea[])
)
UPDATE audit_head SET size = %b, frontier = %b, indexed = %b WHERE id = %b
"""


# The element type of each column of a leaf row and of a node row, in `_APPEND_ALL`'s order.
_LEAF_ARRAYS = (int8_array, bytea_array, bytea_array, text_array, text_array, text_array, int8_array, text_array)
_NODE_ARRAYS = (int8_array, bytea_array)


def _columns(rows: list[tuple[object, ...]], packers: Sequence[Callable[[Any], PgArray]]) -> list[PgArray]:
    """The rows' columns, each packed as one binary array (`tearline.audit.pg_arrays`)."""
    columns = zip(*rows, strict=True) if rows else [() for _ in packers]
    return [pack(column) for pack, column in zip(packers, columns, strict=True)]


def _append_in_one_statement(
    conn: Connection,
    leaves: list[tuple[object, ...]],
    nodes: list[tuple[object, ...]],
    frontier: Frontier,
    indexed: int,
) -> None:
    """One round trip for the whole append, while the head row is locked (every other writer waits on it).

    Separate statements cost a round trip each (two for a COPY); under load each of those also
    waits to take the interpreter lock back, and the head stays locked all the while.
    """
    params = [*_columns(leaves, _LEAF_ARRAYS), *_columns(nodes, _NODE_ARRAYS)]
    conn.exec_driver_sql(_APPEND_ALL, (*params, frontier.size, frontier.blob(), indexed, HEAD_ID))


def search_columns(facts: LeafFacts) -> tuple[str, str, str, int, str]:
    """An entry's search columns: actor, action, outcome, time (UTC microseconds) and its object ids
    as search keys, each once, as a JSON array (what its object rows are made from)."""
    ids = facts.objects
    # Most entries name one object; the general case keeps each id once, in order.
    keys = [search_key(ids[0])] if len(ids) == 1 else list(dict.fromkeys([search_key(oid) for oid in ids]))
    objects = orjson.dumps(keys).decode()
    moment = facts.at
    # An aware time's timestamp does not depend on its zone, so only a naive one needs as_utc.
    at = round((moment if moment.tzinfo is not None else as_utc(moment)).timestamp() * 1_000_000)
    actor, action = search_key(facts.actor), search_key(facts.action, ACTION_CUT)
    return actor, action, search_key(facts.outcome, OUTCOME_CUT), at, objects


def _index(conn: Connection, start: int, end: int) -> None:
    """Write the search rows of entries [start, end), sorted by key, so that each page is written once.

    The database makes them from the leaf rows' own columns, without a row crossing to Python:
    the actor, and the JSON array of object ids that the append wrote beside the entry.
    """
    statements = _INDEX_SQLITE if conn.dialect.name == "sqlite" else _INDEX_POSTGRES
    for statement in statements:
        conn.exec_driver_sql(driver_style(conn, statement), (start, end))


_INDEX_SQLITE = (
    "INSERT INTO audit_actor (actor, idx) SELECT actor, idx FROM audit_leaf WHERE idx >= ? AND idx < ? ORDER BY 1, 2",
    "INSERT INTO audit_object (object_id, idx) SELECT o.value, l.idx FROM audit_leaf AS l, json_each(l.objects) AS o"
    " WHERE l.idx >= ? AND l.idx < ? ORDER BY 1, 2",
)
_INDEX_POSTGRES = (
    """WITH waiting AS (SELECT idx, actor, objects FROM audit_leaf WHERE idx >= ? AND idx < ?),
    actors AS (INSERT INTO audit_actor (actor, idx) SELECT actor, idx FROM waiting ORDER BY 1, 2)
    INSERT INTO audit_object (object_id, idx)
    SELECT o, idx FROM waiting, jsonb_array_elements_text(waiting.objects::jsonb) AS o ORDER BY 1, 2""",
)


def _insert_rows(conn: Connection, into: str, rows: list[tuple[object, ...]]) -> None:
    """SQLite: one executemany of plain driver statements (it runs in-process, so that is cheapest);
    per row, SQLAlchemy's parameter processing would cost more than the insert."""
    if not rows:
        return
    statement = f"INSERT INTO {into} VALUES (" + ", ".join("?" * len(rows[0])) + ")"
    conn.exec_driver_sql(statement, rows if len(rows) > 1 else rows[0])


# --- reading hashes --------------------------------------------------------------------------------------


class DbHashSource:
    """`merkle.HashSource` over the audit tables, with a cache that `prefetch` fills in one query."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._cache: dict[tuple[int, int], bytes] = {}

    def subtree_hash(self, level: int, index: int) -> bytes:
        block = (level, index)
        if block not in self._cache:
            self.prefetch([block])
        found = self._cache.get(block)
        if found is None:
            raise LogCorrupted(f"the audit log has no hash for the subtree at level {level}, index {index}")
        return found

    def prefetch(self, blocks: Iterable[tuple[int, int]]) -> None:
        """Fetch the blocks not cached yet, leaves and nodes together, in one query."""
        wanted = set(blocks) - set(self._cache)
        leaves = sorted(index for level, index in wanted if level == 0)
        keys = sorted(node_key(level, index) for level, index in wanted if level > 0)
        conn = _conn(self._session)
        parts, params = [], []
        for kind, (query, values) in enumerate(((_LEAF_HASHES, leaves), (_NODE_HASHES, keys))):
            if values:
                clause, bound = _any(conn, values)
                parts.append(query.format(kind=kind, match=clause))
                params += bound
        if not parts:
            return
        for kind, key, hashed in conn.exec_driver_sql(driver_style(conn, " UNION ALL ".join(parts)), tuple(params)):
            self._cache[(0, key) if kind == 0 else key_block(key)] = bytes(hashed)

    def has(self, block: tuple[int, int]) -> bool:
        return block in self._cache


_LEAF_HASHES = "SELECT {kind}, idx, hash FROM audit_leaf WHERE idx {match}"
_NODE_HASHES = "SELECT {kind}, key, hash FROM audit_node WHERE key {match}"


def _any(conn: Connection, values: list[int]) -> tuple[str, list[object]]:
    """`IN (?, ...)` on SQLite; `= ANY(?)` with one array on PostgreSQL, so that the text stays the same."""
    if conn.dialect.name == "sqlite":
        return "IN (" + ", ".join("?" * len(values)) + ")", list(values)
    return "= ANY(?::bigint[])", [values]


class _Wanted:
    """A HashSource that only notes which blocks are asked for (the proof algorithms never look at them)."""

    def __init__(self) -> None:
        self.blocks: set[tuple[int, int]] = set()

    def subtree_hash(self, level: int, index: int) -> bytes:
        self.blocks.add((level, index))
        return _ZERO


def _fetched(session: Session, size: int, compute: Callable[[HashSource], T]) -> T:
    """Run `compute` once to learn the blocks it reads, fetch them in one query, then run it for real.

    The tree of `size` entries exists iff its blocks do, so the head is read only to explain a miss.
    """
    if size < 0:
        raise NotFound(f"there is no tree of size {size}")
    wanted = _Wanted()
    compute(wanted)
    if size > 0:
        wanted.blocks.add((0, size - 1))  # the last entry: whether the tree exists, even for an empty proof
    source = DbHashSource(session)
    source.prefetch(wanted.blocks)
    missing = sorted(block for block in wanted.blocks if not source.has(block))
    if missing:
        current = log_size(session)
        if size > current:
            raise NotFound(
                f"the audit log has {current} entries; there is no tree of size {size} (sizes are 0 to {current})"
            )
        level, index = missing[0]
        raise LogCorrupted(f"the audit log has no hash for the subtree at level {level}, index {index}")
    return compute(source)


def root_at(session: Session, size: int) -> bytes:
    """MTH of the first `size` entries."""
    return _fetched(session, size, lambda source: tree_root(source, size))


def prove_inclusion(session: Session, index: int, size: int) -> list[bytes]:
    """RFC 9162 inclusion proof of entry `index` in the tree of `size` entries."""
    if not 0 <= index < size:
        valid = f"indexes 0 to {size - 1}" if size else "no entries"
        raise NotFound(f"entry {index} is not in a tree of size {size} ({valid})")
    return _fetched(session, size, lambda source: inclusion_proof(source, index, size))


def prove_consistency(session: Session, old_size: int, new_size: int) -> list[bytes]:
    """RFC 9162 consistency proof from the tree of `old_size` entries to the one of `new_size`."""
    if not 0 <= old_size <= new_size:
        raise NotFound(
            f"no consistency proof from size {old_size} to size {new_size}: the old size must be from 0 to "
            f"{new_size} (the audit log has {log_size(session)} entries)"
        )
    return _fetched(session, new_size, lambda source: consistency_proof(source, old_size, new_size))


# --- reading entries -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredLeaf:
    index: int
    data: bytes
    hash: bytes


def read_leaf(session: Session, index: int) -> StoredLeaf:
    row = _conn(session).execute(select(LEAF.c.data, LEAF.c.hash).where(LEAF.c.idx == index)).one_or_none()
    if row is None:
        size = log_size(session)
        valid = f"its indexes are 0 to {size - 1}" if size else "it is empty"
        raise NotFound(f"the audit log has no entry {index}: it has {size} entries ({valid})")
    return StoredLeaf(index, bytes(row.data), bytes(row.hash))


def read_leaves(session: Session, start: int, end: int) -> list[StoredLeaf]:
    """Entries [start, end) in order (whatever of them is stored: the caller checks for holes)."""
    query = select(LEAF.c.idx, LEAF.c.data, LEAF.c.hash).where(LEAF.c.idx >= start, LEAF.c.idx < end)
    rows = _conn(session).execute(query.order_by(LEAF.c.idx))
    return [StoredLeaf(idx, bytes(data), bytes(h)) for idx, data, h in rows]


def read_nodes(session: Session, first_leaf: int, end_leaf: int) -> dict[tuple[int, int], bytes]:
    """The stored nodes completed by appending leaves [first_leaf, end_leaf), by (level, index)."""
    low, high = first_leaf << _LEVEL_BITS, end_leaf << _LEVEL_BITS
    query = select(NODE.c.key, NODE.c.hash).where(NODE.c.key >= low, NODE.c.key < high)
    return {key_block(key): bytes(h) for key, h in _conn(session).execute(query)}
