"""Random but valid principals and markings for the benchmark node (fictional agencies only).

Every marking is validated against the node's registry before use: the benchmark measures the
rules on data the write path would accept.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from tearline.markings.marking import Marking, Registry, marking_problems
from tearline.markings.scheme import NATIONAL_LABELS, RESERVED_LABEL

NODE_NATION = "USA"
NODE_AGENCY = "US-BENCH-NARC"

# (name, nation, law enforcement): one law-enforcement and one other agency per nation.
AGENCIES: tuple[tuple[str, str, bool], ...] = (
    (NODE_AGENCY, "USA", True),
    ("US-BENCH-INTEL", "USA", False),
    ("CA-BENCH-POLICE", "CAN", True),
    ("CA-BENCH-INTEL", "CAN", False),
    ("MX-BENCH-FISCALIA", "MEX", True),
    ("MX-BENCH-INTEL", "MEX", False),
)

# (name, owning agencies): binational vetted units and a single-agency source compartment.
COMPARTMENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("VU-BENCH-NORTE", (NODE_AGENCY, "MX-BENCH-FISCALIA")),
    ("VU-BENCH-PACIFICO", (NODE_AGENCY, "CA-BENCH-POLICE")),
    ("BENCH-HALCON", (NODE_AGENCY,)),
    ("BENCH-ORCA", ("US-BENCH-INTEL",)),
)

NATIONS = tuple(NATIONAL_LABELS)
# Most of what a node holds is its own; the rest originated with partners.
ORIGIN_WEIGHTS = {n: (2.0 if n == NODE_NATION else 1.0) for n in NATIONS}


@dataclass(frozen=True)
class PrincipalSpec:
    username: str
    nation: str
    agency: str
    clearance: str
    compartments: tuple[str, ...]


def _agencies_of(nation: str) -> list[str]:
    return [name for name, n, _ in AGENCIES if n == nation]


def random_principal(rng: random.Random, number: int) -> PrincipalSpec:
    """A principal of a random nation, agency, clearance and compartments."""
    nation = rng.choice(NATIONS)
    compartments = tuple(name for name, _ in COMPARTMENTS if rng.random() < 0.3)
    return PrincipalSpec(
        username=f"bench-{number:03d}",
        nation=nation,
        agency=rng.choice(_agencies_of(nation)),
        clearance=rng.choice(NATIONAL_LABELS[nation]),
        compartments=compartments,
    )


def _controls(rng: random.Random) -> set[str]:
    chances = {"ORCON": 0.15, "LES": 0.2, "DP": 0.1, "NOFORN": 0.15}
    return {control for control, chance in chances.items() if rng.random() < chance}


def _draw_marking(rng: random.Random, now: datetime) -> Marking:
    nation = rng.choices(NATIONS, weights=[ORIGIN_WEIGHTS[n] for n in NATIONS])[0]
    level = rng.choice(NATIONAL_LABELS[nation])
    controls = _controls(rng)
    others = {n for n in NATIONS if n != nation and rng.random() < 0.6}
    rel_to = {nation} if "NOFORN" in controls else {nation} | others
    compartments = {name for name, _ in COMPARTMENTS if rng.random() < 0.08}
    sourced = rng.random() < 0.1
    return Marking(
        originator_nation=nation,
        originator_agency=rng.choice(_agencies_of(nation)),
        level=level,
        rel_to=frozenset(rel_to),
        controls=frozenset(controls),
        compartments=frozenset(compartments),
        source_fields=("text",) if sourced else (),
        source_grade=rng.choice(("A1", "B2", "C3")) if sourced else None,
        reserved_until=now + timedelta(days=365) if (nation, level) == RESERVED_LABEL else None,
    )


def random_marking(rng: random.Random, registry: Registry, now: datetime) -> Marking:
    """A random marking that the node's registry accepts."""
    while True:
        marking = _draw_marking(rng, now)
        if not marking_problems(marking, registry):
            return marking


def marking_pool(rng: random.Random, registry: Registry, now: datetime, size: int) -> list[Marking]:
    """Up to `size` distinct valid markings (a node meets a bounded variety of markings)."""
    pool: dict[str, Marking] = {}
    attempts = 0
    while len(pool) < size and attempts < size * 20:
        marking = random_marking(rng, registry, now)
        pool.setdefault(marking.digest(), marking)
        attempts += 1
    return list(pool.values())
