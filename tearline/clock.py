"""The node's clock: always UTC, and frozen in tests so that expiry rules are exact."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_frozen: datetime | None = None


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC)


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Freeze the clock (tests only)."""
    global _frozen
    previous, _frozen = _frozen, as_utc(moment)
    try:
        yield
    finally:
        _frozen = previous


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC; aware ones are converted."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_timestamp(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (the 'Z' suffix included) into UTC."""
    return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def stix_timestamp(moment: datetime) -> str:
    """STIX 2.1 timestamp: UTC with millisecond precision and a 'Z'."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.") + f"{as_utc(moment).microsecond // 1000:03d}Z"
