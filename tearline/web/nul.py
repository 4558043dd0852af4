"""NUL (U+0000) in a request: refused at the edge, for every database alike.

PostgreSQL text and jsonb cannot hold NUL, and SQLite stores it: such input was a 500 on one
database and stored on the other, and in the audit log's search columns it failed a whole group of
reads. The node's app answers these problems with a 422, and the TAXII app with a TAXII 400.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from tearline.errors import Problem

NUL_REASON = "must not contain NUL (U+0000)"


async def nul_problems(request: Request) -> list[Problem]:
    """Where the request holds NUL: its path, a query parameter, a JSON body or a form field."""
    problems = [Problem("path", NUL_REASON)] if "\x00" in request.url.path else []
    query = request.query_params.multi_items()
    problems += [Problem(f"query.{k}", NUL_REASON) for k, v in query if "\x00" in k + v]
    kind = request.headers.get("content-type", "")
    if "json" in kind:
        body = await request.body()  # kept by Starlette for the route, which reads it again
        problems += [Problem(f"body.{path}" if path else "body", NUL_REASON) for path in _body_nul_paths(body)]
    elif kind.startswith("application/x-www-form-urlencoded"):
        fields = parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
        problems += [Problem(f"form.{k}", NUL_REASON) for k, v in fields if "\x00" in k + v]
    return problems


def _body_nul_paths(body: bytes) -> list[str]:
    # JSON spells NUL only as an escape: parse (rarely) only when the escape is there.
    if b"\\u0000" not in body:
        return []
    try:
        parsed = json.loads(body)
    except ValueError:
        return []  # not JSON: the route's own validation answers that
    return list(_nul_paths(parsed))


def _nul_paths(value: Any, path: str = "") -> Iterator[str]:
    """The dotted path of every string (or key) in a JSON value that holds NUL."""
    if isinstance(value, str):
        if "\x00" in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            yield from ([inner] if "\x00" in key else _nul_paths(item, inner))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _nul_paths(item, f"{path}.{i}" if path else str(i))
