"""Organisation names reduced to what tells one organisation from another.

"Transportes Garza, S.A. de C.V.", "TRANSPORTES GARZA SA DE CV" and "Transportes Garza" are one
name: accents folded, punctuation dropped, a leading article and the legal form (S.A. de C.V.,
S. de R.L., Inc., Ltd, Ltée…) stripped. Equal names merge; near names (a typo, words in another
order) only go to an analyst, since many small firms share a trade's usual words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
from rapidfuzz import fuzz, process

NEAR_SCORE = 90.0  # token-sort similarity (0-100) at or above which two names are worth a review

# Legal forms as they read once punctuation is gone and spelled-out letters are joined (S.A. → SA).
_LEGAL_FORMS = (
    "SA DE CV", "SAB DE CV", "SAPI DE CV", "SAPIB DE CV", "S DE RL DE CV", "S DE RL", "SC DE RL",
    "SPR DE RL", "S EN C", "SA", "SC", "AC", "SAS", "SPR",
    "INC", "INCORPORATED", "LLC", "LLP", "LP", "PLLC", "LTD", "LIMITED", "CORP", "CORPORATION", "CO",
    "COMPANY", "PLC", "LTEE", "LIMITEE", "ULC", "ENR", "GMBH",
)
_SUFFIX = re.compile(r"(?:\s+(?:" + "|".join(re.escape(f) for f in _LEGAL_FORMS) + r"))+$")
_ARTICLES = {"THE", "EL", "LA", "LOS", "LAS", "LE", "LES"}
_AND = {"AND", "Y", "ET"}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def _join_letters(tokens: list[str]) -> list[str]:
    """Letters spelled out one by one are one word: S A DE C V → SA DE CV."""
    out: list[str] = []
    run = ""
    for token in tokens:
        if len(token) == 1 and token.isalpha() and token not in _AND:
            run += token
            continue
        if run:
            out.append(run)
            run = ""
        out.append(token)
    return [*out, run] if run else out


def normalise_organisation(name: str) -> str | None:
    """The name without accents, punctuation, a leading article or its legal form; None if nothing is left."""
    tokens = _join_letters(re.sub(r"[^A-Z0-9&]+", " ", _fold(name).replace("&", " & ")).split())
    tokens = ["&" if t in _AND else t for t in tokens]
    if len(tokens) > 1 and tokens[0] in _ARTICLES:
        tokens = tokens[1:]
    bare = _SUFFIX.sub("", " " + " ".join(tokens)).strip()
    return bare or " ".join(tokens) or None


def similarity(a: str, b: str) -> float:
    """0-100: how alike two normalised names are, whatever the order of their words."""
    return float(fuzz.token_sort_ratio(a, b))


def words_sorted(name: str) -> str:
    """The name's words in sorted order: `similarity` is plain Indel similarity of these."""
    return " ".join(sorted(name.split()))


# Keys scored against every stored key at once: a block of scores is len(block) × stored floats.
NEAR_BLOCK = 64


def near_keys(keys: Iterable[str], stored: Sequence[str], limit: int) -> dict[str, list[str]]:
    """For each word-sorted key, the stored word-sorted keys near it (itself included when stored),
    nearest first, at most `limit`: the pairs whose names `similarity` scores NEAR_SCORE or more.

    One `cdist` a block of keys over keys whose words were sorted once, when they were stored:
    `process.extract` with token-sort a name at a time sorts every stored name's words again for
    each name, and took about 40 times as long over 100,000 names.
    """
    unique = list(dict.fromkeys(keys))
    found: dict[str, list[str]] = {key: [] for key in unique}
    if not stored:
        return found
    for start in range(0, len(unique), NEAR_BLOCK):
        block = unique[start : start + NEAR_BLOCK]
        scores = process.cdist(block, stored, scorer=fuzz.ratio, score_cutoff=NEAR_SCORE, dtype=np.float32, workers=1)
        for key, row in zip(block, scores, strict=True):
            hits = np.flatnonzero(row)  # below the cutoff, cdist writes 0
            nearest = hits[np.argsort(-row[hits], kind="stable")[:limit]]
            found[key] = [stored[i] for i in nearest]
    return found
