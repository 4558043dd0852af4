"""Training the kept model from the node's own persons, with the analysts' decisions as labels.

EM runs on every current person the node holds (each read as a record of its originator's
nation), exactly as a batch run trains; then the analysts' confirmations and splits are blended
in (`tearline.resolve.labels.learn_from_labels`), and the model is kept: the newest kept model is the one
incremental matching uses, and persons that waited for a model are resolved next.

The model is the node's own work product: its term frequencies are built from every person,
whoever may read them, so it is never served (the API says only that a model was kept).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tearline.db.models import StixObject
from tearline.errors import InvalidInput, Problem
from tearline.node import Node
from tearline.resolve import incremental, model
from tearline.resolve import labels as analysts
from tearline.resolve.entities import is_person, person_of
from tearline.resolve.records import PersonRecord, feature_row
from tearline.store.reads import markings_by_id

MIN_PERSONS = 50  # fewer than this and EM has no blocks to learn from
Step = Callable[[str, int, int], None]
Audit = Callable[[Session, int], None]  # writes the audit entry of keeping model N, in its transaction


@dataclass(frozen=True)
class Trained:
    model_id: int
    persons: int
    labels: int


def node_persons(node: Node, progress: Step | None = None) -> list[PersonRecord]:
    """Every current, live person object of the node, once, read in its originator's nation."""
    step = progress or (lambda name, done, total: None)
    with node.db.read() as session:
        rows = [r for r in session.scalars(select(StixObject).where(
            StixObject.stix_type == "identity", StixObject.is_current.is_(True),
            StixObject.withdrawn.is_(False)).order_by(StixObject.id)) if is_person(r)]
        markings = markings_by_id(session, {r.marking_id for r in rows})
    seen: dict[str, PersonRecord] = {}
    for n, row in enumerate(rows):
        seen.setdefault(row.stix_id, person_of(row.body, markings[row.marking_id].originator[0].lower()))
        if n % 1000 == 0:
            step("reading persons", n, len(rows))
    step("reading persons", len(rows), len(rows))
    return list(seen.values())


class TooFewPersons(InvalidInput):
    """Too few persons to train on. The message leaves out how many the node holds: an analyst who
    calls the API would learn a count of persons hidden from them (DESIGN §3.3). `held` is for the
    node's operator, whose command line reads the whole store anyway."""

    def __init__(self, held: int) -> None:
        super().__init__(Problem("persons", f"training needs at least {MIN_PERSONS} persons on the node, "
                                            "and it holds fewer; ingest more persons, then train again"))
        self.held = held


def train_and_keep(node: Node, progress: Step | None = None, audit: Audit | None = None) -> Trained:
    """Train by EM on the node's persons, blend in the analysts' labels, keep the model (and its
    audit entry, in the same transaction). No transaction is open while EM runs."""
    step = progress or (lambda name, done, total: None)
    records = node_persons(node, step)
    if len(records) < MIN_PERSONS:
        raise TooFewPersons(len(records))
    step("training (EM)", 0, 1)
    frame = model.frame([feature_row(r, i) for i, r in enumerate(records)])
    trained, _linker = model.train(frame)
    prior = float(trained.settings_json.get("probability_two_random_records_match") or 0.0)
    if not 0.0 < prior < 1.0:
        # EM found no matching pairs at all; such a model cannot score, and kept it would hold every
        # person in the queue. The node keeps the model it had.
        raise InvalidInput(Problem("persons", "training found no likely matches among the node's persons; "
                                              "the kept model is unchanged"))
    resolver = incremental.IncrementalResolver(trained)  # compiles its SQL: a model that cannot score fails here
    step("training (EM)", 1, 1)
    step("analysts' labels", 0, 1)
    with node.db.write() as session:
        labelled = len(analysts.labels(session))
        if labelled:
            analysts.learn_from_labels(session, resolver)
        else:
            incremental.keep_model(session, trained)
        model_id = incremental.kept_model_id(session)
        if audit is not None:
            audit(session, model_id)
    step("analysts' labels", 1, 1)
    return Trained(model_id, len(records), labelled)
