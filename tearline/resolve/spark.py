"""The resolver on Splink's Spark backend, for a batch that outgrows one machine.

The model, its training, the merge rule and the clustering are the DuckDB route's
(`tearline.resolve.model`). Only the SQL differs: Splink runs a settings dictionary's conditions
as written, and ours are written for DuckDB, so they are rewritten here function by function.
sqlglot's own DuckDB-to-Spark transpilation gets the list functions wrong, so it is not used.
The string similarities come from the jar Splink ships for Spark, which `SparkAPI` registers.

Spark needs Java 17 or later and `pip install 'tearline[spark]'` (pyspark). `spark_session`
starts a local one (`local[N]`) or joins a cluster (`spark://HOST:PORT`).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from tearline.errors import InvalidInput, Problem
from tearline.resolve.model import _quiet_splink

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# DuckDB function -> Spark SQL function, with the same arguments and the same answers on our data.
SPARK_FUNCTIONS = {
    "jaro_winkler_similarity": "jaro_winkler",  # Splink's jar (JaroWinklerSimilarity)
    "damerau_levenshtein": "damerau_levenshtein",  # Splink's jar (LevDamerauDistance)
    "list_has_any": "arrays_overlap",
    "list_intersect": "array_intersect",
    "list_distinct": "array_distinct",
    "list_concat": "concat",
    "string_split": "split",  # Spark splits on a regular expression: our separator is a plain space
    "len": "size",  # of a list, as every `len` in our settings is
}
_CALL = re.compile(r"\b(" + "|".join(SPARK_FUNCTIONS) + r")\(")
# Functions of DuckDB's that no rewrite above covers: a condition holding one would fail on Spark.
_DUCKDB_ONLY = re.compile(r"\b(list_\w+|string_split|jaro_winkler_similarity|array_length|strlen)\(")
_SQL_KEYS = ("sql_condition", "blocking_rule")
LOCAL_SHUFFLE_PARTITIONS = 8


def spark_sql(sql: str) -> str:
    """One condition or rule written for DuckDB, in Spark SQL."""
    rewritten = _CALL.sub(lambda call: SPARK_FUNCTIONS[call.group(1)] + "(", sql)
    left = _DUCKDB_ONLY.search(rewritten)
    if left:
        raise ValueError(f"no Spark SQL for DuckDB's {left.group(1)}() in: {sql}")
    return rewritten


def spark_settings(settings: Any) -> Any:
    """A Splink settings dictionary (or any part of one) with every condition and rule in Spark SQL."""
    if isinstance(settings, Mapping):
        return {
            key: spark_sql(value) if key in _SQL_KEYS and isinstance(value, str) else spark_settings(value)
            for key, value in settings.items()
        }
    if isinstance(settings, list):
        # Blocking rules may be plain strings in the settings' list of rules.
        return [spark_sql(item) if isinstance(item, str) else spark_settings(item) for item in settings]
    return settings


def duckdb_sql_of(saved: dict[str, Any], model_settings: Mapping[str, Any]) -> dict[str, Any]:
    """A model trained on Spark, with the DuckDB conditions it was trained from, level by level.

    Training changes only the levels' m and u probabilities and term-frequency tables; the
    conditions and rules stay where they were, so each is put back at its place.
    """
    kept = dict(saved)
    comparisons = []
    for trained, written in zip(saved["comparisons"], model_settings["comparisons"], strict=True):
        levels = [
            {**level, "sql_condition": original["sql_condition"]}
            for level, original in zip(trained["comparison_levels"], written["comparison_levels"], strict=True)
        ]
        comparisons.append({**trained, "comparison_levels": levels})
    rules = []
    for rule, written in zip(
        saved["blocking_rules_to_generate_predictions"],
        model_settings["blocking_rules_to_generate_predictions"],
        strict=True,
    ):
        text = written if isinstance(written, str) else written["blocking_rule"]
        rules.append({**rule, "blocking_rule": text, "sql_dialect": "duckdb"})
    kept.update(comparisons=comparisons, blocking_rules_to_generate_predictions=rules, sql_dialect="duckdb")
    return kept


def spark_session(master: str) -> SparkSession:
    """A Spark session at `master` (`local[2]`, `spark://HOST:PORT`) with Splink's similarity jar.

    ANSI mode is off, as DuckDB is: a share of words in common over no words at all is NULL (no
    level), where ANSI Spark would stop the whole job at the division.
    """
    try:
        from pyspark.sql import SparkSession
        from splink.internals.spark.jar_location import similarity_jar_location
    except ImportError as missing:
        raise InvalidInput(
            Problem("--spark-master", f"Spark is not installed ({missing.name}): pip install 'tearline[spark]'")
        ) from missing
    builder = SparkSession.builder.master(master).appName("tearline-resolve")
    if master.startswith("local"):
        # One machine: Spark's default of 200 shuffle partitions makes hundreds of tiny tasks per
        # join, which cost more than the join itself. A cluster keeps its own setting.
        builder = builder.config("spark.sql.shuffle.partitions", str(LOCAL_SHUFFLE_PARTITIONS))
    builder = (
        builder.config("spark.jars", similarity_jar_location())
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    try:
        session = builder.getOrCreate()
    except Exception as failed:  # pyspark's own errors: no Java, a JVM that would not start
        reason = f"Spark did not start at {master}: {failed} Spark needs Java 17 or later (JAVA_HOME, or java on PATH)"
        raise InvalidInput(Problem("--spark-master", reason)) from failed
    session.sparkContext.setLogLevel("ERROR")
    session.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="tearline-spark-"))
    return session


class SparkBackend:
    """`tearline.resolve.model.Backend` on a Spark session: the settings' SQL rewritten for Spark."""

    def __init__(self, session: SparkSession) -> None:
        self.session = session

    def linker(self, df: pd.DataFrame, model_settings: dict[str, Any] | str) -> Any:
        from splink import Linker, SparkAPI

        _quiet_splink()
        api = SparkAPI(spark_session=self.session)  # type: ignore[no-untyped-call]  # Splink leaves it untyped
        table = api.register(self.session.createDataFrame(df))
        written = spark_settings(model_settings) if isinstance(model_settings, dict) else model_settings
        return Linker(table, written, log_level=None)

    def sql(self, rule: str) -> str:
        return spark_sql(rule)

    def portable(self, saved: dict[str, Any], model_settings: dict[str, Any]) -> dict[str, Any]:
        return duckdb_sql_of(saved, model_settings)
