"""The version a release shows its recipient, numbered and dated over what the recipient receives.

A partner receives a tearline, never the report. An edit to an item the tearline withholds makes
a new stored version here but nothing new for the partner (DESIGN §3.3: version numbers and times
are computed over what the reader sees), so the number a release names is the count of distinct
tearlines the recipient could have been sent up to this one, and its time is that of the first
version whose tearline equals the one released. Our own stored version number stays in the
release record here (DESIGN §3.5), and never leaves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tearline.markings.release import Recipient
from tearline.node import Node
from tearline.release.consents import tearline_context
from tearline.release.tearline import Tearline, TearlineContext, TearlineRefused, tearline_for
from tearline.store import holdings as held
from tearline.store.content import VersionContent, version_content
from tearline.store.holdings import VersionTimes


@dataclass(frozen=True)
class RecipientVersion:
    """A released tearline's place among the tearlines of its report for one recipient."""

    number: int  # the recipient's number for it: distinct tearlines up to and including this one
    times: VersionTimes  # created: the first tearline's version; modified: the first equal to this one


def recipient_version(session: Session, node: Node, released: Tearline) -> RecipientVersion:
    """Number and date `released` over the tearlines of every version of its report up to it.

    A version with nothing that may leave is none of the recipient's; a version whose tearline
    equals the one before is the same version to them (the edit it made stays home).
    """
    ctx = tearline_context(session, node)
    firsts: list[int] = []  # the first stored version id of each distinct tearline, oldest first
    before: tuple[Any, ...] | None = None
    for number in range(1, released.version + 1):
        content = version_content(session, released.report, number)
        tearline = released if number == released.version else _tearline_or_none(content, released.recipient, ctx)
        if tearline is None or tearline.empty:
            continue
        shown = shown_content(tearline)
        if shown != before:
            firsts.append(content.version_id)
        before = shown
    stamps = held.version_stamps(session, {firsts[0], firsts[-1]})
    start = stamps[firsts[-1]]
    times = VersionTimes(stamps[firsts[0]].modified, start.modified, start.objects)
    return RecipientVersion(len(firsts), times)


def shown_content(tearline: Tearline) -> tuple[Any, ...]:
    """What a tearline shows its recipient but the hashes (which every stored version has its own of)."""
    kept = tuple(
        (k.kind, k.number, k.text, k.stix_id, k.stix_type, json.dumps(k.body, sort_keys=True, default=str), k.marking)
        for k in tearline.kept
    )
    return (tearline.banner, tearline.predicate, tearline.review_due, kept)


def _tearline_or_none(content: VersionContent, recipient: Recipient, ctx: TearlineContext) -> Tearline | None:
    try:
        return tearline_for(content, recipient, ctx, allow_empty=True)
    except TearlineRefused:  # a source without a grade: no tearline of that version could leave
        return None
