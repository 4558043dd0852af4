"""The resolver's Splink model: settings, training (EM with term-frequency adjustments),
pairwise prediction and clustering, on Splink's DuckDB backend.

Splink's Spark backend is the route when a batch outgrows one machine (`tearline.resolve.spark`,
`tearline resolve --spark-master`): the settings are written in DuckDB's SQL, and a `Backend`
rewrites them for its own; a model is always kept in DuckDB's SQL.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from tearline.resolve.comparisons import (
    BLOCKING_RULES,
    CORROBORATING_LEVELS,
    GIVEN_AS_WRITTEN_LEVEL,
    GIVEN_TYPO_LEVEL,
    MATERNAL_AS_WRITTEN_LEVEL,
    MATERNAL_NEEDS_GIVEN_LEVEL,
    MATERNAL_NEEDS_PATERNAL_LEVEL,
    MATERNAL_TYPO_LEVEL,
    PATERNAL_AS_WRITTEN_LEVEL,
    SEX_AGREES_LEVEL,
    resolver_comparisons,
)
from tearline.resolve.names import one_edit

UPPER_THRESHOLD = 0.95
LOWER_THRESHOLD = 0.5
# Pairs below this are not kept at all; between it and LOWER they only explain a non-merge.
PREDICT_FLOOR = 0.01

# EM needs blocks where one person, not one family or one common name, is the usual match:
# name and year of birth, the date of birth, and the whole name (relatives and namesakes rarely
# share all of it; empty where sources have no maternal surname).
TRAINING_RULES = (
    "l.paternal_key = r.paternal_key AND l.given1_key = r.given1_key AND l.dob_y = r.dob_y",
    "l.dob_y = r.dob_y AND l.dob_m = r.dob_m AND l.dob_d = r.dob_d",
    "l.paternal_key = r.paternal_key AND l.maternal_key = r.maternal_key AND l.given1_key = r.given1_key",
)
DETERMINISTIC_RULES = (
    "l.national_id = r.national_id",
    "l.paternal = r.paternal AND l.given1 = r.given1 AND l.dob = r.dob",
)
ARRAY_COLUMNS = ("given_first_alts", "given_alts", "given_keys", "phones", "alias_keys", "address_tokens")
STRING_COLUMNS = ("source", "given1", "given_all", "given1_key", "paternal", "maternal", "paternal_key",
                  "maternal_key", "dob", "sex", "phone1", "national_id", "address", "address_key", "name_block",
                  "alias1", "given1_key_alt", "given1_known", "given2_initial", "generation")
INT_COLUMNS = ("dob_y", "dob_m", "dob_d")
# Kept beside each scored pair for the merge rule (`corroborated`, `conflict`).
RETAINED_COLUMNS = ("source", "given2_initial", "generation")

# Address levels "some words agree, given names agree" and above, on addresses of this many words.
STREET_ADDRESS_LEVEL = 4
DOB_EXACT_LEVEL = 6
DOB_UNLIKE_LEVEL = 0  # both known, unlike at every level above
NATIONAL_ID_EXACT_LEVEL = 2
NATIONAL_ID_ONE_EDIT_LEVEL = 1
ADDRESS_WORDS = 3

Progress = Callable[[str, int, int], None]


def _quiet_splink() -> None:
    logging.getLogger("splink").setLevel(logging.ERROR)


def settings(comparisons: Sequence[dict[str, Any]] | None = None,
             blocking_rules: Sequence[str | dict[str, Any]] | None = None) -> dict[str, Any]:
    """The Splink settings dictionary of the resolver (one table of every source, deduplicated)."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "comparisons": list(comparisons or resolver_comparisons()),
        "blocking_rules_to_generate_predictions": list(blocking_rules or BLOCKING_RULES),
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": True,
        "additional_columns_to_retain": list(RETAINED_COLUMNS),
        "max_iterations": 20,
        "em_convergence": 0.0001,
    }


def frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Rows of standardised columns as a typed frame (empty lists become nulls)."""
    df = pd.DataFrame(list(rows))
    for column in ARRAY_COLUMNS:
        if column in df:
            df[column] = df[column].map(lambda v: v if isinstance(v, list) and v else None)
    for column in STRING_COLUMNS:
        if column in df:
            df[column] = df[column].astype("object").where(df[column].notna(), None)
    for column in INT_COLUMNS:
        if column in df:
            df[column] = df[column].astype("Int64")
    df["unique_id"] = df["unique_id"].astype("int64")
    return df


@dataclass
class TrainedModel:
    """A trained model as Splink's JSON settings, so that it can be stored and used again."""

    settings_json: dict[str, Any]
    upper: float = UPPER_THRESHOLD
    lower: float = LOWER_THRESHOLD
    labels_used: int = 0
    notes: dict[str, Any] = field(default_factory=dict)

    def dumps(self) -> str:
        return json.dumps({"settings": self.settings_json, "upper": self.upper, "lower": self.lower,
                           "labels_used": self.labels_used, "notes": self.notes})

    @classmethod
    def loads(cls, text: str) -> TrainedModel:
        data = json.loads(text)
        return cls(data["settings"], data["upper"], data["lower"], data.get("labels_used", 0), data.get("notes", {}))


from splink.internals.exceptions import SplinkException  # noqa: E402


class Backend(Protocol):
    """Where Splink runs: DuckDB in this process (`DUCKDB`), or Spark (`tearline.resolve.spark`)."""

    def linker(self, df: pd.DataFrame, model_settings: dict[str, Any] | str) -> Any:
        """A Splink linker over `df`; `model_settings` is written in DuckDB's SQL, as `settings()` is."""
        ...

    def sql(self, rule: str) -> str:
        """A blocking or training rule written for DuckDB, in this backend's SQL."""
        ...

    def portable(self, saved: dict[str, Any], model_settings: dict[str, Any]) -> dict[str, Any]:
        """A model this backend trained, with `model_settings`' own (DuckDB) SQL: what the node keeps."""
        ...


class DuckDBBackend:
    """Splink on DuckDB, in this process: the default."""

    def linker(self, df: pd.DataFrame, model_settings: dict[str, Any] | str) -> Any:
        from splink import DuckDBAPI, Linker

        _quiet_splink()
        db_api = DuckDBAPI()
        table = db_api.register(df)
        return Linker(table, model_settings, log_level=None)

    def sql(self, rule: str) -> str:
        return rule

    def portable(self, saved: dict[str, Any], model_settings: dict[str, Any]) -> dict[str, Any]:
        return saved


DUCKDB = DuckDBBackend()


def _linker(df: pd.DataFrame, model_settings: dict[str, Any] | str) -> Any:
    return DUCKDB.linker(df, model_settings)


def train(df: pd.DataFrame, model_settings: dict[str, Any] | None = None, *, recall: float = 0.7,
          training_rules: Sequence[str] = TRAINING_RULES,
          deterministic_rules: Sequence[str] = DETERMINISTIC_RULES,
          seed: int = 1, u_pairs: float = 3e5, backend: Backend = DUCKDB) -> tuple[TrainedModel, Any]:
    """Train by EM on `df` (u by random sampling, the match prior from deterministic rules)."""
    model_settings = model_settings or settings()
    linker = backend.linker(df, model_settings)
    training = linker.training
    _estimate_prior(linker, [backend.sql(rule) for rule in deterministic_rules], recall)
    training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=seed, num_chunks=1)
    for rule in training_rules:
        # Splink refuses a block with no pairs (no maternal surnames anywhere), and an m that EM drives
        # to exactly zero (a level no match in the block shows) midway, its settings half changed:
        # such a session is undone, and the others train.
        backup = copy.deepcopy(linker._settings_obj)
        try:
            training.estimate_parameters_using_expectation_maximisation(
                backend.sql(rule), estimate_without_term_frequencies=True
            )
        except (SplinkException, ValueError):
            linker._settings_obj = backup
    # A refused EM session leaves Splink's switches as training set them: restore what predict needs.
    linker._settings_obj._retain_matching_columns = True
    linker._settings_obj._retain_intermediate_calculation_columns = True
    saved = backend.portable(linker.misc.save_model_to_json(), model_settings)
    saved["retain_matching_columns"] = saved["retain_intermediate_calculation_columns"] = True
    return TrainedModel(saved, notes={"tf": term_frequencies(df)}), linker


def _estimate_prior(linker: Any, rules: list[str], recall: float) -> None:
    """The match prior from the deterministic rules' pairs; with none of them (one agency's file
    already deduplicated, a tiny input) it keeps its default. Splink then sets it to 0 without a
    word, and every later match weight is log2(0): a math domain error."""
    default = linker._settings_obj._probability_two_random_records_match
    with contextlib.suppress(Exception):
        linker.training.estimate_probability_two_random_records_match(rules, recall=recall)
    if not 0 < linker._settings_obj._probability_two_random_records_match < 1:
        linker._settings_obj._probability_two_random_records_match = default


TF_COLUMNS = ("given_all", "given1", "paternal", "maternal")


def term_frequencies(df: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Each term-frequency column's value frequencies, kept with the model for incremental scoring."""
    out: dict[str, dict[str, float]] = {}
    for column in TF_COLUMNS:
        counts = df[column].dropna().value_counts(normalize=True)
        out[column] = {str(k): float(v) for k, v in counts.items()}
    return out


def predict(linker: Any, floor: float = PREDICT_FLOOR) -> pd.DataFrame:
    """Scored pairs at or above `floor`, with each comparison's level and Bayes factor."""
    result = linker.inference.predict(threshold_match_probability=floor, warning_mode="never")
    out: pd.DataFrame = result.as_pandas_dataframe()
    return out


class _Components:
    def __init__(self, ids: Sequence[int]) -> None:
        self.parent = {i: i for i in ids}

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass(frozen=True)
class Clustering:
    """Each record's entity (the smallest member id) and the probability of its strongest link."""

    entity_of: dict[int, int]
    best_link: dict[int, float]


def corroborated(pairs: pd.DataFrame) -> pd.Series[bool]:
    """Pairs with evidence beyond names, town and aliases (which relatives and namesakes share)."""
    out = pd.Series(False, index=pairs.index)
    for comparison, level in CORROBORATING_LEVELS.items():
        column = f"gamma_{comparison}"
        if column in pairs:
            agrees = pairs[column] >= level
            if comparison == "maternal":
                agrees &= (pairs["gamma_given"] >= MATERNAL_NEEDS_GIVEN_LEVEL) & (
                    pairs["gamma_paternal"] >= MATERNAL_NEEDS_PATERNAL_LEVEL)
            out |= agrees
    return out | _whole_name_but_one_letter(pairs) | _second_given_name(pairs) | _street_address(pairs)


def _street_address(pairs: pd.DataFrame) -> pd.Series[bool]:
    """A street address (not just a town) that agrees beside agreeing given names."""
    if "gamma_address" not in pairs or "address_l" not in pairs:
        return pd.Series(False, index=pairs.index)
    specific = (pairs["address_l"].str.split().str.len() >= ADDRESS_WORDS) & (
        pairs["address_r"].str.split().str.len() >= ADDRESS_WORDS)
    # A missing given name is no agreement here: household members share the address.
    named = pairs["gamma_given"] > 0 if "gamma_given" in pairs else True
    agrees: pd.Series[bool] = (pairs["gamma_address"] >= STREET_ADDRESS_LEVEL) & specific.fillna(False).astype(
        bool) & named
    return agrees


def _whole_name_but_one_letter(pairs: pd.DataFrame) -> pd.Series[bool]:
    """The whole name agrees but for one mistyped letter: in the maternal surname (Olias, Olivas)
    beside a given name that agrees as written, or in the given name (Javir, Javier) beside both
    surnames as written and an agreeing sex. Cousins differ in the maternal surname, and siblings
    in the given name by more than a letter (two names one letter apart, both known, are no typo)."""
    needed = ("gamma_given", "gamma_paternal", "gamma_maternal", "gamma_sex", "maternal_l", "maternal_r")
    if any(column not in pairs for column in needed):
        return pd.Series(False, index=pairs.index)
    paternal = pairs["gamma_paternal"] >= PATERNAL_AS_WRITTEN_LEVEL
    one_letter = pd.Series([isinstance(a, str) and isinstance(b, str) and one_edit(a, b)
                            for a, b in zip(pairs["maternal_l"], pairs["maternal_r"], strict=True)],
                           index=pairs.index, dtype=bool)
    maternal_typo = (pairs["gamma_maternal"] == MATERNAL_TYPO_LEVEL) & one_letter & (
        pairs["gamma_given"] >= GIVEN_AS_WRITTEN_LEVEL)
    given_typo = (pairs["gamma_maternal"] >= MATERNAL_AS_WRITTEN_LEVEL) & (
        pairs["gamma_given"] == GIVEN_TYPO_LEVEL) & (pairs["gamma_sex"] == SEX_AGREES_LEVEL)
    return paternal & (maternal_typo | given_typo)


def _second_given_name(pairs: pd.DataFrame) -> pd.Series[bool]:
    """The first given name and the paternal surname as written, and a second given name that
    agrees at least in its initial (Robert Eric, Robert E): as the maternal surname does, it tells
    a person from a namesake relative, who is named after the same grandparent by the first name."""
    needed = ("gamma_given", "gamma_paternal", "given2_initial_l", "given2_initial_r")
    if any(column not in pairs for column in needed):
        return pd.Series(False, index=pairs.index)
    same = (pairs["given2_initial_l"] == pairs["given2_initial_r"]).fillna(False).astype(bool)
    return same & (pairs["gamma_given"] >= GIVEN_AS_WRITTEN_LEVEL) & (
        pairs["gamma_paternal"] >= PATERNAL_AS_WRITTEN_LEVEL)


def mergeable(pairs: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Pairs that merge without an analyst: above the threshold and corroborated beyond names."""
    above = pairs[pairs["match_probability"] >= threshold]
    return above[corroborated(above) & ~conflict(above)]


def conflict(pairs: pd.DataFrame) -> pd.Series[bool]:
    """What no score overrules without an analyst (a differing national id is no such veto: ids are
    mistyped and reissued):
    - both maternal surnames known and unlike in every way: cousins, whatever else agrees, unless
      the date of birth and the national id both agree exactly;
    - both dates of birth known and unlike in every way (more than two years apart, and not the
      same day and month with a miskeyed year): a father and son who share a name, a family phone
      and a town, unless the national id agrees exactly. The node never even scores namesakes born
      that far apart (`incremental.YEARS_APART`); a shared phone must not merge them either. A
      national id that agrees, or is one typo away, overrules it: a date of birth is often
      miskeyed whole (FEBRL's corrupted records replace it), and relatives' ids differ in many places.
      So does a street address beside the given name (FEBRL's corrupted records keep it), unless a
      generational suffix stands on one side only: a "Jr" says a father of one name exists, and he
      shares the son's home;
    - generational suffixes that differ (JR and SR, hijo and padre, II and III): two persons,
      unless the date of birth and the national id both agree exactly.
    """
    proven = (pairs["gamma_dob"] == DOB_EXACT_LEVEL) & (pairs["gamma_national_id"] == NATIONAL_ID_EXACT_LEVEL)
    cousins = (pairs["gamma_maternal"] == 0) & ~proven
    same_id = pairs["gamma_national_id"] >= NATIONAL_ID_ONE_EDIT_LEVEL  # relatives' ids differ in many places
    differ, one_side = _generations(pairs)
    home = _street_address(pairs) & ~one_side
    born_apart = (pairs["gamma_dob"] == DOB_UNLIKE_LEVEL) & ~same_id & ~home
    return cousins | born_apart | (differ & ~proven)


def _generations(pairs: pd.DataFrame) -> tuple[pd.Series[bool], pd.Series[bool]]:
    """Pairs whose generational suffixes (JR, SR, II...) differ, and pairs with one on one side only."""
    if "generation_l" not in pairs or "generation_r" not in pairs:
        none = pd.Series(False, index=pairs.index)
        return none, none
    left, right = pairs["generation_l"].notna(), pairs["generation_r"].notna()
    differ: pd.Series[bool] = left & right & (pairs["generation_l"] != pairs["generation_r"])
    one_side: pd.Series[bool] = left ^ right
    return differ, one_side


def cluster(ids: Sequence[int], pairs: pd.DataFrame, threshold: float = UPPER_THRESHOLD, *,
            merge_rule: bool = True) -> Clustering:
    """Connected components over mergeable pairs (`merge_rule=False`: the threshold alone, for
    models without our comparisons, such as the plain baseline)."""
    components = _Components(ids)
    best: dict[int, float] = {}
    strong = mergeable(pairs, threshold) if merge_rule else pairs[pairs["match_probability"] >= threshold]
    for left, right, p in zip(strong["unique_id_l"], strong["unique_id_r"], strong["match_probability"],
                              strict=True):
        components.union(int(left), int(right))
        for side in (int(left), int(right)):
            best[side] = max(best.get(side, 0.0), float(p))
    return Clustering({i: components.find(i) for i in ids}, best)
