"""A partner's version numbers only grow, and never name two contents, whatever consents do since.

Mexico passed the US port contact on to Canada under a US consent: Canada was told version 1. The
US then amended the contact and released the new version to Mexico, which passed it on under a
second consent, after the US had revoked the first. The number was counted anew under the
consents live then: the first version had nothing left for Canada, so the amended contact was told
as version 1 as well. Now each release keeps what its recipient was told, and the next one numbers
on from it. On SQLite and on PostgreSQL; migration 0013 fills the number of releases made before
from their sealed payload.

The report's STIX times followed the same consents: the amended contact was told with a later
`created` than the first, and a `modified` counted anew could fall before one told earlier. The
times told are kept too: one `created`, and a `modified` that grows with the content.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tearline import clock
from tearline.db.migrate import alembic_config
from tearline.db.models import Report
from tearline.db.release_tables import Consent, OutboxMessage, Release
from tearline.federation.feed import unit_for
from tearline.fixtures import build_demo
from tearline.markings.release import Recipient
from tearline.node import SERVICE_ACCOUNT, Node
from tearline.release import consents, workflow
from tearline.release.versions import record_recipient_version, told_times
from tearline.release.workflow import tearline_of
from tearline.store.content import version_content
from tearline.store.holdings import VersionTimes
from tearline.store.reports import edit_report, store_received_version
from tests.conftest import Templates
from tests.release.support import (
    DETERMINATION,
    cheap_passwords,
    convoy_request_for_mexico,
    deliver,
    delivery_grant,
    mex_node,
    p,
    received_draft,
    release_convoy_to_mexico,
)
from tests.release.test_consent import PORT_CONTACT, _answer_on_us, _approve, _ask, _receive, _request

AMENDED = " (amended: the meeting moved to the Deltaport terminal)"


@pytest.fixture
def mex(backend: str, templates: Templates, tmp_path: Path) -> Iterator[Node]:
    node = mex_node(backend, templates, tmp_path)
    yield node
    node.close()


def _consent(us: Node, mex: Node, report: str) -> Consent:
    """Mexico asks the US for what Canada may not have without it; the US grants, Mexico keeps it."""
    granted, answer = _answer_on_us(us, _ask(mex, report), grant=True)
    assert granted is not None and _receive(mex, answer, us.signing_key().public_key()) is not None
    return granted


def _release_to_canada(mex: Node, report: str) -> Release:
    request = _request(mex, report, days=20)
    assert _approve(mex, "lucia.divulgacion", request) is None
    release = _approve(mex, "rafael.divulgacion", request)
    assert release is not None
    return release


def _amend_port_contact(us: Node, report: str) -> None:
    with us.db.write() as session:
        content = version_content(session, report)
        draft = received_draft(content, {i.hash for i in content.items})
        portions = tuple(
            replace(d, text=d.text + AMENDED) if d.text.startswith(PORT_CONTACT) else d for d in draft.portions
        )
        draft = replace(draft, portions=portions, received=False)
        edit_report(session, report, draft, p(session, "ana.analyst"), us.identity, us.registry(session), True)


def _deliver_newer(us: Node, release: Release, mex: Node) -> None:
    """What federation does with a newer release of a report held as received (as `deliver` does the first)."""
    with us.db.read() as session:
        content = version_content(session, release.report_stix_id, release.version_number)
    with mex.db.write() as session:
        held = session.scalar(select(Report).where(Report.stix_id == release.report_stix_id))
        assert held is not None
        draft = received_draft(content, set(release.kept_hashes))
        service, registry = p(session, SERVICE_ACCOUNT), mex.registry(session)
        store_received_version(session, held, draft, service, mex.identity, registry)
        items = version_content(session, release.report_stix_id).items
        session.add_all(delivery_grant(i.hash, release.id, release.expires_at) for i in items)


class Told(NamedTuple):
    number: int  # what the seal tells
    created: str  # the report's, in the bundle
    modified: str
    bundle: str


def _told(mex: Node) -> list[Told]:
    """Each release unit in Canada's feed, oldest first."""
    with mex.db.read() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == "release").order_by(OutboxMessage.id)
        messages = list(session.scalars(query))
        return [_told_by(unit_for(mex, m).payload["release"]["version"], m.payload) for m in messages]


def _told_by(number: int, payload: dict[str, Any]) -> Told:
    report = next(o for o in payload["bundle"]["objects"] if o["id"] == payload["release"]["report"])
    return Told(number, report["created"], report["modified"], str(payload["bundle"]))


def _kept(mex: Node) -> dict[str, tuple[int | None, str | None, str | None, str | None]]:
    with mex.db.read() as session:
        releases = session.scalars(select(Release))
        return {r.id: (r.recipient_number, r.shown_digest, *_stamps(r)) for r in releases}


def _stamps(release: Release) -> tuple[str | None, str | None]:
    """The report's times the release record keeps, as a STIX bundle tells them."""
    return _stix(release.told_created), _stix(release.told_modified)


def _stix(moment: datetime | None) -> str | None:
    return clock.stix_timestamp(moment) if moment is not None else None


def test_a_revoked_consent_never_makes_a_partner_see_a_number_twice(
    node: Node, mex: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    cheap_passwords(monkeypatch)
    us, demo = node, build_demo(node)
    report = deliver(us, release_convoy_to_mexico(us, demo), mex)
    first_consent = _consent(us, mex, report)
    first = _release_to_canada(mex, report)  # the port contact as the US first wrote it

    _amend_port_contact(us, report)
    _deliver_newer(us, release_convoy_to_mexico(us, demo), mex)
    _consent(us, mex, report)  # a consent covers the hashes of one version: the amended one needs its own
    with mex.db.write() as session:
        assert consents.revoke_consent(session, mex, first_consent.id, by="USA/US-DEMO-NARC") == [first.id]
    second = _release_to_canada(mex, report)
    again = _release_to_canada(mex, report)  # the same tearline once more

    told = _told(mex)
    assert AMENDED not in told[0].bundle and AMENDED in told[1].bundle and AMENDED in told[2].bundle
    assert [t.number for t in told] == [1, 2, 2]  # counted under today's consents, the second was told 1 again
    _assert_dated(told)  # counted so, the second was created later than the first
    kept = _kept(mex)
    assert [kept[r.id][0] for r in (first, second, again)] == [1, 2, 2]
    assert kept[second.id][1] == kept[again.id][1] != kept[first.id][1]
    assert [kept[r.id][2:] for r in (first, second, again)] == [(t.created, t.modified) for t in told]

    # A node migrated from before 0013 has the numbers and times its sealed payloads told, and no digests.
    config = alembic_config(mex.db.url)
    command.downgrade(config, "0012")
    command.upgrade(config, "head")
    assert _kept(mex) == {r.id: (kept[r.id][0], None, *kept[r.id][2:]) for r in (first, second, again)}
    # Without a digest, the same stored version with the same items kept is the same content.
    _release_to_canada(mex, report)
    told = _told(mex)
    assert [t.number for t in told] == [1, 2, 2, 2]
    _assert_dated(told)


def _assert_dated(told: list[Told]) -> None:
    """One STIX report: its `created` never changes, and its `modified` changes with its content only."""
    assert len({t.created for t in told}) == 1
    for before, after in itertools.pairwise(told):
        same = after.number == before.number
        assert after.modified == before.modified if same else after.modified > before.modified


def test_the_first_release_to_a_recipient_is_counted_and_kept(node: Node) -> None:
    demo = build_demo(node)
    release = release_convoy_to_mexico(node, demo)
    with node.db.read() as session:
        kept = session.get(Release, release.id)
        assert kept is not None and kept.recipient_number == 1 and kept.shown_digest is not None
    assert release.recipient_number == 1


def test_the_times_told_only_move_on_with_the_content() -> None:
    """A `modified` counted under today's consents may fall before one told already (an earlier
    version's tearline is the first equal to this one now): it is told a millisecond after."""
    at = datetime(2026, 11, 3, 14, 5, 9, 250_700, tzinfo=UTC)
    counted = VersionTimes(at - timedelta(days=2), at - timedelta(days=1), {})
    first_told = replace(counted, created=_ms(counted.created), modified=_ms(counted.modified))
    assert told_times(counted, [], None) == first_told

    first = Release(told_created=_ms(at - timedelta(days=9)), told_modified=_ms(at - timedelta(days=9)))
    last = Release(told_created=_ms(at), told_modified=_ms(at))  # filled from a payload that counted anew
    later = told_times(counted, [first, last], None)
    assert later.created == first.told_created  # the first created told, never the one counted
    assert later.modified == _ms(at) + timedelta(milliseconds=1)
    assert told_times(counted, [first, last], last).modified == last.told_modified  # the same content
    newer = replace(counted, modified=at + timedelta(hours=1))
    assert told_times(newer, [first, last], None).modified == _ms(newer.modified)


def _ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


# On PostgreSQL only: a SQLite writer holds the whole database from BEGIN IMMEDIATE, one at a time.
@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_releases_at_once_number_one_after_the_other(node: Node) -> None:
    """Two releases of one report to one partner at the same moment: the second reads what the first
    told only once the first committed."""
    demo = build_demo(node)
    told_first = release_convoy_to_mexico(node, demo)  # told 1
    other, racing = convoy_request_for_mexico(node, demo), convoy_request_for_mexico(node, demo)
    approved: list[Release] = []
    with node.db.write() as session:
        # A release of other content (a later review date), its number read and not yet committed.
        release = _release_row(session, told_first, other)
        content = version_content(session, told_first.report_stix_id, told_first.version_number)
        tearline = tearline_of(session, node, content, Recipient("MEX", "MX-DEMO-FIA"))
        shown = replace(tearline, review_due=clock.now() + timedelta(days=400))
        assert record_recipient_version(session, node, shown, release).number == 2
        session.flush()
        dora = threading.Thread(target=lambda: approved.append(_approve_on(node, racing)))
        dora.start()
        _wait_until_waiting(node, dora)
    dora.join(timeout=60)
    assert not dora.is_alive() and len(approved) == 1
    # The first release's content again, after 2 named other content: 3 (read before 2 committed: 1).
    assert approved[0].recipient_number == 3


def _release_row(session: Session, like: Release, request_id: int) -> Release:
    columns = ("report_stix_id", "version_number", "kept_hashes", "recipient_nation", "recipient_agency")
    kept = {c: getattr(like, c) for c in columns}
    release = Release(
        id=f"release--{uuid.uuid4()}",
        request_id=request_id,
        **kept,
        determination=DETERMINATION,
        purpose=like.purpose,
        need_to_know=like.need_to_know,
        expires_at=like.expires_at,
        approvers=[],
        consents_used=[],
        banner=like.banner,
        created_at=clock.now(),
    )
    session.add(release)
    return release


def _approve_on(node: Node, request_id: int) -> Release:
    with node.db.write() as session:
        release = workflow.approve(session, node, p(session, "dora.disclosure"), request_id, DETERMINATION)
        assert release is not None
        session.expunge(release)
        return release


def _wait_until_waiting(node: Node, approver: threading.Thread) -> None:
    """Until the approval waits on a lock the open transaction holds, or is done (as without one)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 60
    with node.db.engine.connect() as conn:
        while approver.is_alive() and not conn.execute(waiting).scalar_one() and time.monotonic() < deadline:
            conn.rollback()  # a fresh snapshot of the activity each time
            approver.join(timeout=0.05)
