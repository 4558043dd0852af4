"""Incremental matching with the kept model, on SQLite and PostgreSQL: merges, the review queue,
confirm and split, explanations, and analysts' labels fed back."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tearline.db.resolve_tables import ResolveDecision, ResolveMember
from tearline.errors import Conflict
from tearline.node import Node
from tearline.resolve import batch, bench, incremental, labels, model
from tearline.resolve.dates import BirthDate
from tearline.resolve.records import PersonRecord, feature_row, person_record
from tearline.resolve.scoring import PairScorer


@pytest.fixture(scope="module")
def trained() -> model.TrainedModel:
    return batch.resolve(bench.spanish(families=300, seed=4).records).trained


@pytest.fixture(scope="module")
def resolver(trained: model.TrainedModel) -> incremental.IncrementalResolver:
    return incremental.IncrementalResolver(trained)


def person(name: str, dob: BirthDate | None = None, phones: str = "", source: str = "mex") -> tuple[str, PersonRecord]:
    return f"identity--{uuid.uuid4()}", person_record({"full_name": name, "phones": phones}, source, dob, "MX")


JOSE = BirthDate(1981, 7, 3)


def test_pair_scorer_agrees_with_splink(trained: model.TrainedModel) -> None:
    from splink import DuckDBAPI, Linker

    from tearline.resolve.scoring import with_term_frequencies

    records = bench.spanish(families=30, seed=9).records
    frame = batch.standardise(records)
    pairs = [(0, j) for j in range(1, len(records))]
    ours = PairScorer(trained).score(frame, frame, pairs).set_index("unique_id_r")["match_probability"]
    db = DuckDBAPI()
    withtf = with_term_frequencies(frame, trained.notes["tf"])
    linker = Linker(db.register(withtf), trained.settings_json, log_level=None)
    left, right = db.register(withtf.iloc[[0]]), db.register(withtf.iloc[1:])
    theirs = linker.inference.score_pairs(left, right).as_pandas_dataframe().set_index("unique_id_r")
    assert len(ours) == len(records) - 1
    assert (ours - theirs["match_probability"]).abs().max() < 1e-9


def test_scoring_rows_straight_from_arrow_agrees_with_scoring_a_frame(trained: model.TrainedModel) -> None:
    records = bench.spanish(families=30, seed=9).records
    rows = [feature_row(r, i) for i, r in enumerate(records)]
    pairs = [(i, j) for i in range(0, len(rows), 7) for j in range(i + 1, len(rows), 5)]
    scorer = PairScorer(trained)
    frame = scorer.score(model.frame(rows), model.frame(rows), pairs).set_index(["unique_id_l", "unique_id_r"])
    arrow = scorer.score_records(rows, pairs).set_index(["unique_id_l", "unique_id_r"])
    assert len(arrow) == len(pairs) and (arrow["match_probability"] - frame["match_probability"]).abs().max() < 1e-12
    floor = float(arrow["match_probability"].median())
    kept = scorer.score_records(rows, pairs, floor=floor)  # pairs below the floor are not even returned
    assert len(kept) == (arrow["match_probability"] >= floor).sum() < len(pairs)


def test_same_person_merges_relative_does_not_and_every_decision_is_explained(
    node: Node,
    resolver: incremental.IncrementalResolver,
) -> None:
    mx = person("José Luis Hernández Garza, alias El Güero", JOSE, "662 123 4567")
    us = person("JOSE LUIS HERNANDEZ-GARZA", JOSE, "+52 662 123 4567", source="usa")
    brother = person("Jorge Hernández Garza", BirthDate(1983, 2, 11), "662 765 4321")
    with node.db.write() as session:
        [first] = resolver.add(session, [mx], "analyst@MX")
        [second, third] = resolver.add(session, [us, brother], "analyst@MX")
        assert second.entity_id == first.entity_id and second.merged_with == [mx[0]]
        assert third.entity_id != first.entity_id and not third.merged_with
        merge = session.scalar(select(ResolveDecision).where(ResolveDecision.kind == "merge"))
        assert merge is not None and merge.probability >= model.UPPER_THRESHOLD and merge.state == "auto"
        levels = {e["comparison"]: e["level"] for e in merge.explanation}
        assert levels["dob"] == "exact" and levels["paternal"] == "exact"
        assert all(isinstance(e["match_weight"], float) for e in merge.explanation)


def test_names_alone_go_to_review_and_confirm_merges(node: Node, resolver: incremental.IncrementalResolver) -> None:
    mx = person("José Luis Hernández Garza", JOSE, "662 123 4567")
    vague = person("Hernández, José Luis", None, "")
    with node.db.write() as session:
        [first] = resolver.add(session, [mx], "analyst@MX")
        [second] = resolver.add(session, [vague], "analyst@MX")
        assert second.entity_id != first.entity_id and second.reviews
        review = session.get(ResolveDecision, second.reviews[0])
        assert review is not None and review.state == "pending"
        incremental.confirm(session, review.id, "reviewer@MX")
        ids = {m.entity_id for m in session.scalars(select(ResolveMember))}
        assert len(ids) == 1
        with pytest.raises(Conflict):
            incremental.confirm(session, review.id, "reviewer@MX")


def test_split_undoes_a_merge_cleanly(node: Node, resolver: incremental.IncrementalResolver) -> None:
    a = person("José Luis Hernández Garza", JOSE, "662 123 4567")
    b = person("JOSE LUIS HERNANDEZ-GARZA", JOSE, "662 123 4567", source="usa")
    with node.db.write() as session:
        [first] = resolver.add(session, [a], "analyst@MX")
        [second] = resolver.add(session, [b], "analyst@MX")
        assert second.entity_id == first.entity_id
        merge = session.scalar(select(ResolveDecision).where(ResolveDecision.kind == "merge"))
        assert merge is not None
        incremental.split(session, merge.id, "reviewer@MX")
        members = {m.stix_id: m.entity_id for m in session.scalars(select(ResolveMember))}
        assert members[a[0]] != members[b[0]]
        assert members[a[0]] == first.entity_id  # the older side keeps the entity's name
        assert merge.state == "split"
        assert labels.labels(session) == [(merge.member_a, merge.member_b, False)]


def test_a_revised_person_loses_the_merges_its_old_fields_made_and_is_scored_again(
    node: Node,
    resolver: incremental.IncrementalResolver,
) -> None:
    a = person("José Luis Hernández Garza", JOSE, "662 123 4567")
    b_id, b = person("JOSE LUIS HERNANDEZ-GARZA", JOSE, "662 123 4567", source="usa")
    cousin_id, cousin = person("Jorge Hernández Garza", BirthDate(1983, 2, 11), "662 765 4321")
    # A later version of b's report: the date and phone were the cousin's all along.
    corrected = person_record(
        {"full_name": "JORGE HERNANDEZ-GARZA", "phones": "662 765 4321"}, "usa", BirthDate(1983, 2, 11), "MX"
    )
    with node.db.write() as session:
        [first] = resolver.add(session, [a], "analyst@MX")
        [second, _] = resolver.add(session, [(b_id, b), (cousin_id, cousin)], "analyst@MX")
        assert second.entity_id == first.entity_id
        old_merge = session.scalar(select(ResolveDecision).where(ResolveDecision.kind == "merge"))
        assert old_merge is not None

        assert resolver.add(session, [(b_id, b)], "analyst@MX") == []  # the same fields: nothing to do
        [revised] = resolver.add(session, [(b_id, corrected)], "resolver@MX")

        assert revised.superseded == [old_merge.id] and old_merge.id in revised.decisions
        assert old_merge.state == "superseded" and old_merge.decided_by == "resolver@MX"
        members = {m.stix_id: m for m in session.scalars(select(ResolveMember))}
        assert members[b_id].entity_id != members[a[0]].entity_id  # the old merge no longer holds
        assert members[b_id].entity_id == members[cousin_id].entity_id == revised.entity_id  # the new one does
        assert members[b_id].features["dob"] == "1983-02-11"
        assert revised.merged_with == [cousin_id]


def test_an_analysts_confirmation_stands_when_a_person_is_revised(
    node: Node,
    resolver: incremental.IncrementalResolver,
) -> None:
    mx = person("José Luis Hernández Garza", JOSE, "662 123 4567")
    vague_id, vague = person("Hernández, José Luis", None, "")
    dated = person_record({"full_name": "Hernández, José Luis", "phones": ""}, "mex", BirthDate(1981, 3, 7), "MX")
    with node.db.write() as session:
        resolver.add(session, [mx], "analyst@MX")
        [second] = resolver.add(session, [(vague_id, vague)], "analyst@MX")
        confirmed = incremental.confirm(session, second.reviews[0], "reviewer@MX")
        [revised] = resolver.add(session, [(vague_id, dated)], "resolver@MX")
        assert confirmed.state == "confirmed" and revised.superseded == []
        assert revised.reviews == []  # the revision made the link stronger: nothing to recheck
        assert len({m.entity_id for m in session.scalars(select(ResolveMember))}) == 1


def _weakened(resolver: incremental.IncrementalResolver, session: Session) -> tuple[int, int]:
    """A confirmed link, then a revision of one side that weakens it: (the confirmation, the recheck)."""
    mx = person("José Luis Hernández Garza", JOSE, "662 123 4567")
    vague_id, vague = person("Hernández, José Luis", None, "")
    # The later version gives a date of birth nine years from the other record's, and another phone.
    apart = person_record({"full_name": "Hernández, José Luis", "phones": "662 999 0000"}, "mex",
                          BirthDate(1990, 11, 23), "MX")
    resolver.add(session, [mx], "analyst@MX")
    [second] = resolver.add(session, [(vague_id, vague)], "analyst@MX")
    confirmed = incremental.confirm(session, second.reviews[0], "reviewer@MX")
    [revised] = resolver.add(session, [(vague_id, apart)], "resolver@MX")
    assert len(revised.reviews) == 1 and revised.reviews[0] in revised.decisions  # audited with the run
    recheck = session.get(ResolveDecision, revised.reviews[0])
    assert recheck is not None and (recheck.kind, recheck.state) == ("recheck", "pending")
    assert {recheck.member_a, recheck.member_b} == {confirmed.member_a, confirmed.member_b}
    assert recheck.probability < confirmed.probability
    assert {e["comparison"] for e in recheck.explanation} >= {"dob", "phone"}  # explained as every decision is
    assert confirmed.state == "confirmed"  # nothing is undone before an analyst decides
    assert len({m.entity_id for m in session.scalars(select(ResolveMember))}) == 1
    # A further revision withdraws that question and asks it again on the newest fields: one waits.
    again = person_record({"full_name": "Hernández, José Luis", "phones": "662 999 0001"}, "mex",
                          BirthDate(1990, 11, 23), "MX")
    [later] = resolver.add(session, [(vague_id, again)], "resolver@MX")
    assert later.superseded == [recheck.id] and recheck.state == "superseded"
    pending = session.scalars(select(ResolveDecision.id).where(ResolveDecision.state == "pending")).all()
    assert pending == later.reviews and len(pending) == 1
    return confirmed.id, pending[0]


def test_a_confirmed_link_a_revision_weakens_goes_back_to_an_analyst_and_a_split_undoes_it(
    node: Node, resolver: incremental.IncrementalResolver
) -> None:
    with node.db.write() as session:
        confirmed_id, recheck_id = _weakened(resolver, session)
        incremental.split(session, recheck_id, "reviewer@MX")
        assert len({m.entity_id for m in session.scalars(select(ResolveMember))}) == 2
        states = {d.id: d.state for d in session.scalars(select(ResolveDecision))}
        assert states[confirmed_id] == states[recheck_id] == "split"  # the confirmation is withdrawn too
        [(_, _, match)] = labels.labels(session)
        assert match is False
        with pytest.raises(Conflict):
            incremental.split(session, recheck_id, "reviewer@MX")


def test_confirming_a_recheck_keeps_the_link(node: Node, resolver: incremental.IncrementalResolver) -> None:
    with node.db.write() as session:
        confirmed_id, recheck_id = _weakened(resolver, session)
        incremental.confirm(session, recheck_id, "reviewer@MX")
        assert len({m.entity_id for m in session.scalars(select(ResolveMember))}) == 1
        states = {d.id: d.state for d in session.scalars(select(ResolveDecision))}
        assert states[confirmed_id] == states[recheck_id] == "confirmed"
        assert len(labels.labels(session)) == 1  # one judgement of one pair: one label


def test_confirmed_labels_feed_back_into_a_new_kept_model(
    node: Node,
    resolver: incremental.IncrementalResolver,
) -> None:
    mx = person("José Luis Hernández Garza", JOSE, "662 123 4567")
    vague = person("Hernández, José Luis", None, "")
    with node.db.write() as session:
        resolver.add(session, [mx], "analyst@MX")
        [second] = resolver.add(session, [vague], "analyst@MX")
        incremental.confirm(session, second.reviews[0], "reviewer@MX")
        updated = labels.learn_from_labels(session, resolver)
        assert updated.labels_used == 1
        assert incremental.kept_model(session).labels_used == 1
        # the confirmed pair's given names agreed fully: that level's m moves up, the others down
        assert _m(updated, "given", "all given names agree") > _m(resolver.trained, "given", "all given names agree")
        first = "first given name agrees"
        assert _m(updated, "given", first) < _m(resolver.trained, "given", first)


def _m(trained: model.TrainedModel, comparison: str, label: str) -> float:
    for c in trained.settings_json["comparisons"]:
        if c["output_column_name"] == comparison:
            for level in c["comparison_levels"]:
                if level["label_for_charts"] == label and not level.get("is_null_level"):
                    return float(level["m_probability"])
    raise KeyError(label)


def test_kept_model_round_trips(node: Node, trained: model.TrainedModel) -> None:
    with node.db.write() as session:
        incremental.keep_model(session, trained)
    with node.db.read() as session:
        assert incremental.kept_model(session).settings_json == trained.settings_json


def test_keys_longer_than_their_columns_are_stored_and_still_match(
    node: Node, resolver: incremental.IncrementalResolver
) -> None:
    # PostgreSQL refused a key longer than its column: the member, its batch and every later batch failed.
    surname = "Montenegro" * 8
    long_id = "EXP" + "0123456789" * 4
    a = person(f"José Luis {surname} Garza", JOSE, "662 123 4567")
    b = person(f"JOSE LUIS {surname.upper()}-GARZA", JOSE, "662 123 4567", source="usa")
    a, b = (a[0], replace(a[1], national_id=long_id)), (b[0], replace(b[1], national_id=long_id))
    with node.db.write() as session:
        [first] = resolver.add(session, [a], "analyst@MX")
        [second] = resolver.add(session, [b], "analyst@MX")
        stored = {m.stix_id: m for m in session.scalars(select(ResolveMember))}
    assert second.merged_with == [a[0]] and second.entity_id == first.entity_id
    assert stored[a[0]].national_id == stored[b[0]].national_id != long_id
    assert stored[a[0]].name_key is not None and len(stored[a[0]].name_key or "") <= 64
