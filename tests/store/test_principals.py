"""Principals (DESIGN §3.2 refusals), argon2id log-ins, bearer tokens, and changes that bite at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tearline import clock
from tearline.db.models import Principal, Token
from tearline.errors import Conflict, InvalidInput, Unauthorized
from tearline.fixtures import build_demo
from tearline.node import Node
from tearline.store import reads
from tearline.store.principals import (
    add_principal,
    check_password,
    issue_token,
    principal_for_token,
    revoke_tokens,
    set_password,
    update_principal,
)
from tests.web.support import quick

__all__ = ["quick"]
pytestmark = pytest.mark.usefixtures("quick")


def _principal_count(node: Node) -> int:
    with node.db.read() as session:
        return session.scalar(select(func.count()).select_from(Principal)) or 0


def _named(session, username: str) -> Principal:  # type: ignore[no-untyped-def]
    principal = session.scalar(select(Principal).where(Principal.username == username))
    assert principal is not None
    return principal


@pytest.mark.parametrize(
    ("nation", "agency", "clearance", "compartments", "roles", "field"),
    [
        ("MEX", "US-DEMO-NARC", "SECRETA", [], [], "nation"),
        ("USA", "US-DEMO-NARC", "SECRETA", [], [], "clearance"),
        ("USA", "US-DEMO-NARC", "SECRET-ISH", [], [], "clearance"),
        ("CAN", "US-DEMO-NARC", "SECRET", [], [], "nation"),
        ("USA", "US-NO-SUCH-AGENCY", "SECRET", [], [], "agency"),
        ("USA", "US-DEMO-NARC", "SECRET", ["VU-NONE"], [], "compartments"),
        ("USA", "US-DEMO-NARC", "SECRET", [], ["superuser"], "roles"),
    ],
    ids=[
        "nation-differs-from-agency",
        "another-nations-label",
        "unknown-label",
        "partner-nation-on-our-agency",
        "unknown-agency",
        "unknown-compartment",
        "unknown-role",
    ],
)
def test_a_principal_that_breaks_the_rules_is_refused_naming_the_field(
    node: Node, nation: str, agency: str, clearance: str, compartments: list[str], roles: list[str], field: str
) -> None:
    build_demo(node)
    before = _principal_count(node)
    with pytest.raises(InvalidInput) as refused, node.db.write() as session:
        add_principal(session, "new.person", nation, agency, clearance, compartments, roles, "a-long-passphrase")
    assert [p.field for p in refused.value.problems] == [field]
    assert _principal_count(node) == before


def test_every_problem_is_listed_at_once(node: Node) -> None:
    build_demo(node)
    with pytest.raises(InvalidInput) as refused, node.db.write() as session:
        add_principal(session, " ", "MEX", "US-DEMO-NARC", "NOPE", ["VU-NONE"], ["root"])
    assert sorted(p.field for p in refused.value.problems) == [
        "clearance",
        "compartments",
        "nation",
        "roles",
        "username",
    ]


def test_a_taken_username_is_a_conflict(node: Node) -> None:
    build_demo(node)
    with pytest.raises(Conflict), node.db.write() as session:
        add_principal(session, "ana.analyst", "USA", "US-DEMO-NARC", "SECRET")


def test_passwords_are_argon2id_and_a_failure_never_says_which_part_was_wrong(node: Node) -> None:
    build_demo(node)
    with node.db.write() as session:
        assert check_password(session, "ana.analyst", "demo-ana-2026").username == "ana.analyst"
        assert _named(session, "ana.analyst").password_hash.startswith("$argon2id$")  # type: ignore[union-attr]
        failures = []
        for username, password in [("ana.analyst", "wrong"), ("nobody", "demo-ana-2026"), ("node-service", "x")]:
            with pytest.raises(Unauthorized) as failed:
                check_password(session, username, password)
            failures.append(failed.value.message)
        _named(session, "ian.intel").disabled = True
        with pytest.raises(Unauthorized) as disabled:
            check_password(session, "ian.intel", "demo-ian-2026")
        failures.append(disabled.value.message)
    assert len(set(failures)) == 1


def test_a_short_password_is_refused(node: Node) -> None:
    build_demo(node)
    with pytest.raises(InvalidInput) as refused, node.db.write() as session:
        set_password(session, _named(session, "ana.analyst"), "short")
    assert refused.value.problems[0].field == "password"


def test_tokens_are_stored_as_digests_and_expire_and_revoke(node: Node) -> None:
    build_demo(node)
    issued = clock.now()
    with clock.frozen_at(issued), node.db.write() as session:
        ana = _named(session, "ana.analyst")
        api = issue_token(session, ana)
        short = issue_token(session, ana, kind="session", ttl=timedelta(minutes=5))
        stored = set(session.scalars(select(Token.token_hash)))
    assert api not in stored and short not in stored
    with clock.frozen_at(issued + timedelta(minutes=4)), node.db.read() as session:
        assert principal_for_token(session, short).username == "ana.analyst"
    with clock.frozen_at(issued + timedelta(minutes=5)), node.db.read() as session:
        with pytest.raises(Unauthorized, match="expired"):
            principal_for_token(session, short)
        assert principal_for_token(session, api).username == "ana.analyst"
    with node.db.write() as session:
        revoke_tokens(session, _named(session, "ana.analyst"))
    with node.db.read() as session, pytest.raises(Unauthorized):
        principal_for_token(session, api)


def test_a_disabled_principal_loses_its_tokens_at_once(node: Node) -> None:
    build_demo(node)
    with node.db.write() as session:
        token = issue_token(session, _named(session, "ana.analyst"))
    with node.db.write() as session:
        _named(session, "ana.analyst").disabled = True
    with node.db.read() as session, pytest.raises(Unauthorized):
        principal_for_token(session, token)


def _counts_for(node: Node, username: str) -> dict[str, object]:
    with node.db.read() as session:
        principal = _named(session, username)
        session.expunge(principal)
    reader = node.reader(principal)
    with node.db.read() as session:
        return reads.counts(session, reader)


def test_a_changed_clearance_applies_to_the_next_read(node: Node) -> None:
    build_demo(node)
    assert _counts_for(node, "ana.analyst")["reports"] == 2
    with node.db.write() as session:
        update_principal(session, _named(session, "ana.analyst"), clearance="CUI")
    assert _counts_for(node, "ana.analyst") == {"reports": 1, "portions": 1, "objects": {}}
    with node.db.write() as session:
        update_principal(session, _named(session, "ana.analyst"), clearance="SECRET", compartments=[])
    counts = _counts_for(node, "ana.analyst")
    assert (counts["reports"], counts["portions"]) == (2, 4)  # the vetted-unit portion is gone


def test_an_invalid_change_leaves_the_principal_as_it_was(node: Node) -> None:
    build_demo(node)
    with pytest.raises(InvalidInput) as refused, node.db.write() as session:
        update_principal(session, _named(session, "mateo.enlace"), agency="US-DEMO-NARC")
    assert [p.field for p in refused.value.problems] == ["nation"]
    with node.db.read() as session:
        mateo = _named(session, "mateo.enlace")
        assert (mateo.nation, mateo.agency) == ("MEX", "MX-DEMO-FIA")
