"""Leak harness for releases: every tearline is held to the oracle of DESIGN §3.5 (release_oracle.py).

Random report versions (random valid markings, received or not, withdrawn or not, relationships),
random recipients (a partner nation, with or without an agency), random makers (either US agency),
random consents (any grantor, recipient and scope; live, expired or revoked) and random deliveries
of received items (live, expired or recalled). The engine must keep exactly what the oracle keeps;
every withheld item must name a rule that does withhold it; the banner, the numbering, the source
grade and the consents used must be as DESIGN says; and refusals (empty tearline, a source without
its grade) must come exactly when the oracle says.

The first test runs `tearline_for` on versions built in memory (many examples); the second stores
them on a real node of each backend and goes through `workflow.tearline_of` (what the workflow and
the review screen use), with consents and deliveries read from the database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tearline import clock
from tearline.db.models import Grant, Principal
from tearline.db.release_tables import Consent
from tearline.markings.marking import Agency, Compartment, Marking, Registry, marking_from_dict
from tearline.markings.release import Maker, Recipient
from tearline.markings.scheme import DEFAULT_TABLE
from tearline.markings.visibility import Cover
from tearline.node import SERVICE_ACCOUNT, Node
from tearline.release import workflow
from tearline.release.tearline import Tearline, TearlineContext, TearlineRefused, tearline_for
from tearline.store import registry as reg
from tearline.store.content import VersionContent, VersionItem, version_content
from tearline.store.drafts import ObjectDraft, PortionDraft, ReportDraft
from tearline.store.reports import create_report, withdraw_report
from tests.leak.world import AGENCIES, COMPARTMENTS, markings
from tests.release import release_oracle as oracle
from tests.release.release_oracle import COMMON

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
WORDS = ["alpha", "bravo", "cerro", "delta", "ébano"]
REGISTRY = Registry(
    node_nation="USA",
    partners=frozenset({"MEX", "CAN"}),
    agencies={name: Agency(name, nation, le) for name, nation, le in AGENCIES},
    compartments={name: Compartment(name, frozenset(owners)) for name, owners in COMPARTMENTS.items()},
)
OWNERS = {name: frozenset(owners) for name, owners in COMPARTMENTS.items()}
LAW_ENFORCEMENT = {name: le for name, _, le in AGENCIES}
AGENCIES_OF = {nation: [a for a, n, _ in AGENCIES if n == nation] for nation in ("USA", "MEX", "CAN")}


# --- random cases --------------------------------------------------------------------------------


@st.composite
def leaning_markings(draw: st.DrawFn) -> dict[str, Any]:
    """Valid markings that a partner may often receive: wide REL TO, few controls and compartments."""
    agency, nation, _ = draw(st.sampled_from(AGENCIES))
    raw: dict[str, Any] = {
        "originator": {"nation": nation, "agency": agency},
        "level": draw(st.sampled_from([lbl for lbl, lvl in COMMON[nation].items() if lvl <= 3])),
        "rel_to": sorted({nation} | draw(st.sets(st.sampled_from(["USA", "MEX", "CAN"]), min_size=2))),
        "controls": sorted(draw(st.sets(st.sampled_from(["ORCON", "LES", "DP"]), max_size=1))),
        "compartments": [draw(st.sampled_from(sorted(COMPARTMENTS)))] if draw(st.integers(0, 5)) == 0 else [],
    }
    if (nation, raw["level"]) == ("MEX", "RESERVADA"):
        raw["reserved_until"] = "2027-01-01T00:00:00Z"
    if draw(st.integers(0, 5)) == 0:
        raw |= {"source_fields": ["name", "text"], "source_grade": "C3"}
    return raw


@st.composite
def marking_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """Any valid marking (tests/leak/world.py), or one leaning towards release, half and half."""
    raw = draw(st.one_of(markings(), leaning_markings()))
    if "source_fields" in raw and draw(st.integers(0, 4)) == 0:
        del raw["source_grade"]  # valid as a marking, but such an item cannot leave in a tearline
    return raw


@dataclass(frozen=True)
class ObjectSpec:
    kind: str
    name: str
    marking: dict[str, Any]
    ends: tuple[int, int] | None = None  # indexes of the related objects, for a relationship


@dataclass(frozen=True)
class ConsentSpec:
    grantor_agency: str
    nation: str
    agency: str | None
    target: int  # index into the version's items
    by_version: bool
    other_version: bool
    expired: bool
    revoked: bool


@dataclass(frozen=True)
class DeliverySpec:
    target: int
    by_version: bool
    expired: bool
    recalled: bool


@dataclass(frozen=True)
class Case:
    title: tuple[str, dict[str, Any]]
    portions: list[tuple[str, dict[str, Any]]]
    objects: list[ObjectSpec]
    received: bool
    withdrawn: bool
    consents: list[ConsentSpec]
    deliveries: list[DeliverySpec]
    recipient: Recipient
    maker_agency: str


@st.composite
def objects(draw: st.DrawFn) -> list[ObjectSpec]:
    out = [
        ObjectSpec(draw(st.sampled_from(["identity", "location"])), f"object {i}", draw(marking_dicts()))
        for i in range(draw(st.integers(0, 5)))
    ]
    entities = len(out)  # a link joins entities, never another link (the store refuses that)
    if entities >= 2:
        for _ in range(draw(st.integers(0, 2))):
            a, b = draw(st.lists(st.integers(0, entities - 1), min_size=2, max_size=2, unique=True))
            out.append(ObjectSpec("relationship", "related-to", draw(marking_dicts()), (a, b)))
    return out


@st.composite
def recipients(draw: st.DrawFn) -> Recipient:
    nation = draw(st.sampled_from(["MEX", "CAN"]))
    return Recipient(nation, draw(st.sampled_from([None, *AGENCIES_OF[nation]])))


@st.composite
def consent_specs(draw: st.DrawFn, recipient: Recipient, originators: list[str]) -> ConsentSpec:
    """Mostly from the target item's originator agency and naming the recipient; sometimes anything."""
    every = [a for a, _, _ in AGENCIES]
    target = draw(st.integers(0, len(originators) - 1))
    nation = recipient.nation if draw(st.integers(0, 3)) else draw(st.sampled_from(["USA", "MEX", "CAN"]))
    return ConsentSpec(
        grantor_agency=originators[target] if draw(st.integers(0, 3)) else draw(st.sampled_from(every)),
        nation=nation,
        agency=draw(st.sampled_from([None, recipient.agency, recipient.agency, *every])),
        target=target,
        by_version=draw(st.integers(0, 5)) == 0,
        other_version=draw(st.integers(0, 3)) == 0,
        expired=draw(st.integers(0, 4)) == 0,
        revoked=draw(st.integers(0, 5)) == 0,
    )


delivery_specs = st.builds(
    DeliverySpec,
    target=st.integers(0, 40),
    by_version=st.integers(0, 3).map(lambda v: v == 0),
    expired=st.integers(0, 5).map(lambda v: v == 0),
    recalled=st.integers(0, 5).map(lambda v: v == 0),
)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    received = draw(st.integers(0, 2)) == 0
    title = (draw(st.sampled_from(WORDS)), draw(marking_dicts()))
    portions = [(draw(st.sampled_from(WORDS)), draw(marking_dicts())) for _ in range(draw(st.integers(0, 5)))]
    objs = draw(objects())
    recipient = draw(recipients())
    # The version's items in their stored order: title, portions, objects.
    originators = [m["originator"]["agency"] for m in [title[1], *(m for _, m in portions), *(o.marking for o in objs)]]
    return Case(
        title=title,
        portions=portions,
        objects=objs,
        received=received,
        withdrawn=draw(st.integers(0, 9)) == 0,
        consents=draw(st.lists(consent_specs(recipient, originators), max_size=8)),
        deliveries=draw(st.lists(delivery_specs, min_size=1, max_size=6)) if received else [],
        recipient=recipient,
        maker_agency=draw(st.sampled_from(AGENCIES_OF["USA"])),
    )


# --- building a version ---------------------------------------------------------------------------


def _text(word: str, kind: str, index: int) -> str:
    return f"{word} {kind} {index}"  # unique, so that a source-sensitive text is recognisable


def draft_of(case: Case) -> ReportDraft:
    ids = [f"{o.kind}--{uuid.uuid4()}" for o in case.objects]
    objs = []
    for i, o in enumerate(case.objects):
        marking = marking_from_dict(o.marking, REGISTRY)
        source, target = (ids[o.ends[0]], ids[o.ends[1]]) if o.ends else (None, None)
        body: dict[str, Any] = {"name": _text(o.name, "name", i)}
        if source:
            body |= {"relationship_type": "related-to", "source_ref": source, "target_ref": target}
        objs.append(ObjectDraft(ids[i], o.kind, body, marking, name=body["name"], source_ref=source, target_ref=target))
    return ReportDraft(
        title=PortionDraft(_text(case.title[0], "title", 0), marking_from_dict(case.title[1], REGISTRY)),
        portions=tuple(
            PortionDraft(_text(t, "portion", i + 1), marking_from_dict(m, REGISTRY))
            for i, (t, m) in enumerate(case.portions)
        ),
        objects=tuple(objs),
        predicate="fictional predicate",
        review_due=clock.now() + timedelta(days=30),
        received=case.received,
    )


def content_in_memory(case: Case, version_id: int = 7) -> VersionContent:
    draft = draft_of(case)
    items = [VersionItem("title", 0, "h-title", draft.title.marking, draft.title.text)]
    items += [VersionItem("portion", i + 1, f"h-p{i + 1}", p.marking, p.text) for i, p in enumerate(draft.portions)]
    items += [
        VersionItem(
            "object",
            i,
            f"h-o{i}",
            o.marking,
            o.name,
            o.stix_id,
            o.stix_type,
            dict(o.body),
            o.source_ref,
            o.target_ref,
        )
        for i, o in enumerate(draft.objects)
    ]
    for item in items:
        item.withdrawn, item.received = case.withdrawn, case.received
    return VersionContent(1, "report--1", version_id, 1, NOW + timedelta(days=30), "fictional", "", items)


def consents_of(case: Case, content: VersionContent, now: datetime) -> list[oracle.Consent]:
    nations = {a: n for a, n, _ in AGENCIES}
    out = []
    for k, c in enumerate(case.consents):
        target = content.items[c.target % len(content.items)]
        version = content.version_id + (1 if c.other_version else 0)
        out.append(
            oracle.Consent(
                f"consent--{k}",
                nations[c.grantor_agency],
                c.grantor_agency,
                c.nation,
                c.agency,
                None if c.by_version else target.hash,
                version if c.by_version else None,
                now - timedelta(days=1) if c.expired else now + timedelta(days=10 + k),
                c.revoked,
            )
        )
    return out


def deliveries_of(case: Case, content: VersionContent, now: datetime) -> list[oracle.Delivery]:
    out = []
    for d in case.deliveries:
        target = content.items[d.target % len(content.items)]
        out.append(
            oracle.Delivery(
                None if d.by_version else target.hash,
                content.version_id if d.by_version else None,
                now - timedelta(hours=1) if d.expired else now + timedelta(days=5),
                d.recalled,
            )
        )
    return out


def plain(item: VersionItem) -> oracle.Item:
    m: Marking = item.marking
    return oracle.Item(
        hash=item.hash,
        kind=item.kind,
        position=item.position,
        text=item.text,
        orig_nation=m.originator_nation,
        orig_agency=m.originator_agency,
        level=m.level,
        rel_to=frozenset(m.rel_to),
        controls=frozenset(m.controls),
        compartments=frozenset(m.compartments),
        source_fields=tuple(m.source_fields),
        source_grade=m.source_grade,
        withdrawn=item.withdrawn,
        received=item.received,
        stix_id=item.stix_id,
        source_ref=item.source_ref,
        target_ref=item.target_ref,
        body=dict(item.body),
    )


def world_of(
    case: Case,
    content: VersionContent,
    consents: list[oracle.Consent],
    deliveries: list[oracle.Delivery],
    now: datetime,
) -> oracle.World:
    return oracle.World(
        "USA", case.maker_agency, content.version_id, now, OWNERS, LAW_ENFORCEMENT, consents, deliveries
    )


# --- the comparison ------------------------------------------------------------------------------------


def check(content: VersionContent, case: Case, world: oracle.World, make: Any) -> None:
    """`make(allow_empty)` makes the engine's tearline; it is held to the oracle."""
    items = [plain(i) for i in content.items]
    want = oracle.expected(items, case.recipient.nation, case.recipient.agency, world)
    if want.refused is not None:
        with pytest.raises(TearlineRefused) as refused:
            make(False)
        assert [p.field for p in refused.value.problems] == ["recipient" if want.refused == "empty" else "source_grade"]
    if want.refused == "source_grade" or any(
        items[k].source_fields and not items[k].source_grade for k in range(len(items)) if items[k].hash in want.kept
    ):
        with pytest.raises(TearlineRefused) as refused:
            make(True)
        assert [p.field for p in refused.value.problems] == ["source_grade"]
        return
    got: Tearline = make(True)
    if want.refused is None:
        assert got.kept_hashes == make(False).kept_hashes

    assert set(got.kept_hashes) == want.kept
    assert len(got.kept) + len(got.withheld) == len(items)
    for w in got.withheld:
        assert w.rule, w
        assert w.rule in want.failures[w.hash], (w, want.failures[w.hash])
    assert got.banner == (want.banner or "")
    assert {c.origin_id for c in got.consents_used} == want.consents_used
    by_hash = {x.hash: x for x in items}
    for kind in ("title", "portion", "object"):
        kept = [k for k in got.kept if k.kind == kind]
        assert [k.number for k in kept] == list(range(1, len(kept) + 1))  # renumbered: no gaps show
        assert [k.original_position for k in kept] == sorted(k.original_position for k in kept)
    for k in got.kept:
        x = by_hash[k.hash]
        if not x.source_fields:
            assert (k.text, k.body) == (x.text, x.body)
            continue
        grade = f"[source grade {x.source_grade}]"
        if {"text", "name"} & set(x.source_fields):
            assert k.text == grade and x.text not in k.text
        for name in x.source_fields:
            if name in x.body:
                assert k.body[name] == grade


def _covers(
    consents: list[oracle.Consent], deliveries: list[oracle.Delivery]
) -> tuple[tuple[Cover, ...], tuple[Cover, ...]]:
    nations = {a: n for a, n, _ in AGENCIES}
    consent_covers = tuple(
        Cover(
            "consent",
            c.grantor_nation,
            c.nation,
            c.agency,
            c.item_hash,
            c.version_id,
            c.expires_at,
            c.revoked,
            grantor_agency=c.grantor_agency,
            origin_id=c.id,
        )
        for c in consents
    )
    assert all(nations[c.grantor_agency] == c.grantor_nation for c in consents)
    delivery_covers = tuple(
        Cover("delivery", "MEX", "USA", None, d.item_hash, d.version_id, d.expires_at, d.recalled) for d in deliveries
    )
    return consent_covers, delivery_covers


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=cases())
def test_tearline_for_keeps_exactly_what_the_oracle_keeps(case: Case) -> None:
    content = content_in_memory(case)
    consents, deliveries = consents_of(case, content, NOW), deliveries_of(case, content, NOW)
    consent_covers, delivery_covers = _covers(consents, deliveries)
    ctx = TearlineContext(
        Maker("USA", case.maker_agency), REGISTRY, DEFAULT_TABLE, consent_covers, NOW, delivery_covers
    )

    def make(allow_empty: bool) -> Tearline:
        return tearline_for(content, case.recipient, ctx, allow_empty=allow_empty)

    check(content, case, world_of(case, content, consents, deliveries, NOW), make)


# --- the same through a real node ------------------------------------------------------------------------


@pytest.fixture
def registry_node(node: Node) -> Node:
    with node.db.write() as session:
        for name, nation, le in AGENCIES:
            if name != node.config.agency:
                reg.add_agency(session, name, nation, le)
        for name, owners in COMPARTMENTS.items():
            reg.add_compartment(session, name, owners)
    return node


def _store(node: Node, case: Case) -> tuple[VersionContent, list[oracle.Consent], list[oracle.Delivery]]:
    """The case as a stored report, with its consents (hash-scoped: the consent table has no
    version scope) and deliveries as rows; returns what the oracle needs."""
    now = clock.now()
    with node.db.write() as session:
        submitter = session.scalar(select(Principal).where(Principal.username == SERVICE_ACCOUNT))
        assert submitter is not None
        report = create_report(session, draft_of(case), submitter, node.identity, node.registry(session))
        if case.withdrawn:
            withdraw_report(session, report.stix_id, "recalled")
        content = version_content(session, report.stix_id)
        consents = [
            oracle.Consent(f"consent--{uuid.uuid4()}", *_consent_fields(c))
            for c in consents_of(case, content, now)
            if c.item_hash is not None
        ]
        for c in consents:
            session.add(
                Consent(
                    id=c.id,
                    grantor_nation=c.grantor_nation,
                    grantor_agency=c.grantor_agency,
                    recipient_nation=c.nation,
                    recipient_agency=c.agency,
                    item_hashes=[c.item_hash],
                    purpose="fictional",
                    expires_at=c.expires_at,
                    body={},
                    signature="",
                    revoked_at=now if c.revoked else None,
                    created_at=now,
                )
            )
        deliveries = deliveries_of(case, content, now)
        for d in deliveries:
            session.add(
                Grant(
                    kind="delivery",
                    grantor_nation="MEX",
                    grantor_agency="MX-DEMO-FIA",
                    nation="USA",
                    agency=None,
                    item_hash=d.item_hash,
                    report_version_id=d.version_id,
                    expires_at=d.expires_at,
                    recalled_at=now if d.recalled else None,
                    created_at=now,
                    origin_id=f"release--{uuid.uuid4()}",
                )
            )
    return content, consents, deliveries


def _consent_fields(c: oracle.Consent) -> tuple[Any, ...]:
    return (c.grantor_nation, c.grantor_agency, c.nation, c.agency, c.item_hash, None, c.expires_at, c.revoked)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=cases())
def test_the_workflow_tearline_of_a_stored_version_keeps_what_the_oracle_keeps(registry_node: Node, case: Case) -> None:
    node = registry_node
    if case.maker_agency != node.config.agency:
        case = Case(**{**case.__dict__, "maker_agency": node.config.agency})
    content, consents, deliveries = _store(node, case)
    # Consents and deliveries of earlier examples name other reports' items: they cover nothing here.
    now = clock.now()

    def make(allow_empty: bool) -> Tearline:
        with node.db.read() as session:
            stored = version_content(session, content.stix_id)
            return workflow.tearline_of(session, node, stored, case.recipient, allow_empty=allow_empty)

    check(content, case, world_of(case, content, consents, deliveries, now), make)
