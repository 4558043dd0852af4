"""Vehicles by plate and jurisdiction, or by VIN.

A plate is one only within its jurisdiction: the same plate in two states is two vehicles, and a
plate whose jurisdiction one side did not record is only worth an analyst's look. A VIN names one
vehicle anywhere; a plate seen on two vehicles with different VINs is a cloned or reissued plate,
which an analyst should see, never a merge.
"""

from __future__ import annotations

import re
import unicodedata

_NOT_ALNUM = re.compile(r"[^A-Z0-9]")
_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")  # I, O and Q never appear in a VIN
_COUNTRIES = {
    "MX": "MX", "MEX": "MX", "MEXICO": "MX",
    "US": "US", "USA": "US", "UNITEDSTATES": "US", "EEUU": "US", "EUA": "US", "ESTADOSUNIDOS": "US",
    "CA": "CA", "CAN": "CA", "CANADA": "CA",
}


def _compact(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return _NOT_ALNUM.sub("", "".join(c for c in decomposed if not unicodedata.combining(c)).upper())


def normalise_plate(value: str) -> str | None:
    """Capitals and digits only: "abc-123", "ABC 123" and "ABC123" are one plate."""
    return _compact(value) or None


def normalise_vin(value: str) -> str | None:
    """A VIN in capitals, or None when the value cannot be one (17 characters, no I, O or Q)."""
    compact = _compact(value)
    return compact if _VIN.match(compact) else None


def normalise_jurisdiction(value: str) -> str | None:
    """A country as its ISO code ("México" → MX); a state or province kept after it ("US-TX")."""
    parts = [p for p in re.split(r"[-/ ]+", value.strip()) if p]
    if not parts:
        return None
    whole = _compact(value)
    if whole in _COUNTRIES:
        return _COUNTRIES[whole]
    head = _COUNTRIES.get(_compact(parts[0]))
    if head and len(parts) > 1:
        return f"{head}-{_compact(''.join(parts[1:]))}"
    return whole or None


def jurisdictions_agree(a: str | None, b: str | None) -> bool | None:
    """True when both are known and the same; None when either is unknown or one only names the
    other's country (US against US-TX); False when they differ."""
    if not a or not b:
        return None
    if a == b:
        return True
    if a.split("-")[0] == b.split("-")[0] and ("-" not in a or "-" not in b):
        return None
    return False
