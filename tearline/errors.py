"""One error hierarchy; each error carries its HTTP status and the web layer renders it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (item), which field, and why."""

    field: str
    reason: str
    item: str | None = None

    def as_dict(self) -> dict[str, str]:
        out = {"field": self.field, "reason": self.reason}
        if self.item is not None:
            out["item"] = self.item
        return out


class TearlineError(Exception):
    status = 500
    code = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def as_dict(self) -> dict[str, object]:
        return {"error": self.code, "message": self.message}


class InvalidInput(TearlineError):
    """Bad input: names each field and the reason; nothing was stored."""

    status = 422
    code = "invalid"

    def __init__(self, problems: list[Problem] | Problem, message: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        first = self.problems[0] if self.problems else None
        default = f"{first.field}: {first.reason}" if first else "invalid input"
        if len(self.problems) > 1:
            default += f" (and {len(self.problems) - 1} more)"
        super().__init__(message or default)

    def as_dict(self) -> dict[str, object]:
        out = super().as_dict()
        out["problems"] = [p.as_dict() for p in self.problems]
        return out


class MarkingError(InvalidInput):
    """A marking that breaks the rules of DESIGN §3; never normalised, always refused."""

    code = "invalid_marking"


class NotFound(TearlineError):
    """Also what a hidden item answers, so that hidden and missing look the same."""

    status = 404
    code = "not_found"


class Unauthorized(TearlineError):
    status = 401
    code = "unauthorized"


class Forbidden(TearlineError):
    status = 403
    code = "forbidden"

    def __init__(self, message: str, rule: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule

    def as_dict(self) -> dict[str, object]:
        out = super().as_dict()
        if self.rule:
            out["rule"] = self.rule
        return out


class Conflict(TearlineError):
    status = 409
    code = "conflict"


class ConfigError(TearlineError):
    """The node is not set up as the command expects; the message says what to run."""

    status = 500
    code = "config"
