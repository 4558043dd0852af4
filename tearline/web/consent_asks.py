"""Asking originators for consent on a release request, for the API and the console's review: which
withheld items the officer may ask about, and the request itself.

A tearline withholds a partner's item (third-party rule) or another agency's ORCON item until its
originator consents. The officer chooses among the withheld items they may see; one they may not
see is never offered, and naming one answers exactly like naming an item that is not there. The
request is made by the same service as the API's (`consents.request_consent`: its authorisation,
its purpose check, its grouping by originator and its audit entries).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tearline.db.models import Principal
from tearline.errors import InvalidInput, NotFound, Problem
from tearline.markings.banner import portion_mark
from tearline.markings.release import Recipient
from tearline.node import Node
from tearline.policy.workflow import authorize
from tearline.release import consents, workflow
from tearline.release.tearline import Tearline
from tearline.store.content import VersionContent, VersionItem, version_content
from tearline.store.filters import Reader
from tearline.store.reader_versions import shown_version
from tearline.store.reads import visible_hashes
from tearline.web.audited import audited, audited_read, reader_of


@dataclass(frozen=True)
class Askable:
    """A withheld item whose originator's consent could free it, as the officer sees it."""

    hash: str
    kind: str
    text: str
    mark: str
    rule: str
    originator: tuple[str, str]  # (nation, agency)


def askable(node: Node, principal: Principal, request_id: int) -> list[Askable]:
    """What the officer may ask consent for on this release request (an audited read)."""
    objects = [f"release-request:{request_id}"]
    with audited_read(node, principal, "consent.items", objects) as (session, seer, _trail):
        return _askable_in(session, node, reader_of(seer), request_id)


def ask(node: Node, principal: Principal, request_id: int, chosen: list[str] | None, purpose: str) -> list[str]:
    """Ask the originators of the chosen items (None: every item offered) for consent; returns the
    consent requests' ids."""
    objects = [f"release-request:{request_id}"]
    with audited(node, principal, "consent.request", objects, journaled=True) as (session, seer, _trail):
        officer = session.get(Principal, principal.id)
        assert officer is not None
        authorize(officer, "request_consent", node.config.nation)  # a refusal names the role, not the items
        content, tearline = _request_tearline(session, node, reader_of(seer), request_id)
        offered = {a.hash: a for a in _offered(session, node, reader_of(seer), content, tearline)}
        picked = list(offered) if chosen is None else list(dict.fromkeys(chosen))
        if chosen is None and not picked:
            raise InvalidInput(Problem("items", "no withheld item of this tearline that you may see needs an "
                                                "originator's consent"))
        if not picked:
            raise InvalidInput(Problem("items", "choose at least one withheld item to ask consent for"))
        if any(h not in offered for h in picked):  # hidden and missing alike: nothing hidden shows
            raise InvalidInput(Problem("items", "not a withheld item of this tearline that consent could free"))
        origin = {h: offered[h].originator for h in picked}
        rows = consents.request_consent(session, node, officer, tearline, origin, purpose)
        return [r.id for r in rows]


def _askable_in(session: Session, node: Node, reader: Reader, request_id: int) -> list[Askable]:
    content, tearline = _request_tearline(session, node, reader, request_id)
    return _offered(session, node, reader, content, tearline)


def _request_tearline(
    session: Session, node: Node, reader: Reader, request_id: int
) -> tuple[VersionContent, Tearline]:
    """The request's version and tearline; a request whose version the reader may not see is not there."""
    request = workflow.get_request(session, request_id)
    content = version_content(session, request.report_stix_id, request.version_number)
    if shown_version(session, reader, request.report_stix_id, content.version_id) is None:
        raise NotFound(f"no release request {request_id}")
    recipient = Recipient(request.recipient_nation, request.recipient_agency)
    return content, workflow.tearline_of(session, node, content, recipient, allow_empty=True)


def _offered(
    session: Session, node: Node, reader: Reader, content: VersionContent, tearline: Tearline
) -> list[Askable]:
    """The withheld items a consent could free (the service's own `consent_needed`) that the reader sees."""
    origin = {i.hash: (i.marking.originator_nation, i.marking.originator_agency) for i in content.items}
    needed = {h for hashes in consents.consent_needed(tearline, origin).values() for h in hashes}
    seen = visible_hashes(session, reader, content.version_id, sorted(needed)) if needed else set()
    rules = {w.hash: w.rule for w in tearline.withheld}
    table = node.table(session)

    def mark(item: VersionItem) -> str:
        return portion_mark(item.marking, node.config.nation, table)

    return [
        Askable(i.hash, i.kind, i.text, mark(i), str(rules[i.hash]), origin[i.hash])
        for i in content.items
        if i.hash in seen
    ]
