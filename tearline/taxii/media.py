"""TAXII 2.1 media types (§1.6.8): what a client may ask for, and what it may send."""

from __future__ import annotations

from fastapi import Request

from tearline.taxii.errors import NotAcceptable, UnsupportedMediaType

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
_TAXII = "application/taxii+json"
# What an Accept header may name for us to answer: TAXII 2.1 itself, or anything at all.
_ACCEPTED = frozenset({_TAXII, "*/*", "application/*"})


def _parts(value: str) -> tuple[str, dict[str, str]]:
    """`type/subtype;k=v;…` -> (type/subtype, {k: v}), lower-cased, spaces ignored."""
    pieces = [p.strip() for p in value.split(";")]
    params = {}
    for piece in pieces[1:]:
        key, _, val = piece.partition("=")
        params[key.strip().lower()] = val.strip().strip('"')
    return pieces[0].lower(), params


def acceptable(accept: str | None) -> bool:
    """True iff the Accept header admits TAXII 2.1; a client that names no type takes what we send."""
    if not accept:
        return True
    for item in accept.split(","):
        kind, params = _parts(item)
        if kind not in _ACCEPTED or params.get("q") in ("0", "0.0", "0.00", "0.000"):
            continue
        if kind == _TAXII and params.get("version", "2.1") != "2.1":
            continue
        return True
    return False


def taxii_content(content_type: str | None) -> bool:
    """True iff a POST body is declared as TAXII 2.1 (version 2.1 or unversioned)."""
    if not content_type:
        return False
    kind, params = _parts(content_type)
    return kind == _TAXII and params.get("version", "2.1") == "2.1"


def require_taxii_accept(request: Request) -> None:
    """Every TAXII endpoint answers only in TAXII 2.1 (406 otherwise)."""
    accept = request.headers.get("accept")
    if not acceptable(accept):
        raise NotAcceptable(f"this server answers only {TAXII_MEDIA_TYPE}; the request accepts {accept!r}")


def require_taxii_content(request: Request) -> None:
    content_type = request.headers.get("content-type")
    if not taxii_content(content_type):
        raise UnsupportedMediaType(f"send the envelope as {TAXII_MEDIA_TYPE}, not {content_type!r}")
