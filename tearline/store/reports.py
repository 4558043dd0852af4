"""The write path for reports: validate the whole draft, then store it in one transaction.

Editing makes a new immutable version; the old one stays readable to auditors.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from tearline import clock
from tearline.db.bulk import insert_rows
from tearline.db.limits import length_problems
from tearline.db.models import MarkingRow, Portion, Principal, Report, ReportVersion, StixObject, Workspace
from tearline.db.search_text import object_search_text, search_text
from tearline.errors import Forbidden, InvalidInput, NotFound, Problem
from tearline.identifiers import id_type
from tearline.markings.marking import Registry, marking_problems
from tearline.markings.scheme import EquivalenceTable
from tearline.resolve.queue import note_arrivals
from tearline.store import audience, changes
from tearline.store.audience import intern_marking, intern_markings
from tearline.store.authorship import authorship_problems, marked_items
from tearline.store.drafts import OBJECT_KINDS, ObjectDraft, PortionDraft, ReportDraft, draft_length_problems
from tearline.store.registry import NodeIdentity

MAX_REVIEW_YEARS = 5  # 28 CFR 23.20(h): review or purge within five years


def review_limit(now: datetime) -> datetime:
    """The latest review date allowed: five calendar years on (a fixed day count is short by a leap day)."""
    try:
        return now.replace(year=now.year + MAX_REVIEW_YEARS)
    except ValueError:  # 29 February, with no 29 February five years on
        return now.replace(year=now.year + MAX_REVIEW_YEARS, day=28)


def draft_problems(
    draft: ReportDraft, registry: Registry, session: Session, workspaces: dict[str, int] | None = None
) -> list[Problem]:
    """Everything wrong with a draft, each naming its item and field; empty when it may be stored.

    `workspaces` (slug to id) holds the workspaces already looked up for a batch of drafts.
    """
    problems: list[Problem] = []
    if draft.stix_id is not None and id_type(draft.stix_id) != "report":
        problems.append(Problem("id", ID_FORM.replace("<type>", "report")))
    if not draft.predicate.strip():
        problems.append(Problem("predicate", "a criminal predicate (reasonable suspicion) is required"))
    now = clock.now()
    due = clock.as_utc(draft.review_due)
    if due <= now:
        problems.append(Problem("review_due", "must be in the future"))
    elif due > review_limit(now):
        problems.append(Problem("review_due", "must be no more than 5 years out (28 CFR Part 23)"))
    if not draft.title.text.strip():
        problems.append(Problem("title", "must not be empty"))
    problems += marking_problems(draft.title.marking, registry, "title.marking")
    for i, portion in enumerate(draft.portions):
        if not portion.text.strip():
            problems.append(Problem("text", "must not be empty", item=f"portion {i + 1}"))
        problems += _item(marking_problems(portion.marking, registry), f"portion {i + 1}")
    problems += _object_problems(draft.objects, registry)
    problems += nul_problems(draft) + draft_length_problems(draft)
    if (
        draft.workspace is not None
        and draft.workspace not in (workspaces or {})
        and _workspace_id(session, draft.workspace) is None
    ):
        problems.append(Problem("workspace", f"unknown workspace {draft.workspace!r}"))
    return problems


def foreign_origin_problems(draft: ReportDraft, node_nation: str) -> list[Problem]:
    """Ingest stores this node's nation's reports. A partner's come from its node under a release,
    which makes them received (live only while a release stands, recalled with it); stored here
    as our own, they would be neither."""
    reason = (
        f"must be of this node's nation, {node_nation}: a partner's reports come from its own node under a release"
    )
    return [
        Problem("marking.originator", reason, item)
        for item, m in marked_items(draft)
        if m.originator_nation != node_nation
    ]


# A relationship or sighting joins entities, never another relationship or sighting (as STIX 2.1
# has it). That keeps rule 8 exact at one level: an end's own visibility needs no ends of its own.
LINKS = frozenset({"relationship", "sighting"})


def _object_problems(objects: tuple[ObjectDraft, ...], registry: Registry) -> list[Problem]:
    problems: list[Problem] = []
    ids = [o.stix_id for o in objects]
    types = {o.stix_id: o.stix_type for o in objects}
    seen: set[str] = set()
    for obj in objects:
        if obj.stix_id in seen:
            problems.append(Problem("id", "duplicate id in this report", item=obj.stix_id))
        seen.add(obj.stix_id)
        problems += _identity_problems(obj)
        problems += _item(marking_problems(obj.marking, registry), obj.stix_id)
        for ref_name, ref in (("source_ref", obj.source_ref), ("target_ref", obj.target_ref)):
            if ref is not None and ref not in ids:
                problems.append(Problem(ref_name, f"{ref} is not an object of this report", item=obj.stix_id))
            elif ref is not None and types[ref] in LINKS:
                reason = f"{ref} is a {types[ref]}; a link joins entities (people, phones, places …), not links"
                problems.append(Problem(ref_name, reason, item=obj.stix_id))
    return problems


def _identity_problems(obj: ObjectDraft) -> list[Problem]:
    if obj.stix_type not in OBJECT_KINDS:
        kinds = ", ".join(sorted(OBJECT_KINDS))
        return [Problem("type", f"unknown object type {obj.stix_type!r}; known: {kinds}", item=obj.stix_id)]
    prefix = id_type(obj.stix_id)
    if prefix is None:  # `uuid.UUID` alone let braces, `urn:uuid:` and stray hyphens through
        return [Problem("id", ID_FORM, item=obj.stix_id)]
    if prefix != obj.stix_type:
        return [Problem("id", f"prefix {prefix!r} does not match type {obj.stix_type!r}", item=obj.stix_id)]
    return []


# What STIX 2.1 (§2.9) allows an identifier to be, and so what an export must carry.
ID_FORM = "must be <type>--<uuid>, the UUID in RFC 4122 form: lower-case hex, 8-4-4-4-12, version 1 to 5"


NUL_REASON = "must not contain NUL (U+0000)"


def nul_problems(draft: ReportDraft) -> list[Problem]:
    """Text holding NUL, refused on every database: PostgreSQL's text and jsonb cannot store it."""
    fields: list[tuple[str, Any, str | None]] = [
        ("title", draft.title.text, None),
        ("predicate", draft.predicate, None),
        ("need_to_know", draft.need_to_know, None),
        ("id", draft.stix_id, None),
        ("workspace", draft.workspace, None),
    ]
    fields += [("text", p.text, f"portion {i + 1}") for i, p in enumerate(draft.portions)]
    for o in draft.objects:
        named = (("id", o.stix_id), ("name", o.name), ("body", o.body), ("source_ref", o.source_ref))
        fields += [(name, value, o.stix_id) for name, value in (*named, ("target_ref", o.target_ref))]
    return [Problem(name, NUL_REASON, item) for name, value, item in fields if next(nul_paths(value), None) is not None]


def nul_paths(value: Any, path: str = "") -> Iterator[str]:
    """The dotted path of every string (or key) in a JSON-like value that holds NUL ("" for the value itself)."""
    if isinstance(value, str):
        if "\x00" in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            yield from ([inner] if "\x00" in str(key) else nul_paths(item, inner))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from nul_paths(item, f"{path}.{i}" if path else str(i))


def _item(problems: list[Problem], item: str) -> list[Problem]:
    return [Problem(p.field, p.reason, item) for p in problems]


def create_report(
    session: Session,
    draft: ReportDraft,
    submitter: Principal,
    node: NodeIdentity,
    registry: Registry,
    markings: dict[str, int] | None = None,
) -> Report:
    """Store a new report (version 1), or refuse it whole.

    `markings` caches stored marking ids by digest across the writes of one transaction.
    """
    problems = new_report_problems(session, [draft], registry)[0]
    if problems:
        raise InvalidInput(problems)
    report_id = store_new_reports(session, [draft], submitter, node, markings)[0][0]
    report = session.get(Report, report_id)
    assert report is not None  # inserted just now, in this transaction
    return report


def new_report_problems(session: Session, drafts: Sequence[ReportDraft], registry: Registry) -> list[list[Problem]]:
    """Each draft's problems as a new report, in order (a list per draft; empty when it may be stored).

    An id that is stored already, or that an earlier draft of the same batch uses, is a problem.
    """
    workspaces = _workspace_ids(session, {d.workspace for d in drafts if d.workspace is not None})
    ids = [d.stix_id for d in drafts if d.stix_id]
    stored: set[str] = set()
    for start in range(0, len(ids), audience.LOOKUP_CHUNK):
        chunk = ids[start : start + audience.LOOKUP_CHUNK]
        stored |= set(session.scalars(select(Report.stix_id).where(Report.stix_id.in_(chunk))))
    seen: set[str] = set()
    out = []
    for draft in drafts:
        problems = draft_problems(draft, registry, session, workspaces)
        if draft.stix_id in stored or draft.stix_id in seen:
            problems.append(Problem("id", f"report {draft.stix_id} already exists; edit it to make a new version"))
        if draft.stix_id:
            seen.add(draft.stix_id)
        out.append(problems)
    return out


def store_new_reports(
    session: Session,
    drafts: Sequence[ReportDraft],
    submitter: Principal,
    node: NodeIdentity,
    markings: dict[str, int] | None = None,
) -> list[tuple[int, str]]:
    """Store drafts that `new_report_problems` passed, as version 1 each; their (row id, STIX id).

    The whole batch goes in a handful of statements (reports, versions, portions, objects), not a
    handful per report: on PostgreSQL every statement is a round trip, and a bundle of 500 small
    reports spent most of its ingest waiting on them.
    """
    if not drafts:
        return []
    now = clock.now()
    workspaces = _workspace_ids(session, {d.workspace for d in drafts if d.workspace is not None})
    stix_ids = [draft.stix_id or f"report--{uuid.uuid4()}" for draft in drafts]
    placed = [workspaces.get(draft.workspace) if draft.workspace is not None else None for draft in drafts]
    rows = [
        {
            "stix_id": stix_id,
            "submitter_id": submitter.id,
            "workspace_id": workspace_id,
            "current_version": 1,
            "received": draft.received,
            "created_at": now,
        }
        for stix_id, workspace_id, draft in zip(stix_ids, placed, drafts, strict=True)
    ]
    ids = _insert_returning_ids(session, Report, rows)
    versions = [
        _NewVersion(report_id, stix_id, 1, draft.received, workspace_id, draft)
        for report_id, stix_id, workspace_id, draft in zip(ids, stix_ids, placed, drafts, strict=True)
    ]
    _store_versions(session, versions, submitter, node, markings if markings is not None else {})
    changes.note_reports(session, "report", [(stix_id, 1) for stix_id in stix_ids])
    return list(zip(ids, stix_ids, strict=True))


def edit_report(
    session: Session,
    stix_id: str,
    draft: ReportDraft,
    editor: Principal,
    node: NodeIdentity,
    registry: Registry,
    editor_sees_all: bool,
) -> ReportVersion:
    """Make a new version. The editor must see every item of the current one, so nothing hidden is lost."""
    report = session.scalar(select(Report).where(Report.stix_id == stix_id).with_for_update())
    if report is None or report.withdrawn_at is not None:
        raise NotFound(f"no report {stix_id}")
    if not editor_sees_all:
        raise NotFound(f"no report {stix_id}")
    if report.received:
        raise Forbidden("a received report is the partner's; ask its originator for a new version", rule="originator")
    problems = draft_problems(draft, registry, session)
    if problems:
        raise InvalidInput(problems)
    if draft.workspace is not None:
        report.workspace_id = _workspace_id(session, draft.workspace)
    return _next_version(session, report, draft, editor, node)


def store_received_version(
    session: Session, report: Report, draft: ReportDraft, sender: Principal, node: NodeIdentity, registry: Registry
) -> ReportVersion:
    """A partner's newer release of a report we hold as received: it becomes the current version."""
    problems = draft_problems(draft, registry, session)
    if problems:
        raise InvalidInput(problems)
    return _next_version(session, report, draft, sender, node)


def _next_version(
    session: Session, report: Report, draft: ReportDraft, author: Principal, node: NodeIdentity
) -> ReportVersion:
    for model in (Portion, StixObject):
        session.execute(update(model).where(model.report_id == report.id).values(is_current=False))
    report.current_version += 1
    new = _NewVersion(report.id, report.stix_id, report.current_version, report.received, report.workspace_id, draft)
    version_id = _store_versions(session, [new], author, node, {})[0]
    changes.note(session, "report", report.stix_id, report.current_version)
    version = session.get(ReportVersion, version_id)
    assert version is not None  # inserted just now, in this transaction
    return version


def require_originator(
    session: Session, stix_id: str, draft: ReportDraft, editor: Principal, table: EquivalenceTable
) -> None:
    """An analyst's edit (DESIGN §3.4: a marking is its originator's decision, never another agency's).

    The editor's agency must originate every current item, and the new version originates with it too.
    Call it only for a report the editor sees whole, so that a hidden report still answers 404.
    """
    report_id = session.scalar(select(Report.id).where(Report.stix_id == stix_id))
    if report_id is not None and _originators(session, report_id) - {(editor.nation, editor.agency)}:
        raise Forbidden("only the originator agency may make a new version of this report", rule="originator")
    problems = authorship_problems(draft, editor, table)
    if problems:
        raise InvalidInput(problems)


def _originators(session: Session, report_id: int) -> set[tuple[str, str]]:
    """The (nation, agency) originators of the current version's portions and objects."""
    found: set[tuple[str, str]] = set()
    for model in (Portion, StixObject):
        rows = session.execute(
            select(MarkingRow.originator_nation, MarkingRow.originator_agency)
            .join(model, model.marking_id == MarkingRow.id)
            .where(model.report_id == report_id, model.is_current)
            .distinct()
        )
        found |= {(nation, agency) for nation, agency in rows}
    return found


def _workspace_id(session: Session, slug: str | None) -> int | None:
    if slug is None:
        return None
    return session.scalar(select(Workspace.id).where(Workspace.slug == slug))


def _workspace_ids(session: Session, slugs: set[str]) -> dict[str, int]:
    if not slugs:
        return {}
    rows = session.execute(select(Workspace.slug, Workspace.id).where(Workspace.slug.in_(slugs)))
    return {slug: workspace_id for slug, workspace_id in rows}


@dataclass(frozen=True)
class _NewVersion:
    """A version about to be stored, with what its items copy from their report."""

    report_id: int
    report_stix_id: str
    number: int
    received: bool
    workspace_id: int | None
    draft: ReportDraft


def _items_of(draft: ReportDraft) -> list[PortionDraft | ObjectDraft]:
    return [draft.title, *draft.portions, *draft.objects]


def _insert_returning_ids(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows (Core, on the session's connection); their ids, in the rows' order, ascending."""
    table = model.__table__
    connection = session.connection()
    if connection.dialect.name != "postgresql" or len(rows) < 2:
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(connection.execute(statement, rows).scalars())
    # PostgreSQL: take the ids from the table's sequence first, then send the rows with their ids in
    # one unnest insert (`tearline.db.bulk`). An INSERT .. RETURNING of many rows is one multi-row
    # VALUES statement (about 120 bytes a row) that the driver and the server parse and plan afresh
    # each time: about 40 ms for the 130 versions of one ingest batch, where this takes under 10.
    ids = sorted(
        connection.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence(%(table)s, 'id')) FROM generate_series(1, %(n)s)",
            {"table": table.name, "n": len(rows)},
        ).scalars()
    )
    insert_rows(connection, table, [row | {"id": id_} for row, id_ in zip(rows, ids, strict=True)])
    return ids


def _store_versions(
    session: Session, versions: Sequence[_NewVersion], author: Principal, node: NodeIdentity, cache: dict[str, int]
) -> list[int]:
    """Store new versions and all their portions and objects, one insert per table; the version ids."""
    now = clock.now()
    version_rows = [
        {
            "report_id": v.report_id,
            "number": v.number,
            "created_by": author.id,
            "created_at": now,
            "predicate": v.draft.predicate.strip(),
            "need_to_know": v.draft.need_to_know.strip(),
            "review_due": clock.as_utc(v.draft.review_due),
        }
        for v in versions
    ]
    version_ids = _insert_returning_ids(session, ReportVersion, version_rows)
    intern_markings(session, (item.marking for v in versions for item in _items_of(v.draft)), node, cache)
    portions: list[dict[str, Any]] = []
    objects: list[dict[str, Any]] = []
    for version_id, v in zip(version_ids, versions, strict=True):
        common = {
            "version_id": version_id,
            "report_id": v.report_id,
            "is_current": True,
            "withdrawn": False,
            "received": v.received,
            "workspace_id": v.workspace_id,
        }
        items = [(0, True, v.draft.title)] + [(i + 1, False, p) for i, p in enumerate(v.draft.portions)]
        portions += [
            _portion_row(v.report_stix_id, v.number, pos, is_title, p, node, cache, session) | common
            for pos, is_title, p in items
        ]
        objects += [_object_row(v.report_stix_id, v.number, o, node, cache, session) | common for o in v.draft.objects]
    # Core inserts on the session's connection: the ORM's bulk path costs more than the rows themselves.
    connection = session.connection()
    insert_rows(connection, Portion.__table__, portions)  # type: ignore[arg-type]
    if objects:
        insert_rows(connection, StixObject.__table__, objects)  # type: ignore[arg-type]
        note_arrivals(session, (o for v in versions for o in v.draft.objects))  # resolved after the commit
    return version_ids


def item_hash(report_stix_id: str, version: int, key: str, content: dict[str, Any]) -> str:
    """The hash that releases and consents name. It includes the version: a new version needs a new consent."""
    payload = {"report": report_stix_id, "version": version, "key": key, "content": content}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _portion_row(
    report_stix_id: str,
    number: int,
    position: int,
    is_title: bool,
    portion: PortionDraft,
    node: NodeIdentity,
    cache: dict[str, int],
    session: Session,
) -> dict[str, Any]:
    content = {"text": portion.text, "marking": portion.marking.as_dict()}
    return {
        "position": position,
        "is_title": is_title,
        "text": portion.text,
        "search_text": search_text(portion.text),  # the column default's value, given so bulk inserts need none
        "marking_id": intern_marking(session, portion.marking, node, cache),
        "hash": portion.origin_hash or item_hash(report_stix_id, number, f"portion-{position}", content),
    }


def _object_row(
    report_stix_id: str, number: int, obj: ObjectDraft, node: NodeIdentity, cache: dict[str, int], session: Session
) -> dict[str, Any]:
    content = {"body": obj.body, "marking": obj.marking.as_dict()}
    return {
        "stix_id": obj.stix_id,
        "stix_type": obj.stix_type,
        "name": obj.name,
        "body": obj.body,
        "search_text": object_search_text(obj.name or "", obj.body or {}),
        "marking_id": intern_marking(session, obj.marking, node, cache),
        "hash": obj.origin_hash or item_hash(report_stix_id, number, obj.stix_id, content),
        "observed_at": clock.as_utc(obj.observed_at) if obj.observed_at else None,
        "latitude": obj.latitude,
        "longitude": obj.longitude,
        "source_ref": obj.source_ref,
        "target_ref": obj.target_ref,
    }


def withdraw_report(session: Session, stix_id: str, reason: str) -> None:
    """Recall or purge: the report stops being live on every read path at once."""
    problems = length_problems([("reason", Report.withdrawn_reason, reason)])
    if problems:
        raise InvalidInput(problems)
    report = session.scalar(select(Report).where(Report.stix_id == stix_id).with_for_update())
    if report is None:
        raise NotFound(f"no report {stix_id}")
    report.withdrawn_at = clock.now()
    report.withdrawn_reason = reason
    for model in (Portion, StixObject):
        session.execute(update(model).where(model.report_id == report.id).values(withdrawn=True))
