"""Organisations, phones and vehicles: normalised keys, the rules' decisions, and the resolver on
SQLite and PostgreSQL (merges, reviews, a split that undoes a merge)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from tearline.db.resolve_tables import ResolveDecision
from tearline.node import Node
from tearline.resolve import incremental
from tearline.resolve.keyed import Arrival, KeyedResolver, judge, keys_of
from tearline.resolve.organisations import normalise_organisation
from tearline.resolve.vehicles import jurisdictions_agree, normalise_jurisdiction, normalise_plate, normalise_vin


@pytest.mark.parametrize(("written", "normalised"), [
    ("Fletes del Nazas S.A. de C.V.", "FLETES DEL NAZAS"),
    ("FLETES DEL NAZAS, SA DE CV", "FLETES DEL NAZAS"),
    ("Transportes Peñasco S. de R.L. de C.V.", "TRANSPORTES PENASCO"),
    ("Northern Freight Ltd.", "NORTHERN FREIGHT"),
    ("Fraser Logistics Ltée", "FRASER LOGISTICS"),
    ("The Harbour Group, Inc.", "HARBOUR GROUP"),
    ("Garza y Hijos", "GARZA & HIJOS"),
])
def test_organisation_names_lose_accents_articles_and_legal_forms(written: str, normalised: str) -> None:
    assert normalise_organisation(written) == normalised


def test_plates_vins_and_jurisdictions_are_normalised() -> None:
    assert normalise_plate("abc-12 3") == "ABC123"
    assert normalise_vin("1hgcm82633a004352") == "1HGCM82633A004352"
    assert normalise_vin("NOT-A-VIN") is None
    assert normalise_jurisdiction("México") == normalise_jurisdiction("MEX") == "MX"
    assert normalise_jurisdiction("us-tx") == "US-TX"
    assert jurisdictions_agree("MX", "MX") is True
    assert jurisdictions_agree("US", "US-TX") is None
    assert jurisdictions_agree("US-TX", "US-AZ") is False
    assert jurisdictions_agree(None, "MX") is None


def _features(kind: str, nation: str = "MEX", **body: str) -> dict[str, object]:
    return keys_of(kind, body, nation)[2]


def test_rules_merge_only_on_sure_keys_and_send_doubts_to_review() -> None:
    mx, us = _features("phone", number="662 123 4567"), _features("phone", "USA", number="+52 (662) 123-4567")
    assert judge("phone", mx, us).kind == "merge"  # type: ignore[union-attr]
    assert judge("phone", mx, _features("phone", number="662 123 4568")) is None

    plate = {"plate": "ABC-123", "country": "Mexico"}
    assert judge("vehicle", _features("vehicle", **plate), _features("vehicle", plate="abc123", country="MX")).kind \
        == "merge"  # type: ignore[union-attr]
    assert judge("vehicle", _features("vehicle", **plate), _features("vehicle", plate="ABC123", country="USA")) is None
    unsure = judge("vehicle", _features("vehicle", **plate), _features("vehicle", plate="ABC 123"))
    assert unsure is not None and unsure.kind == "review"
    vin = "1HGCM82633A004352"
    assert judge("vehicle", _features("vehicle", plate="X1", vin=vin), _features("vehicle", plate="Z9", vin=vin)).kind \
        == "merge"  # type: ignore[union-attr]
    cloned = judge("vehicle", _features("vehicle", **plate, vin=vin), _features("vehicle", **plate, vin="2" + vin[1:]))
    assert cloned is not None and cloned.kind == "review"

    org = _features("organization", name="Fletes del Nazas S.A. de C.V.")
    assert judge("organization", org, _features("organization", name="FLETES DEL NAZAS")).kind == "merge"  # type: ignore[union-attr]
    near = judge("organization", org, _features("organization", name="Fletes del Nasas"))
    assert near is not None and near.kind == "review" and near.explanation[0]["comparison"] == "name"
    assert judge("organization", org, _features("organization", name="Fletes del Norte")) is None


def test_organisation_names_in_another_word_order_go_to_review_never_merge() -> None:
    # Surname order tells two families apart: a token-sort score of 100 must not read as the same name.
    one = _features("organization", name="Transportes Hernández López S.A. de C.V.")
    other = _features("organization", name="TRANSPORTES LOPEZ HERNANDEZ")
    verdict = judge("organization", one, other)
    assert verdict is not None and verdict.kind == "review" and verdict.probability < 1
    assert verdict.explanation[0]["level"] == "same words in another order"


def _arrival(nation: str, **body: str) -> Arrival:
    kind = "x-tearline-phone" if "number" in body else "identity"
    return Arrival(f"{kind}--{uuid.uuid4()}", body, nation)


def test_one_phone_written_three_ways_is_one_entity_and_a_split_undoes_it(node: Node) -> None:
    resolver = KeyedResolver("phone")
    mx, us, ca = _arrival("MEX", number="662 123 4567"), _arrival("USA", number="+52 662 123 4567"), \
        _arrival("CAN", number="+52-662-123-4567")
    other = _arrival("MEX", number="662 765 4321")
    with node.db.write() as session:
        [first] = resolver.add(session, [mx], "test")
        outcomes = resolver.add(session, [us, ca, other], "test")
        assert [o.entity_id == first.entity_id for o in outcomes] == [True, True, False]
        assert resolver.add(session, [mx], "test") == []  # resolved already
        merges = list(session.scalars(select(ResolveDecision).where(ResolveDecision.kind == "merge")))
        assert len(merges) == 3 and all(d.explanation[0]["level"] == "same E.164" for d in merges)
        for decision in merges:
            if ca.stix_id in (decision.member_a, decision.member_b):
                incremental.split(session, decision.id, "analyst")
        entities = {m.stix_id: m.entity_id for m in incremental.entity_members(session, first.entity_id)}
    assert set(entities) == {mx.stix_id, us.stix_id}  # the Canadian record fell apart


def test_near_organisation_names_wait_for_an_analyst(node: Node) -> None:
    resolver = KeyedResolver("organization")
    nazas = _arrival("MEX", name="Fletes del Nazas S.A. de C.V.", identity_class="organization")
    typo = _arrival("USA", name="FLETES DEL NASAS SA DE CV", identity_class="organization")
    with node.db.write() as session:
        [first] = resolver.add(session, [nazas], "test")
        [second] = resolver.add(session, [typo], "test")
        assert second.entity_id != first.entity_id and len(second.reviews) == 1
        incremental.confirm(session, second.reviews[0], "analyst")
        joined = {m.stix_id for m in incremental.entity_members(session, first.entity_id)}
    assert joined == {nazas.stix_id, typo.stix_id}


def test_a_revised_phone_loses_the_merge_its_old_number_made_and_is_judged_again(node: Node) -> None:
    resolver = KeyedResolver("phone")
    first, second = _arrival("MEX", number="662 123 4567"), _arrival("USA", number="+52 662 123 4567")
    other = _arrival("MEX", number="662 765 4321")
    corrected = Arrival(second.stix_id, {"number": "+52 662 765 4321"}, "USA")  # a later version's number
    with node.db.write() as session:
        resolver.add(session, [first, other], "analyst@MX")
        [merged] = resolver.add(session, [second], "analyst@MX")
        assert merged.merged_with == [first.stix_id]
        assert resolver.add(session, [second], "analyst@MX") == []  # the same number: nothing to do

        [revised] = resolver.add(session, [corrected], "resolver@MX")

        old = session.get(ResolveDecision, merged.decisions[0])
        assert old is not None and old.state == "superseded" and revised.superseded == [old.id]
        assert revised.merged_with == [other.stix_id]
        entities = {m.stix_id: m.entity_id for m in incremental.entity_members(session, revised.entity_id)}
        assert set(entities) == {second.stix_id, other.stix_id}  # the first phone is no longer with them


def test_a_confirmed_link_a_revision_breaks_goes_back_to_an_analyst(node: Node) -> None:
    resolver = KeyedResolver("organization")
    nazas = _arrival("MEX", name="Fletes del Nazas S.A. de C.V.", identity_class="organization")
    typo = _arrival("USA", name="FLETES DEL NASAS SA DE CV", identity_class="organization")
    # A later version of the US report: the company was another one all along.
    corrected = Arrival(typo.stix_id, {"name": "Transportes Laguna SA", "identity_class": "organization"}, "USA")
    with node.db.write() as session:
        resolver.add(session, [nazas], "analyst@MX")
        [second] = resolver.add(session, [typo], "analyst@MX")
        confirmed = incremental.confirm(session, second.reviews[0], "reviewer@MX")  # a near name: an analyst's call

        [revised] = resolver.add(session, [corrected], "resolver@MX")

        recheck = session.get(ResolveDecision, revised.reviews[0])
        assert recheck is not None and (recheck.kind, recheck.state) == ("recheck", "pending")
        assert recheck.probability == 0.0 and recheck.explanation[0]["level"] == "the rule no longer fires"
        assert confirmed.state == "confirmed"  # nothing is undone before an analyst decides
        members = incremental.entity_members(session, revised.entity_id)
        assert {m.stix_id for m in members} == {nazas.stix_id, typo.stix_id}
        incremental.split(session, recheck.id, "reviewer@MX")
        assert confirmed.state == "split"
        apart = {m.stix_id for m in incremental.entity_members(session, revised.entity_id)}
    assert len(apart) == 1  # the two companies fell apart
