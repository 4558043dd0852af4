"""Scoring chosen pairs with a kept model, fast enough for records as they arrive.

Splink builds the SQL of its model once (comparison vectors, match weights, term-frequency
adjustments); each call then runs that one statement on DuckDB over the new records, the
candidates and the pairs to score. `tests/resolve/test_incremental.py` holds it to Splink's own
`score_pairs`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from tearline.resolve import model


def with_term_frequencies(df: pd.DataFrame, tf: dict[str, dict[str, float]]) -> pd.DataFrame:
    """Add the `tf_*` columns the model's adjustments read; unseen values count as the rarest seen."""
    out = df.copy()
    for column, table in tf.items():
        floor = min(table.values()) if table else 1.0
        out[f"tf_{column}"] = [None if v is None else table.get(v, floor) for v in out[column]]
    return out


class PairScorer:
    """The model as one DuckDB statement over tables `lrec`, `rrec` and `cand` (columns l, r)."""

    def __init__(self, trained: model.TrainedModel) -> None:
        from splink import DuckDBAPI, Linker
        from splink.internals.predict import predict_from_comparison_vectors_sqls_using_settings

        model._quiet_splink()
        self.tf: dict[str, dict[str, float]] = trained.notes.get("tf", {})
        seed = with_term_frequencies(model.frame([_empty_row()]), self.tf)
        # The merge rule's columns are kept beside each pair, even by a model trained before one was added.
        retained = trained.settings_json.get("additional_columns_to_retain", [])
        settings_json = {**trained.settings_json,
                         "additional_columns_to_retain": [*retained, *(c for c in model.RETAINED_COLUMNS
                                                                      if c not in retained)]}
        linker = Linker(DuckDBAPI().register(seed), settings_json, log_level=None)
        settings = linker._settings_obj  # Splink's own SQL for this model, built once
        settings._retain_matching_columns = True
        settings._retain_intermediate_calculation_columns = True
        blocking = ", ".join(settings._columns_to_select_for_blocking)
        vectors = ", ".join(settings._columns_to_select_for_comparison_vector_values)
        steps = [
            ("__splink__compare_two_records_blocked",
             f"select {blocking}, 0 as match_key from cand c join lrec as l on l.unique_id = c.l "
             "join rrec as r on r.unique_id = c.r"),
            ("__splink__df_comparison_vectors", f"select {vectors} from __splink__compare_two_records_blocked"),
        ]
        steps += [(s["output_table_name"], s["sql"]) for s in predict_from_comparison_vectors_sqls_using_settings(
            settings)]
        self.sql = "WITH " + ",\n".join(f"{name} AS ({body})" for name, body in steps[:-1]) + "\n" + steps[-1][1]
        self.comparisons = trained.settings_json["comparisons"]
        self._lock = threading.Lock()
        self._con = duckdb.connect()
        # Parsed once as a view over the three tables, which each call replaces.
        self._con.register("lrec", seed)
        self._con.register("rrec", seed)
        self._con.register("cand", pd.DataFrame({"l": [0], "r": [0]}))
        self._con.execute(f"CREATE TEMP VIEW scored AS {self.sql}")

    def score(self, left: pd.DataFrame, right: pd.DataFrame, pairs: Sequence[tuple[int, int]],
              floor: float | None = None) -> pd.DataFrame:
        """Scored pairs (left unique_id, right unique_id), with each comparison's level and weight;
        only those at or above `floor` when given (the rest are not even brought back)."""
        if not pairs:
            return pd.DataFrame(columns=["unique_id_l", "unique_id_r", "match_probability", "match_weight"])
        # Arrow with a declared schema: DuckDB reads it without inspecting Python objects, a third
        # of the scoring time on lists of names and phones.
        lrec = _arrow(with_term_frequencies(left, self.tf))
        rrec = lrec if right is left else _arrow(with_term_frequencies(right, self.tf))
        return self._run(lrec, rrec, pairs, floor)

    def score_records(self, records: Sequence[dict[str, Any]], pairs: Sequence[tuple[int, int]],
                      floor: float | None = None) -> pd.DataFrame:
        """As `score`, pairs within one set of standardised rows (each with its `unique_id`), built
        straight into Arrow: no frame on the way (building it was a tenth of incremental matching)."""
        if not pairs:
            return pd.DataFrame(columns=["unique_id_l", "unique_id_r", "match_probability", "match_weight"])
        table = self._records_table(records)
        return self._run(table, table, pairs, floor)

    def _records_table(self, records: Sequence[dict[str, Any]]) -> pa.Table:
        columns: dict[str, pa.Array] = {}
        for name, kind in _TYPES.items():
            values = [r.get(name) for r in records]
            if name in model.ARRAY_COLUMNS:
                values = [v if v else None for v in values]  # an empty list is a missing value
            columns[name] = pa.array(values, kind)
        for name, table in self.tf.items():
            floor = min(table.values()) if table else 1.0
            columns[f"tf_{name}"] = pa.array(
                [None if (v := r.get(name)) is None else table.get(v, floor) for r in records], pa.float64())
        return pa.table(columns)

    def _run(self, lrec: pa.Table, rrec: pa.Table, pairs: Sequence[tuple[int, int]],
             floor: float | None) -> pd.DataFrame:
        cand = pa.table({"l": pa.array([a for a, _ in pairs], pa.int64()),
                         "r": pa.array([b for _, b in pairs], pa.int64())})
        where = "" if floor is None else f" WHERE match_probability >= {float(floor)!r}"
        with self._lock:  # one connection; DuckDB registrations are per connection
            self._con.register("lrec", lrec)
            self._con.register("rrec", rrec)
            self._con.register("cand", cand)
            out: pd.DataFrame = self._con.execute(f"SELECT * FROM scored{where}").df()
        return out

    def explain(self, row: Any) -> list[dict[str, Any]]:
        """Each comparison's level and match weight (log2 Bayes factor, with term frequencies)."""
        out = []
        for comparison in self.comparisons:
            name = comparison["output_column_name"]
            gamma = int(row[f"gamma_{name}"])
            levels = [lvl for lvl in comparison["comparison_levels"] if not lvl.get("is_null_level")]
            label = "missing" if gamma < 0 else levels[len(levels) - 1 - gamma]["label_for_charts"]
            weight = float(row.get(f"mw_{name}", 0.0) or 0.0) + float(row.get(f"mw_tf_adj_{name}", 0.0) or 0.0)
            out.append({"comparison": name, "level": label, "match_weight": round(weight, 3)})
        sides = [row.get(f"generation_{side}") for side in "lr"]
        if any(isinstance(s, str) for s in sides):  # a suffix weighs nothing, but may hold a merge back
            level = " / ".join(s if isinstance(s, str) else "none" for s in sides)
            out.append({"comparison": "generation", "level": level, "match_weight": 0.0})
        return out


_TYPES: dict[str, pa.DataType] = {
    **dict.fromkeys(model.ARRAY_COLUMNS, pa.list_(pa.string())),
    **dict.fromkeys(model.STRING_COLUMNS, pa.string()),
    **dict.fromkeys((*model.INT_COLUMNS, "unique_id"), pa.int64()),
}


def _arrow(df: pd.DataFrame) -> pa.Table:
    """The frame as Arrow, each known column with its type (a column of nulls stays typed)."""
    fields = [pa.field(c, _TYPES.get(c, pa.float64() if c.startswith("tf_") else pa.string())) for c in df.columns]
    return pa.Table.from_pandas(df, schema=pa.schema(fields), preserve_index=False)


def _empty_row() -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys((*model.STRING_COLUMNS, *model.INT_COLUMNS, *model.ARRAY_COLUMNS))
    row["unique_id"] = 0
    row["given_first_alts"] = row["given_alts"] = row["given_keys"] = ["X"]
    row["phones"] = row["alias_keys"] = row["address_tokens"] = ["X"]
    row["given1"] = row["paternal"] = "X"
    row["dob_y"] = row["dob_m"] = row["dob_d"] = 1
    return row
