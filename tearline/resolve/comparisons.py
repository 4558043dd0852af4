"""The comparisons of the resolver's Fellegi-Sunter model, one per name component and attribute.

Each level is SQL over the standardised columns, in DuckDB's dialect (docs/resolve.md: Spark).
A missing value is a null level, never a disagreement: a US record without a maternal surname says
nothing against a Mexican record that has one.
"""

from __future__ import annotations

from typing import Any

Level = dict[str, Any]

# Given name and surname written in each other's fields, each within a typo.
SWAPPED = ("jaro_winkler_similarity(given1_l, paternal_r) >= 0.88"
           " AND jaro_winkler_similarity(paternal_l, given1_r) >= 0.88")

# A shared second name (Carlos in "Antonio Carlos" and "José Carlos", brothers) is no agreement
# unless one side has a single given name ("José Luis" and "Luis").
COMPOUND_AGREE = ("list_has_any(given_alts_l, given_alts_r) AND (len(string_split(given_all_l, ' ')) = 1"
                  " OR len(string_split(given_all_r, ' ')) = 1)")
# Within a typo, length-bounded (Rosa and Rosario are two names), and not two known names. One edit
# counts too: Jaro-Winkler forgives little near the start of a word (Araceli, Areceli: 0.879).
GIVEN_TYPO = ("(jaro_winkler_similarity(given1_l, given1_r) >= 0.88 OR (damerau_levenshtein(given1_l, given1_r) <= 1"
              " AND length(given1_l) >= 4 AND length(given1_r) >= 4))"
              " AND abs(length(given1_l) - length(given1_r)) <= 2"
              " AND (given1_known_l IS NULL OR given1_known_r IS NULL)")
# The given names agree in some way (nickname, compound, typo, swapped fields) or one side has none.
GIVEN_AGREE = ("given1_l IS NULL OR given1_r IS NULL OR list_has_any(given_first_alts_l, given_first_alts_r)"
               f" OR ({COMPOUND_AGREE})"
               f" OR ({GIVEN_TYPO}) OR ({SWAPPED})")


def _typo(column: str) -> str:
    left, right = f"{column}_l", f"{column}_r"
    return f"jaro_winkler_similarity({left}, {right}) >= 0.88 OR damerau_levenshtein({left}, {right}) <= 1"


def _null(*columns: str) -> Level:
    sides = " OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in columns)
    return {"sql_condition": sides, "label_for_charts": "missing", "is_null_level": True}


def _level(sql: str, label: str, tf: str | None = None, **fixed: Any) -> Level:
    level: Level = {"sql_condition": sql, "label_for_charts": label}
    if tf:
        level["tf_adjustment_column"] = tf
        level["tf_adjustment_weight"] = 1.0
    level.update(fixed)
    return level


NEUTRAL: dict[str, Any] = {"m_probability": 0.01, "u_probability": 0.01, "fix_m_probability": True,
                           "fix_u_probability": True}


def _else(**fixed: Any) -> Level:
    return {"sql_condition": "ELSE", "label_for_charts": "all other", **fixed}


def _comparison(name: str, description: str, levels: list[Level]) -> dict[str, Any]:
    return {"output_column_name": name, "comparison_description": description, "comparison_levels": levels}


def given_names() -> dict[str, Any]:
    return _comparison("given", "given names, nickname-aware", [
        _null("given1"),
        _level("given_all_l = given_all_r", "all given names agree", tf="given_all"),
        _level("given1_l = given1_r", "first given name agrees", tf="given1"),
        _level("list_has_any(given_first_alts_l, given_first_alts_r)", "first given name agrees as a nickname"),
        _level(COMPOUND_AGREE, "a given name agrees (compound names)"),
        _level("list_has_any(given_keys_l, given_keys_r)", "a given name sounds alike"),
        _level(GIVEN_TYPO, "first given name within a typo"),
        _level(SWAPPED, "agrees with the other's surname (fields swapped)"),
        _level("given1_l = paternal_r OR paternal_l = given1_r", "one side's given name is the other's surname"),
        _else(),
    ])


def paternal() -> dict[str, Any]:
    return _comparison("paternal", "paternal (first) surname", [
        _null("paternal"),
        _level("paternal_l = paternal_r", "exact", tf="paternal"),
        _level("paternal_key_l = paternal_key_r", "sounds alike"),
        _level(_typo("paternal"), "within a typo"),
        _level("paternal_key_l = maternal_key_r OR maternal_key_l = paternal_key_r",
               "agrees with the other's maternal surname"),
        # The swap is weighed once, by the given-name comparison: neutral here.
        _level(SWAPPED, "fields swapped (weighed under given names)", **NEUTRAL),
        _else(),
    ])


def maternal() -> dict[str, Any]:
    return _comparison("maternal", "maternal (second) surname; missing is null", [
        _null("maternal"),
        _level("maternal_l = maternal_r", "exact", tf="maternal"),
        _level("maternal_key_l = maternal_key_r", "sounds alike"),
        _level(_typo("maternal"), "within a typo"),
        _level("maternal_key_l = paternal_key_r OR paternal_key_l = maternal_key_r",
               "agrees with the other's paternal surname"),
        _else(),
    ])


def date_of_birth() -> dict[str, Any]:
    both_full = "dob_m_l IS NOT NULL AND dob_m_r IS NOT NULL"
    return _comparison("dob", "date of birth across MM/DD and DD/MM", [
        _null("dob_y"),
        _level(f"{both_full} AND dob_l = dob_r", "exact"),
        _level(f"{both_full} AND dob_y_l = dob_y_r AND dob_m_l = dob_d_r AND dob_d_l = dob_m_r",
               "day and month swapped"),
        # A year miskeyed: relatives rarely share a birthday, so this is weighed apart from a
        # differing day or month in the same year (siblings a year apart can share a month).
        _level(f"{both_full} AND dob_m_l = dob_m_r AND dob_d_l = dob_d_r AND abs(dob_y_l - dob_y_r) <= 10",
               "day and month agree, year differs"),
        _level(f"{both_full} AND dob_y_l = dob_y_r AND (dob_m_l = dob_m_r OR dob_d_l = dob_d_r)",
               "one part differs"),
        _level("(dob_m_l IS NULL OR dob_m_r IS NULL) AND dob_y_l = dob_y_r", "only the year known; agrees"),
        _level("abs(dob_y_l - dob_y_r) <= 2", "within two years"),
        _else(),
    ])


def phones() -> dict[str, Any]:
    # Relatives share a family phone: a shared number is strong evidence only beside agreeing given
    # names, so the two cases are separate levels (their weights are learned apart).
    shared = "list_has_any(phones_l, phones_r)"
    return _comparison("phone", "phones in E.164, apart for relatives", [
        _null("phones"),
        _level(f"{shared} AND ({GIVEN_AGREE})", "a phone in common, given names agree"),
        _level(shared, "a phone in common, given names differ (a family phone)"),
        _else(),
    ])


def national_id() -> dict[str, Any]:
    return _comparison("national_id", "national id (CURP, SSN, SIN...)", [
        _null("national_id"),
        _level("national_id_l = national_id_r", "exact"),
        _level("damerau_levenshtein(national_id_l, national_id_r) <= 1", "one edit"),
        _else(),
    ])


def aliases() -> dict[str, Any]:
    # Fixed, weak weights: an "El …" alias corroborates a name match and never links on its own
    # (2.3 bits for agreement; disagreement says nothing, since agencies know different aliases).
    return _comparison("alias", "aliases (weak, fixed weights)", [
        _null("alias_keys"),
        _level("list_has_any(alias_keys_l, alias_keys_r)", "an alias in common",
               m_probability=0.25, u_probability=0.05, fix_m_probability=True, fix_u_probability=True),
        _else(m_probability=0.75, u_probability=0.75, fix_m_probability=True, fix_u_probability=True),
    ])


def sex() -> dict[str, Any]:
    # m is fixed: EM drives the disagreement level to zero, which would make a miskeyed sex veto a
    # match; about one record in fifty has it wrong.
    return _comparison("sex", "sex (m fixed)", [
        _null("sex"),
        _level("sex_l = sex_r", "agrees", m_probability=0.98, fix_m_probability=True),
        _else(m_probability=0.02, fix_m_probability=True),
    ])


def address() -> dict[str, Any]:
    # A home town, and often a home, is shared by a whole family: agreement beside different given
    # names is weighed apart, and a street address apart from a town.
    overlap = ("len(list_intersect(address_tokens_l, address_tokens_r))"
               " / len(list_distinct(list_concat(address_tokens_l, address_tokens_r)))")
    most = f"({overlap} >= 0.6 OR jaro_winkler_similarity(address_l, address_r) >= 0.92)"
    street = "len(address_tokens_l) >= 3 AND len(address_tokens_r) >= 3"
    return _comparison("address", "address or home town, apart for relatives", [
        _null("address"),
        _level(f"address_l = address_r AND ({GIVEN_AGREE})", "exact, given names agree"),
        _level(f"{most} AND ({GIVEN_AGREE})", "most words agree, given names agree"),
        _level(f"{overlap} >= 0.3 AND ({GIVEN_AGREE})", "some words agree, given names agree"),
        # A street address beside different given names is learned (FEBRL's records replace given
        # names; a census has households). A town is shared by a whole family: neutral, so that EM
        # cannot learn it as a match from blocks where relatives look alike.
        _level(f"{most} AND {street}", "a street address agrees, given names differ"),
        _level(most, "a town or short address agrees, given names differ (a family home)", **NEUTRAL),
        _level("jaro_winkler_similarity(address_l, address_r) >= 0.8", "similar text (typos, run-together words)"),
        _else(),
    ])


def resolver_comparisons() -> list[dict[str, Any]]:
    return [given_names(), paternal(), maternal(), date_of_birth(), phones(), national_id(), aliases(), sex(),
            address()]


BLOCKING_RULES: list[str | dict[str, Any]] = [
    "l.paternal_key = r.paternal_key AND l.given1_key = r.given1_key",
    {"blocking_rule": "l.paternal_key = r.paternal_key AND l.given_first_alts = r.given_first_alts",
     "arrays_to_explode": ["given_first_alts"]},
    "l.paternal_key = r.maternal_key AND l.given1_key = r.given1_key",
    "l.maternal_key = r.paternal_key AND l.given1_key = r.given1_key",
    "l.paternal_key = r.paternal_key AND l.maternal_key = r.maternal_key",
    "l.dob_y = r.dob_y AND l.dob_m = r.dob_m AND l.dob_d = r.dob_d",
    "l.dob_y = r.dob_y AND l.dob_m = r.dob_d AND l.dob_d = r.dob_m",
    {"blocking_rule": "l.phones = r.phones", "arrays_to_explode": ["phones"]},
    "l.national_id = r.national_id",
    "l.given1_key = r.given1_key AND l.dob_y = r.dob_y",
    "l.given1_key = r.paternal_key",
    "l.paternal_key = r.given1_key",
    "l.paternal_key = r.paternal_key AND l.given1_key_alt = r.given1_key_alt",
    "l.given1_key = r.given1_key AND substr(l.paternal_key, 1, 3) = substr(r.paternal_key, 1, 3)",
    "l.address_key = r.address_key AND l.given1_key = r.given1_key",
    "l.address_key = r.address_key AND l.paternal_key = r.paternal_key",
    # a national id with one wrong character still shares its first or its last half
    "substr(l.national_id, 1, 4) = substr(r.national_id, 1, 4)",
    "substr(l.national_id, -3) = substr(r.national_id, -3) AND l.dob_y = r.dob_y",
    "l.paternal_key = r.paternal_key AND l.dob_y = r.dob_y",
    "l.address = r.address AND l.given1_key = r.given1_key",
]


# Levels (numbered from "all other" = 0 upwards) that corroborate a name match with evidence that
# relatives and namesakes do not share: a date of birth, a personal phone, an id, the maternal
# surname (a street address beside agreeing given names is added in `model.corroborated`).
CORROBORATING_LEVELS: dict[str, int] = {"dob": 3, "phone": 2, "national_id": 1, "maternal": 3}
# The maternal surname (as written or sounding alike) corroborates only beside a paternal surname
# that agrees and a given name that agrees as written or as a nickname: siblings share it, and a
# shared second name or a near spelling is how they look alike.
MATERNAL_NEEDS_GIVEN_LEVEL = 6
MATERNAL_NEEDS_PATERNAL_LEVEL = 3
# Levels of a name that agrees but for one mistyped letter (`model.corroborated`).
GIVEN_AS_WRITTEN_LEVEL = 7  # the first given name agrees as written, or all of them
GIVEN_TYPO_LEVEL = 3
PATERNAL_AS_WRITTEN_LEVEL = 4  # exact or sounding alike
MATERNAL_AS_WRITTEN_LEVEL = 4
MATERNAL_TYPO_LEVEL = 2
SEX_AGREES_LEVEL = 1
