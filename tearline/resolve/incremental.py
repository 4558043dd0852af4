"""Incremental matching: each person that arrives is scored against the persons resolved so far,
with the kept model, and the decision is stored, explained and audited.

Above the upper threshold, corroborated and without a maternal-surname conflict: merge. Between
the thresholds (or above, but held back): an analyst's review queue, confirm or split. Below: no
merge. A split undoes a merge cleanly: the entity is recomputed from the merges that still stand.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from tearline import clock
from tearline.db.resolve_tables import ResolveDecision, ResolveMember, ResolveModel, fit_key
from tearline.errors import Conflict, NotFound
from tearline.resolve import model
from tearline.resolve.records import PersonRecord, feature_row
from tearline.resolve.scoring import PairScorer

STANDING = ("auto", "confirmed")  # states of a merge that holds an entity together
MAX_CANDIDATES = 500
YEARS_APART = 2  # a namesake born further apart (unless on the same day and month) is not scored


def keep_model(session: Session, trained: model.TrainedModel) -> int:
    """Store a trained model; the newest stored model is the one used."""
    row = ResolveModel(body=trained.dumps(), labels_used=trained.labels_used, created_at=clock.now())
    session.add(row)
    session.flush()
    return row.id


def kept_model_id(session: Session) -> int:
    row_id = session.scalar(select(ResolveModel.id).order_by(ResolveModel.id.desc()).limit(1))
    if row_id is None:
        raise NotFound("no entity-resolution model is kept yet: train one first")
    return int(row_id)


def kept_model(session: Session) -> model.TrainedModel:
    row = session.scalar(select(ResolveModel).order_by(ResolveModel.id.desc()).limit(1))
    if row is None:
        raise NotFound("no entity-resolution model is kept yet: train one first")
    return model.TrainedModel.loads(row.body)


def _keys(features: dict[str, Any]) -> dict[str, str | None]:
    given = features.get("given1_key")
    paternal, maternal = features.get("paternal_key"), features.get("maternal_key")
    keys = {
        "name_key": f"{paternal}:{given}" if paternal and given else None,
        "cross_key": f"{maternal}:{given}" if maternal and given else None,
        "dob": features.get("dob"),
        "phone1": features.get("phone1"),
        "national_id": features.get("national_id"),
    }
    return {column: fit_key(column, value) for column, value in keys.items()}


@dataclass
class Outcome:
    """What happened to one arriving person."""

    stix_id: str
    entity_id: str
    merged_with: list[str] = field(default_factory=list)
    reviews: list[int] = field(default_factory=list)
    decisions: list[int] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)  # earlier decisions a revision withdrew


class IncrementalResolver:
    """Scores arrivals with one kept model (built once; reuse it across requests)."""

    def __init__(self, trained: model.TrainedModel) -> None:
        self.trained = trained
        self.scorer = PairScorer(trained)

    def add(self, session: Session, persons: Sequence[tuple[str, PersonRecord]], actor: str) -> list[Outcome]:
        """Resolve persons (STIX id, record) as they arrive.

        A person already resolved is skipped, unless a new version of its report changed what it
        says: then it is revised (see `revise`) and scored again as an arrival.
        """
        stored = {m.stix_id: m for m in session.scalars(select(ResolveMember).where(
            ResolveMember.stix_id.in_([s for s, _ in persons])))}
        new: list[ResolveMember] = []
        revised: dict[int, list[int]] = {}  # revised member -> the decisions its revision superseded
        for stix_id, record in persons:
            features = feature_row(record, 0)
            features.pop("unique_id")
            member = stored.get(stix_id)
            if member is None:
                member = ResolveMember(stix_id=stix_id, entity_id=new_entity(), features=features,
                                       created_at=clock.now(), **_keys(features))
                session.add(member)
                new.append(member)
                stored[stix_id] = member
            elif member.id not in revised and changed(member, features):
                revised[member.id] = revise(session, member, features, _keys(features), actor)
                new.append(member)
        session.flush()
        if not new:
            return []
        candidates = self._candidates(session, new)
        scored = self._score(new, candidates)
        outcomes = self._decide(session, new, candidates, scored, actor, set(revised))
        with_rechecks(outcomes, new, revised, lambda member: self._recheck_confirmed(session, member, actor))
        return with_superseded(outcomes, new, revised)

    def _recheck_confirmed(self, session: Session, member: ResolveMember, actor: str) -> list[int]:
        """Send back to an analyst each confirmed link of a revised person that the revision weakened.

        An analyst's confirmation stands through a revision (it judged the two persons), but one
        made on fields that have since changed may no longer hold: when the pair now scores below
        what the analyst confirmed, and below a merge the model would make itself, a `recheck`
        review goes to the queue. Confirming it keeps the link; splitting it withdraws the
        confirmation too. A later revision supersedes it (`revise`), and asks again if the link is
        still weak. Returns the ids of the reviews made.
        """
        made: list[ResolveDecision] = []
        for link, other in confirmed_partners(session, member):
            rows = [{**member.features, "unique_id": member.id}, {**other.features, "unique_id": other.id}]
            scored = self.scorer.score_records(rows, [(min(member.id, other.id), max(member.id, other.id))], floor=0.0)
            row = scored.to_dict("records")[0]
            still_merges = len(model.mergeable(scored, self.trained.upper)) > 0
            if still_merges or float(row["match_probability"]) >= link.probability:
                continue
            recheck = _decision("recheck", "pending", member, other, row, self.scorer.explain(row), actor)
            session.add(recheck)
            made.append(recheck)
        session.flush()
        return [d.id for d in made]

    def _candidates(self, session: Session, new: list[ResolveMember]) -> dict[int, _Known]:
        """Resolved persons sharing a key with an arrival: keys first (indexes only), then the
        features of those born close enough to a namesake, or sharing a date, phone or id."""
        wanted: dict[str, set[str]] = {"name_key": set(), "cross_key": set(), "dob": set(), "phone1": set(),
                                       "national_id": set()}
        for member in new:
            for column, value in _keys(member.features).items():
                if value:
                    wanted[column].add(value)
        names = wanted["name_key"] | wanted["cross_key"]
        clauses = [ResolveMember.name_key.in_(names), ResolveMember.cross_key.in_(names)]
        clauses += [getattr(ResolveMember, c).in_(wanted[c]) for c in ("dob", "phone1", "national_id") if wanted[c]]
        new_ids = [m.id for m in new]
        keyed = select(ResolveMember.id, ResolveMember.name_key, ResolveMember.cross_key, ResolveMember.dob,
                       ResolveMember.phone1, ResolveMember.national_id)
        worth = _Worth(wanted, _windows(new))
        # Core rows on the session's connection: tens of thousands of key rows come back per batch.
        rows = session.connection().execute(keyed.where(or_(*clauses), ResolveMember.id.not_in(new_ids)))
        ids = [r[0] for r in rows if worth(r)][: MAX_CANDIDATES * len(new)]
        columns = (ResolveMember.id, ResolveMember.stix_id, ResolveMember.entity_id, ResolveMember.features)
        # Plain rows, not ORM objects: thousands of candidates load several times faster.
        return {r.id: _Known(r.id, r.stix_id, r.entity_id, r.features)
                for r in session.execute(select(*columns).where(ResolveMember.id.in_(ids)))}

    def _score(self, new: list[ResolveMember], candidates: dict[int, _Known]) -> pd.DataFrame:
        people: list[Any] = [*new, *candidates.values()]
        everyone: dict[int, Any] = {m.id: m for m in people}
        index: dict[tuple[str, str], list[int]] = {}
        for member in everyone.values():
            keys = _keys(member.features)
            for column in ("dob", "phone1", "national_id", "name_key", "cross_key"):
                if value := keys[column]:
                    kind = "name" if column in ("name_key", "cross_key") else column
                    index.setdefault((kind, value), []).append(member.id)
        pairs: set[tuple[int, int]] = set()
        for member in new:
            keys = _keys(member.features)
            probes: list[tuple[str, str]] = [(c, v) for c in ("dob", "phone1", "national_id") if (v := keys[c])]
            probes += [("name", v) for c in ("name_key", "cross_key") if (v := keys[c])]
            for probe in probes:
                for other in index.get(probe, [])[:MAX_CANDIDATES]:
                    # Namesakes born years apart cannot merge (their dates disagree): leave them unscored.
                    if other != member.id and not (probe[0] == "name" and _born_apart(member, everyone[other])):
                        pairs.add((min(member.id, other), max(member.id, other)))
        involved = {i for pair in pairs for i in pair}
        records = [{**everyone[i].features, "unique_id": i} for i in sorted(involved)]
        return self.scorer.score_records(records, sorted(pairs), floor=self.trained.lower)

    def _decide(self, session: Session, new: list[ResolveMember], candidates: dict[int, _Known],
                scored: pd.DataFrame, actor: str, revised: Collection[int] = ()) -> list[Outcome]:
        people: list[Any] = [*new, *candidates.values()]
        by_id: dict[int, Any] = {m.id: m for m in people}
        outcomes = {m.id: Outcome(m.stix_id, m.entity_id) for m in new}
        made: list[tuple[ResolveDecision, Any, Any]] = []
        renamed: dict[str, str] = {}  # entity joined into another by this batch's merges
        if len(scored):
            eligible = set(model.mergeable(scored, self.trained.upper).index)
            worth = scored[scored["match_probability"] >= self.trained.lower]  # the rest: no merge, no row
            ranked = worth.sort_values("match_probability", ascending=False)
            # Plain dicts: a pandas row per pair costs more than the decision itself.
            for index, row in zip(ranked.index, ranked.to_dict("records"), strict=True):
                p = float(row["match_probability"])
                a, b = by_id[int(row["unique_id_l"])], by_id[int(row["unique_id_r"])]
                if (a.id in revised or b.id in revised) and a.entity_id == b.entity_id:
                    continue  # a revised person still held to this one (an analyst's confirmation): nothing new
                if index in eligible:
                    kind, state = "merge", "auto"
                elif p >= self.trained.lower:
                    kind, state = "review", "pending"
                else:
                    continue
                decision = _decision(kind, state, a, b, row, self.scorer.explain(row), actor)
                session.add(decision)
                made.append((decision, a, b))
                if kind == "merge":
                    _join_in_memory(renamed, a.entity_id, b.entity_id, by_id.values())
                    for member, other in ((a, b), (b, a)):
                        if member.id in outcomes:
                            outcomes[member.id].merged_with.append(other.stix_id)
        session.flush()  # every decision in one statement, then each entity renamed in one
        _join_in_database(session, renamed)
        return settle_outcomes(outcomes, made, new)


def confirmed_partners(session: Session, member: ResolveMember) -> list[tuple[ResolveDecision, ResolveMember]]:
    """The analysts' confirmations that hold this member in its entity, each with the other member."""
    links = session.scalars(select(ResolveDecision).where(
        or_(ResolveDecision.member_a == member.stix_id, ResolveDecision.member_b == member.stix_id),
        ResolveDecision.state == "confirmed"))
    partners = [(link, _member(session, link.member_b if link.member_a == member.stix_id else link.member_a))
                for link in links]
    return [(link, other) for link, other in partners if other.entity_id == member.entity_id]


def with_rechecks(
    outcomes: list[Outcome], new: Sequence[ResolveMember], revised: Collection[int],
    recheck: Callable[[ResolveMember], list[int]],
) -> None:
    """Each revised arrival's outcome also names the rechecks its revision sent to an analyst."""
    for outcome, member in zip(outcomes, new, strict=True):
        if member.id in revised:
            made = recheck(member)
            outcome.reviews += made
            outcome.decisions += made


def settle_outcomes(
    outcomes: dict[int, Outcome], made: Sequence[tuple[ResolveDecision, Any, Any]], new: Sequence[ResolveMember]
) -> list[Outcome]:
    """Each arrival's outcome, once the batch's decisions are flushed and have their ids."""
    for decision, a, b in made:
        for member in (a, b):
            if member.id in outcomes:
                outcomes[member.id].decisions.append(decision.id)
                if decision.kind == "review":
                    outcomes[member.id].reviews.append(decision.id)
    for member in new:
        outcomes[member.id].entity_id = member.entity_id
    return list(outcomes.values())


def changed(member: ResolveMember, features: dict[str, Any]) -> bool:
    """Whether these features differ from the member's stored ones (compared as stored: JSON)."""
    return bool(json.loads(json.dumps(features)) != member.features)


def revise(session: Session, member: ResolveMember, features: dict[str, Any], keys: dict[str, Any],
           actor: str) -> list[int]:
    """A new version of the member's report changed what it says: take the new features and key
    columns, withdraw the automatic merges and pending reviews that rested on the old ones, and
    recompute its entity from the merges that still stand (an analyst's confirmation stands: it
    judged the two, not one version of their fields). Returns the ids of the decisions withdrawn;
    the caller scores the member again, as an arrival.
    """
    member.features = features
    for column, value in keys.items():
        setattr(member, column, value)
    stale = list(session.scalars(select(ResolveDecision).where(
        or_(ResolveDecision.member_a == member.stix_id, ResolveDecision.member_b == member.stix_id),
        ResolveDecision.state.in_(("auto", "pending")))))
    now = clock.now()
    for decision in stale:
        decision.state, decision.decided_by, decision.decided_at = "superseded", actor, now
    session.flush()
    if any(d.kind == "merge" for d in stale):
        _recompute(session, member.entity_id)
    return sorted(d.id for d in stale)


def with_superseded(
    outcomes: list[Outcome], new: Sequence[ResolveMember], revised: dict[int, list[int]]
) -> list[Outcome]:
    """Each revised arrival's outcome also names the decisions its revision withdrew (audited with it)."""
    for outcome, member in zip(outcomes, new, strict=True):
        outcome.superseded = revised.get(member.id, [])
        outcome.decisions = sorted({*outcome.decisions, *outcome.superseded})
    return outcomes


def new_entity() -> str:
    # Opaque: nothing about members can be read from an entity's name.
    return f"entity--{uuid.uuid4()}"


Window = tuple[set[int], set[str]] | None  # years and month-days of a name's arrivals; None: any


def _windows(new: list[ResolveMember]) -> dict[str, Window]:
    """Per name key, the birth years (within YEARS_APART) and month-days of the arrivals bearing it."""
    out: dict[str, Window] = {}
    for member in new:
        keys = _keys(member.features)
        year, iso = member.features.get("dob_y"), member.features.get("dob")
        for name in {k for k in (keys["name_key"], keys["cross_key"]) if k}:
            window = out.setdefault(name, (set(), set()))
            if window is None:
                continue
            if not year:
                out[name] = None  # an undated arrival: every namesake is a candidate
                continue
            window[0].update(range(year - YEARS_APART, year + YEARS_APART + 1))
            if iso:
                window[1].add(iso[5:])
    return out


class _Worth:
    """Whether a key row is worth loading: a shared date, phone or id always; a shared name only
    when born close enough (as `_born_apart`). Called on every key row of a batch: kept lean."""

    def __init__(self, wanted: dict[str, set[str]], windows: dict[str, Window]) -> None:
        self.dobs, self.phones, self.ids = wanted["dob"], wanted["phone1"], wanted["national_id"]
        self.windows = windows

    def __call__(self, row: Any) -> bool:
        _id, name_key, cross_key, dob, phone, national_id = row
        if (dob and dob in self.dobs) or (phone and phone in self.phones) or (national_id and national_id in self.ids):
            return True
        for name in (name_key, cross_key):
            if name not in self.windows:
                continue
            window = self.windows[name]
            if window is None or dob is None or int(dob[:4]) in window[0] or dob[5:] in window[1]:
                return True
        return False


def _born_apart(a: Any, b: Any) -> bool:
    """Both dates known, years more than YEARS_APART apart, and not a year typo (same day and month)."""
    fa, fb = a.features, b.features
    if not fa.get("dob_y") or not fb.get("dob_y") or abs(fa["dob_y"] - fb["dob_y"]) <= YEARS_APART:
        return False
    return not (fa.get("dob_m") == fb.get("dob_m") and fa.get("dob_d") == fb.get("dob_d"))


@dataclass
class _Known:
    """A resolved person loaded as a candidate."""

    id: int
    stix_id: str
    entity_id: str
    features: dict[str, Any]


def _decision(kind: str, state: str, a: Any, b: Any, row: Any,
              explanation: list[dict[str, Any]], actor: str) -> ResolveDecision:
    return ResolveDecision(kind=kind, state=state, member_a=a.stix_id, member_b=b.stix_id,
                           probability=float(row["match_probability"]), match_weight=float(row["match_weight"]),
                           explanation=explanation, decided_by=actor, created_at=clock.now(),
                           decided_at=clock.now() if state == "auto" else None)


def join_entities(session: Session, keep: str, other: str, loaded: Iterable[Any] | None = None) -> None:
    """Every member of entity `other` joins `keep`, in the database and in the members at hand.

    With `loaded`, the caller holds every member object it will read again: those are changed in
    place, and the session's other objects are not searched (that search was a tenth of a batch)."""
    if keep == other:
        return
    sync = "evaluate" if loaded is None else False
    session.execute(update(ResolveMember).where(ResolveMember.entity_id == other).values(entity_id=keep),
                    execution_options={"synchronize_session": sync})
    for member in loaded or ():
        if member.entity_id == other:
            member.entity_id = keep


def _join_in_memory(renamed: dict[str, str], keep: str, other: str, loaded: Iterable[Any]) -> None:
    """Join `other` into `keep` among the members at hand, and note it for `_join_in_database`."""
    if keep == other:
        return
    for old, new in renamed.items():
        if new == other:
            renamed[old] = keep
    renamed[other] = keep
    for member in loaded:
        if member.entity_id == other:
            member.entity_id = keep


def _join_in_database(session: Session, renamed: dict[str, str]) -> None:
    """Every stored member of a joined entity takes its final name: one statement per final entity
    (members not loaded as candidates are joined too)."""
    finals: dict[str, list[str]] = {}
    for old, new in renamed.items():
        finals.setdefault(new, []).append(old)
    for final, olds in finals.items():
        session.execute(update(ResolveMember).where(ResolveMember.entity_id.in_(olds)).values(entity_id=final),
                        execution_options={"synchronize_session": False})


def entity_members(session: Session, entity_id: str) -> list[ResolveMember]:
    return list(session.scalars(select(ResolveMember).where(ResolveMember.entity_id == entity_id)))


def confirm(session: Session, decision_id: int, actor: str) -> ResolveDecision:
    """An analyst confirms a pending review: the two entities merge."""
    decision = _decision_row(session, decision_id)
    if decision.state != "pending":
        raise Conflict(f"decision {decision_id} is {decision.state}, not pending review")
    decision.state, decision.decided_by, decision.decided_at = "confirmed", actor, clock.now()
    a, b = _member(session, decision.member_a), _member(session, decision.member_b)
    join_entities(session, a.entity_id, b.entity_id)
    return decision


def split(session: Session, decision_id: int, actor: str) -> ResolveDecision:
    """An analyst splits a merge (or rejects a pending review): the entity is recomputed from the
    merges that still stand, so the two sides fall apart unless other merges hold them together.
    Splitting a `recheck` also withdraws the confirmation it questioned."""
    decision = _decision_row(session, decision_id)
    if decision.state not in (*STANDING, "pending"):
        raise Conflict(f"decision {decision_id} is already {decision.state}")
    withdrawn = [decision]
    if decision.kind == "recheck":
        withdrawn += session.scalars(select(ResolveDecision).where(
            or_(and_(ResolveDecision.member_a == decision.member_a, ResolveDecision.member_b == decision.member_b),
                and_(ResolveDecision.member_a == decision.member_b, ResolveDecision.member_b == decision.member_a)),
            ResolveDecision.state.in_(STANDING)))
    was_standing = any(d.state in STANDING for d in withdrawn)
    now = clock.now()
    for each in withdrawn:
        each.state, each.decided_by, each.decided_at = "split", actor, now
    if was_standing:
        _recompute(session, _member(session, decision.member_a).entity_id)
    return decision


def _recompute(session: Session, entity_id: str) -> None:
    members = entity_members(session, entity_id)
    ids = [m.stix_id for m in members]
    parent = {s: s for s in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    of_entity = select(ResolveMember.stix_id).where(ResolveMember.entity_id == entity_id)
    standing = session.scalars(select(ResolveDecision).where(  # through the entity: no list of its members
        ResolveDecision.member_a.in_(of_entity), ResolveDecision.state.in_(STANDING)))
    for decision in standing:
        if decision.member_b not in parent:
            continue  # a standing link out of the entity cannot be: entities are the components of these links
        parent[find(decision.member_a)] = find(decision.member_b)
    oldest = min(members, key=lambda m: m.id)
    names = {find(oldest.stix_id): entity_id}
    for member in sorted(members, key=lambda m: m.id):
        member.entity_id = names.setdefault(find(member.stix_id), new_entity())
    session.flush()


def _decision_row(session: Session, decision_id: int) -> ResolveDecision:
    decision = session.get(ResolveDecision, decision_id)
    if decision is None:
        raise NotFound(f"no decision {decision_id}")
    return decision


def _member(session: Session, stix_id: str) -> ResolveMember:
    member = session.scalar(select(ResolveMember).where(ResolveMember.stix_id == stix_id))
    if member is None:
        raise NotFound(f"no resolved person {stix_id}")
    return member
