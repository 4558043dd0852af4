"""Principals, their log-ins (argon2id passwords, bearer tokens) and their view for the rules."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from tearline import clock
from tearline.db.limits import length_problems
from tearline.db.models import AgencyRow, CompartmentRow, Principal, Token
from tearline.errors import Conflict, InvalidInput, Problem, Unauthorized
from tearline.markings.scheme import national_rank
from tearline.markings.visibility import Viewer
from tearline.store.registry import bump_policy_epoch

# `peer` is a partner node itself: it reads what was released to its nation and posts sealed units.
ROLES = frozenset({"analyst", "disclosure_officer", "admin", "auditor", "peer"})
MIN_PASSWORD = 8
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def add_principal(
    session: Session,
    username: str,
    nation: str,
    agency: str,
    clearance: str,
    compartments: list[str] | None = None,
    roles: list[str] | None = None,
    password: str | None = None,
    display_name: str = "",
) -> Principal:
    """Create a principal; refuse it whole if any attribute breaks the rules."""
    problems = principal_problems(session, nation, agency, clearance, compartments or [], roles or [])
    if not username.strip():
        problems.append(Problem("username", "must not be empty"))
    problems += length_problems(
        [("username", Principal.username, username), ("display_name", Principal.display_name, display_name)]
    )
    if password is not None:
        problems += _password_problems(password)
    if session.scalar(select(Principal.id).where(Principal.username == username)) is not None:
        raise Conflict(f"username {username!r} is taken")
    if problems:
        raise InvalidInput(problems)
    principal = Principal(
        username=username,
        display_name=display_name or username,
        nation=nation,
        agency=agency,
        clearance=clearance,
        compartments=sorted(set(compartments or [])),
        roles=sorted(set(roles if roles is not None else ["analyst"])),
        password_hash=_hasher.hash(password) if password else None,
        created_at=clock.now(),
    )
    session.add(principal)
    session.flush()
    return principal


def principal_problems(
    session: Session, nation: str, agency: str, clearance: str, compartments: list[str], roles: list[str]
) -> list[Problem]:
    problems: list[Problem] = []
    agency_row = session.get(AgencyRow, agency)
    if agency_row is None:
        problems.append(Problem("agency", f"unknown agency {agency!r}"))
    elif agency_row.nation != nation:
        problems.append(
            Problem("nation", f"{nation!r} differs from the nation of agency {agency!r} ({agency_row.nation})")
        )
    if national_rank(nation, clearance) is None:
        problems.append(Problem("clearance", f"unknown label {clearance!r} for nation {nation!r}"))
    for name in compartments:
        if session.get(CompartmentRow, name) is None:
            problems.append(Problem("compartments", f"unknown compartment {name!r}"))
    for role in roles:
        if role not in ROLES:
            problems.append(Problem("roles", f"unknown role {role!r}; roles are {', '.join(sorted(ROLES))}"))
    return problems


def update_principal(session: Session, principal: Principal, **changes: object) -> Principal:
    """Change attributes; the principal's audience is recomputed before its next read."""
    merged: dict[str, Any] = {
        "nation": principal.nation,
        "agency": principal.agency,
        "clearance": principal.clearance,
        "compartments": list(principal.compartments),
        "roles": list(principal.roles),
    }
    merged.update({k: v for k, v in changes.items() if v is not None})
    problems = principal_problems(session, **merged)
    if problems:
        raise InvalidInput(problems)
    for key, value in merged.items():
        setattr(principal, key, sorted(set(value)) if isinstance(value, list) else value)
    principal.audience_epoch = -1
    bump_policy_epoch(session)
    return principal


def viewer_of(principal: Principal, agencies: dict[str, bool]) -> Viewer:
    """The principal as the marking rules see it; `agencies` maps agency name to law enforcement."""
    return Viewer(
        nation=principal.nation,
        agency=principal.agency,
        clearance=principal.clearance,
        compartments=frozenset(principal.compartments),
        law_enforcement=agencies.get(principal.agency, False),
    )


def issue_token(session: Session, principal: Principal, kind: str = "api", ttl: timedelta | None = None) -> str:
    """A new bearer token, returned once; only its hash is kept."""
    token = "tl_" + secrets.token_urlsafe(32)
    session.add(
        Token(
            principal_id=principal.id,
            token_hash=token_digest(token),
            kind=kind,
            created_at=clock.now(),
            expires_at=clock.now() + ttl if ttl else None,
        )
    )
    session.flush()
    return token


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def principal_for_token(session: Session, token: str) -> Principal:
    row = session.scalar(select(Token).where(Token.token_hash == token_digest(token)))
    if row is None:
        raise Unauthorized("unknown or revoked token; log in again or ask an admin for a new token")
    if row.expires_at is not None and clock.as_utc(row.expires_at) <= clock.now():
        raise Unauthorized("the token has expired; log in again")
    principal = session.get(Principal, row.principal_id)
    if principal is None or principal.disabled:
        raise Unauthorized("the account is disabled")
    return principal


def check_password(session: Session, username: str, password: str) -> Principal:
    """Verify a local log-in; the same answer for an unknown user and a wrong password."""
    principal = session.scalar(select(Principal).where(Principal.username == username))
    failure = Unauthorized("wrong username or password")
    if principal is None or principal.password_hash is None or principal.disabled:
        _hasher.hash(password)  # spend the same time as a real check, so timing does not reveal names
        raise failure
    try:
        _hasher.verify(principal.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise failure from None
    return principal


def _password_problems(password: str) -> list[Problem]:
    return [] if len(password) >= MIN_PASSWORD else [Problem("password", f"must be at least {MIN_PASSWORD} characters")]


def set_password(session: Session, principal: Principal, password: str) -> None:
    problems = _password_problems(password)
    if problems:
        raise InvalidInput(problems)
    principal.password_hash = _hasher.hash(password)


def set_disabled(session: Session, principal: Principal, disabled: bool) -> int:
    """Disable a principal (refused from its next request on) or enable it again; returns tokens revoked.

    Disabling also revokes every session and API token: an account disabled because it may be
    compromised must not come back with the old ones when it is enabled.
    """
    revoked = revoke_tokens(session, principal) if disabled else 0
    principal.disabled = disabled
    principal.audience_epoch = -1
    bump_policy_epoch(session)
    return revoked


def live_tokens(session: Session, principal: Principal) -> dict[str, int]:
    """How many unexpired tokens the principal holds, by kind (`api`, `session`)."""
    rows = session.execute(
        select(Token.kind, func.count())
        .where(Token.principal_id == principal.id)
        .where(or_(Token.expires_at.is_(None), Token.expires_at > clock.now()))
        .group_by(Token.kind)
    )
    return {kind: count for kind, count in rows}


def revoke_token(session: Session, token: str) -> None:
    """End one session (log-out); the principal's other sessions and API tokens stay."""
    row = session.scalar(select(Token).where(Token.token_hash == token_digest(token)))
    if row is not None:
        session.delete(row)


def revoke_tokens(session: Session, principal: Principal, kind: str | None = None) -> int:
    """End every session and API token of the principal (or those of one kind); returns how many there were."""
    which = delete(Token).where(Token.principal_id == principal.id)
    result = session.execute(which if kind is None else which.where(Token.kind == kind))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
