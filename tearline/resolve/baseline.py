"""The plain Splink configuration a typical user would write, for comparison in `tearline bench resolve`.

Names are lower-cased with accents stripped and split naively (the first word is the first name,
the rest the surname; "Surname, Given" is split at the comma); dates are parsed with each
source's format and phones put in E.164 (the same inputs our resolver gets), then Splink's
standard `NameComparison`, `DateOfBirthComparison` and an exact phone match, trained the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from tearline.resolve import model
from tearline.resolve.records import PersonRecord
from tearline.resolve.spanish_set import plain


def _naive_name(record: PersonRecord) -> tuple[str | None, str | None]:
    raw = record.raw
    given = raw.get("given_names", "").split()
    family = " ".join(x for x in (raw.get("paternal_surname"), raw.get("maternal_surname"), raw.get("surname")) if x)
    if not given and not family:
        full = raw.get("full_name", "")
        if "," in full:
            family, _, rest = full.partition(",")
            given = rest.split()
        else:
            words = full.split()
            given, family = words[:1], " ".join(words[1:])
    return (_clean(given[0]) if given else None), _clean(family)


def _clean(text: str) -> str | None:
    return " ".join(plain(text).lower().replace("-", " ").replace(",", " ").split()) or None


def baseline_frame(records: Sequence[PersonRecord]) -> pd.DataFrame:
    rows = []
    for i, record in enumerate(records):
        first, surname = _naive_name(record)
        rows.append({"unique_id": i, "first_name": first, "surname": surname,
                     "dob": record.dob.iso() if record.dob else None,
                     "phone": record.phones[0] if record.phones else None})
    return pd.DataFrame(rows)


def baseline_settings() -> dict[str, Any]:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.ExactMatch("phone"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "surname"),
            block_on("dob"),
            block_on("phone"),
            block_on("surname", "substr(dob, 1, 4)"),
        ],
        retain_intermediate_calculation_columns=False,
    ).create_settings_dict("duckdb")


def baseline_resolve(records: Sequence[PersonRecord], threshold: float = model.UPPER_THRESHOLD) -> list[int]:
    """Entity labels from the plain configuration (trained by EM on dob and on names)."""
    df = baseline_frame(records)
    linker = model._linker(df, baseline_settings())
    training = linker.training
    training.estimate_probability_two_random_records_match(
        ["l.first_name = r.first_name AND l.surname = r.surname AND l.dob = r.dob"], recall=0.7)
    training.estimate_u_using_random_sampling(max_pairs=3e5, seed=1, num_chunks=1)
    training.estimate_parameters_using_expectation_maximisation("l.dob = r.dob")
    training.estimate_parameters_using_expectation_maximisation("l.first_name = r.first_name AND l.surname = r.surname")
    pairs = model.predict(linker)
    clustering = model.cluster(list(range(len(records))), pairs, threshold, merge_rule=False)
    return [clustering.entity_of[i] for i in range(len(records))]
