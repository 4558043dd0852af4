"""A file from disk, by its extension: `.json` is a STIX 2.1 bundle, `.csv` needs a column mapping."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tearline.errors import InvalidInput, Problem
from tearline.ingest.bundle import ingest_bundle
from tearline.ingest.csvfile import ingest_csv
from tearline.ingest.store import IngestResult, Progress
from tearline.node import SERVICE_ACCOUNT, Node


def ingest_file(
    node: Node,
    path: Path | str,
    mapping: Path | str | None = None,
    submitter: str = SERVICE_ACCOUNT,
    progress: Progress | None = None,
) -> IngestResult:
    """Ingest one file, all or nothing."""
    path = Path(path)
    check_kind(path, mapping)
    if mapping is None:
        return ingest_bundle(node, _bundle(path), submitter, progress)
    return ingest_csv(node, path, mapping, submitter, progress)


def check_kind(path: Path, mapping: Path | str | None) -> None:
    """Refuse a file of no kind ingest reads, a CSV file without a mapping, and a mapping given for
    a bundle (which has its own fields): ignored, it would leave its author thinking it applied."""
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        reason = f"unsupported file type {suffix or '(none)'!r}; use .json or .csv"
        raise InvalidInput(Problem("file", reason, path.name))
    if suffix == ".csv" and mapping is None:
        raise InvalidInput(Problem("mapping", "a CSV file needs a column mapping (--mapping FILE.json)", path.name))
    if suffix == ".json" and mapping is not None:
        reason = "a column mapping applies to CSV files only; a STIX bundle (.json) is ingested without --mapping"
        raise InvalidInput(Problem("mapping", reason, path.name))


def _bundle(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes().decode("utf-8-sig"))  # an editor's byte-order mark is no part of the JSON
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InvalidInput(Problem("file", f"not a JSON file: {err}", path.name)) from None
