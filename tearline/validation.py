"""Pydantic's validation errors as our problems: each names its field (a dotted path, list places in
brackets) and says the reason in the words the rest of the node uses."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from tearline.errors import Problem

# What a value must be, by pydantic's error type, where its own message would name Python's types.
_MUST_BE = {
    "model_type": "an object",
    "dict_type": "an object",
    "model_attributes_type": "an object",
    "list_type": "a list",
    "string_type": "a string",
    "bool_type": "true or false",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
}


def field_path(loc: tuple[int | str, ...], prefix: str = "") -> str:
    """`("consents", 0, "body")` as `consents[0].body` (after `prefix.`, when there is one)."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def json_kind(value: Any) -> str:
    """What a decoded JSON value is, in JSON's words: 'a string', 'an object', 'null'."""
    kinds = [(bool, "a boolean"), (str, "a string"), (dict, "an object"), (list, "a list"), (int, "a number")]
    kinds.append((float, "a number"))
    if value is None:
        return "null"
    return next((name for kind, name in kinds if isinstance(value, kind)), type(value).__name__)


def reason(error: ErrorDetails) -> str:
    """Why the value was refused: what it must be, and what it is when that helps."""
    kind, context, value = error["type"], error.get("ctx", {}), error["input"]
    if kind == "missing":
        return "is required"
    if kind in ("string_too_short", "string_too_long") and isinstance(value, str):
        short = kind == "string_too_short"
        bound = f"at least {context['min_length']}" if short else f"at most {context['max_length']}"
        return f"must be {bound} characters (it has {len(value)})"
    if kind == "value_error":
        return str(context.get("error", error["msg"]))
    if kind in _MUST_BE:
        return f"must be {_MUST_BE[kind]} (it is {json_kind(value)})"
    message = error["msg"]
    if message.startswith("Input should be "):
        return f"must be {message.removeprefix('Input should be ')} (it is {json_kind(value)})"
    return message[:1].lower() + message[1:]


def problems_of(err: ValidationError, prefix: str = "", item: str | None = None) -> list[Problem]:
    """One problem for each thing pydantic found wrong, its field under `prefix`."""
    return [Problem(field_path(e["loc"], prefix), reason(e), item) for e in err.errors()]
