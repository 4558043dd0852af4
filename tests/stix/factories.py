"""Plain factories for the wire-format and ingest tests: nodes, principals and the sample bundle.

Everything is fictional: agencies, persons, plates and phones are invented.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from tearline.db.models import Portion, Report, StixObject
from tearline.markings.marking import Agency, Compartment, Registry
from tearline.node import Node, init_node
from tearline.policy.host import add_member, add_workspace
from tearline.stix import ids
from tearline.store import registry as reg
from tearline.store.principals import add_principal

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DATA = Path(__file__).resolve().parent.parent / "data" / "ingest"
AGENCY = "DEA-DEMO"
WORKSPACE = "fc-norte"


def sample_bundle() -> dict[str, Any]:
    """A fresh copy of the convoy bundle: one report, four portions, ten objects."""
    return copy.deepcopy(_SAMPLE)


_SAMPLE: dict[str, Any] = json.loads((DATA / "convoy-bundle.json").read_text(encoding="utf-8"))


def registry() -> Registry:
    """The registry of a US node set up by `make_node`, for decoding without a database."""
    agencies = {
        AGENCY: Agency(AGENCY, "USA", True),
        "HSI-DEMO": Agency("HSI-DEMO", "USA", True),
        "FGR-DEMO": Agency("FGR-DEMO", "MEX", True),
        "RCMP-DEMO": Agency("RCMP-DEMO", "CAN", True),
    }
    compartments = {"VU-NORTE": Compartment("VU-NORTE", frozenset({AGENCY, "FGR-DEMO"}))}
    return Registry("USA", frozenset({"MEX", "CAN"}), agencies, compartments)


def make_node(path: Path) -> Node:
    """A US node with partner agencies, the vetted unit, a MEX-hosted fusion centre and four principals.

    - ana: DEA-DEMO analyst in the vetted unit (sees everything);
    - hugo: HSI-DEMO (another US agency), so source-sensitive text shows him the grade;
    - mario: FGR-DEMO (MEX) analyst, member of the fusion centre;
    - claire: RCMP-DEMO (CAN), in no workspace.
    """
    node = init_node(path, "USA", AGENCY)
    with node.db.write() as session:
        for name, nation in (("HSI-DEMO", "USA"), ("FGR-DEMO", "MEX"), ("RCMP-DEMO", "CAN")):
            reg.add_agency(session, name, nation, True)
        reg.add_compartment(session, "VU-NORTE", [AGENCY, "FGR-DEMO"])
        workspace = add_workspace(session, WORKSPACE, "Centro de fusión norte", "MEX")
        add_principal(session, "ana", "USA", AGENCY, "SECRET", compartments=["VU-NORTE"])
        add_principal(session, "hugo", "USA", "HSI-DEMO", "SECRET")
        add_member(session, workspace, add_principal(session, "mario", "MEX", "FGR-DEMO", "SECRETA"))
        add_principal(session, "claire", "CAN", "RCMP-DEMO", "SECRET")
    return node


def row_counts(node: Node) -> tuple[int, int, int]:
    """(reports, portions, objects) stored on the node."""
    with node.db.read() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model)) or 0 for model in (Report, Portion, StixObject)
        )


def by_type(bundle: dict[str, Any], stix_type: str) -> list[dict[str, Any]]:
    return [o for o in bundle["objects"] if o["type"] == stix_type]


def one(bundle: dict[str, Any], stix_type: str, **match: Any) -> dict[str, Any]:
    found = [o for o in by_type(bundle, stix_type) if all(o.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (stix_type, match, len(found))
    return found[0]


def references(obj: Any) -> Iterator[str]:
    """Every id an object refers to: *_ref, *_refs and marking_ref, at any depth."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key.endswith("_ref") or key == "marking_ref":
                yield value
            elif key.endswith("_refs"):
                yield from value
            else:
                yield from references(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from references(value)


def validator_errors(bundle: dict[str, Any]) -> list[str]:
    """stix2-validator's errors for each object, plus every reference that does not resolve in the bundle.

    The validator does not notice a dangling marking_ref (ANCHORS.md), hence the second check.
    """
    from stix2validator import ValidationOptions, validate_instance

    options = ValidationOptions(version="2.1")
    errors = []
    for obj in bundle["objects"]:
        result = validate_instance(obj, options)
        if not result.is_valid:
            errors += [f"{obj['id']}: {e}" for e in result.errors]
    present = {o["id"] for o in bundle["objects"]}
    well_known = {ids.TEARLINE_IDENTITY}
    for obj in bundle["objects"]:
        errors += [f"{obj['id']}: dangling {ref}" for ref in references(obj) if ref not in present | well_known]
    return errors
