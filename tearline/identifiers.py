"""STIX 2.1 identifiers (§2.9): `type--UUID`, the UUID in RFC 4122 form.

Kept apart from `tearline.stix` so that the store, below the wire format, checks ids by the same rule.
"""

from __future__ import annotations

import re

# `type--UUID`: a lower-case type, then an RFC 4122 UUID (version 1-5, variant 10xx) in lower-case hex.
ID_PATTERN = re.compile(
    r"^([a-z][a-z0-9-]*[a-z0-9])--"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)


def id_type(value: object) -> str | None:
    """The type part of a well-formed STIX id, or None when `value` is not one."""
    if not isinstance(value, str):
        return None
    found = ID_PATTERN.match(value)
    return found.group(1) if found else None
