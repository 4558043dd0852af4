"""Analysts' decisions fed back into the person model: confirmations are matches, splits are not."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from tearline.db.resolve_tables import ResolveDecision, ResolveMember
from tearline.resolve import model
from tearline.resolve.incremental import IncrementalResolver, keep_model


def labels(session: Session) -> list[tuple[str, str, bool]]:
    """Analysts' decisions on persons as labels: confirmed reviews are matches, splits are not
    (the other kinds resolve by rules, which labels do not train).

    One label a pair, from its newest decision: a recheck confirmed is the same judgement of the
    same two persons as the confirmation it questioned, and counted twice it would weigh double."""
    persons = select(ResolveMember.stix_id).where(ResolveMember.kind == "person")
    rows = session.scalars(select(ResolveDecision).where(
        ResolveDecision.state.in_(("confirmed", "split")), ResolveDecision.member_a.in_(persons))
        .order_by(ResolveDecision.id))
    newest: dict[frozenset[str], tuple[str, str, bool]] = {}
    for d in rows:
        newest.pop(frozenset((d.member_a, d.member_b)), None)  # re-inserted last: the newest order
        newest[frozenset((d.member_a, d.member_b))] = (d.member_a, d.member_b, d.state == "confirmed")
    return list(newest.values())


# Pseudo-observations behind the EM estimate when analysts' labels are blended in.
PRIOR_WEIGHT = 100.0


def learn_from_labels(session: Session, resolver: IncrementalResolver) -> model.TrainedModel:
    """A new kept model whose m probabilities blend EM's estimate with the levels seen in pairs
    analysts confirmed (each level's m moves toward its share among confirmed matches)."""
    confirmed = [(a, b) for a, b, match in labels(session) if match]
    trained = model.TrainedModel.loads(resolver.trained.dumps())
    trained.labels_used = len(labels(session))
    if confirmed:
        members = {m.stix_id: m for m in session.scalars(select(ResolveMember).where(
            ResolveMember.stix_id.in_({s for pair in confirmed for s in pair})))}
        frame = model.frame([{**m.features, "unique_id": m.id} for m in members.values()])
        scored = resolver.scorer.score(frame, frame, [(members[a].id, members[b].id) for a, b in confirmed])
        _blend(trained.settings_json["comparisons"], scored)
    keep_model(session, trained)
    return trained


def _blend(comparisons: list[dict[str, Any]], scored: pd.DataFrame) -> None:
    for comparison in comparisons:
        gammas = scored[f"gamma_{comparison['output_column_name']}"]
        observed = gammas[gammas >= 0]
        levels = [lvl for lvl in comparison["comparison_levels"] if not lvl.get("is_null_level")]
        if not len(observed) or any(lvl.get("fix_m_probability") for lvl in levels):
            continue
        for index, level in enumerate(levels):
            share = float((observed == len(levels) - 1 - index).sum())
            prior = float(level.get("m_probability") or 0.0)
            level["m_probability"] = max((prior * PRIOR_WEIGHT + share) / (PRIOR_WEIGHT + len(observed)), 1e-6)
