"""The version a release shows its recipient, numbered and dated over what the recipient receives.

A partner receives a tearline, never the report. An edit to an item the tearline withholds makes
a new stored version here but nothing new for the partner (DESIGN §3.3: version numbers and times
are computed over what the reader sees), so the number a release names is the count of distinct
tearlines the recipient could have been sent up to this one, and its time is that of the first
version whose tearline equals the one released. Our own stored version number stays in the
release record here (DESIGN §3.5), and never leaves.

That count reads the consents live now, so it can shrink: a consent revoked or expired since an
earlier release drops that release's version out of it. What a partner was told is therefore kept
on each release record (the number and a digest of what its tearline showed), and a later release
to the same recipient is numbered from the highest number told before: the same number for the
same content, the next one for anything else. Numbers a partner sees only grow and never name two
contents. The count decides only the first release to a recipient (or one after releases whose
number was never kept).

The times counted read the same consents, so the report's STIX `created` and `modified` told are
kept too: a later release keeps the first `created` told (STIX 2.1 §3.2: it never changes), and
the `modified` told before for the same content, or one strictly later than the last told for new
content (consumers keep the object with the latest `modified`).

Two releases of one report to one recipient at once would both read the same number told before:
the release takes its partner's feed lock (`store.federation.lock_feed`, which publishing the
release takes anyway) before it reads, so they number one after the other.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tearline import clock
from tearline.db.release_tables import Release
from tearline.markings.marking import Marking
from tearline.markings.release import Recipient
from tearline.node import Node
from tearline.release.consents import tearline_context
from tearline.release.tearline import Tearline, TearlineContext, TearlineRefused, tearline_for
from tearline.store import holdings as held
from tearline.store.content import VersionContent, version_content
from tearline.store.federation import lock_feed
from tearline.store.holdings import VersionTimes

# STIX timestamps are told to the millisecond: a later `modified` is at least one millisecond later.
_TOLD_STEP = timedelta(milliseconds=1)


@dataclass(frozen=True)
class RecipientVersion:
    """A released tearline's place among the tearlines of its report for one recipient."""

    number: int  # the recipient's number for it (see the module's docstring)
    times: VersionTimes  # the report's as told (see the module's docstring); its objects' as counted
    digest: str  # of what the tearline shows (`shown_digest`), kept with the release record


def recipient_version(session: Session, node: Node, released: Tearline, release: Release) -> RecipientVersion:
    """Number and date `released`, which `release` sends, on from what its recipient was told before."""
    counted, times = _counted(session, node, released)
    digest = shown_digest(released)
    before = _told_before(session, release)
    numbered = [r for r in before if r.recipient_number is not None]
    # Numbers only grow, so the highest told is also the latest numbered one.
    highest = max(numbered, key=lambda r: (r.recipient_number or 0, clock.as_utc(r.created_at)), default=None)
    if highest is None or highest.recipient_number is None:
        return RecipientVersion(counted, told_times(times, before, None), digest)
    same = _same_shown(highest, release, digest)
    number = highest.recipient_number + (0 if same else 1)
    return RecipientVersion(number, told_times(times, before, highest if same else None), digest)


def record_recipient_version(session: Session, node: Node, released: Tearline, release: Release) -> RecipientVersion:
    """`recipient_version`, kept on the release record for the releases after it to follow."""
    lock_feed(session, release.recipient_nation)  # before reading what was told (the module's docstring)
    seen = recipient_version(session, node, released, release)
    release.recipient_number, release.shown_digest = seen.number, seen.digest
    release.told_created, release.told_modified = seen.times.created, seen.times.modified
    return seen


def told_times(counted: VersionTimes, before: list[Release], same: Release | None) -> VersionTimes:
    """The report's times to tell: the first `created` told; the `modified` of `same` (the release
    told the same content), else the counted one but strictly later than every `modified` told.
    `before` is oldest first; releases made before their times were kept are passed over."""
    created = next((r.told_created for r in before if r.told_created is not None), None)
    modified = _to_millisecond(counted.modified)
    if same is not None and same.told_modified is not None:
        modified = same.told_modified
    elif lasts := [r.told_modified for r in before if r.told_modified is not None]:
        modified = max(modified, max(clock.as_utc(m) for m in lasts) + _TOLD_STEP)
    first = clock.as_utc(created) if created is not None else _to_millisecond(counted.created)
    return replace(counted, created=first, modified=clock.as_utc(modified))


def _to_millisecond(moment: datetime) -> datetime:
    # What a STIX timestamp tells of it, so that the time kept is the time told.
    utc = clock.as_utc(moment)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def _told_before(session: Session, release: Release) -> list[Release]:
    """The other releases of the report to the same recipient, oldest first (recalled ones count:
    the partner was told)."""
    agency = Release.recipient_agency
    query = select(Release).where(
        Release.report_stix_id == release.report_stix_id,
        Release.recipient_nation == release.recipient_nation,
        agency.is_(None) if release.recipient_agency is None else agency == release.recipient_agency,
        Release.id != release.id,
    )
    return list(session.scalars(query.order_by(Release.created_at, Release.id)))


def _same_shown(told: Release, release: Release, digest: str) -> bool:
    if told.shown_digest is not None:
        return told.shown_digest == digest
    # Numbered by its sealed payload before digests were kept: only the same stored version with the
    # same items kept is surely the same content; anything else takes a new number.
    return told.version_number == release.version_number and sorted(told.kept_hashes) == sorted(release.kept_hashes)


def _counted(session: Session, node: Node, released: Tearline) -> tuple[int, VersionTimes]:
    """The count of distinct tearlines of the report up to `released`, under today's consents, and the times.

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
    return len(firsts), times


def shown_content(tearline: Tearline) -> tuple[Any, ...]:
    """What a tearline shows its recipient but the hashes (which every stored version has its own of)."""
    kept = tuple(
        (k.kind, k.number, k.text, k.stix_id, k.stix_type, json.dumps(k.body, sort_keys=True, default=str), k.marking)
        for k in tearline.kept
    )
    return (tearline.banner, tearline.predicate, tearline.review_due, kept)


def shown_digest(tearline: Tearline) -> str:
    """SHA-256 of `shown_content`, the same in every process and on either database."""
    encoded = json.dumps(shown_content(tearline), sort_keys=True, ensure_ascii=False, default=_plain).encode()
    return hashlib.sha256(encoded).hexdigest()


def _plain(value: Any) -> Any:
    # A marking's sets print in hash order, which differs between processes: its canonical form does not.
    if isinstance(value, Marking):
        return value.as_dict()
    if isinstance(value, datetime):
        return clock.as_utc(value).isoformat()
    raise TypeError(f"no plain form for {type(value).__name__}")


def _tearline_or_none(content: VersionContent, recipient: Recipient, ctx: TearlineContext) -> Tearline | None:
    try:
        return tearline_for(content, recipient, ctx, allow_empty=True)
    except TearlineRefused:  # a source without a grade: no tearline of that version could leave
        return None
