"""Phones by their E.164 number: one phone written three ways is one phone.

A number is read in its originator's country when it carries no country code. A number that
`phonenumbers` cannot read keeps its digits as a key, but two such numbers only ever go to an
analyst: without a country code the same digits may be two phones.
"""

from __future__ import annotations

import re

from tearline.ingest.phones import normalise_phone

REGIONS = {"USA": "US", "MEX": "MX", "CAN": "CA"}  # a nation's default phone region


def phone_key(number: str, nation: str) -> tuple[str | None, bool]:
    """(key, is E.164): the E.164 number when it parses, else `digits:` and its digits."""
    value, problem = normalise_phone(number, REGIONS.get(nation, "MX"))
    if problem is None and value.startswith("+"):
        return value, True
    digits = re.sub(r"\D", "", number)
    return (f"digits:{digits}" if digits else None), False
