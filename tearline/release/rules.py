"""Release settings that the node's admins own: the two-person rule per common level."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from tearline.db.models import Principal, Setting
from tearline.errors import Forbidden, InvalidInput, Problem
from tearline.policy.workflow import authorize

TWO_PERSON_KEY = "two_person_levels"
DEFAULT_TWO_PERSON_LEVELS = (2, 3, 4)  # CONFIDENTIAL-equivalent and above need two approvers


def two_person_levels(session: Session) -> frozenset[int]:
    row = session.get(Setting, TWO_PERSON_KEY)
    return frozenset(json.loads(row.value)) if row else frozenset(DEFAULT_TWO_PERSON_LEVELS)


def set_two_person_levels(
    session: Session, levels: list[int], first: Principal, second: Principal, node_nation: str
) -> frozenset[int]:
    """Change which common levels need two approvers. It takes two distinct admins, always."""
    for admin in (first, second):
        authorize(admin, "set_two_person_rule", node_nation)
    if first.id == second.id:
        raise Forbidden("changing the two-person rule needs two different admins", rule="two-admins")
    bad = [lvl for lvl in levels if lvl not in range(5)]
    if bad:
        raise InvalidInput(Problem("levels", f"common levels run from 0 to 4, not {bad}"))
    value = json.dumps(sorted(set(levels)))
    row = session.get(Setting, TWO_PERSON_KEY)
    if row is None:
        session.add(Setting(key=TWO_PERSON_KEY, value=value))
    else:
        row.value = value
    session.flush()
    return frozenset(levels)
