"""TAXII 2.1 error message resources (§3.6.1): every error under /taxii2 answers one of these.

Each error is a `TearlineError`, so that `audited` logs a refusal with its rule like any other.
"""

from __future__ import annotations

from typing import Any

from tearline.errors import InvalidInput, TearlineError

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    500: "Internal Server Error",
}


class BadRequest(TearlineError):
    status = 400
    code = "bad_request"


class NotAcceptable(TearlineError):
    status = 406
    code = "not_acceptable"


class TooLarge(TearlineError):
    status = 413
    code = "too_large"


class UnsupportedMediaType(TearlineError):
    status = 415
    code = "unsupported_media_type"


class Unprocessable(TearlineError):
    status = 422
    code = "unprocessable"


def error_body(status: int, description: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    """An error message resource: `title` is required; `http_status` is a string by the spec."""
    body: dict[str, Any] = {"title": TITLES.get(status, "Error"), "description": description}
    body["http_status"] = str(status)
    if code:
        body["error_code"] = code
    body.update({k: v for k, v in extra.items() if v})
    return body


def body_of(err: TearlineError) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if isinstance(err, InvalidInput):
        details["problems"] = [p.as_dict() for p in err.problems]
    rule = getattr(err, "rule", None)
    if rule:
        details["rule"] = rule
    return error_body(err.status, err.message, err.code, details=details)
