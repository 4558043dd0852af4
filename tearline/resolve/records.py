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


def normalise_sex(value: str) -> str | None:
    return _SEX.get(fold(value).replace(" ", ""))


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


def person_record(values: Mapping[str, str], source: str, dob: BirthDate | None, phone_region: str) -> PersonRecord:
    """A record from canonical field values (already joined); `dob` is parsed by the caller."""

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
    sex = normalise_sex(get("sex") or "")
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
