"""Dates of birth to (year, month, day), read the way the source writes them.

A source declares its format; without one, a date is read as ISO, then day-first or month-first
when only one of them is a real date, then the source's default order. A value that may be read
either way is not guessed beyond that: the comparison counts a day-month swap as a near match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

_NUMERIC = re.compile(r"^\s*(\d{1,4})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2,4})\s*$")
_COMPACT = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$")
_YEAR = re.compile(r"^\s*(\d{4})\s*$")


@dataclass(frozen=True)
class BirthDate:
    """A date of birth; `month` and `day` are None when only the year is known."""

    year: int
    month: int | None = None
    day: int | None = None

    def iso(self) -> str | None:
        if self.month is None or self.day is None:
            return None
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


def _valid(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return 1880 <= year <= 2100


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:  # a two-digit year of birth is in the last century unless that is absurd
        year += 1900 if year > 30 else 2000
    return year


def parse_birth_date(value: str, fmt: str | None = None, day_first: bool = False) -> BirthDate | None:
    """The date in `value`, or None when it holds no date (the caller reports why)."""
    text = value.strip()
    if not text:
        return None
    if fmt:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            return None
        return BirthDate(parsed.year, parsed.month, parsed.day)
    if match := _COMPACT.match(text):
        y, m, d = (int(g) for g in match.groups())
        return BirthDate(y, m, d) if _valid(y, m, d) else None
    if match := _YEAR.match(text):
        return BirthDate(int(match.group(1)))
    match = _NUMERIC.match(text)
    if not match:
        return None
    a, b, c = match.groups()
    if len(a) == 4:  # ISO order
        y, m, d = int(a), int(b), int(c)
        return BirthDate(y, m, d) if _valid(y, m, d) else None
    y = _year(c)
    first, second = int(a), int(b)
    month_first, day_first_ok = _valid(y, first, second), _valid(y, second, first)
    if month_first and (not day_first_ok or not day_first):
        return BirthDate(y, first, second)
    if day_first_ok:
        return BirthDate(y, second, first)
    return None
