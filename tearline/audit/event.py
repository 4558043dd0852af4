"""What one audit-log entry says, and its canonical bytes (the Merkle leaf).

Canonical encoding, version 1: a JSON object (RFC 8259) with exactly the keys

    action actor detail marking node objects outcome policy_version rule time v

serialised with keys sorted, no whitespace (separators "," and ":"), non-ASCII characters written
as UTF-8 rather than escaped, and the whole encoded as UTF-8. `time` is UTC,
`YYYY-MM-DDTHH:MM:SS.ffffffZ`; `v` is 1. Values are strings, integers (within ±(2**53 - 1)),
booleans, null, lists and objects with ASCII keys, never floats: under those limits the bytes are
exactly RFC 8785 (JCS) output, so any JCS library re-derives them. Decoding refuses any input that
does not re-encode to the same bytes, so one event has one leaf hash.

The bytes are made once, when the event is made, by orjson (sorted keys): about 1 µs against 10 µs
for the standard library's encoder, on the path of every audited read. The tests hold orjson's
bytes to the standard library's `json.dumps(sort_keys=True, separators=(",", ":"),
ensure_ascii=False)` over arbitrary events.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from tearline.clock import as_utc, parse_timestamp
from tearline.errors import InvalidInput, Problem

FORMAT_VERSION = 1
OUTCOMES = ("allowed", "denied")
_MAX_SAFE_INTEGER = (1 << 53) - 1
_KEYS = frozenset(
    ("action", "actor", "detail", "marking", "node", "objects", "outcome", "policy_version", "rule", "time", "v")
)

Marking = str | Mapping[str, Any] | None


@dataclass(frozen=True)
class AuditEvent:
    """Who did what to which objects, under which marking, policy version and rule, with what outcome.

    `marking` is the banner the actor saw or the marking as a dict; `rule` names the rule that decided
    (for a denial, the rule that denied); `detail` holds anything else worth proving later.
    """

    actor: str
    action: str
    objects: Sequence[str]
    marking: Marking
    policy_version: str | None
    rule: str | None
    outcome: str
    time: datetime
    node: str
    detail: Mapping[str, Any] | None = field(default=None)
    _bytes: bytes = field(default=b"", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Keep the event immutable in fact: a caller's list must not change the bytes later.
        object.__setattr__(self, "objects", tuple(self.objects))
        problems = _problems(self)
        if not problems:
            try:
                object.__setattr__(self, "_bytes", canonical_json(self.as_json()))
            except (TypeError, ValueError) as exc:  # a lone surrogate cannot be UTF-8
                problems = [Problem("event", f"cannot be encoded: {exc}")]
        if problems:
            raise InvalidInput(problems, f"audit event: {problems[0].field}: {problems[0].reason}")

    def as_json(self) -> dict[str, Any]:
        return {
            "v": FORMAT_VERSION,
            "actor": self.actor,
            "action": self.action,
            "objects": list(self.objects),
            "marking": _plain(self.marking),
            "policy_version": self.policy_version,
            "rule": self.rule,
            "outcome": self.outcome,
            "time": format_time(self.time),
            "node": self.node,
            "detail": _plain(self.detail),
        }

    def canonical(self) -> bytes:
        """The leaf bytes (see the module docstring), made when the event was."""
        return self._bytes

    @classmethod
    def from_canonical(cls, data: bytes) -> AuditEvent:
        """Decode leaf bytes; raises InvalidInput unless they are the canonical encoding of an event."""
        try:
            raw = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidInput(Problem("data", f"not UTF-8 JSON: {exc}")) from exc
        if not isinstance(raw, dict) or set(raw) != _KEYS or raw["v"] != FORMAT_VERSION:
            raise InvalidInput(Problem("data", "not an audit event of format version 1"))
        try:
            event = cls(
                actor=raw["actor"],
                action=raw["action"],
                objects=raw["objects"],
                marking=raw["marking"],
                policy_version=raw["policy_version"],
                rule=raw["rule"],
                outcome=raw["outcome"],
                time=parse_timestamp(raw["time"]),
                node=raw["node"],
                detail=raw["detail"],
            )
        except (TypeError, ValueError) as exc:
            raise InvalidInput(Problem("data", f"malformed audit event: {exc}")) from exc
        if event.canonical() != data:
            raise InvalidInput(Problem("data", "audit event bytes are not in canonical form"))
        return event


def canonical_json(value: Any) -> bytes:
    """Sorted, compact, UTF-8 JSON of plain values (dicts, lists, str, int, bool, None)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def format_time(moment: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS.ffffffZ` in UTC (written out by hand: half the time of `strftime`)."""
    t = as_utc(moment)
    # %-formatting: about 2 µs here, where format specifiers in an f-string take 4.
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (t.year, t.month, t.day, t.hour, t.minute, t.second, t.microsecond)  # noqa: UP031


# Values that encode as they are. Exact types first: `isinstance(x, Mapping)` is an abstract-class
# check that costs about as much as encoding a whole event, and it ran for every value of every read.
_AS_IS = frozenset((str, bool, int, type(None)))


def _plain(value: Any) -> Any:
    """Mappings and sequences as plain dicts and lists, so that json encodes them all alike."""
    if type(value) in _AS_IS:
        return value
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _problems(event: AuditEvent) -> list[Problem]:
    problems: list[Problem] = []
    for name in ("actor", "action"):
        value = getattr(event, name)
        if not isinstance(value, str) or not value:
            problems.append(Problem(name, "must be a non-empty string"))
    if not isinstance(event.node, str):
        problems.append(Problem("node", "must be a string (left empty, `record` writes the node's name)"))
    if event.outcome not in OUTCOMES:
        problems.append(Problem("outcome", f"must be one of {', '.join(OUTCOMES)}"))
    if not all(isinstance(item, str) for item in event.objects):
        problems.append(Problem("objects", "must be strings"))
    for name in ("policy_version", "rule"):
        if getattr(event, name) is not None and not isinstance(getattr(event, name), str):
            problems.append(Problem(name, "must be a string or null"))
    if not isinstance(event.time, datetime):
        problems.append(Problem("time", "must be a datetime"))
    if event.detail is not None and type(event.detail) is not dict and not isinstance(event.detail, Mapping):
        problems.append(Problem("detail", "must be an object or null"))
    return problems + _json_problems("marking", event.marking) + _json_problems("detail", event.detail)


def _json_problems(where: str, value: Any) -> list[Problem]:
    """Only values whose JSON has one spelling (so the bytes are JCS): no floats, ASCII keys."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return []
    if kind is int or isinstance(value, int):
        return [] if abs(value) <= _MAX_SAFE_INTEGER else [Problem(where, "integers must be within ±(2**53 - 1)")]
    if kind is dict or isinstance(value, Mapping):
        bad = [key for key in value if not isinstance(key, str) or not key.isascii()]
        if bad:
            return [Problem(where, f"object keys must be ASCII strings, got {bad[0]!r}")]
        return [p for item in value.values() for p in _json_problems(where, item)]
    if isinstance(value, list | tuple):
        return [p for item in value for p in _json_problems(where, item)]
    return [Problem(where, f"{type(value).__name__} values are not allowed (only JSON without floats)")]
