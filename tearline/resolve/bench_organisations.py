"""Organisations resolved as they arrive, measured against N stored firms in a fresh SQLite file.

The firms and the arrivals come from `org_set` (invented names). Throughput adds arrivals in
batches of 100; latency adds them one at a time, each in its own transaction, as a partner's
record would arrive. Beside it, the near-name search alone is timed against what a user of
rapidfuzz would write, `process.extract` over the stored names for each arriving name, on the
same names in the same run, and the two must find the same names.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process
from sqlalchemy import insert
from sqlalchemy.orm import Session

from tearline import clock
from tearline.db.engine import make_engine, sqlite_url
from tearline.db.resolve_tables import ResolveDecision, ResolveMember
from tearline.resolve import org_set
from tearline.resolve.bench_incremental import time_arrivals
from tearline.resolve.incremental import Outcome
from tearline.resolve.keyed import MAX_CANDIDATES, Arrival, KeyedResolver, keys_of
from tearline.resolve.organisations import NEAR_SCORE, near_keys, normalise_organisation, words_sorted

Advance = Callable[[str, int, int], None]
NEAR_SAMPLE = 100  # arriving names whose near-name search is timed both ways


@dataclass
class OrganisationResult:
    stored: int
    arrivals: int
    records_per_second: float
    p50_ms: float
    p95_ms: float
    # arrival kind -> how many were merged, sent to review, or left alone
    outcomes: dict[str, Counter[str]] = field(default_factory=dict)
    near_ours_s: float = 0.0
    near_extract_s: float = 0.0


def _store(session: Session, names: list[str], step: Advance) -> None:
    rows = []
    for n, name in enumerate(names):
        match_key, alt_key, features = keys_of("organization", {"name": name}, "MEX")
        rows.append(
            {
                "stix_id": f"identity--{uuid.uuid4()}",
                "kind": "organization",
                "entity_id": f"entity--{uuid.uuid4()}",
                "features": features,
                "match_key": match_key,
                "alt_key": alt_key,
                "created_at": clock.now(),
            }
        )
        if len(rows) == 5000 or n == len(names) - 1:
            session.execute(insert(ResolveMember), rows)
            rows = []
            step("stored organisations", n + 1, len(names))


def _near_search(stored: list[str], arriving: list[str]) -> tuple[float, float]:
    """Seconds for our near-name search (sorting every stored name's words included) and for
    `process.extract` with token-sort a name at a time; raises unless both find the same names."""
    keys = [k for k in (normalise_organisation(s) for s in stored) if k]
    names = [k for k in (normalise_organisation(a) for a in arriving) if k]
    began = time.perf_counter()
    ours = near_keys([words_sorted(n) for n in names], [words_sorted(k) for k in keys], MAX_CANDIDATES)
    ours_s = time.perf_counter() - began
    began = time.perf_counter()
    theirs = {
        name: process.extract(name, keys, scorer=fuzz.token_sort_ratio, score_cutoff=NEAR_SCORE, limit=MAX_CANDIDATES)
        for name in names
    }
    extract_s = time.perf_counter() - began
    for name in names:
        if set(ours[words_sorted(name)]) != {words_sorted(match) for match, _score, _index in theirs[name]}:
            raise AssertionError(f"near names of {name!r} differ from process.extract's")
    return ours_s, extract_s


def _tally(outcomes: list[Outcome], kinds: dict[str, str]) -> dict[str, Counter[str]]:
    tally: dict[str, Counter[str]] = {}
    for outcome in outcomes:
        said = "merged" if outcome.merged_with else "review" if outcome.reviews else "none"
        tally.setdefault(kinds[outcome.stix_id], Counter())[said] += 1
    return tally


def run_organisations(
    stored: int, arrivals: int = 1000, singles: int = 200, advance: Advance | None = None
) -> OrganisationResult:
    step = advance or (lambda name, done, total: None)
    names = org_set.stored_names(stored)
    incoming = org_set.arrivals(names, arrivals + singles)
    arriving = [
        Arrival(f"identity--{uuid.uuid4()}", {"name": a.name, "identity_class": "organization"}, "USA")
        for a in incoming
    ]
    kinds = {arrival.stix_id: a.kind for arrival, a in zip(arriving, incoming, strict=True)}
    resolver = KeyedResolver("organization")
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(sqlite_url(Path(tmp) / "resolve.db"))
        for table in (ResolveMember, ResolveDecision):
            table.__table__.create(engine)  # type: ignore[attr-defined]
        with Session(engine) as session, session.begin():
            _store(session, names, step)
        timed = time_arrivals(engine, resolver.add, arriving, arrivals, step)
        engine.dispose()
    ours_s, extract_s = _near_search(names, [a.name for a in incoming[:NEAR_SAMPLE]])
    return OrganisationResult(
        stored=stored,
        arrivals=arrivals + singles,
        records_per_second=timed.records_per_second,
        p50_ms=timed.p50_ms,
        p95_ms=timed.p95_ms,
        outcomes=_tally(timed.outcomes, kinds),
        near_ours_s=ours_s,
        near_extract_s=extract_s,
    )
