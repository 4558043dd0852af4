"""A phonetic key for Spanish names: spellings that sound alike get the same key.

Folds b/v, s/z/soft c, ll/y, silent h, soft g/j and x=j (Ximena, Jimena), qu/k/hard c, and
doubled letters. Input is already accent-folded and upper case.
"""

from __future__ import annotations

import re
from functools import lru_cache

_RULES: tuple[tuple[str, str], ...] = (
    (r"[^A-Z]", ""),
    (r"CH", "Ç"),  # keep ch apart from c before h is dropped
    (r"LL", "Y"),
    (r"GU(?=[EI])", "G"),
    (r"G(?=[EI])", "J"),
    (r"QU", "K"),
    (r"C(?=[EI])", "S"),
    (r"C", "K"),
    (r"Z", "S"),
    (r"X", "J"),
    (r"V", "B"),
    (r"W", "B"),
    (r"H", ""),
    (r"Y(?![AEIOU])", "I"),
    (r"NY", "N"),
    (r"Ç", "C"),
    (r"(.)\1+", r"\1"),
)
_COMPILED = tuple((re.compile(pattern), repl) for pattern, repl in _RULES)


@lru_cache(maxsize=65536)
def phonetic_key(word: str) -> str:
    """The key of one folded word; empty for an empty word."""
    out = word
    for pattern, repl in _COMPILED:
        out = pattern.sub(repl, out)
    return out
