"""A partner's version numbers only grow, and never name two contents, whatever consents do since.

Mexico passed the US port contact on to Canada under a US consent: Canada was told version 1. The
US then amended the contact and released the new version to Mexico, which passed it on under a
second consent, after the US had revoked the first. The number was counted anew under the
consents live then: the first version had nothing left for Canada, so the amended contact was told
as version 1 as well. Now each release keeps what its recipient was told, and the next one numbers
on from it. On SQLite and on PostgreSQL; migration 0013 fills the number of releases made before
from their sealed payload.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select

from tearline import clock
from tearline.db.migrate import alembic_config
from tearline.db.models import Grant, Report
from tearline.db.release_tables import Consent, OutboxMessage, Release
from tearline.federation.feed import unit_for
from tearline.fixtures import build_demo
from tearline.node import SERVICE_ACCOUNT, Node
from tearline.release import consents
from tearline.store.content import version_content
from tearline.store.reports import edit_report, store_received_version
from tests.conftest import Templates
from tests.release.support import (
    cheap_passwords,
    deliver,
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
        for item in version_content(session, release.report_stix_id).items:
            session.add(
                Grant(
                    kind="delivery",
                    grantor_nation="USA",
                    grantor_agency="US-DEMO-NARC",
                    nation="MEX",
                    agency="MX-DEMO-FIA",
                    item_hash=item.hash,
                    expires_at=clock.as_utc(release.expires_at),
                    created_at=clock.now(),
                    origin_id=release.id,
                )
            )


def _told(mex: Node) -> list[tuple[int, str]]:
    """Each release unit in Canada's feed, oldest first: the number its seal tells and its bundle."""
    with mex.db.read() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == "release").order_by(OutboxMessage.id)
        messages = list(session.scalars(query))
        return [(unit_for(mex, m).payload["release"]["version"], str(m.payload["bundle"])) for m in messages]


def _kept(mex: Node) -> dict[str, tuple[int | None, str | None]]:
    with mex.db.read() as session:
        return {r.id: (r.recipient_number, r.shown_digest) for r in session.scalars(select(Release))}


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

    (one, told_first), (two, told_second), (three, told_again) = _told(mex)
    assert AMENDED not in told_first and AMENDED in told_second and AMENDED in told_again
    assert (one, two, three) == (1, 2, 2)  # counted under today's consents, the second was told 1 again
    kept = _kept(mex)
    assert [kept[r.id][0] for r in (first, second, again)] == [1, 2, 2]
    assert kept[second.id][1] == kept[again.id][1] != kept[first.id][1]

    # A node migrated from before 0013 has the numbers its sealed payloads told, and no digests.
    config = alembic_config(mex.db.url)
    command.downgrade(config, "0012")
    command.upgrade(config, "head")
    assert _kept(mex) == {r.id: (kept[r.id][0], None) for r in (first, second, again)}
    # Without a digest, the same stored version with the same items kept is the same content.
    _release_to_canada(mex, report)
    assert [n for n, _ in _told(mex)] == [1, 2, 2, 2]


def test_the_first_release_to_a_recipient_is_counted_and_kept(node: Node) -> None:
    demo = build_demo(node)
    release = release_convoy_to_mexico(node, demo)
    with node.db.read() as session:
        kept = session.get(Release, release.id)
        assert kept is not None and kept.recipient_number == 1 and kept.shown_digest is not None
    assert release.recipient_number == 1
