"""A node: its identity, its database and its signing key, opened from a data directory."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from tearline import clock
from tearline.audit.group import GroupCommitter
from tearline.config import (
    DB_FILE,
    ENV_URL,
    KEY_FILE,
    NODE_FILE,
    NodeConfig,
    database_url,
    missing_sqlite_file,
    parse_url,
    same_database,
    shown_url,
)
from tearline.db.engine import Database, make_engine
from tearline.db.limits import length_problems
from tearline.db.migrate import upgrade
from tearline.db.models import AgencyRow, Principal
from tearline.errors import ConfigError, InvalidInput, Problem
from tearline.markings.marking import Registry
from tearline.markings.scheme import NATIONAL_LABELS, EquivalenceTable
from tearline.policy.host import allowed_workspaces
from tearline.store import registry as reg
from tearline.store.audience import (
    AudienceSnapshot,
    audience_is_fresh,
    audience_stamp,
    law_enforcement_map,
    refresh_audience,
    take_snapshot,
)
from tearline.store.filters import Reader
from tearline.store.principals import add_principal, viewer_of
from tearline.store.registry import NodeIdentity

# Submitter of what arrives without a person behind it (file ingest from the CLI, for example).
SERVICE_ACCOUNT = "node-service"


class Node:
    """An opened node. Every command and request works through one of these."""

    def __init__(self, data_dir: Path, config: NodeConfig, url: str) -> None:
        self.data_dir = data_dir
        self.config = config
        self.identity = NodeIdentity(config.nation, config.agency)
        self.db = Database(url)
        # Where reads append their audit entries: shared durable commits (tearline.audit.group).
        self.audit_group = GroupCommitter(self.db, config.name)
        # Each principal's last audience snapshot, reused by its readers while its stamp holds.
        self._snapshots: dict[int, tuple[tuple[int, int], AudienceSnapshot | None]] = {}

    @staticmethod
    def open(data_dir: Path) -> Node:
        """The node in `data_dir`; never creates a database (only `init_node` does)."""
        config = NodeConfig.load(data_dir)
        url = database_url(data_dir, config)
        missing = missing_sqlite_file(url)
        if missing is not None:
            raise ConfigError(
                f"the node's database {missing} does not exist (only `tearline init` creates one); restore it "
                f"from a backup, or if the node is on PostgreSQL, record its URL as database_url in "
                f"{data_dir / NODE_FILE}"
            )
        return Node(data_dir, config, url)

    def registry(self, session: Session) -> Registry:
        return reg.load_registry(session, self.identity)

    def table(self, session: Session) -> EquivalenceTable:
        return reg.current_table(session)

    def reader(self, principal: Principal, session: Session | None = None) -> Reader:
        """The principal's read context now: a fresh audience and the workspaces they may enter.

        Inside a write transaction pass its `session`, so that a stale audience is refreshed there
        instead of in a second, nested transaction.
        """
        if session is not None:
            return self._reader_in(session, principal, refresh=True)
        with self.db.read() as reading:
            if audience_is_fresh(reading, principal.id):
                return self._reader_in(reading, principal, refresh=False)
        with self.db.write() as writing:
            return self._reader_in(writing, principal, refresh=True)

    def _reader_in(self, session: Session, principal: Principal, refresh: bool) -> Reader:
        if refresh and not audience_is_fresh(session, principal.id):
            refresh_audience(session, principal.id, self.identity)
        foreign = principal.nation != self.config.nation
        return Reader(
            principal_id=principal.id,
            viewer=viewer_of(principal, law_enforcement_map(session)),
            node_nation=self.config.nation,
            now=clock.now(),
            allowed_workspaces=allowed_workspaces(session, principal) if foreign else frozenset(),
            roles=frozenset(principal.roles),
            audience=self._snapshot(session, principal.id),
        )

    def _snapshot(self, session: Session, principal_id: int) -> AudienceSnapshot | None:
        """The principal's audience snapshot, taken again only when its stamp has moved."""
        stamp = audience_stamp(session, principal_id)
        kept = self._snapshots.get(principal_id)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        snapshot = take_snapshot(session, principal_id)  # None: too large, and kept as such
        self._snapshots[principal_id] = (stamp, snapshot)  # one assignment: threads see the old or the new
        return snapshot

    def signing_key(self) -> Ed25519PrivateKey:
        key = serialization.load_pem_private_key((self.data_dir / KEY_FILE).read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"{self.data_dir / KEY_FILE} is not an Ed25519 key")
        return key

    def close(self) -> None:
        self.audit_group.close()  # the entries of reads still waiting are committed first
        self.db.dispose()


def init_node(
    data_dir: Path,
    nation: str,
    agency: str,
    database: str | None = None,
    law_enforcement: bool = True,
    demo: bool = False,
) -> Node:
    """Create a node: its directory, its Ed25519 signing key, its schema and its registry.

    The database is `database`, else `TEARLINE_DATABASE_URL`, else a SQLite file in `data_dir`;
    the URL given is recorded in node.json. Everything is checked first, a database that already
    holds a node is refused, and node.json and node.key are written last, inside the registry's
    transaction: a failure leaves neither (nor a directory or SQLite file it made).
    """
    if nation not in NATIONAL_LABELS:
        raise InvalidInput(Problem("nation", f"unknown nation {nation!r}; use one of {', '.join(NATIONAL_LABELS)}"))
    problems = reg.name_problems("agency", agency) + length_problems([("agency", AgencyRow.name, agency)])
    if problems:  # refused before anything is made
        raise InvalidInput(problems)
    _check_directory(data_dir)
    env = os.environ.get(ENV_URL) or None
    if database and env and not same_database(database, env):
        parse_url(database, "--database-url")
        raise ConfigError(
            f"--database-url ({shown_url(database)}) and {ENV_URL} ({shown_url(env)}) name different databases; "
            f"give one of them"
        )
    recorded = database or env
    if recorded:
        parse_url(recorded, "--database-url" if database else ENV_URL)
    config = NodeConfig(nation=nation, agency=agency, name=f"{agency} ({nation})", database_url=recorded, demo=demo)
    url = recorded or f"sqlite:///{(data_dir / DB_FILE).resolve()}"
    _check_database_is_free(url)

    made: list[Path] = []  # what to remove should anything fail
    if not data_dir.exists():
        made.append(data_dir)
    sqlite_file = missing_sqlite_file(url)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        if sqlite_file is not None:
            made += [sqlite_file, Path(f"{sqlite_file}-wal"), Path(f"{sqlite_file}-shm")]
        upgrade(url)
        node = Node(data_dir, config, url)
        try:
            with node.db.write() as session:
                reg.ensure_default_table(session)
                for partner in NATIONAL_LABELS:
                    if partner != nation:
                        reg.add_partner(session, partner)
                reg.add_agency(session, agency, nation, law_enforcement)
                top = NATIONAL_LABELS[nation][-1]
                add_principal(
                    session, SERVICE_ACCOUNT, nation, agency, top, roles=[], display_name="node service account"
                )
                session.flush()
                # Last, still inside the transaction: a file that cannot be written rolls the registry back.
                made.append(data_dir / KEY_FILE)
                _write_key(data_dir / KEY_FILE)
                made.append(data_dir / NODE_FILE)
                config.save(data_dir)
        except BaseException:
            node.close()
            raise
    except BaseException:
        _remove(made)
        raise
    return node


def _check_directory(data_dir: Path) -> None:
    """Refuse a data directory that is not one, or that holds a node or part of one."""
    if data_dir.exists() and not data_dir.is_dir():
        raise ConfigError(f"{data_dir} is not a directory; choose another --data directory")
    if (data_dir / NODE_FILE).exists():
        raise ConfigError(f"{data_dir} already holds a node; choose another --data directory")
    if (data_dir / KEY_FILE).exists():
        raise ConfigError(
            f"{data_dir} holds a {KEY_FILE} but no {NODE_FILE} (part of a node, or another node's key); "
            "move it away or choose another --data directory"
        )


def _check_database_is_free(url: str) -> None:
    """Refuse a database that already holds a node, or tables that are not a tearline schema.

    A tearline schema with no registry (an init that stopped after migrating) may be used.
    """
    if missing_sqlite_file(url) is not None:
        return  # a new SQLite file: empty
    engine = make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        if not tables:
            return
        shown = shown_url(url)
        if "alembic_version" not in tables or Principal.__tablename__ not in tables:
            listed = ", ".join(sorted(tables)[:5]) + (", …" if len(tables) > 5 else "")
            raise ConfigError(
                f"the database {shown} is not empty and holds no tearline node (tables {listed}); "
                "choose another database (an empty one)"
            )
        with engine.connect() as connection:
            agencies = connection.execute(select(Principal.nation, Principal.agency).limit(1)).first()
        if agencies is not None:
            raise ConfigError(
                f"this database already holds a node ({shown}, of {agencies.agency}, {agencies.nation}); "
                "choose another database"
            )
    finally:
        engine.dispose()


def _remove(paths: list[Path]) -> None:
    for path in reversed(paths):
        try:
            if path.is_dir():
                path.rmdir()  # only the directory made here, and only when nothing else is in it
            else:
                path.unlink(missing_ok=True)
        except OSError:
            pass


def _write_key(path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
