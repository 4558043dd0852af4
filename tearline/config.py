"""Settings in one place: environment (`TEARLINE_` prefix) and the node's own `node.json`."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from tearline.errors import ConfigError

NODE_FILE = "node.json"
KEY_FILE = "node.key"
DB_FILE = "tearline.db"


class Settings(BaseSettings):
    """Process-wide settings; `TEARLINE_DATABASE_URL` overrides the node's own database URL."""

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
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")

    @staticmethod
    def load(data_dir: Path) -> NodeConfig:
        path = data_dir / NODE_FILE
        if not path.exists():
            raise ConfigError(
                f"{data_dir} holds no tearline node; create one with "
                f"`tearline init --data {data_dir} --nation USA --agency NAME`"
            )
        raw = json.loads(path.read_text(encoding="utf-8"))
        return NodeConfig(**raw)


def database_url(data_dir: Path, config: NodeConfig) -> str:
    """Environment first, then the node's recorded URL, then the embedded SQLite file."""
    env = os.environ.get("TEARLINE_DATABASE_URL")
    if env:
        return env
    if config.database_url:
        return config.database_url
    return f"sqlite:///{(data_dir / DB_FILE).resolve()}"
