"""The leak harness: random principals, markings and reports; every read path held to the oracle.

No principal may receive a portion, an object, a count, a search hit or a banner that the rules
of DESIGN §3.3 deny them, and every item they may see must be there. Later issues add their read
paths (TAXII, stream, graph, entity resolution) here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from sqlalchemy import select

from tearline import clock
from tearline.db.models import Grant, Portion, Principal, StixObject
from tearline.errors import NotFound
from tearline.markings.banner import banner_text
from tearline.markings.marking import marking_from_dict
from tearline.node import SERVICE_ACCOUNT, Node
from tearline.policy.host import add_member, add_workspace, set_host_rules
from tearline.store import reader_versions, reads
from tearline.store import registry as reg
from tearline.store.audience import marking_from_body
from tearline.store.drafts import ObjectDraft, PortionDraft, ReportDraft
from tearline.store.principals import add_principal
from tearline.store.reports import create_report, edit_report, withdraw_report
from tearline.web.routes_stream import events_for
from tests.conftest import NodeFactory
from tests.leak import oracle
from tests.leak.world import (
    AGENCIES,
    COMPARTMENTS,
    ORCON_DELIVERED,
    WORDS,
    ReportSpec,
    WorldSpec,
    stix_id,
    worlds,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@dataclass
class Built:
    node: Node
    principals: dict[str, oracle.P]
    rows: dict[int, Principal]
    items: list[tuple[oracle.X, Any]]  # (oracle view, stored row)
    report_ids: dict[int, str]
    world: oracle.World


def _draft(spec: ReportSpec, registry: Any, ws: str | None, variant: str = "") -> ReportDraft:
    ids = {o.key: stix_id(o.stix_type) for o in spec.objects}
    return ReportDraft(
        title=PortionDraft(spec.title[0] + variant, marking_from_dict(spec.title[1], registry)),
        portions=tuple(PortionDraft(t + variant, marking_from_dict(m, registry)) for t, m in spec.portions),
        objects=tuple(
            ObjectDraft(
                ids[o.key],
                o.stix_type,
                {"name": o.name},
                marking_from_dict(o.marking, registry),
                name=o.name,
                latitude=o.lat,
                longitude=o.lon,
                source_ref=ids.get(o.source or ""),
                target_ref=ids.get(o.target or ""),
            )
            for o in spec.objects
        ),
        predicate="fictional predicate",
        review_due=NOW + timedelta(days=30),
        workspace=ws,
        received=spec.received,
    )


def build(node: Node, spec: WorldSpec) -> Built:
    with node.db.write() as session:
        for name, nation, le in AGENCIES:
            reg.add_agency(session, name, nation, le)
        for name, owners in COMPARTMENTS.items():
            reg.add_compartment(session, name, owners)
        ws = add_workspace(session, "ws", "fictional workspace", "USA")
        rows = {}
        for p in spec.principals:
            rows[p.username] = add_principal(session, p.username, p.nation, p.agency, p.clearance, p.compartments)
            if p.member:
                add_member(session, ws, rows[p.username])
        if spec.forbidden_nation:
            admin = add_principal(session, "host-admin", "USA", "US-DEMO-NARC", "SECRET", roles=["admin"])
            rule = (
                f'@id("no-{spec.forbidden_nation}")\nforbid(principal, action, resource) '
                f'when {{ principal.nation == "{spec.forbidden_nation}" }};'
            )
            set_host_rules(session, ws, rule, admin)
        submitter = session.scalar(select(Principal).where(Principal.username == SERVICE_ACCOUNT))
        registry = node.registry(session)
        report_ids = {}
        for r in spec.reports:
            report = create_report(
                session, _draft(r, registry, "ws" if r.in_workspace else None), submitter, node.identity, registry
            )
            report_ids[report.id] = report.stix_id
            if r.edited and not r.received:
                edit_report(
                    session, report.stix_id, _draft(r, registry, None, " v2"), submitter, node.identity, registry, True
                )
            if r.withdrawn:
                withdraw_report(session, report.stix_id, "recall")
        items = _items(session, ws.id)
        _add_grants(session, spec, items)
        grants = [
            oracle.G(
                g.kind,
                g.grantor_nation,
                g.nation,
                g.agency,
                g.item_hash,
                g.report_version_id,
                g.expires_at,
                g.recalled_at is not None,
            )
            for g in session.scalars(select(Grant))
        ]
        agencies = {a[0]: a[2] for a in AGENCIES}
        principals = {
            p.username: oracle.P(
                rows[p.username].id,
                p.nation,
                p.agency,
                p.clearance,
                frozenset(p.compartments),
                agencies[p.agency],
                frozenset({ws.id}) if p.member and p.nation != spec.forbidden_nation else frozenset(),
            )
            for p in spec.principals
        }
    for row in rows.values():
        node.db.engine.dispose()  # nothing cached between the write and the reads
        _ = row
    return Built(node, principals, rows, items, report_ids, oracle.World("USA", NOW, grants))


def _items(session: Any, ws_id: int) -> list[tuple[oracle.X, Any]]:
    out = []
    for model in (Portion, StixObject):
        for row in session.scalars(select(model).where(model.is_current)):
            m = marking_from_body(session.get(_marking_model(), row.marking_id).body)
            out.append(
                (
                    oracle.X(
                        hash=row.hash,
                        version_id=row.version_id,
                        report_id=row.report_id,
                        orig_nation=m.originator_nation,
                        orig_agency=m.originator_agency,
                        level=m.level,
                        rel_to=m.rel_to,
                        controls=m.controls,
                        compartments=m.compartments,
                        withdrawn=row.withdrawn,
                        received=row.received,
                        workspace=row.workspace_id,
                        source_ref=getattr(row, "source_ref", None),
                        target_ref=getattr(row, "target_ref", None),
                        stix_id=getattr(row, "stix_id", None),
                        source_fields=m.source_fields,
                        source_compartment=m.source_compartment,
                    ),
                    row,
                )
            )
    return out


def _marking_model() -> Any:
    from tearline.db.models import MarkingRow

    return MarkingRow


def _add_grants(session: Any, spec: WorldSpec, items: list[tuple[oracle.X, Any]]) -> None:
    for g in spec.grants:
        if not items:
            return
        x, _ = items[g.target % len(items)]
        session.add(
            Grant(
                kind=g.kind,
                grantor_nation=g.grantor_nation,
                grantor_agency="X",
                nation=g.nation,
                agency=g.agency,
                item_hash=None if g.by_version else x.hash,
                report_version_id=x.version_id if g.by_version else None,
                expires_at=NOW - timedelta(days=1) if g.expired else NOW + timedelta(days=30),
                recalled_at=NOW if g.recalled else None,
                created_at=NOW,
            )
        )
    received = [x for x, _ in items if x.received]
    for d in spec.deliveries if received else []:
        x = received[d.target % len(received)]
        session.add(
            Grant(
                kind="delivery",
                grantor_nation=x.orig_nation,
                grantor_agency=x.orig_agency,
                nation="USA",
                agency=d.agency,
                item_hash=None if d.by_version else x.hash,
                report_version_id=x.version_id if d.by_version else None,
                expires_at=NOW - timedelta(days=1) if d.expired else NOW + timedelta(days=30),
                recalled_at=NOW if d.recalled else None,
                created_at=NOW,
            )
        )
    session.flush()


def expected(built: Built, p: oracle.P) -> tuple[list[tuple[oracle.X, Any]], list[tuple[oracle.X, Any]]]:
    """The portions and objects the oracle lets p see."""
    portions = [(x, r) for x, r in built.items if isinstance(r, Portion) and oracle.may_see(p, x, built.world)]
    by_version: dict[int, dict[str, oracle.X]] = {}
    for x, r in built.items:
        if isinstance(r, StixObject):
            by_version.setdefault(x.version_id, {})[r.stix_id] = x
    objects = [
        (x, r)
        for x, r in built.items
        if isinstance(r, StixObject) and oracle.object_may_see(p, x, by_version[x.version_id], built.world)
    ]
    return portions, objects


def check_principal(built: Built, username: str) -> None:
    p = built.principals[username]
    portions, objects = expected(built, p)
    node = built.node
    reader = node.reader(built.rows[username])
    with node.db.read() as session:
        table = node.table(session)
        _check_counts(session, reader, portions, objects)
        _check_portion_pages(session, reader, portions)
        _check_reports(session, reader, table, built, p, portions, objects)
        _check_objects_and_search(session, reader, objects, p)
        _check_portion_search(session, reader, portions, p)
        _check_fulltext(session, reader, portions, objects, p)
    _check_stream(built, username, {r.report_id for _, r in portions} | {r.report_id for _, r in objects})


def _check_stream(built: Built, username: str, visible: set[int]) -> None:
    """The live stream tells a subscriber of exactly the reports the oracle lets them read."""
    events, _ = events_for(built.node, built.rows[username], 0, limit=10_000)
    assert {e["report"] for e in events if e["kind"] == "report"} == {built.report_ids[r] for r in visible}
    assert all(e["kind"] == "report" for e in events)  # no role event exists in these worlds


def _check_counts(session: Any, reader: Any, portions: list[Any], objects: list[Any]) -> None:
    got = reads.counts(session, reader)
    assert got["portions"] == sum(1 for _, r in portions if not r.is_title)
    assert got["objects"] == dict(sorted(Counter(r.stix_type for _, r in objects).items()))
    visible_reports = {r.report_id for _, r in portions} | {r.report_id for _, r in objects}
    assert got["reports"] == len(visible_reports)


def _check_portion_pages(session: Any, reader: Any, portions: list[Any]) -> None:
    """The keyset page and count that `tearline bench visibility` times: exactly the visible portions."""
    want = sorted(r.id for _, r in portions)
    assert reads.portion_count(session, reader) == len(want)
    got: list[int] = []
    while page := reads.portion_page(session, reader, 3, got[-1] if got else 0):
        got += page
    assert got == want


def _check_reports(
    session: Any, reader: Any, table: Any, built: Built, p: oracle.P, portions: list[Any], objects: list[Any]
) -> None:
    listed = reads.report_list(session, reader, table, 100, 0)
    visible = {r.report_id for _, r in portions} | {r.report_id for _, r in objects}
    assert {i["id"] for i in listed.items} == {built.report_ids[r] for r in visible}
    assert listed.total == len(visible)
    for report_id, stix in built.report_ids.items():
        if report_id not in visible:
            with pytest.raises(NotFound):
                reader_versions.report_view(session, reader, table, stix)
            continue
        view = reader_versions.report_view(session, reader, table, stix)
        mine = sorted((r for _, r in portions if r.report_id == report_id and not r.is_title), key=lambda r: r.position)
        assert [v.hash for v in view.portions] == [r.hash for r in mine]
        assert [v.number for v in view.portions] == list(range(1, len(mine) + 1))
        for v, (x, r) in zip(view.portions, [(x, r) for r in mine for x, rr in portions if rr is r], strict=True):
            hidden_source = "text" in x.source_fields and not oracle.sees_source(p, x)
            assert (v.text == r.text) is not hidden_source or r.text.startswith("[withheld")
        assert {o.hash for o in view.objects} == {r.hash for _, r in objects if r.report_id == report_id}
        shown = [x for x, r in portions + objects if r.report_id == report_id]
        assert view.banner == banner_text([_marking_of(x) for x in shown], "USA", table)


def _marking_of(x: oracle.X) -> Any:
    from tearline.markings.marking import Marking

    return Marking(x.orig_nation, x.orig_agency, x.level, x.rel_to, x.controls, x.compartments)


def _check_objects_and_search(session: Any, reader: Any, objects: list[Any], p: oracle.P) -> None:
    page = reads.object_list(session, reader, None, 500, 0)
    assert {o.hash for o in page.items} == {r.hash for _, r in objects}
    assert page.total == len(objects)
    for word in WORDS:
        hits = reads.search_objects(session, reader, reads.SearchQuery(text=word, limit=500))
        want = {
            r.hash
            for x, r in objects
            if word in r.name.lower() and oracle.text_searchable(p, x)
        }
        assert {o.hash for o in hits.items} == want and hits.total == len(want)
    _check_box_search(session, reader, objects, p)


def _check_box_search(session: Any, reader: Any, objects: list[Any], p: oracle.P) -> None:
    """A box finds exactly the visible items whose coordinates p is shown there, with and without
    the audience snapshot (the probe decides for a principal whose audience is too large for one)."""
    box = reads.SearchQuery(bbox=(-110.0, 30.0, -100.0, 40.0), limit=500)
    in_box = {
        r.hash
        for x, r in objects
        if r.latitude is not None
        and 30 <= r.latitude <= 40
        and -110 <= r.longitude <= -100
        and oracle.sees_coordinates(p, x)
    }
    for sight in (reader, replace(reader, audience=None)):
        found = reads.search_objects(session, sight, box)
        assert {o.hash for o in found.items} == in_box and found.total == len(in_box)
        assert all(o.latitude is not None and o.longitude is not None for o in found.items)


def _check_portion_search(session: Any, reader: Any, portions: list[Any], p: oracle.P) -> None:
    for word in WORDS:
        hits = reads.search_portions(session, reader, word, 500, 0)
        want = {
            r.text
            for x, r in portions
            if word in r.text and oracle.text_searchable(p, x)
        }
        assert {h["text"] for h in hits.items} == want
        assert hits.total == len(
            [
                1
                for x, r in portions
                if word in r.text and oracle.text_searchable(p, x)
            ]
        )


# Full-text queries and what each means, spelled out for the oracle: (words in order, last is a prefix).
FULLTEXT_QUERIES: dict[str, list[tuple[tuple[str, ...], bool]]] = {
    "PENA": [(("pena",), False)],
    "Peña alpha": [(("pena",), False), (("alpha",), False)],
    '"alpha bravo"': [(("alpha", "bravo"), False)],
    "ce*": [(("ce",), True)],
    '"bravo peña" cer*': [(("bravo", "pena"), False), (("cer",), True)],
}


def _oracle_text_match(terms: list[tuple[tuple[str, ...], bool]], text: str) -> bool:
    """Every term's words appear in order in the text (accents and case aside); a prefix term's last word starts one."""
    seen = text.lower().replace("ñ", "n").split()

    def at(i: int, words: tuple[str, ...], prefix: bool) -> bool:
        window = seen[i : i + len(words)]
        if len(window) < len(words):
            return False
        *whole, last = words
        return window[:-1] == whole and (window[-1].startswith(last) if prefix else window[-1] == last)

    return all(any(at(i, words, prefix) for i in range(len(seen))) for words, prefix in terms)


def _check_fulltext(session: Any, reader: Any, portions: list[Any], objects: list[Any], p: oracle.P) -> None:
    """Full-text hits and totals are exactly the matching items the oracle lets p search."""
    for query, terms in FULLTEXT_QUERIES.items():
        hits = reads.search_portions(session, reader, query, 500, 0)
        texts = [
            r.text
            for x, r in portions
            if _oracle_text_match(terms, r.text) and oracle.text_searchable(p, x)
        ]
        assert sorted(h["text"] for h in hits.items) == sorted(texts) and hits.total == len(texts), query
        found = reads.search_objects(session, reader, reads.SearchQuery(text=query, limit=500))
        want = [
            r.hash
            for x, r in objects
            if _oracle_text_match(terms, r.name) and oracle.text_searchable(p, x)
        ]
        assert sorted(o.hash for o in found.items) == sorted(want) and found.total == len(want), query


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=worlds())
@example(spec=ORCON_DELIVERED)
def test_every_read_path_obeys_the_oracle(make_node: NodeFactory, spec: WorldSpec) -> None:
    with clock.frozen_at(NOW):
        built = build(make_node(), spec)
        for username in built.principals:
            check_principal(built, username)
