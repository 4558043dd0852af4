"""What a TAXII collection is to the server: a source of STIX objects filtered for the caller.

The HTTP layer (`tearline.taxii.routes`) knows TAXII; a collection knows tearline's rules. Each
collection decides, for the principal asking, which objects exist at all, so that a collection
never serves, counts or pages over an object the rules deny that principal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from tearline.db.models import Principal
from tearline.node import Node
from tearline.store.filters import Reader

STIX_MEDIA_TYPE = "application/stix+json;version=2.1"


@dataclass(frozen=True)
class TaxiiObject:
    """One version of one object as the collection holds it."""

    stix_id: str
    modified: str  # the STIX `modified` (or `created` for objects without one), as written
    date_added: datetime
    body: dict[str, Any]
    media_type: str = STIX_MEDIA_TYPE


@dataclass(frozen=True)
class Filters:
    """The TAXII 2.1 filters of one request (§3.4), already parsed and validated."""

    added_after: datetime | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ("last",)  # "last", "first", "all", or STIX timestamps
    spec_versions: tuple[str, ...] = ()


@dataclass(frozen=True)
class ObjectPage:
    objects: list[TaxiiObject]
    more: bool
    next: str | None = None  # an opaque cursor for the following page


@dataclass
class AddResult:
    """Per-object outcome of a POST, for the status resource (§4.3)."""

    successes: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    pendings: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Caller:
    """Who asks: the principal, their read context, and the node answering."""

    node: Node
    principal: Principal
    reader: Reader


class Collection(Protocol):
    id: str
    title: str
    description: str
    can_read: bool
    can_write: bool

    def page(self, session: Session, caller: Caller, filters: Filters, limit: int, after: str | None) -> ObjectPage:
        """Objects matching `filters` that the caller may see, oldest `date_added` first."""
        ...

    def add(self, session: Session, caller: Caller, envelope: dict[str, Any]) -> AddResult:
        """Take a POSTed envelope (only when `can_write`); all of it is decided in `session`."""
        ...


# Layers that own collections (the node's own holdings, federation's feeds and inbox) register a
# function here that returns the collections a caller may list; the server asks each in turn.
CollectionsFor = Callable[[Session, Caller], list[Collection]]
PROVIDERS: list[CollectionsFor] = []


def register(provider: CollectionsFor) -> CollectionsFor:
    PROVIDERS.append(provider)
    return provider


def collections_for(session: Session, caller: Caller) -> list[Collection]:
    found: list[Collection] = []
    for provider in PROVIDERS:
        found.extend(provider(session, caller))
    return found
