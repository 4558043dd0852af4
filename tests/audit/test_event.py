"""The canonical bytes of an audit event: one event, one byte string, one leaf hash."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tearline.audit.event import AuditEvent
from tearline.errors import InvalidInput
from tests.audit.support import event

GOLDEN = (
    '{"action":"report.read","actor":"analyst3@US-DEMO-NARC","detail":null,'
    '"marking":"SECRET//REL TO USA, MEX","node":"USA/US-DEMO-NARC","objects":["report--0003"],'
    '"outcome":"allowed","policy_version":"equivalence-v1","rule":null,'
    '"time":"2026-03-01T12:00:03.000000Z","v":1}'
)


def test_the_encoding_is_sorted_compact_utf8_json() -> None:
    assert event(3).canonical() == GOLDEN.encode()


def test_non_ascii_text_is_written_as_utf8_not_escaped() -> None:
    data = event(0, actor="analista@FGR-MÉXICO", detail={"nota": "Torreón → Ciudad Juárez"}).canonical()
    assert "Torreón → Ciudad Juárez".encode() in data
    assert b"\\u" not in data


def test_decoding_round_trips_and_refuses_anything_not_canonical() -> None:
    original = event(7, marking={"level": "SECRET", "rel_to": ["USA", "MEX"]}, detail={"count": 3})
    data = original.canonical()
    assert AuditEvent.from_canonical(data) == original
    spaced = json.dumps(json.loads(data), sort_keys=True).encode()
    unsorted = json.dumps(dict(reversed(json.loads(data).items())), separators=(",", ":")).encode()
    escaped = event(0, actor="é@A").as_json()
    for bad in (spaced, unsorted, json.dumps(escaped, sort_keys=True, separators=(",", ":")).encode(), b"[]", b"\xff"):
        with pytest.raises(InvalidInput):
            AuditEvent.from_canonical(bad)


def test_times_are_utc_with_microseconds() -> None:
    local = datetime(2026, 3, 1, 7, 0, 0, 1234, tzinfo=timezone(timedelta(hours=-5)))
    assert event(0, time=local).as_json()["time"] == "2026-03-01T12:00:00.001234Z"
    assert event(0, time=datetime(2026, 3, 1, 12, 0)).as_json()["time"] == "2026-03-01T12:00:00.000000Z"


@pytest.mark.parametrize(
    "overrides",
    [
        {"outcome": "maybe"},
        {"actor": ""},
        {"action": ""},
        {"objects": ["ok", 3]},
        {"marking": {"level": 1.5}},  # floats have more than one JSON spelling
        {"detail": {"clé": "non-ASCII key"}},
        {"detail": {"big": 1 << 60}},
        {"detail": ["not", "an", "object"]},
        {"rule": 7},
        {"actor": "\ud800@A"},  # a lone surrogate cannot be UTF-8
    ],
)
def test_malformed_events_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        event(0, **overrides)


def test_objects_are_frozen_at_creation() -> None:
    objects = ["report--0001"]
    frozen = event(0, objects=objects)
    objects.append("report--0002")
    assert frozen.objects == ("report--0001",)
    assert frozen.time.tzinfo is UTC


_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | _TEXT,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(alphabet=st.characters(max_codepoint=127), max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    actor=_TEXT.filter(bool),
    objects=st.lists(_TEXT, max_size=3),
    marking=st.none() | _TEXT | st.dictionaries(st.sampled_from(["level", "rel_to", "sci"]), _JSON, max_size=3),
    detail=st.none()
    | st.dictionaries(st.text(alphabet=st.characters(max_codepoint=127), max_size=6), _JSON, max_size=4),
    moment=st.datetimes(min_value=datetime(1000, 1, 1), timezones=st.just(UTC)),
)
def test_the_bytes_are_those_of_the_standard_library_encoder(
    actor: str, objects: list[str], marking: object, detail: dict[str, object] | None, moment: datetime
) -> None:
    """orjson makes the bytes; Python's own json module, a second implementation, must agree byte for byte."""
    made = event(0, actor=actor, objects=objects, marking=marking, detail=detail, time=moment)
    reference = json.dumps(made.as_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert made.canonical() == reference
    assert made.as_json()["time"] == moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert AuditEvent.from_canonical(made.canonical()) == made
