"""Full-text search: the query language, folding, and the index kept in step with every write."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from tearline import clock
from tearline.db.migrate import alembic_config
from tearline.db.models import Principal
from tearline.db.search_text import object_search_text, search_text
from tearline.errors import InvalidInput
from tearline.fixtures import build_demo, us_marking
from tearline.node import Node
from tearline.store import reads
from tearline.store.drafts import ObjectDraft, PortionDraft, ReportDraft
from tearline.store.fulltext import Term, fts5_expression, parse_query, tsquery_expression
from tearline.store.reports import create_report, edit_report, withdraw_report
from tests.conftest import detached_principal
from tests.web.support import quick

__all__ = ["quick"]

SPANISH = "Bodega en Nogales: el Señor Peña recibió la carga en el almacén."
FRENCH = "Le véhicule a franchi le poste frontalier à Lacolle; déclaration fausse."


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("peña nogales", [Term(("pena",)), Term(("nogales",))]),
        ('"señor peña"', [Term(("senor", "pena"))]),
        ("alma*", [Term(("alma",), prefix=True)]),
        ("O'Brien", [Term(("o", "brien"))]),
        ('"" VÉHICULE', [Term(("vehicule",))]),
    ],
    ids=["words", "phrase", "prefix", "punctuation-joins", "empty-phrase-ignored"],
)
def test_queries_parse_to_folded_terms(query: str, terms: list[Term]) -> None:
    assert list(parse_query(query).terms) == terms


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ('"unclosed', "not closed"),
        ("", "no word"),
        ("!!! --", "no word"),
        ("*", "must follow a word"),
        ("a*", "at least 2"),
        ("nar*co", "may only end a word"),
        ('"carga*"', "not inside a quoted phrase"),
        ("x" * 501, "at most 500"),
        (" ".join(["w"] * 17), "at most 16"),
        ("y" * 101, "at most 100 characters"),
    ],
    ids=["quote", "empty", "punctuation", "star", "short-prefix", "inner-star", "star-in-phrase", "long",
         "many", "long-word"],
)  # fmt: skip
def test_bad_queries_name_the_field_and_the_reason(query: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_query(query, field="text")
    assert caught.value.problems[0].field == "text"
    assert reason in caught.value.problems[0].reason


def test_engine_operators_reach_the_engines_only_as_quoted_words() -> None:
    query = parse_query("NEAR(a b) OR col:x ^y -z & !w | 'v'")
    assert fts5_expression(query) == '"near a" AND "b" AND "or" AND "col x" AND "y" AND "z" AND "w" AND "v"'
    assert tsquery_expression(parse_query('"a b" cd*')) == "('a' <-> 'b') & ('cd':*)"


def test_object_text_is_name_aliases_and_description() -> None:
    body = {"aliases": ["El Güero", 7], "description": "Jefe de plaza.", "x_note": "not searched"}
    assert object_search_text("Rogelio Ávila", body) == "rogelio avila el guero jefe de plaza"
    assert search_text("ÉBANO-12_b") == "ebano 12 b"


def _draft(node: Node, texts: list[str], objects: tuple[ObjectDraft, ...] = ()) -> ReportDraft:
    with node.db.read() as session:
        marking = us_marking(node.registry(session), ["USA", "MEX"])
    return ReportDraft(
        title=PortionDraft("Fictional test report", marking),
        portions=tuple(PortionDraft(t, marking) for t in texts),
        predicate="Reasonable suspicion of narcotics storage (fictional test case).",
        review_due=clock.now() + timedelta(days=90),
        objects=objects,
    )


def _store(node: Node, draft: ReportDraft) -> str:
    with node.db.write() as session:
        author = session.scalar(select(Principal).where(Principal.username == "ana.analyst"))
        assert author is not None
        return create_report(session, draft, author, node.identity, node.registry(session)).stix_id


def _portion_hits(node: Node, username: str, query: str) -> list[str]:
    reader = node.reader(detached_principal(node, username))
    with node.db.read() as session:
        page = reads.search_portions(session, reader, query, 50, 0)
    assert page.total == len(page.items)
    return [hit["text"] for hit in page.items]


@pytest.mark.usefixtures("quick")
def test_search_folds_accents_and_case_on_both_databases(node: Node) -> None:
    build_demo(node)
    _store(node, _draft(node, [SPANISH, FRENCH]))
    for query in ("pena", "PEÑA", "senor peña", '"señor pena recibio"', "almac*", "VEHICULE lacolle", "frontal*"):
        assert len(_portion_hits(node, "ana.analyst", query)) == 1, query
    for query in ('"pena senor"', "pena lacolle", "almacenes", "peñas"):
        assert _portion_hits(node, "ana.analyst", query) == [], query


@pytest.mark.usefixtures("quick")
def test_old_and_withdrawn_versions_never_hit(node: Node) -> None:
    build_demo(node)
    stix_id = _store(node, _draft(node, ["Primera versión: tráiler en Sásabe."]))
    with node.db.write() as session:
        editor = session.scalar(select(Principal).where(Principal.username == "ana.analyst"))
        assert editor is not None
        draft = _draft(node, ["Segunda versión: tráiler en Sonoyta."])
        edit_report(session, stix_id, draft, editor, node.identity, node.registry(session), True)
    assert _portion_hits(node, "ana.analyst", "sasabe") == []
    assert _portion_hits(node, "ana.analyst", "sonoyta") == ["Segunda versión: tráiler en Sonoyta."]
    with node.db.write() as session:
        withdraw_report(session, stix_id, "recalled")
    assert _portion_hits(node, "ana.analyst", "trailer") == []
    if node.db.dialect == "sqlite":
        _assert_fts5_in_step(node)


def _assert_fts5_in_step(node: Node) -> None:
    """One index entry per row, and FTS5's own check of the index against the table passes."""
    with node.db.write() as session:
        for table in ("portion", "stix_object"):
            rows = session.scalar(text(f"SELECT count(*) FROM {table}"))
            assert session.scalar(text(f"SELECT count(*) FROM {table}_fts_docsize")) == rows
            session.execute(text(f"INSERT INTO {table}_fts({table}_fts) VALUES ('integrity-check')"))


@pytest.mark.usefixtures("quick")
def test_objects_are_found_by_alias_and_description(node: Node) -> None:
    build_demo(node)
    with node.db.read() as session:
        marking = us_marking(node.registry(session), ["USA", "MEX"])
    person = ObjectDraft(
        f"identity--{uuid.uuid4()}",
        "identity",
        {"name": "Teodoro Quiñónez", "aliases": ["El Sastre"], "description": "Contador de la célula."},
        marking,
        name="Teodoro Quiñónez",
    )
    _store(node, _draft(node, ["Persona de interés."], (person,)))
    reader = node.reader(detached_principal(node, "ana.analyst"))
    with node.db.read() as session:
        for query in ("quinonez", "sastre", '"el sastre"', "celula contador", "teo*"):
            page = reads.search_objects(session, reader, reads.SearchQuery(text=query))
            assert [o.stix_id for o in page.items] == [person.stix_id], query
        with pytest.raises(InvalidInput):
            reads.search_objects(session, reader, reads.SearchQuery(text='"sastre'))


@pytest.mark.usefixtures("quick")
def test_migration_fills_the_index_for_rows_stored_before_it(node: Node) -> None:
    build_demo(node)
    _store(node, _draft(node, [SPANISH]))
    config = alembic_config(node.db.url)
    node.db.dispose()
    command.downgrade(config, "0005")
    command.upgrade(config, "heads")
    assert len(_portion_hits(node, "ana.analyst", "pena")) == 1
    assert len(_portion_hits(node, "ana.analyst", "fictional test")) == 1


@pytest.mark.usefixtures("quick")
def test_no_input_reaches_the_engines_as_syntax(node: Node) -> None:
    """Whatever a user types, the search either runs or is a 422: never an FTS5 or tsquery error."""
    build_demo(node)
    _store(node, _draft(node, [SPANISH, FRENCH]))
    reader = node.reader(detached_principal(node, "ana.analyst"))
    alphabet = st.sampled_from([*"\"*()^:-+&|!<>'\\ ,.;NEARORANDNOTñé0a_", "\u00a0", "\u2014", "\x00"])

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(query=st.text(alphabet, max_size=24))
    def search_runs_or_is_refused(query: str) -> None:
        with node.db.read() as session:
            try:
                reads.search_portions(session, reader, query, 5, 0)
                reads.search_objects(session, reader, reads.SearchQuery(text=query, limit=5))
            except InvalidInput as refused:
                assert refused.problems[0].field == "q"

    search_runs_or_is_refused()
