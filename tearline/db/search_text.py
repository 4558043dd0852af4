"""The folded text that full-text search indexes, the same on SQLite and PostgreSQL.

Reports come in English, Spanish and French. Folding happens here, in Python, once for stored
text and once for each query, so that both databases index and match the very same words:
`Peña` and `PENA` are one word everywhere, whatever each database's own tokenizer would make of
accents, case or punctuation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

# Letters and digits only: punctuation and underscores separate words, as they do for both
# FTS5's unicode61 tokenizer and PostgreSQL's parser, so a folded word is one token on both.
_WORD = re.compile(r"[^\W_]+")

# The fields of a structured object that search covers: what an analyst would call its text.
OBJECT_TEXT_FIELDS = ("aliases", "description")


def fold(text: str) -> str:
    """Lower case, accents removed, compatibility forms unified (`Ñ`, `ñ` and `n` all read `n`)."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFKC", bare.casefold())


def words(text: str) -> list[str]:
    """The folded words of a text, in order."""
    return _WORD.findall(fold(text))


def search_text(text: str) -> str:
    """What the index holds for a text: its folded words, one space apart."""
    return " ".join(words(text))


def object_search_text(name: str, body: Mapping[str, Any]) -> str:
    """A structured object's searchable text: its name, aliases and description."""
    parts = [name]
    for field in OBJECT_TEXT_FIELDS:
        value = body.get(field)
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            parts += [v for v in value if isinstance(v, str)]
    return search_text(" ".join(parts))


def portion_default(context: Any) -> str:
    """Column default: the search text of the portion being inserted (bulk Core inserts too)."""
    return search_text(context.get_current_parameters()["text"])


def object_default(context: Any) -> str:
    """Column default: the search text of the object being inserted (bulk Core inserts too)."""
    params = context.get_current_parameters()
    return object_search_text(params.get("name") or "", params.get("body") or {})
