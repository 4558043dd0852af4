"""The console's languages: English, Spanish and French, from gettext catalogs read with Babel.

The `.po` catalogs are read at start-up (no compile step to forget). The language follows the
browser's Accept-Language unless the reader picked one with the switch (a cookie). National
labels in banners and portion marks are never translated: each nation's are shown as it writes them.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from fastapi import Request

LANGUAGES = ("en", "es", "fr")
LANGUAGE_NAMES = {"en": "English", "es": "Español", "fr": "Français"}
LANGUAGE_COOKIE = "tearline_lang"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "console"


@lru_cache(maxsize=len(LANGUAGES))
def catalog(language: str) -> gettext.GNUTranslations:
    """One language's messages; an untranslated message falls back to English.

    The `.po` catalog is compiled in memory, so that plural forms follow the language's own rule.
    """
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        parsed = read_po(handle, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, parsed)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def negotiate(accept_language: str | None) -> str:
    """The first of our languages the browser asks for, by its q-values; English otherwise."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else "en"


def language_of(request: Request) -> str:
    """The switch (`?lang=` or its cookie) first, then the browser."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return str(chosen)
    return negotiate(request.headers.get("accept-language"))
