"""The resolver on Splink's Spark backend (a local Spark session) answers as it does on DuckDB.

Spark needs Java 17+ and pyspark; `scripts/setup.sh dev` installs both, and these tests never skip.
"""

from __future__ import annotations

import csv
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from tearline.cli.main import app
from tearline.resolve import batch, bench, model
from tearline.resolve.spark import SparkBackend, spark_session, spark_settings, spark_sql
from tests.cli.support import TEARLINE, cli_env
from tests.resolve.test_cli_resolve import _write_inputs

DUCKDB_FUNCTIONS = re.compile(r"\b(list_\w+|string_split|jaro_winkler_similarity|len)\(")


def _sql(settings: Any) -> list[str]:
    """Every condition and rule of a settings dictionary, in order."""
    if isinstance(settings, dict):
        found = [v for k, v in settings.items() if k in ("sql_condition", "blocking_rule") and isinstance(v, str)]
        return found + [s for k, v in settings.items() if k not in ("sql_condition", "blocking_rule") for s in _sql(v)]
    if isinstance(settings, list):
        return [s for item in settings for s in ([item] if isinstance(item, str) else _sql(item))]
    return []


def test_every_condition_of_the_settings_is_rewritten_for_spark() -> None:
    written = _sql(model.settings())
    assert any(DUCKDB_FUNCTIONS.search(sql) for sql in written)  # there is something to rewrite
    rewritten = _sql(spark_settings(model.settings()))
    assert len(rewritten) == len(written)
    assert not [sql for sql in rewritten if DUCKDB_FUNCTIONS.search(sql)]
    assert spark_sql("len(list_intersect(a_l, a_r)) / len(list_distinct(list_concat(a_l, a_r))) >= 0.6") == (
        "size(array_intersect(a_l, a_r)) / size(array_distinct(concat(a_l, a_r))) >= 0.6"
    )
    assert spark_sql("length(given1_l) >= 4") == "length(given1_l) >= 4"  # a string's length stays


def test_a_duckdb_function_without_a_spark_rewrite_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"list_reverse\(\)"):
        spark_sql("list_reverse(phones_l) = phones_r")


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkBackend]:
    session = spark_session("local[2]")
    yield SparkBackend(session)
    session.stop()


@pytest.fixture(scope="module")
def dataset() -> bench.Dataset:
    return bench.spanish(families=40, seed=11)


def _pairs(frame: pd.DataFrame) -> pd.DataFrame:
    gammas = [c for c in frame.columns if c.startswith("gamma_")]
    return frame.set_index(["unique_id_l", "unique_id_r"])[["match_probability", *gammas]].sort_index()


def test_spark_scores_every_pair_as_duckdb_does_with_the_same_model(
    spark: SparkBackend, dataset: bench.Dataset
) -> None:
    df = batch.standardise(dataset.records)
    trained, linker = model.train(df)
    ours = _pairs(model.predict(linker))
    theirs = _pairs(model.predict(spark.linker(df, trained.settings_json)))
    assert len(ours) > 50
    assert list(ours.index) == list(theirs.index)  # the same blocked pairs, above the same floor
    gammas = [c for c in ours.columns if c.startswith("gamma_")]
    assert (ours[gammas].to_numpy() == theirs[gammas].to_numpy()).all()  # every comparison level alike
    assert (ours["match_probability"] - theirs["match_probability"]).abs().max() < 1e-9


def test_resolving_on_spark_gives_duckdbs_entities_and_keeps_a_duckdb_model(
    spark: SparkBackend, dataset: bench.Dataset
) -> None:
    on_duckdb = batch.resolve(dataset.records)
    on_spark = batch.resolve(dataset.records, backend=spark)

    def partition(resolution: batch.Resolution) -> set[frozenset[str]]:
        groups: dict[str, set[str]] = {}
        for record_id, entity, _ in resolution.rows():
            groups.setdefault(entity, set()).add(record_id)
        return {frozenset(g) for g in groups.values()}

    assert partition(on_spark) == partition(on_duckdb)
    assert len(partition(on_spark)) < len(dataset.records)  # some records merged
    kept = on_spark.trained.settings_json
    assert kept["sql_dialect"] == "duckdb"
    assert _sql(kept) == _sql(on_duckdb.trained.settings_json)  # the node's scorer reads DuckDB's SQL


def test_the_cli_resolves_on_spark_as_on_duckdb(spark: SparkBackend, tmp_path: Path) -> None:
    """In this process, so that the command joins the module's session instead of starting a JVM."""
    args = _write_inputs(tmp_path)
    outputs = {}
    for name, extra in (("duckdb", []), ("spark", ["--spark-master", "local[2]"])):
        out = tmp_path / f"{name}.csv"
        result = CliRunner().invoke(app, ["resolve", *args, "--out", str(out), *extra])
        assert result.exit_code == 0, result.output
        with out.open(encoding="utf-8") as handle:
            outputs[name] = sorted((r["record_id"], r["entity_id"]) for r in csv.DictReader(handle))
    assert outputs["spark"] == outputs["duckdb"]
    assert len({entity for _, entity in outputs["spark"]}) < len(outputs["spark"])  # some records merged


def test_without_java_the_cli_says_what_spark_needs(tmp_path: Path) -> None:
    """The real executable, in a process of its own, with JAVA_HOME pointing nowhere."""
    args = _write_inputs(tmp_path)
    env = {**cli_env(), "JAVA_HOME": str(tmp_path / "no-java")}
    result = subprocess.run(
        [TEARLINE, "resolve", *args, "--out", str(tmp_path / "c.csv"), "--spark-master", "local[1]"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    said = " ".join(result.stderr.split())
    assert "--spark-master: Spark did not start at local[1]" in said and "Java 17 or later" in said
    assert not (tmp_path / "c.csv").exists()
