"""A person record in canonical fields, and the row of standardised columns the model compares."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tearline.ingest.phones import normalise_phone
from tearline.resolve.dates import BirthDate
from tearline.resolve.names import PersonName, fold, name_keys, parse_name
from tearline.resolve.nicknames import GIVEN_NAMES
from tearline.resolve.phonetic import phonetic_key

CANONICAL_FIELDS: tuple[str, ...] = (
    "record_id",
    "full_name",
    "given_names",
    "paternal_surname",
    "maternal_surname",
    "surname",
    "dob",
    "sex",
    "aliases",
    "phones",
    "national_id",
    "address",
)
_LIST_SPLIT = re.compile(r"[;,|/]")
_ID_CHARS = re.compile(r"[^A-Z0-9]")
_NOT_ADDRESS = re.compile(r"[^A-Z0-9 ]")
# A CURP: four letters of the name, the date of birth YYMMDD, sex (H/M), state, three consonants,
# then a digit for births before 2000 or a letter after, and a check digit.
_CURP = re.compile(r"^[A-Z]{4}(\d{2})(\d{2})(\d{2})([HM])[A-Z]{5}([A-Z0-9])\d$")
_SEX = {"M": "M", "MALE": "M", "H": "M", "HOMBRE": "M", "MASCULINO": "M", "F": "F", "FEMALE": "F",
        "MUJER": "F", "FEMENINO": "F", "W": "F"}
# A source's one-letter sex codes: M/F is the English convention (M male, F female), H/M the Mexican
# one (H hombre, M mujer): "M" means opposite things in the two.
SEX_CODES: dict[str, dict[str, str]] = {"M/F": {"M": "M", "F": "F"}, "H/M": {"H": "M", "M": "F"}}
DEFAULT_SEX_CODES = "M/F"
_SEX_WORDS = {"MALE": "M", "MAN": "M", "HOMBRE": "M", "MASCULINO": "M", "VARON": "M", "HOMME": "M", "MASCULIN": "M",
              "FEMALE": "F", "WOMAN": "F", "W": "F", "MUJER": "F", "FEMENINO": "F", "FEMME": "F", "FEMININ": "F"}
# Values that say the sex is not known: kept as no sex, never refused.
_SEX_UNKNOWN = {"", "U", "X", "UNKNOWN", "UNK", "NA", "ND", "NONE", "NULL", "DESCONOCIDO", "DESCONOCIDA",
                "NOESPECIFICADO", "NOESPECIFICADA", "SD", "INCONNU"}
_NOT_SEX = re.compile(r"[^A-Z0-9]")


@dataclass(frozen=True)
class PersonRecord:
    """One source's record of a person, standardised."""

    record_id: str
    source: str
    name: PersonName
    dob: BirthDate | None = None
    sex: str | None = None
    phones: tuple[str, ...] = ()
    national_id: str | None = None
    address: str | None = None
    raw: Mapping[str, str] = field(default_factory=dict, compare=False)


def normalise_phones(value: str, region: str) -> tuple[str, ...]:
    """Every phone in a list field, in E.164 where it parses; digits only where it does not."""
    out: list[str] = []
    for part in _LIST_SPLIT.split(value):
        if not part.strip():
            continue
        number, problem = normalise_phone(part, region)
        out.append(re.sub(r"\D", "", number) if problem else number)
    return tuple(dict.fromkeys(p for p in out if p))


def normalise_sex(value: str, codes: str | None = None) -> str | None:
    """M, F or None. Without `codes` (free text, as a STIX person's), any known code or word; with a
    source's convention (SEX_CODES), as read_sex reads it, and None where read_sex would refuse."""
    if codes is None:
        return _SEX.get(fold(value).replace(" ", ""))
    try:
        return read_sex(value, codes)
    except ValueError:
        return None


def read_sex(value: str, codes: str = DEFAULT_SEX_CODES) -> str | None:
    """M, F, or None for a value that says the sex is unknown; ValueError with the reason otherwise.

    Words (male, hombre, mujer, femme...) are read in any convention; one letter by the source's."""
    decomposed = unicodedata.normalize("NFKD", value)
    key = _NOT_SEX.sub("", "".join(c for c in decomposed if not unicodedata.combining(c)).upper())
    letters = SEX_CODES[codes]
    if key in letters:
        return letters[key]
    if key in _SEX_WORDS:
        return _SEX_WORDS[key]
    if key in _SEX_UNKNOWN:
        return None
    meaning = ", ".join(f"{k} {'male' if v == 'M' else 'female'}" for k, v in letters.items())
    other = [c for c, table in SEX_CODES.items() if c != codes and key in table]
    hint = (f"; a source that writes {other[0]} declares it in its mapping: "
            f'"sex": {{"column": ..., "codes": "{other[0]}"}}' if other else
            "; write male or female (or the codes), or leave it empty when not known")
    raise ValueError(f"{value.strip()!r} is not one of the source's sex codes {codes} ({meaning}){hint}")


def normalise_national_id(value: str) -> str | None:
    compact = _ID_CHARS.sub("", value.upper())
    return compact or None


def curp_birth(national_id: str | None) -> tuple[BirthDate, str] | None:
    """The date of birth and sex a CURP encodes, when the id is one and the date is real."""
    match = _CURP.match(national_id or "")
    if not match:
        return None
    yy, mm, dd, sex, century = match.groups()
    year = (2000 if century.isalpha() else 1900) + int(yy)
    try:
        date(year, int(mm), int(dd))
    except ValueError:
        return None
    return BirthDate(year, int(mm), int(dd)), ("M" if sex == "H" else "F")


def normalise_address(value: str) -> str | None:
    """Upper case, accents removed, digits kept (street numbers and postcodes tell addresses apart)."""
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).upper()
    return " ".join(_NOT_ADDRESS.sub(" ", bare).split()) or None


def person_record(values: Mapping[str, str], source: str, dob: BirthDate | None, phone_region: str,
                  sex_codes: str | None = None) -> PersonRecord:
    """A record from canonical field values (already joined); `dob` is parsed by the caller, and `sex`
    read in the source's convention (`sex_codes`, SEX_CODES) when it declares one."""

    def get(name: str) -> str | None:
        value = values.get(name)
        return value.strip() if value and value.strip() else None

    name = parse_name(
        full_name=get("full_name"),
        given_names=get("given_names"),
        paternal_surname=get("paternal_surname"),
        maternal_surname=get("maternal_surname"),
        surname=get("surname"),
        aliases=get("aliases"),
    )
    national_id = normalise_national_id(get("national_id") or "")
    sex = normalise_sex(get("sex") or "", sex_codes)
    # A record without a date of birth (or sex) may still carry one in its CURP.
    if (dob is None or sex is None) and (encoded := curp_birth(national_id)):
        dob, sex = dob or encoded[0], sex or encoded[1]
    return PersonRecord(
        record_id=values.get("record_id", ""),
        source=source,
        name=name,
        dob=dob,
        sex=sex,
        phones=normalise_phones(get("phones") or "", phone_region),
        national_id=national_id,
        address=normalise_address(get("address") or ""),
        raw=dict(values),
    )


def feature_row(record: PersonRecord, unique_id: int) -> dict[str, Any]:
    """The columns the model compares, for one record."""
    dob = record.dob
    address = record.address
    row: dict[str, Any] = {
        "unique_id": unique_id,
        "source": record.source,
        **name_keys(record.name),
        "dob_y": dob.year if dob else None,
        "dob_m": dob.month if dob else None,
        "dob_d": dob.day if dob else None,
        "dob": dob.iso() if dob else None,
        "sex": record.sex,
        "phones": list(record.phones) or None,
        "phone1": record.phones[0] if record.phones else None,
        "national_id": record.national_id,
        "address": address,
        "address_tokens": sorted(set(address.split())) if address else None,
        "address_key": " ".join(address.split()[:2]) if address else None,
    }
    row["name_block"] = (row["paternal_key"] or "") + ":" + (row["given1_key"] or "") if row["paternal_key"] else None
    row["alias1"] = record.name.aliases[0] if record.name.aliases else None
    row["given1_key_alt"] = phonetic_key(row["given1"][:3]) if row["given1"] else None
    # A known given name a letter away from another known one is another name (Graciela, Gabriela).
    row["given1_known"] = "Y" if row["given1"] in GIVEN_NAMES else None
    return row
