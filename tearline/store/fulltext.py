"""Full-text search: the query language and its match condition on each database.

A query is words (all must match), "quoted phrases" and prefixes (`word*`). It is parsed here
into folded words, and only those words reach FTS5 or `to_tsquery`, each quoted, so that no
user input can carry the engines' own operators or cause their syntax errors.

The match is one more condition of the statement that carries the visibility filter
(`tearline.store.filters`): a hidden item never counts and is never fetched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    bindparam,
    column,
    func,
    inspect,
    literal_column,
    select,
    table,
)
from sqlalchemy.orm import Session

from tearline.db.search_text import words
from tearline.errors import InvalidInput, Problem

MAX_QUERY_LENGTH = 500
MAX_TERMS = 16
MAX_WORD_LENGTH = 100
MIN_PREFIX_LENGTH = 2


@dataclass(frozen=True)
class Term:
    """One condition of a query: a word, or a phrase (words in order), the last one maybe a prefix."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class TextQuery:
    """A parsed query: every term must match."""

    terms: tuple[Term, ...]


def parse_query(text: str, field: str = "q") -> TextQuery:
    """Parse a user's query; anything it cannot mean is a 422 naming `field` and the reason."""
    if len(text) > MAX_QUERY_LENGTH:
        raise _bad(field, f"must be at most {MAX_QUERY_LENGTH} characters")
    if text.count('"') % 2:
        raise _bad(field, 'a quoted phrase is not closed: quotes (") come in pairs')
    terms: list[Term] = []
    for i, chunk in enumerate(text.split('"')):
        if i % 2:  # inside quotes: one phrase
            terms += _phrase(chunk, field)
        else:
            for bare in chunk.split():
                terms += _bare_word(bare, field)
    terms = [t for t in terms if t.words]
    _check_terms(terms, field)
    return TextQuery(tuple(terms))


def _phrase(chunk: str, field: str) -> list[Term]:
    if "*" in chunk:
        raise _bad(field, "'*' marks a prefix at the end of a word, not inside a quoted phrase")
    return [Term(tuple(words(chunk)))]


def _bare_word(bare: str, field: str) -> list[Term]:
    prefix = bare.endswith("*")
    core = bare[:-1] if prefix else bare
    if "*" in core:
        raise _bad(field, f"'*' may only end a word (in {bare!r})")
    found = tuple(words(core))
    if prefix and not found:
        raise _bad(field, "'*' must follow a word, as in narco*")
    if prefix and len(found[-1]) < MIN_PREFIX_LENGTH:
        raise _bad(field, f"a prefix needs at least {MIN_PREFIX_LENGTH} letters before '*' (in {bare!r})")
    # Punctuation inside a word (O'Brien, 555-0142) splits it: its parts must follow each other.
    return [Term(found, prefix)]


def _check_terms(terms: list[Term], field: str) -> None:
    if not terms:
        raise _bad(field, "has no word to search for (letters or digits)")
    if len(terms) > MAX_TERMS:
        raise _bad(field, f"may hold at most {MAX_TERMS} words or phrases")
    longest = max(len(w) for t in terms for w in t.words)
    if longest > MAX_WORD_LENGTH:
        raise _bad(field, f"a word may be at most {MAX_WORD_LENGTH} characters")


def _bad(field: str, reason: str) -> InvalidInput:
    return InvalidInput(Problem(field, reason))


def fts5_expression(query: TextQuery) -> str:
    """The FTS5 MATCH string: each term a quoted string (the words hold letters and digits only)."""
    return " AND ".join('"' + " ".join(t.words) + '"' + ("*" if t.prefix else "") for t in query.terms)


def tsquery_expression(query: TextQuery) -> str:
    """The `to_tsquery` text: each word a quoted lexeme, phrases joined by `<->`."""
    parts = []
    for term in query.terms:
        lexemes = [f"'{w}'" for w in term.words]
        if term.prefix:
            lexemes[-1] += ":*"
        parts.append("(" + " <-> ".join(lexemes) + ")")
    return " & ".join(parts)


# The FTS5 tables made by migration 0006, one per searchable table (SQLite only).
_FTS5_TABLES = {"portion": "portion_fts", "stix_object": "stix_object_fts"}


def text_matches(session: Session, item: Any, query: TextQuery) -> ColumnElement[bool]:
    """The condition "item's text matches" for a Portion or StixObject (or an alias of either)."""
    if session.get_bind().dialect.name == "sqlite":
        return _fts5_match(item, query)
    return _tsvector_match(item, query)


def _fts5_match(item: Any, query: TextQuery) -> ColumnElement[bool]:
    name = _FTS5_TABLES[inspect(item).mapper.local_table.name]
    fts = table(name, column("rowid"))
    expression: BindParameter[str] = bindparam("fts_query", fts5_expression(query), unique=True)
    matching = select(fts.c.rowid).where(literal_column(name).op("MATCH")(expression))
    return item.id.in_(matching)  # type: ignore[no-any-return]


def _tsvector_match(item: Any, query: TextQuery) -> ColumnElement[bool]:
    # The config is a literal: a bound parameter would arrive as text, not as a regconfig.
    simple: ColumnElement[Any] = literal_column("'simple'::regconfig")
    wanted = func.to_tsquery(simple, bindparam("ts_query", tsquery_expression(query), unique=True))
    return _document(item, simple).op("@@")(wanted)  # type: ignore[no-any-return]


def _document(item: Any, simple: ColumnElement[Any]) -> ColumnElement[Any]:
    """The row's tsvector: the stored `search_vector` (GIN-indexed, migration 0006), which also
    spares re-parsing the text wherever the planner rechecks or walks rows instead of the index."""
    info = inspect(item)
    if info.is_aliased_class:  # not used by the read paths; correct, only not indexed
        return func.to_tsvector(simple, item.search_text)  # type: ignore[no-any-return]
    return literal_column(f"{info.mapper.local_table.name}.search_vector")
