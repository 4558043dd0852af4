"""The console's languages: English, Spanish and French, from gettext catalogs read with Babel.

The `.po` catalogs are read at start-up (no compile step to forget). The language follows the
browser's Accept-Language unless the reader picked one with the switch (a cookie). National
labels in banners and portion marks are never translated: each nation's are shown as it writes them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po
from fastapi import Request

LANGUAGES = ("en", "es", "fr")
LANGUAGE_NAMES = {"en": "English", "es": "Español", "fr": "Français"}
LANGUAGE_COOKIE = "tearline_lang"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "console"


class Catalog:
    """gettext over one language's messages; an untranslated message falls back to English."""

    def __init__(self, language: str, messages: dict[str, str]) -> None:
        self.language = language
        self.messages = messages

    def gettext(self, message: str) -> str:
        return self.messages.get(message) or message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


@lru_cache(maxsize=len(LANGUAGES))
def catalog(language: str) -> Catalog:
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        parsed = read_po(handle, locale=language)
    messages = {str(m.id): str(m.string) for m in parsed if m.id and isinstance(m.id, str) and m.string}
    return Catalog(language, messages)


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
