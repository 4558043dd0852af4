"""Every message of the console's templates is translated in Spanish and French."""

from __future__ import annotations

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from tearline.web.console.i18n import LOCALE_DIR, catalog, negotiate

CONSOLE = LOCALE_DIR.parent


def _messages() -> list[str | tuple[str, ...]]:
    with (CONSOLE / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    return [m for _, _, m, _, _ in extract_from_dir(str(CONSOLE), method_map, options_map)]


@pytest.mark.parametrize("language", ["es", "fr"])
def test_every_template_message_is_translated(language: str) -> None:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "console.po").open("rb") as handle:
        po = read_po(handle, locale=language)
    missing = []
    for message in _messages():
        key = message[0] if isinstance(message, tuple) else message
        entry = po.get(key)
        strings = entry.string if entry is not None else ""
        if not (all(strings) if isinstance(strings, tuple) else strings):
            missing.append(key)
    assert missing == [], f"untranslated in {language}.po (regenerate the catalog and translate): {missing}"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("es-MX,es;q=0.9,en;q=0.8", "es"),
        ("fr-CA,fr;q=0.9", "fr"),
        ("de-DE,fr;q=0.5,es;q=0.7", "es"),
        ("en-US", "en"),
        ("", "en"),
        ("pt-BR", "en"),
    ],
)
def test_the_language_follows_the_browser(header: str, language: str) -> None:
    assert negotiate(header) == language


def test_plural_forms_follow_each_language() -> None:
    assert catalog("fr").ngettext("%(n)s item", "%(n)s items", 0) == "%(n)s élément"
    assert catalog("es").ngettext("%(n)s item", "%(n)s items", 0) == "%(n)s elementos"
