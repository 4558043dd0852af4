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

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tearline import clock
from tearline.db.resolve_tables import ResolveDecision, ResolveMember
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
from tearline.resolve.organisations import NEAR_SCORE, near_names, normalise_organisation, similarity
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
    """(match key, alternative key, features) of one object of `kind`."""
    if kind == "phone":
        key, e164 = phone_key(str(body.get("number", "")), nation)
        return key, None, {"number": key.removeprefix("digits:") if key else None, "e164": e164}
    if kind == "vehicle":
        plate, vin = normalise_plate(str(body.get("plate", ""))), normalise_vin(str(body.get("vin", "")))
        features = {"plate": plate, "vin": vin, "jurisdiction": normalise_jurisdiction(str(body.get("country", "")))}
        features |= {k: str(body[k]).strip().upper() for k in ("make", "model", "color") if body.get(k)}
        return plate, vin, features
    name = normalise_organisation(str(body.get("name", "")))
    return name, None, {"name": name}


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

    def _candidates(self, session: Session, new: list[ResolveMember]) -> list[ResolveMember]:
        keys = {m.match_key for m in new if m.match_key}
        alts = {m.alt_key for m in new if m.alt_key}
        if self.kind == "organization":
            keys |= self._near_names(session, keys)
        if not keys and not alts:
            return []
        found = session.scalars(select(ResolveMember).where(
            ResolveMember.kind == self.kind, ResolveMember.id.not_in([m.id for m in new]),
            or_(ResolveMember.match_key.in_(keys), ResolveMember.alt_key.in_(alts))).order_by(ResolveMember.id.desc())
            .limit(MAX_CANDIDATES * len(new)))
        return list(found)

    def _near_names(self, session: Session, names: set[str]) -> set[str]:
        """Stored organisation names near one of these (every stored name is read: organisations
        are few beside persons, and a near name may differ in any word)."""
        stored = [k for k in session.scalars(select(ResolveMember.match_key).where(
            ResolveMember.kind == "organization", ResolveMember.match_key.is_not(None)).distinct()) if k]
        return {match for name in names for match in near_names(name, stored, MAX_CANDIDATES)}

    def _decide(self, session: Session, new: list[ResolveMember], candidates: list[ResolveMember],
                actor: str, revised: Collection[int] = ()) -> list[Outcome]:
        outcomes = {m.id: Outcome(m.stix_id, m.entity_id) for m in new}
        everyone = [*new, *candidates]
        made: list[tuple[ResolveDecision, ResolveMember, ResolveMember]] = []
        for i, member in enumerate(new):
            # Each arrival against the stored candidates and the arrivals before it in the batch.
            for other in [*candidates, *new[:i]][: MAX_CANDIDATES * 2]:
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


def _decision(verdict: Verdict, a: ResolveMember, b: ResolveMember, actor: str) -> ResolveDecision:
    state = "auto" if verdict.kind == "merge" else "pending"  # a review or a recheck waits for an analyst
    return ResolveDecision(kind=verdict.kind, state=state, member_a=a.stix_id, member_b=b.stix_id,
                           probability=verdict.probability, match_weight=verdict.explanation[0]["match_weight"],
                           explanation=verdict.explanation, decided_by=actor, created_at=clock.now(),
                           decided_at=clock.now() if state == "auto" else None)
