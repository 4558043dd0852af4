"""The reference model: how a batch too small to train on is scored.

EM learns each level's m and u from the batch's own pairs. A handful of records holds one or two
pairs, so EM has nothing to learn from: u comes out as the share of those few pairs that agree (a
third, for two duplicates among three records), every name is "common" to the term frequencies,
and an exact duplicate scored 0.90, below the threshold, so nothing merged. Below
`MIN_TRAINING_RECORDS`, a batch is scored instead with the parameters EM learns on the generated
Spanish-name set of `tearline bench resolve` (`spanish_set.generate`, its 600 families and seed 7;
`reference_model.json`, built by `python -m tearline.resolve.reference`), with that set's term
frequencies (a value it never saw counts as rare). Every pair is scored: there are few. The merge
rule and clustering are those of a trained batch.
"""

from __future__ import annotations

import functools
import itertools
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tearline.resolve import model

# Fewer records than this and EM has too few pairs to learn from. Measured (no false merge either
# way): on generated Spanish-name batches of other seeds EM found 29 of 39 true pairs at 25 records,
# the reference model 35; on FEBRL3 samples of 10 records 20 of 27 against 23, of 30 records 75 of
# 79 against 71. From about this size on, a batch teaches EM its own sources better.
MIN_TRAINING_RECORDS = 30
PATH = Path(__file__).with_name("reference_model.json")
FAMILIES, SEED = 600, 7


@functools.cache
def reference_model() -> model.TrainedModel:
    """The reference model as kept beside this module."""
    return model.TrainedModel.loads(PATH.read_text(encoding="utf-8"))


def build() -> model.TrainedModel:
    """Train the reference model again by EM on the generated Spanish-name set."""
    from tearline.resolve.batch import standardise
    from tearline.resolve.bench import spanish

    trained, _linker = model.train(standardise(spanish(FAMILIES, SEED).records))
    trained.settings_json.pop("linker_uid", None)  # a random name Splink gives each linker
    return trained


def score_all_pairs(df: pd.DataFrame) -> pd.DataFrame:
    """Every pair of a small standardised batch, scored with the reference model."""
    ids: Sequence[int] = [int(i) for i in df["unique_id"]]
    pairs = list(itertools.combinations(ids, 2))
    scored: pd.DataFrame = _scorer().score(df, df, pairs, floor=model.PREDICT_FLOOR)
    return scored


@functools.cache
def _scorer() -> Any:
    from tearline.resolve.scoring import PairScorer

    return PairScorer(reference_model())


if __name__ == "__main__":
    sys.stdout.write(build().dumps() + "\n")
