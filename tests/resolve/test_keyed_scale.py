"""Organisations, phones and vehicles at scale, on SQLite and PostgreSQL: keys longer than their
columns, an arrival's own match among many near names, near names found as rapidfuzz finds them,
and migration 0011 filling the word-sorted names of organisations stored before it."""

from __future__ import annotations

import uuid

import pytest
from alembic import command
from rapidfuzz import fuzz, process
from sqlalchemy import select

from tearline import clock
from tearline.db.migrate import alembic_config
from tearline.db.resolve_tables import ResolveMember, fit_key
from tearline.node import Node
from tearline.resolve import org_set
from tearline.resolve.keyed import MAX_CANDIDATES, Arrival, KeyedResolver, keys_of
from tearline.resolve.organisations import NEAR_SCORE, near_keys, normalise_organisation, words_sorted


def _firm(name: str, nation: str = "MEX") -> Arrival:
    return Arrival(f"identity--{uuid.uuid4()}", {"name": name, "identity_class": "organization"}, nation)


def _long_name(last_word: str) -> str:
    # Normalised, about 250 characters: twice the key column.
    return "Comercializadora " + " ".join(f"Productos{i:02d}" for i in range(22)) + f" {last_word} S.A. de C.V."


def test_names_longer_than_the_key_column_resolve_and_stay_apart(node: Node) -> None:
    # PostgreSQL refused such a row, and the refused member failed its batch and every later one.
    resolver = KeyedResolver("organization")
    first, same, other = (
        _firm(_long_name("Laguna")),
        _firm(_long_name("LAGUNA").upper(), "USA"),
        _firm(_long_name("Nazas")),
    )
    with node.db.write() as session:
        [stored] = resolver.add(session, [first], "test")
        [again] = resolver.add(session, [same], "test")
        [apart] = resolver.add(session, [other], "test")
        keys = {m.stix_id: m.match_key for m in session.scalars(select(ResolveMember))}
    assert again.merged_with == [first.stix_id]  # equal long names share the fitted key
    assert first.stix_id not in apart.merged_with and apart.entity_id != stored.entity_id
    assert all(key is not None and len(key) == 128 for key in keys.values())
    assert keys[first.stix_id] == keys[same.stix_id] != keys[other.stix_id]


def test_fit_key_keeps_equal_keys_equal_and_different_ones_different() -> None:
    long = "X" * 200
    assert fit_key("match_key", "short") == "short" and fit_key("match_key", None) is None
    assert fit_key("match_key", long) == fit_key("match_key", long) != fit_key("match_key", long + "Y")
    assert len(fit_key("national_id", "A" * 40) or "") == 32 and len(fit_key("dob", "1" * 11) or "") == 10


def _stored(name: str) -> ResolveMember:
    """A member as the resolver stores an organisation, written directly (no decisions among them)."""
    match_key, alt_key, features = keys_of("organization", {"name": name}, "MEX")
    return ResolveMember(
        stix_id=f"identity--{uuid.uuid4()}",
        kind="organization",
        entity_id=f"entity--{uuid.uuid4()}",
        features=features,
        match_key=match_key,
        alt_key=alt_key,
        created_at=clock.now(),
    )


def test_a_restated_name_merges_however_many_near_names_are_stored(node: Node) -> None:
    # The batch's candidates were the newest 100 members of its keys and near keys together: the
    # firm itself, stored first, fell behind the near names stored after it and was never compared.
    resolver = KeyedResolver("organization")
    firm = _firm("Fletes Nazas Laguna 1000 S.A. de C.V.")
    restated = _firm("FLETES NAZAS LAGUNA 1000", "USA")
    with node.db.write() as session:
        resolver.add(session, [firm], "test")
        session.add_all([_stored(f"Fletes Nazas Laguna {n}{form}") for n in range(1001, 1151) for form in ("", " SA")])
        session.flush()
        [outcome] = resolver.add(session, [restated], "test")
    assert outcome.merged_with == [firm.stix_id]
    assert len(outcome.reviews) == MAX_CANDIDATES - 1  # the nearest of the rest go to an analyst


def test_near_keys_finds_what_process_extract_with_token_sort_finds() -> None:
    stored = [k for k in (normalise_organisation(n) for n in org_set.stored_names(3000)) if k]
    arriving = [a for a in org_set.arrivals(stored, 200) if normalise_organisation(a.name)]
    names = [normalise_organisation(a.name) or "" for a in arriving]
    ours = near_keys([words_sorted(n) for n in names], [words_sorted(s) for s in stored], MAX_CANDIDATES)
    for arrival, name in zip(arriving, names, strict=True):
        theirs = process.extract(name, stored, scorer=fuzz.token_sort_ratio, score_cutoff=NEAR_SCORE, limit=None)
        assert set(ours[words_sorted(name)]) == {words_sorted(match) for match, _score, _index in theirs}
        if arrival.kind in ("restated", "reordered"):  # its own firm is among them
            assert words_sorted(normalise_organisation(arrival.stored or "") or "") in ours[words_sorted(name)]


def test_migration_0011_gives_organisations_stored_before_it_their_word_sorted_names(node: Node) -> None:
    resolver = KeyedResolver("organization")
    firm = _firm("Transportes Hernández López S.A. de C.V.")
    with node.db.write() as session:
        resolver.add(session, [firm], "test")
    config = alembic_config(node.db.url)
    command.downgrade(config, "0010")  # as 0010 left them: no alternative key for organisations
    with node.db.read() as session:
        assert session.scalar(select(ResolveMember.alt_key)) is None
    command.upgrade(config, "head")
    with node.db.write() as session:
        assert session.scalar(select(ResolveMember.alt_key)) == "HERNANDEZ LOPEZ TRANSPORTES"
        [reordered] = resolver.add(session, [_firm("TRANSPORTES LOPEZ HERNANDEZ", "USA")], "test")
    assert len(reordered.reviews) == 1 and not reordered.merged_with


@pytest.mark.parametrize("backend", ["sqlite"])  # PostgreSQL never held such a key: it refused the row
def test_migration_0011_fits_keys_sqlite_stored_whole(node: Node) -> None:
    config = alembic_config(node.db.url)
    command.downgrade(config, "0010")
    long = "Z" * 150
    with node.db.write() as session:
        session.add(
            ResolveMember(
                stix_id=f"identity--{uuid.uuid4()}",
                kind="phone",
                entity_id="entity--x",
                features={},
                match_key=long,
                created_at=clock.now(),
            )
        )
    command.upgrade(config, "head")
    with node.db.read() as session:
        assert list(session.scalars(select(ResolveMember.match_key))) == [fit_key("match_key", long)]
