"""What the write path accepts: reports, portions and objects with validated markings.

Every way in (STIX bundles, CSV with a mapping, the API, the demo fixtures) builds these,
so that validation and storage happen in one place.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tearline.db.limits import length_problems
from tearline.db.models import Report, StixObject
from tearline.errors import Problem
from tearline.markings.marking import Marking

# STIX types a report may carry, by the domain name analysts use for them.
OBJECT_KINDS: dict[str, str] = {
    "identity": "person or organisation",
    "x-tearline-phone": "phone",
    "x-tearline-vehicle": "vehicle",
    "location": "location",
    "sighting": "sighting",
    "x-tearline-event": "event",
    "relationship": "relationship",
}


@dataclass(frozen=True)
class PortionDraft:
    text: str
    marking: Marking
    # A copy received from a partner keeps the originator's hash, so that a consent or recall
    # naming an item means the same item on both nodes.
    origin_hash: str | None = field(default=None, compare=False)

    def digest(self) -> str:
        """Hash of the portion's content and marking: what releases and consents name."""
        return _digest({"text": self.text, "marking": self.marking.as_dict()})


@dataclass(frozen=True)
class ObjectDraft:
    stix_id: str
    stix_type: str
    body: dict[str, Any]
    marking: Marking
    name: str = ""
    observed_at: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None
    source_ref: str | None = None
    target_ref: str | None = None
    origin_hash: str | None = field(default=None, compare=False)

    def digest(self) -> str:
        return _digest({"id": self.stix_id, "body": self.body, "marking": self.marking.as_dict()})


@dataclass(frozen=True)
class ReportDraft:
    """A report version to store. The title is itself a marked portion (DESIGN §3.3)."""

    title: PortionDraft
    portions: tuple[PortionDraft, ...]
    predicate: str
    review_due: datetime
    need_to_know: str = ""
    objects: tuple[ObjectDraft, ...] = ()
    stix_id: str | None = None
    workspace: str | None = None
    received: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


# The most characters a title or portion may hold. Their column is Text, so `tearline.db.limits`
# has no length to read, and a 2,000,000-character portion was stored whole; the other free-text
# fields stop at 4,000, but a portion is a report's body and gets far more room.
PORTION_TEXT_LIMIT = 100_000


def draft_length_problems(draft: ReportDraft) -> list[Problem]:
    """Ids longer than their columns (a CSV mapping names its report's id; the API takes any id whose
    tail parses as a UUID), and texts longer than a portion may be. Types are known ones, and refs
    must be ids of the same report."""
    problems = length_problems([("id", Report.stix_id, draft.stix_id)])
    for obj in draft.objects:
        problems += length_problems([("id", StixObject.stix_id, obj.stix_id)], obj.stix_id)
    return problems + portion_text_problems(draft)


def portion_text_problems(draft: ReportDraft) -> list[Problem]:
    """The title and portions too long to store, named as the store names them (`portion N`, from 1)."""
    problems = [Problem("title", reason) for reason in [portion_text_too_long(draft.title.text)] if reason]
    for i, portion in enumerate(draft.portions):
        if reason := portion_text_too_long(portion.text):
            problems.append(Problem("text", reason, f"portion {i + 1}"))
    return problems


def portion_text_too_long(text: str) -> str | None:
    """Why a title's or portion's text may not be stored, or None when it fits."""
    if len(text) <= PORTION_TEXT_LIMIT:
        return None
    return f"must be at most {PORTION_TEXT_LIMIT} characters (it has {len(text)})"


def _digest(value: dict[str, Any]) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
