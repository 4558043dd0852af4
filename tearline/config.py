"""Settings in one place: environment (`TEARLINE_` prefix) and the node's own `node.json`."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from tearline.errors import ConfigError

NODE_FILE = "node.json"
KEY_FILE = "node.key"
DB_FILE = "tearline.db"
ENV_URL = "TEARLINE_DATABASE_URL"
URL_FORMS = "postgresql://USER@HOST/DBNAME or sqlite:///PATH"


class Settings(BaseSettings):
    """Process-wide settings; `TEARLINE_DATABASE_URL` gives the database a new node is created on."""

    model_config = SettingsConfigDict(env_prefix="TEARLINE_")
    data: Path = Path("tearline-data")
    database_url: str | None = None
    session_minutes: int = 30


@dataclass(frozen=True)
class NodeConfig:
    """What `tearline init` records about a node."""

    nation: str
    agency: str
    name: str
    database_url: str | None = None
    demo: bool = False

    def save(self, data_dir: Path) -> None:
        path = data_dir / NODE_FILE
        # Owner only: the database URL may carry a password, as the signing key beside it is secret.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # a file that existed keeps its old mode through O_CREAT
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(json.dumps(asdict(self), indent=2) + "\n")

    @staticmethod
    def load(data_dir: Path) -> NodeConfig:
        path = data_dir / NODE_FILE
        if not path.exists():
            raise ConfigError(
                f"{data_dir} holds no tearline node; create one with "
                f"`tearline init --data {data_dir} --nation USA --agency NAME`"
            )
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"{path} cannot be read ({err}); restore it from a backup") from None
        except json.JSONDecodeError as err:
            raise ConfigError(
                f"{path} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}); "
                "fix it or restore it from a backup"
            ) from None
        return NodeConfig(**_checked(path, raw))


def _checked(path: Path, raw: object) -> dict[str, Any]:
    """node.json's keys and their types, or a ConfigError naming the file and each bad or missing key."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a JSON object (nation, agency, name, …); fix it or restore it")
    known = {f.name for f in fields(NodeConfig)}
    problems = [f"unknown key {key!r}" for key in raw if key not in known]
    for key in ("nation", "agency", "name"):
        if key not in raw:
            problems.append(f"missing key {key!r}")
        elif not isinstance(raw[key], str) or not raw[key].strip():
            problems.append(f"{key!r} must be a non-empty string")
    if raw.get("database_url") is not None and not isinstance(raw["database_url"], str):
        problems.append("'database_url' must be a string or null")
    if not isinstance(raw.get("demo", False), bool):
        problems.append("'demo' must be true or false")
    if problems:
        raise ConfigError(f"{path} is not a valid node configuration: {'; '.join(problems)}; fix it or restore it")
    return {key: raw[key] for key in raw}


def parse_url(url: str, source: str) -> URL:
    """A database URL this node can run on (PostgreSQL or SQLite), or a ConfigError naming its `source`."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"{source} {url!r} is not a database URL; give one such as {URL_FORMS}") from None
    if parsed.get_backend_name() not in ("postgresql", "postgres", "sqlite"):
        shown = parsed.render_as_string(hide_password=True)
        raise ConfigError(f"{source} {shown!r}: tearline runs on PostgreSQL or SQLite; give one such as {URL_FORMS}")
    return parsed


def shown_url(url: str) -> str:
    """A URL as it may be printed: its password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def same_database(a: str, b: str) -> bool:
    """Do two URLs name the same database (whatever their drivers and passwords)?"""
    return _database_key(make_url(a)) == _database_key(make_url(b))


def _database_key(url: URL) -> tuple[object, ...]:
    backend = url.get_backend_name()
    if backend == "sqlite":
        path = str(Path(url.database).resolve()) if url.database not in (None, "", ":memory:") else url.database
        return (backend, path)
    query = sorted(url.query.items())
    return ("postgresql", url.username, url.host or "localhost", url.port or 5432, url.database, query)


def database_url(data_dir: Path, config: NodeConfig) -> str:
    """The node's database: the URL recorded by `tearline init`, else the SQLite file in its data directory.

    `TEARLINE_DATABASE_URL` may name the same database (with a password, say); one that names
    another database is refused, never used with this node's configuration. A node whose
    `node.json` records no URL and whose data directory has no database file (one created with
    the variable by an older tearline) takes the variable's.
    """
    env = os.environ.get(ENV_URL) or None
    node_file = data_dir / NODE_FILE
    if config.database_url:
        parse_url(config.database_url, f"database_url in {node_file}")
        if env is None:
            return config.database_url
        parse_url(env, ENV_URL)
        if not same_database(env, config.database_url):
            raise ConfigError(
                f"{ENV_URL} ({shown_url(env)}) names another database than the one this node was created on "
                f"({shown_url(config.database_url)}, recorded in {node_file}); the recorded one is this node's: "
                f"unset {ENV_URL}, or if the node's database has moved, set database_url in {node_file}"
            )
        return env
    sqlite = f"sqlite:///{(data_dir / DB_FILE).resolve()}"
    if env is None:
        return sqlite
    parse_url(env, ENV_URL)
    if (data_dir / DB_FILE).exists() and not same_database(env, sqlite):
        raise ConfigError(
            f"{ENV_URL} ({shown_url(env)}) names another database than this node's, {data_dir / DB_FILE}; "
            f"the node's own file is its database: unset {ENV_URL} to use it"
        )
    return env


def missing_sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL when it does not exist (opening it would create an empty one), else None."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    return None if path.exists() else path
