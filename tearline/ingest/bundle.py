"""STIX 2.1 bundles in: decode outside the write lock, then store every report in one transaction."""

from __future__ import annotations

import time
from typing import Any

from tearline.ingest.store import IngestResult, Progress, read_as_submitter, store_drafts
from tearline.node import Node
from tearline.stix.decode import bundle_to_drafts


def ingest_bundle(node: Node, bundle: dict[str, Any], submitter: str, progress: Progress | None = None) -> IngestResult:
    """Store every report of a bundle, or none: InvalidInput lists each object id, field and reason."""
    started = time.perf_counter()
    # The structural check needs no lock; create_report re-checks markings against the registry it writes with.
    drafts = read_as_submitter(node, submitter, lambda registry: bundle_to_drafts(bundle, registry))
    return store_drafts(node, drafts, submitter, started, progress)
