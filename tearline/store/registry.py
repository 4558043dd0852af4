"""The node's registry (partners, agencies, compartments) and its equivalence table versions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Text, cast, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tearline import clock
from tearline.db.limits import length_problems
from tearline.db.models import AgencyRow, CompartmentRow, EquivalenceVersion, Partner, Principal, Setting
from tearline.errors import Conflict, Forbidden, InvalidInput, Problem
from tearline.markings.marking import Agency, Compartment, Registry
from tearline.markings.scheme import DEFAULT_TABLE, NATIONAL_LABELS, EquivalenceTable

EPOCH_KEY = "policy_epoch"
# Moves whenever markings are added to the fresh audiences, so that readers' audience snapshots
# (`tearline.store.audience.AudienceSnapshot`) are taken again.
GENERATION_KEY = "audience_generation"


@dataclass(frozen=True)
class NodeIdentity:
    nation: str
    agency: str


def load_registry(session: Session, node: NodeIdentity) -> Registry:
    partners = frozenset(session.scalars(select(Partner.nation)))
    agencies = {a.name: Agency(a.name, a.nation, a.law_enforcement) for a in session.scalars(select(AgencyRow))}
    compartments = {c.name: Compartment(c.name, frozenset(c.owners)) for c in session.scalars(select(CompartmentRow))}
    return Registry(node.nation, partners - {node.nation}, agencies, compartments)


def current_table(session: Session) -> EquivalenceTable:
    row = session.scalars(select(EquivalenceVersion).order_by(EquivalenceVersion.version.desc()).limit(1)).first()
    return EquivalenceTable.from_dict(row.body) if row else DEFAULT_TABLE


def current_version(session: Session) -> int:
    """The number of the version in force (0 before any)."""
    return session.scalar(select(func.max(EquivalenceVersion.version))) or 0


def lock_equivalence_sequence(session: Session) -> int:
    """The version in force, read under a lock held until commit: the policy epoch's row, which every new
    version updates. SQLite writers already take turns (BEGIN IMMEDIATE); on PostgreSQL a second submitter
    waits here, then reads the version the first one stored."""
    _ensure_setting(session, EPOCH_KEY)
    session.get(Setting, EPOCH_KEY, with_for_update=True, populate_existing=True)
    return current_version(session)


def _counter(session: Session, key: str) -> int:
    value = session.scalar(select(Setting.value).where(Setting.key == key))
    return int(value) if value is not None else 0


def _bump(session: Session, key: str) -> int:
    """Add one to a counter in one statement, so that two transactions bumping at once give two steps.

    Reading the value and writing it back plus one would let a second transaction that read before
    the first committed write the same value again, and a reader that saw the first step would
    never see the second.
    """
    _ensure_setting(session, key)
    step = cast(cast(Setting.value, Integer) + 1, Text)
    value = session.execute(
        update(Setting).where(Setting.key == key).values(value=step).returning(Setting.value)
    ).scalar_one()
    return int(value)


def _ensure_setting(session: Session, key: str) -> None:
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgres_insert
    session.execute(insert(Setting).values(key=key, value="0").on_conflict_do_nothing(index_elements=["key"]))


def policy_epoch(session: Session) -> int:
    return _counter(session, EPOCH_KEY)


def audience_generation(session: Session) -> int:
    return _counter(session, GENERATION_KEY)


def bump_policy_epoch(session: Session) -> int:
    """Invalidate every precomputed audience before the next decision (DESIGN §3.5, caches)."""
    return _bump(session, EPOCH_KEY)


def bump_audience_generation(session: Session) -> None:
    """Invalidate every audience snapshot (not the audiences themselves): markings were added to them."""
    _bump(session, GENERATION_KEY)


def add_partner(session: Session, nation: str) -> None:
    if nation not in NATIONAL_LABELS:
        raise InvalidInput(Problem("nation", f"unknown nation {nation!r}; known: {', '.join(NATIONAL_LABELS)}"))
    if session.get(Partner, nation) is None:
        session.add(Partner(nation=nation))
        bump_policy_epoch(session)


def name_problems(field: str, value: str) -> list[Problem]:
    """A name that is empty, blank, padded with spaces or holds control characters would register a
    look-alike of another (or nothing to see): its problem, naming the field."""
    if not value.strip():
        return [Problem(field, "must not be empty or only spaces")]
    if value != value.strip():
        return [Problem(field, f"must not begin or end with spaces ({value!r}); give {value.strip()!r}")]
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return [Problem(field, f"must not hold control characters such as tabs or line breaks ({value!r})")]
    return []


def _case_twin(session: Session, column: Any, name: str) -> str | None:
    """A registered name other than `name` that differs from it only in letter case."""
    found = session.scalars(select(column).where(func.lower(column) == name.lower(), column != name)).first()
    return str(found) if found is not None else None


def add_agency(session: Session, name: str, nation: str, law_enforcement: bool | None) -> None:
    """Register an agency, or register it again. `law_enforcement=None` leaves an agency already
    registered as it is (and registers a new one as not law enforcement): the flag decides who may
    see LES items, so registering again must never clear it unasked."""
    problems = name_problems("agency", name) + length_problems([("agency", AgencyRow.name, name)])
    if nation not in NATIONAL_LABELS:
        problems.append(Problem("nation", f"unknown nation {nation!r}; known: {', '.join(NATIONAL_LABELS)}"))
    if problems:
        raise InvalidInput(problems)
    existing = session.get(AgencyRow, name)
    if existing is None and (twin := _case_twin(session, AgencyRow.name, name)) is not None:
        raise InvalidInput(
            Problem("agency", f"{name!r} differs from the registered agency {twin!r} only in case; use {twin!r}")
        )
    if existing is not None and existing.nation != nation:
        raise InvalidInput(Problem("agency", f"agency {name!r} already belongs to {existing.nation}"))
    if existing is None:
        session.add(AgencyRow(name=name, nation=nation, law_enforcement=bool(law_enforcement)))
    elif law_enforcement is not None:
        existing.law_enforcement = law_enforcement
    bump_policy_epoch(session)


def add_compartment(session: Session, name: str, owners: list[str], replace: bool = False) -> list[str] | None:
    """Register a compartment and its owning agencies; returns the owners it had before (None: new).

    Its owners decide which recipient agencies may receive its items, so a compartment already
    registered with other owners is refused unless `replace` is given; the same owners again
    change nothing.
    """
    problems = name_problems("compartment", name) + length_problems([("compartment", CompartmentRow.name, name)])
    if not owners:
        problems.append(Problem("owners", "a compartment needs at least one owning agency"))
    for owner in dict.fromkeys(owners):
        if session.get(AgencyRow, owner) is None:
            problems.append(
                Problem("owners", f"unknown agency {owner!r}; register it with `tearline agency add` first")
            )
    if problems:
        raise InvalidInput(problems)
    wanted = sorted(set(owners))
    row = session.get(CompartmentRow, name)
    if row is None:
        if (twin := _case_twin(session, CompartmentRow.name, name)) is not None:
            raise InvalidInput(
                Problem(
                    "compartment", f"{name!r} differs from the registered compartment {twin!r} only in case; "
                    f"use {twin!r}"
                )
            )
        session.add(CompartmentRow(name=name, owners=wanted))
        bump_policy_epoch(session)
        return None
    before = sorted(row.owners)
    if before == wanted:
        return before
    if not replace:
        raise Conflict(
            f"compartment {name!r} is owned by {', '.join(before)}, not {', '.join(wanted)}; its owners decide "
            "which agencies may receive its items: give --replace to make them the owners instead"
        )
    row.owners = wanted
    bump_policy_epoch(session)
    return before


def set_equivalence_table(
    session: Session,
    node: NodeIdentity,
    table: EquivalenceTable,
    actor: str,
    partner_signed: frozenset[str],
    signatures: Mapping[str, Any] | None = None,
    replaces: int | None = None,
) -> int:
    """Store a new version. A partner's column may change only in a version signed by that partner.

    `partner_signed` are the nations whose signatures were verified (`federation.equivalence`);
    `signatures` records them, by nation, with the version; `replaces` is the version they were
    verified as the successor of (read under `lock_equivalence_sequence`), which must still be in force.
    """
    latest = current_version(session)
    if replaces is not None and latest != replaces:
        raise Conflict(f"the signatures were checked against v{replaces}, but v{latest} is in force: submit again")
    current = current_table(session)
    unsigned = [
        nation
        for nation in NATIONAL_LABELS
        if nation != node.nation
        and nation not in partner_signed
        and (
            current.column_digest(nation) != table.column_digest(nation)
            or _terms(current, nation) != _terms(table, nation)
        )
    ]
    if unsigned:
        raise Forbidden(
            f"the new table changes the column of {', '.join(unsigned)}; such a change takes effect only "
            "as a version signed by that partner",
            rule="equivalence-partner-signature",
        )
    for agreement in table.agreements:
        for nation, column in agreement.columns.items():
            for label in column:
                if label not in NATIONAL_LABELS.get(nation, ()):
                    raise InvalidInput(Problem(f"columns.{nation}", f"unknown label {label!r}"))
    version = latest + 1
    body = EquivalenceTable(version=version, agreements=table.agreements).as_dict()
    session.add(
        EquivalenceVersion(
            version=version,
            body=body,
            created_at=clock.now(),
            created_by=actor,
            signatures=dict(signatures) if signatures is not None else {n: "verified" for n in sorted(partner_signed)},
        )
    )
    bump_policy_epoch(session)
    return version


def _terms(table: EquivalenceTable, nation: str) -> set[tuple[str, tuple[str, ...], int]]:
    """The agreements a nation is party to, with their parties and ceilings: changing them needs its signature."""
    return {(a.name, tuple(sorted(a.nations)), a.ceiling) for a in table.agreements if nation in a.nations}


def ensure_default_table(session: Session) -> None:
    if session.scalar(select(func.count()).select_from(EquivalenceVersion)) == 0:
        session.add(
            EquivalenceVersion(
                version=DEFAULT_TABLE.version,
                body=DEFAULT_TABLE.as_dict(),
                created_at=clock.now(),
                created_by="tearline init",
                signatures={},
            )
        )


def principals_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Principal)) or 0
