"""Phone numbers to E.164, so that one phone written three ways is one phone.

`phonenumbers` (libphonenumber) is used when installed. Without it, only formatting
characters are removed from numbers already written with a country code; anything else is
kept as written rather than guessed at.
"""

from __future__ import annotations

import importlib
import re
from functools import cache
from typing import Any

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_FORMATTING = re.compile(r"[\s().\-/]")


@cache
def _library() -> Any | None:
    try:
        return importlib.import_module("phonenumbers")
    except ImportError:
        return None


def normalise_phone(value: str, region: str) -> tuple[str, str | None]:
    """(number, reason): the E.164 form where possible; `reason` says why the value is not a phone number."""
    lib = _library()
    if lib is None:
        compact = _FORMATTING.sub("", value)
        return (compact if _E164.match(compact) else value.strip()), None
    try:
        parsed = lib.parse(value, region)
    except lib.NumberParseException as err:
        return value, f"{value!r} is not a phone number ({err})"
    # Possible, not valid: fictional and newly allocated numbers are still someone's phone.
    if not lib.is_possible_number(parsed):
        return value, f"{value!r} is not a possible phone number for region {region}"
    return lib.format_number(parsed, lib.PhoneNumberFormat.E164), None
