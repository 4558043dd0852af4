"""Organisations, phones and vehicles resolved by their keys, without a model.

Each arrival is compared with the members of its kind that share its key (a phone's E.164 number,
a vehicle's plate or VIN, an organisation's normalised name, or a near one), and with the other
arrivals of its batch. A rule gives each pair a decision, stored and explained like a person's:
merge (the same key, beyond doubt), review (an analyst should look: a near name, a plate whose
jurisdiction one side did not record, a plate on two VINs, digits without a country code), or
nothing. Merges join entities exactly as persons' do, and a split undoes them the same way.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from tearline import clock
from tearline.db.driver import DriverStatement, compile_for_driver, fetch_column
from tearline.db.resolve_tables import ResolveDecision, ResolveMember, fit_key
from tearline.resolve.incremental import (
    Outcome,
    changed,
    confirmed_partners,
    join_entities,
    new_entity,
    revise,
    settle_outcomes,
    with_rechecks,
    with_superseded,
)
from tearline.resolve.organisations import NEAR_SCORE, near_keys, normalise_organisation, similarity, words_sorted
from tearline.resolve.phones import phone_key
from tearline.resolve.vehicles import (
    jurisdictions_agree,
    normalise_jurisdiction,
    normalise_plate,
    normalise_vin,
)

KINDS = ("organization", "phone", "vehicle")
MAX_CANDIDATES = 100  # members of one key linked to an arrival; more of them are one entity already
SURE = 1.0  # the same E.164 number, VIN, plate in the same jurisdiction, or normalised name
UNSURE = 0.75  # worth an analyst's look, never a merge
# The same words in another order: the nearest a name can be and still differ. "Hernández López" and
# "López Hernández" are two families' firms, so an analyst decides, however alike they look.
REORDERED = 0.99
CLONED_PLATE = 0.6  # the same plate on two different VINs


@dataclass(frozen=True)
class Arrival:
    """An object to resolve: its STIX id, body and the nation that originated it."""

    stix_id: str
    body: dict[str, Any]
    nation: str


@dataclass(frozen=True)
class Verdict:
    kind: str  # merge, review, or recheck (a confirmed link a revision weakened)
    probability: float
    explanation: list[dict[str, Any]]


def keys_of(kind: str, body: dict[str, Any], nation: str) -> tuple[str | None, str | None, dict[str, Any]]:
    """(match key, alternative key, features) of one object of `kind`, the keys as their columns hold them."""
    match_key, alt_key, features = _keys_and_features(kind, body, nation)
    return fit_key("match_key", match_key), fit_key("alt_key", alt_key), features


def _keys_and_features(kind: str, body: dict[str, Any], nation: str) -> tuple[str | None, str | None, dict[str, Any]]:
    if kind == "phone":
        key, e164 = phone_key(str(body.get("number", "")), nation)
        return key, None, {"number": key.removeprefix("digits:") if key else None, "e164": e164}
    if kind == "vehicle":
        plate, vin = normalise_plate(str(body.get("plate", ""))), normalise_vin(str(body.get("vin", "")))
        features = {"plate": plate, "vin": vin, "jurisdiction": normalise_jurisdiction(str(body.get("country", "")))}
        features |= {k: str(body[k]).strip().upper() for k in ("make", "model", "color") if body.get(k)}
        return plate, vin, features
    name = normalise_organisation(str(body.get("name", "")))
    # The words sorted: near names are looked for among these (`_near_keys`), and the same words in
    # another order share it exactly.
    return name, words_sorted(name) if name else None, {"name": name}


def judge(kind: str, a: dict[str, Any], b: dict[str, Any]) -> Verdict | None:
    """The rule's decision on two members of one kind (their features), or None: no merge."""
    if kind == "phone":
        if not a.get("number") or a.get("number") != b.get("number"):
            return None
        sure = bool(a.get("e164") and b.get("e164"))
        return _verdict(SURE if sure else UNSURE, "number", "same E.164" if sure else "same digits, no country code")
    if kind == "vehicle":
        return _judge_vehicles(a, b)
    if not a.get("name") or not b.get("name"):
        return None
    if a["name"] == b["name"]:
        return _verdict(SURE, "name", "same normalised name")
    score = similarity(a["name"], b["name"])
    if score >= 100:  # only the words' order differs (a token-sort score of 100 on unequal names)
        return _verdict(REORDERED, "name", "same words in another order")
    return _verdict(score / 100, "name", f"near ({score:.0f} of 100)") if score >= NEAR_SCORE else None


def _judge_vehicles(a: dict[str, Any], b: dict[str, Any]) -> Verdict | None:
    same_plate = bool(a.get("plate")) and a.get("plate") == b.get("plate")
    if a.get("vin") and b.get("vin"):
        if a["vin"] == b["vin"]:
            return _verdict(SURE, "vin", "same VIN")
        return _verdict(CLONED_PLATE, "plate", "same plate, different VINs") if same_plate else None
    if not same_plate:
        return None
    agree = jurisdictions_agree(a.get("jurisdiction"), b.get("jurisdiction"))
    if agree is False:
        return None  # the same plate in two jurisdictions is two vehicles
    if agree:
        return _verdict(SURE, "plate", "same plate and jurisdiction")
    return _verdict(UNSURE, "plate", "same plate, jurisdiction not known on both")


def _verdict(probability: float, comparison: str, level: str) -> Verdict:
    kind = "merge" if probability >= SURE else "review"
    return Verdict(kind, probability, [{"comparison": comparison, "level": level,
                                        "match_weight": round(_log_odds(probability), 3)}])


def _log_odds(p: float) -> float:
    """A rule's probability as a match weight (log2 odds), so it reads like the model's."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log2(p / (1 - p))


class KeyedResolver:
    """Resolves arrivals of one kind in the caller's transaction."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def add(self, session: Session, arrivals: Sequence[Arrival], actor: str) -> list[Outcome]:
        """Resolve the arrivals; one already resolved is skipped unless a new version of its report
        changed it, and then it is revised (`incremental.revise`) and judged again."""
        stored = {m.stix_id: m for m in session.scalars(select(ResolveMember).where(
            ResolveMember.stix_id.in_([a.stix_id for a in arrivals])))}
        new: list[ResolveMember] = []
        revised: dict[int, list[int]] = {}
        for arrival in arrivals:
            match_key, alt_key, features = keys_of(self.kind, arrival.body, arrival.nation)
            member = stored.get(arrival.stix_id)
            if member is None:
                member = ResolveMember(stix_id=arrival.stix_id, kind=self.kind, entity_id=new_entity(),
                                       features=features, match_key=match_key, alt_key=alt_key,
                                       created_at=clock.now())
                session.add(member)
                new.append(member)
                stored[arrival.stix_id] = member
            elif member.id not in revised and changed(member, features):
                keys = {"match_key": match_key, "alt_key": alt_key}
                revised[member.id] = revise(session, member, features, keys, actor)
                new.append(member)
        session.flush()
        if not new:
            return []
        decided = self._decide(session, new, self._candidates(session, new), actor, set(revised))
        with_rechecks(decided, new, revised, lambda member: self._recheck_confirmed(session, member, actor))
        return with_superseded(decided, new, revised)

    def _recheck_confirmed(self, session: Session, member: ResolveMember, actor: str) -> list[int]:
        """As for persons (`IncrementalResolver._recheck_confirmed`): a confirmed link that the
        revision weakened (the rule no longer fires, or gives less than the analyst confirmed, and
        no merge) goes back to an analyst as a `recheck` review."""
        made: list[ResolveDecision] = []
        for link, other in confirmed_partners(session, member):
            verdict = judge(self.kind, member.features, other.features)
            if verdict is not None and (verdict.kind == "merge" or verdict.probability >= link.probability):
                continue
            weakened = verdict or _verdict(0.0, link.explanation[0]["comparison"], "the rule no longer fires")
            recheck = _decision(Verdict("recheck", weakened.probability, weakened.explanation), other, member, actor)
            session.add(recheck)
            made.append(recheck)
        session.flush()
        return [d.id for d in made]

    def _candidates(self, session: Session, new: list[ResolveMember]) -> dict[int, list[ResolveMember]]:
        """Each arrival's stored members: those sharing its key or alternative key, and for an
        organisation those whose words are near its own; at most MAX_CANDIDATES a key, newest first."""
        near = self._near_keys(session, new) if self.kind == "organization" else {}
        probes = {m.id: (_present(m.match_key), _present(m.alt_key, *near.get(m.alt_key or "", ()))) for m in new}
        keys = {k for match, _ in probes.values() for k in match}
        alts = {k for _, alt in probes.values() for k in alt}
        by_match: dict[str | None, list[ResolveMember]] = {}
        by_alt: dict[str | None, list[ResolveMember]] = {}
        for member in _members_by_key(session, self.kind, keys, alts, [m.id for m in new]):
            by_match.setdefault(member.match_key, []).append(member)
            by_alt.setdefault(member.alt_key, []).append(member)
        found: dict[int, list[ResolveMember]] = {}
        for m in new:
            match, alt = probes[m.id]
            mine = [o for k in match for o in by_match.get(k, [])] + [o for k in alt for o in by_alt.get(k, [])]
            found[m.id] = list(dict.fromkeys(mine))[:MAX_CANDIDATES]  # an equal key first
        return found

    def _near_keys(self, session: Session, new: list[ResolveMember]) -> dict[str, list[str]]:
        """Stored organisations' word-sorted names near each arrival's: every stored one is read
        (from the key's index) and scored at once (`organisations.near_keys`)."""
        mine = [m.alt_key for m in new if m.alt_key]
        if not mine:
            return {}
        return near_keys(mine, _stored_organisation_keys(session), MAX_CANDIDATES)

    def _decide(self, session: Session, new: list[ResolveMember], candidates: dict[int, list[ResolveMember]],
                actor: str, revised: Collection[int] = ()) -> list[Outcome]:
        outcomes = {m.id: Outcome(m.stix_id, m.entity_id) for m in new}
        everyone = list({m.id: m for m in [*new, *(o for found in candidates.values() for o in found)]}.values())
        made: list[tuple[ResolveDecision, ResolveMember, ResolveMember]] = []
        for i, member in enumerate(new):
            # Each arrival against its stored candidates and the arrivals before it in the batch.
            for other in [*candidates[member.id], *new[:i]][: MAX_CANDIDATES * 2]:
                verdict = judge(self.kind, member.features, other.features)
                if verdict is None or (member.id in revised and member.entity_id == other.entity_id):
                    continue  # no rule fired, or a revised member still held to this one: nothing new
                decision = _decision(verdict, other, member, actor)
                session.add(decision)
                made.append((decision, member, other))
                if verdict.kind == "merge":
                    join_entities(session, other.entity_id, member.entity_id, everyone)
                    outcomes[member.id].merged_with.append(other.stix_id)
                    if other.id in outcomes:
                        outcomes[other.id].merged_with.append(member.stix_id)
        session.flush()
        return settle_outcomes(outcomes, made, new)


_ORGANISATION_KEYS = select(ResolveMember.alt_key).where(
    ResolveMember.kind == "organization", ResolveMember.alt_key.is_not(None)).distinct()
_compiled_keys: dict[str, DriverStatement] = {}


def _stored_organisation_keys(session: Session) -> list[str]:
    """Every stored organisation's word-sorted name, straight through the driver: through the ORM,
    100,000 of them took 145 ms a batch."""
    dialect = session.get_bind().dialect
    statement = _compiled_keys.get(dialect.name)
    if statement is None:
        statement = _compiled_keys.setdefault(dialect.name, compile_for_driver(_ORGANISATION_KEYS, dialect))
    return fetch_column(session, statement, {})


def _members_by_key(session: Session, kind: str, keys: set[str], alts: set[str],
                    arriving: list[int]) -> list[ResolveMember]:
    """Stored members of `kind` with one of these match keys or alternative keys, the newest
    MAX_CANDIDATES of each key (more of one key are one entity already), newest first."""
    found: dict[int, ResolveMember] = {}
    for column, values in ((ResolveMember.match_key, keys), (ResolveMember.alt_key, alts)):
        if values:
            found |= {m.id: m for m in session.scalars(_newest_of_each(column, kind, values, arriving))}
    return sorted(found.values(), key=lambda m: m.id, reverse=True)


def _present(*keys: str | None) -> list[str]:
    return [k for k in dict.fromkeys(keys) if k]


def _newest_of_each(column: InstrumentedAttribute[str | None], kind: str, values: set[str], arriving: list[int]) -> Any:
    """The members themselves, joined to their rank within their key: no list of ids goes back to the database."""
    rank = func.row_number().over(partition_by=column, order_by=ResolveMember.id.desc()).label("rank")
    ranked = select(ResolveMember.id, rank).where(
        ResolveMember.kind == kind, column.in_(values), ResolveMember.id.not_in(arriving)).subquery()
    return select(ResolveMember).join(ranked, ranked.c.id == ResolveMember.id).where(ranked.c.rank <= MAX_CANDIDATES)


def _decision(verdict: Verdict, a: ResolveMember, b: ResolveMember, actor: str) -> ResolveDecision:
    state = "auto" if verdict.kind == "merge" else "pending"  # a review or a recheck waits for an analyst
    return ResolveDecision(kind=verdict.kind, state=state, member_a=a.stix_id, member_b=b.stix_id,
                           probability=verdict.probability, match_weight=verdict.explanation[0]["match_weight"],
                           explanation=verdict.explanation, decided_by=actor, created_at=clock.now(),
                           decided_at=clock.now() if state == "auto" else None)
