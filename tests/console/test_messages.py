"""The node's known refusals come back in the reader's language, values and field kept."""

from __future__ import annotations

import pytest

from tearline.web.console.i18n import catalog
from tearline.web.console.messages import said


@pytest.mark.parametrize(
    ("text", "spanish"),
    [
        ("is required", "es obligatorio"),
        ("must be at most 200 characters (it has 201)", "debe tener como máximo 200 caracteres (tiene 201)"),
        ("title: must be at least 3 characters (it has 1) (and 2 more)", None),
        ("must be greater than or equal to -5", None),
        ("give a date as YYYY-MM-DD", None),
        ("a need-to-know statement is required (28 CFR Part 23)", None),
        ("alice may not approve (two-person-rule)", "alice no puede hacer esto: approve (regla two-person-rule)"),
    ],
    ids=["plain", "values", "field-first", "negative", "dashes", "parentheses", "worded-apart"],
)
def test_a_known_refusal_is_translated(text: str, spanish: str | None) -> None:
    shown = said(text, catalog("es"))
    assert shown != text
    if spanish is not None:
        assert shown == spanish


@pytest.mark.parametrize(
    "text",
    ["must be at most many characters (it has 201)", "must be an integer!", "x is required", "must be at most 2"],
)
def test_an_unknown_text_is_shown_as_written(text: str) -> None:
    assert said(text, catalog("es")) == text
