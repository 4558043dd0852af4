"""The two-person rule (DESIGN §3.5), a setting that the node's admins own, per common level.

The rule holds at every level until two people turn it off. So a change that takes a level out
of the rule is only proposed by one admin and takes effect when a second, different admin makes
the same change within a day; a change that only adds levels takes effect at once. The caller logs
both steps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tearline import clock
from tearline.db.models import Principal, Setting
from tearline.errors import Conflict, Forbidden, InvalidInput, Problem
from tearline.policy.workflow import authorize

TWO_PERSON_KEY = "two_person_levels"
PROPOSAL_KEY = "two_person_proposal"
COMMON_LEVELS = range(5)
DEFAULT_TWO_PERSON_LEVELS = tuple(COMMON_LEVELS)  # on everywhere until two people turn it off
PROPOSAL_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class Proposal:
    """A change that takes levels out of the rule, waiting for a second admin."""

    levels: frozenset[int]
    proposer_id: int
    proposer: str  # username@agency, as the audit log names principals
    at: datetime

    def as_dict(self) -> dict[str, object]:
        return {
            "levels": sorted(self.levels),
            "proposed_by": self.proposer,
            "proposed_at": clock.stix_timestamp(self.at),
            "expires_at": clock.stix_timestamp(self.at + PROPOSAL_LIFETIME),
        }


@dataclass(frozen=True)
class RuleChange:
    """What a change did: the levels now in force, and whether it waits for a second admin."""

    levels: frozenset[int]
    in_force: bool
    approvers: tuple[str, ...]
    proposal: Proposal | None = None


def two_person_levels(session: Session) -> frozenset[int]:
    row = session.get(Setting, TWO_PERSON_KEY)
    return frozenset(json.loads(row.value)) if row else frozenset(DEFAULT_TWO_PERSON_LEVELS)


def pending_proposal(session: Session, now: datetime | None = None) -> Proposal | None:
    """The proposal waiting for a second admin, unless it lapsed."""
    row = session.get(Setting, PROPOSAL_KEY)
    if row is None:
        return None
    raw = json.loads(row.value)
    proposal = Proposal(frozenset(raw["levels"]), raw["proposer_id"], raw["proposer"], clock.parse_timestamp(raw["at"]))
    return None if (now or clock.now()) >= proposal.at + PROPOSAL_LIFETIME else proposal


def change_two_person_levels(session: Session, levels: list[int], admin: Principal, node_nation: str) -> RuleChange:
    """Set the common levels under the rule, or propose it when that takes any level out."""
    authorize(admin, "set_two_person_rule", node_nation)
    wanted = _checked(levels)
    name = f"{admin.username}@{admin.agency}"
    if wanted >= two_person_levels(session):
        _store(session, TWO_PERSON_KEY, sorted(wanted))
        return RuleChange(wanted, True, (name,))
    proposal = pending_proposal(session)
    if proposal is not None and not _still_admin(session, proposal.proposer_id, node_nation):
        proposal = None  # a proposer since disabled or no longer an admin is no first person
    if proposal is not None and proposal.levels == wanted:
        if proposal.proposer_id == admin.id:
            raise Forbidden(
                "you proposed this change already; turning the two-person rule off needs a second admin to make it",
                rule="two-admins",
            )
        _store(session, TWO_PERSON_KEY, sorted(wanted))
        _clear(session, PROPOSAL_KEY)
        return RuleChange(wanted, True, (proposal.proposer, name))
    proposal = Proposal(wanted, admin.id, name, clock.now())
    _store(session, PROPOSAL_KEY, {"levels": sorted(wanted), "proposer_id": admin.id, "proposer": name,
                                   "at": clock.stix_timestamp(proposal.at)})  # fmt: skip
    return RuleChange(two_person_levels(session), False, (name,), proposal)


def set_two_person_levels(
    session: Session, levels: list[int], first: Principal, second: Principal, node_nation: str
) -> frozenset[int]:
    """Both admins' changes at once (the library's form of the two steps); they must differ."""
    if first.id == second.id:
        raise Forbidden("changing the two-person rule needs two different admins", rule="two-admins")
    change_two_person_levels(session, levels, first, node_nation)
    return change_two_person_levels(session, levels, second, node_nation).levels


def _still_admin(session: Session, principal_id: int, node_nation: str) -> bool:
    principal = session.get(Principal, principal_id)
    return bool(principal and not principal.disabled and "admin" in principal.roles and principal.nation == node_nation)


def _checked(levels: list[int]) -> frozenset[int]:
    bad = [level for level in levels if level not in COMMON_LEVELS]
    if bad:
        raise InvalidInput(Problem("levels", f"common levels run from 0 to 4, not {bad}"))
    return frozenset(levels)


def _store(session: Session, key: str, value: object) -> None:
    row = session.get(Setting, key, with_for_update=True)
    if row is None:
        session.add(Setting(key=key, value=json.dumps(value)))
    else:
        row.value = json.dumps(value)
    try:
        session.flush()
    except IntegrityError:
        # Two admins' first changes at the same moment: the other one's row went in first.
        raise Conflict("another admin changed the two-person rule at the same moment; make the change again") from None


def _clear(session: Session, key: str) -> None:
    row = session.get(Setting, key)
    if row is not None:
        session.delete(row)
        session.flush()
