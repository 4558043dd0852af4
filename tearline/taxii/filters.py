"""TAXII 2.1 query parameters (§3.4) and pagination (§3.7): parsed once, refused with a 400 when wrong."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from tearline import clock
from tearline.identifiers import id_type
from tearline.stix.checks import parse_stix_time
from tearline.taxii.collections import Filters, TaxiiObject
from tearline.taxii.errors import BadRequest

MAX_PAGE = 1000  # a larger `limit` is lowered to this (the spec lets a server do so)
DEFAULT_PAGE = 100
_MATCH = ("id", "type", "version", "spec_version")
_KNOWN = frozenset({"added_after", "limit", "next", *(f"match[{m}]" for m in _MATCH)})
_TYPE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
SPEC_VERSIONS = ("2.0", "2.1")  # an unknown one is refused like any unknown filter value


@dataclass(frozen=True)
class Query:
    filters: Filters
    limit: int
    next: str | None


def _values(params: Mapping[str, Sequence[str]], name: str) -> tuple[str, ...]:
    """A filter's values: comma-separated, and the parameter may repeat."""
    out: list[str] = []
    for raw in params.get(name, ()):
        out += [v.strip() for v in raw.split(",") if v.strip()]
    return tuple(dict.fromkeys(out))


def _one(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name, ())
    if len(values) > 1:
        raise BadRequest(f"{name} may be given once")
    return values[0] if values else None


def parse_timestamp(name: str, text: str) -> datetime:
    moment = parse_stix_time(text)
    if moment is None:
        raise BadRequest(f"{name} must be a timestamp such as 2026-01-31T12:00:00.000Z, not {text!r}")
    return moment


def _versions(values: tuple[str, ...]) -> tuple[str, ...]:
    """`first`, `last`, `all`, or timestamps written as the objects write theirs, so that one instant
    matches however many zeros it is given with (`...676000Z` is `...676Z`)."""
    out = [v if v in ("first", "last", "all") else version_text(parse_timestamp("match[version]", v)) for v in values]
    return tuple(dict.fromkeys(out)) or ("last",)


def version_text(moment: datetime) -> str:
    """An object version as STIX timestamps carry it: milliseconds, or microseconds when it has them."""
    if moment.microsecond % 1000:
        return clock.as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return clock.stix_timestamp(moment)


def _spec_versions(values: tuple[str, ...]) -> tuple[str, ...]:
    bad = [v for v in values if v not in SPEC_VERSIONS]
    if bad:
        raise BadRequest(f"match[spec_version] {bad[0]!r} is not a STIX version ({', '.join(SPEC_VERSIONS)})")
    return values


def parse_query(params: Mapping[str, Sequence[str]], *, versions: bool = True) -> Query:
    """The filters, limit and cursor of one request; an unknown `match[...]` is refused, not ignored."""
    unknown = sorted(k for k in params if k.startswith("match[") and k not in _KNOWN)
    if unknown:
        raise BadRequest(f"unsupported filter {unknown[0]}; this server filters on match[{'|'.join(_MATCH)}]")
    added_after = _one(params, "added_after")
    types = _values(params, "match[type]")
    bad = [t for t in types if not set(t) <= _TYPE_CHARS]
    if bad:
        raise BadRequest(f"match[type] {bad[0]!r} is not a STIX type")
    object_ids = _values(params, "match[id]")
    bad = [i for i in object_ids if id_type(i) is None]
    if bad:
        raise BadRequest(f"match[id] {bad[0]!r} is not a STIX identifier")
    filters = Filters(
        added_after=parse_timestamp("added_after", added_after) if added_after else None,
        ids=object_ids,
        types=types,
        versions=_versions(_values(params, "match[version]")) if versions else ("all",),
        spec_versions=_spec_versions(_values(params, "match[spec_version]")),
    )
    return Query(filters, _limit(_one(params, "limit")), _one(params, "next"))


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_PAGE
    # ASCII digits only: int() also takes spaces, signs, underscores and other scripts' digits
    # (and fails past 4,300 of them); any limit past the largest page is that page.
    if not (text.isascii() and text.isdigit()):
        raise BadRequest(f"limit must be a positive integer, not {text!r}")
    significant = text.lstrip("0")
    if len(significant) > 9:
        return MAX_PAGE
    limit = int(significant or "0")
    if limit < 1:
        raise BadRequest("limit must be at least 1")
    return min(limit, MAX_PAGE)


def taxii_time(moment: datetime) -> str:
    """TAXII timestamps keep microseconds, so that `added_after` can name an exact date_added."""
    return clock.as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def page_headers(objects: Sequence[TaxiiObject]) -> dict[str, str]:
    """X-TAXII-Date-Added-First/Last of a page (§3.7.1); none for an empty page."""
    if not objects:
        return {}
    return {
        "X-TAXII-Date-Added-First": taxii_time(min(o.date_added for o in objects)),
        "X-TAXII-Date-Added-Last": taxii_time(max(o.date_added for o in objects)),
    }
