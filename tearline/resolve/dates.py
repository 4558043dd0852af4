"""Dates of birth to (year, month, day), read the way the source writes them.

A source declares its format; without one, a date is read as ISO, then day-first or month-first
when only one of them is a real date, then the source's default order. A value that may be read
either way is not guessed beyond that: the comparison counts a day-month swap as a near match.

Either way a two-digit year is read by one rule (31-99 in the 1900s, 00-30 in the 2000s), a year
must lie between 1880 and 2100, and a date is kept whole or as its year alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

_NUMERIC = re.compile(r"^\s*(\d{1,4})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2,4})\s*$")
_COMPACT = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$")
_YEAR = re.compile(r"^\s*(\d{4})\s*$")
FIRST_YEAR, LAST_YEAR = 1880, 2100
_DIRECTIVE = re.compile(r"%(.)", re.DOTALL)
# strptime directives a date of birth may be written with (a time of day is read and dropped).
_DATE_DIRECTIVES = frozenset("dmyYbBaAjHIMSfp%")


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
    return FIRST_YEAR <= year <= LAST_YEAR


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:  # a two-digit year of birth is in the last century unless that is absurd
        year += 1900 if year > 30 else 2000
    return year


def check_format(fmt: str) -> str | None:
    """Why `fmt` cannot be a source's date-of-birth format, or None when it can."""
    directives = _DIRECTIVE.findall(fmt)
    if not directives:
        return "must be a strptime format such as '%d/%m/%Y'"
    bad = sorted({d for d in directives if d not in _DATE_DIRECTIVES})
    lone = "%" in _DIRECTIVE.sub("", fmt)
    if bad or lone:
        shown = ", ".join(f"%{d}" for d in bad) or "a lone % at the end"
        return (f"{fmt!r} has {shown}, which is not a date directive: use %d (day), %m, %b or %B (month), "
                "%Y or %y (year), %j (day of the year)")
    has = set(directives)
    if not has & {"Y", "y"}:
        return f"{fmt!r} has no year (%Y or %y)"
    has_month, has_day = bool(has & {"m", "b", "B", "j"}), bool(has & {"d", "j"})
    if has_month != has_day:
        missing = "day (%d)" if has_month else "month (%m)"
        return (f"{fmt!r} has no {missing}: a date of birth is kept whole or as its year alone; "
                "use a format with day, month and year, or '%Y' for the year alone")
    try:  # what strptime itself refuses (a directive twice, %y beside %Y...)
        sample = datetime(1981, 7, 3)
        datetime.strptime(sample.strftime(fmt), fmt)
    except ValueError as err:
        return f"{fmt!r} is not a usable strptime format: {err}"
    return None


def read_birth_date(value: str, fmt: str | None = None, day_first: bool = False) -> BirthDate:
    """The date in `value`; ValueError with the reason when it holds none (`fmt` passed check_format)."""
    text = value.strip()
    if not text:
        raise ValueError("is empty")
    if fmt:
        return _formatted(text, fmt)
    found = parse_birth_date(text, None, day_first)
    if found is None:
        raise ValueError("is not a date")
    return found


def _formatted(text: str, fmt: str) -> BirthDate:
    try:
        parsed = datetime.strptime(text, fmt)
    except ValueError:
        raise ValueError(f"is not a date with format {fmt!r}") from None
    directives = set(_DIRECTIVE.findall(fmt))
    year = parsed.year
    if "y" in directives and "Y" not in directives:  # the formatless parser's rule, not strptime's 1969
        year = _year(f"{year % 100:02d}")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"has the year {year}, outside {FIRST_YEAR}-{LAST_YEAR} (format {fmt!r})")
    if not directives & {"m", "b", "B", "j"}:
        return BirthDate(year)
    try:
        date(year, parsed.month, parsed.day)
    except ValueError:  # 29 February of a year the rule moved by a century
        raise ValueError(f"is not a date with format {fmt!r}") from None
    return BirthDate(year, parsed.month, parsed.day)


def parse_birth_date(value: str, fmt: str | None = None, day_first: bool = False) -> BirthDate | None:
    """The date in `value`, or None when it holds no date (the caller reports why)."""
    text = value.strip()
    if not text:
        return None
    if fmt:
        try:
            return _formatted(text, fmt)
        except ValueError:
            return None
    if match := _COMPACT.match(text):
        y, m, d = (int(g) for g in match.groups())
        return BirthDate(y, m, d) if _valid(y, m, d) else None
    if match := _YEAR.match(text):
        year = int(match.group(1))
        return BirthDate(year) if FIRST_YEAR <= year <= LAST_YEAR else None
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
