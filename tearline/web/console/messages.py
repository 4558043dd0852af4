"""The node's own refusals, as console pages show them, in the reader's language.

The services word their refusals in English, for the API and the log. The reasons a console form
shows most are a small set of known texts, some with numbers or names in them; each is matched
here and its message looked up in the console's catalogs with those values put back. A text not
known here is shown as the node wrote it.
"""

from __future__ import annotations

import gettext
import re


def N_(message: str) -> str:
    """Marks a message for the catalogs (babel.cfg extracts it) without translating it here."""
    return message


# The pattern of each value a known text has in it, by the name its message gives it.
_VALUES = {"limit": r"\d+", "length": r"\d+", "bound": r"-?\d+"}


def _as_written(message: str) -> tuple[re.Pattern[str], str]:
    """A refusal the node writes as its message reads, each `%(name)s` standing for a value."""
    parts = re.split(r"%\((\w+)\)s", message)  # text, name, text, name, ..., text
    pattern = "".join(f"(?P<{p}>{_VALUES[p]})" if i % 2 else re.escape(p) for i, p in enumerate(parts))
    return re.compile(pattern), message


# (the English text as the node writes it, its message with the same values by name)
KNOWN: list[tuple[re.Pattern[str], str]] = [
    _as_written(N_("is required")),
    _as_written(N_("must be at most %(limit)s characters (it has %(length)s)")),
    _as_written(N_("must be at least %(limit)s characters (it has %(length)s)")),
    _as_written(N_("must be an integer")),
    _as_written(N_("must be greater than or equal to %(bound)s")),
    _as_written(N_("must be less than or equal to %(bound)s")),
    _as_written(N_("give a date as YYYY-MM-DD")),
    _as_written(N_("must be grant or refuse")),
    _as_written(N_("not found")),
    # The one message worded apart from the node's text.
    (
        re.compile(r"(?P<who>\S+) may not (?P<action>[a-z ]+) \((?P<rule>[a-z0-9-]+)\)"),
        N_("%(who)s may not do this: %(action)s (rule %(rule)s)"),
    ),
    _as_written(N_("a stated purpose is required (28 CFR Part 23)")),
    _as_written(N_("a need-to-know statement is required (28 CFR Part 23)")),
    _as_written(N_("a release needs an expiry in the future")),
    _as_written(N_("a consent needs an expiry in the future")),
    _as_written(N_("a recall records its reason")),
    _as_written(N_("say why the recipient needs the items")),
    _as_written(N_("choose at least one withheld item to ask consent for")),
    _as_written(N_("not a withheld item of this tearline that consent could free")),
]
# A whole refusal is often "field: reason (and 2 more)": the field stays as the form names it.
_FIELD_FIRST = re.compile(r"(?P<field>[\w.\[\]]+): (?P<reason>.+?)(?P<more> \(and \d+ more\))?")


def said(text: str, texts: gettext.GNUTranslations) -> str:
    """`text` in the reader's language when it is a known refusal, else as the node wrote it."""
    known = _known(text, texts)
    if known is not None:
        return known
    parts = _FIELD_FIRST.fullmatch(text)
    if parts is not None:
        reason = _known(parts["reason"], texts)
        if reason is not None:
            return f"{parts['field']}: {reason}{parts['more'] or ''}"
    return text


def _known(text: str, texts: gettext.GNUTranslations) -> str | None:
    for pattern, message in KNOWN:
        found = pattern.fullmatch(text)
        if found is not None:
            return texts.gettext(message) % found.groupdict() if found.groupdict() else texts.gettext(message)
    return None
