"""A generated Spanish-name test set with known truth: three agencies that each record names their
own way, with relatives, nicknames, typos and date swaps.

Every name, date and phone is invented from the word lists below. The people come in families:
siblings share both surnames, a home town and often a family phone; cousins share the paternal
surname and are often named after the same grandparent, which makes true homonyms.

- USA: FIRST, MIDDLE, LAST in capitals without accents; the maternal surname hyphenated onto
  LAST, written as the middle name, kept as a second word of LAST, or used alone as LAST;
  dates MM/DD/YYYY.
- MEX: one accented full name, often in the official surname-first order, aliases inside it
  ("alias El Güero"), a CURP for some, dates DD/MM/YYYY.
- CAN: "Surname, Given" with nicknames, ISO dates, often missing, aliases in a column.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from tearline.resolve.nicknames import NICKNAMES

MALE = ("José", "Juan", "Jesús", "Francisco", "Salvador", "Eduardo", "Guillermo", "Ignacio", "Alberto",
        "Roberto", "Jorge", "Luis", "Miguel", "Carlos", "Antonio", "Fernando", "Ricardo", "Rafael",
        "Javier", "Manuel", "Pedro", "Sergio", "Arturo", "Raúl", "Héctor", "Víctor", "Ramón", "Andrés",
        "Rubén", "Ernesto", "Gerardo", "Alfonso", "Enrique", "Gregorio", "Joaquín", "Efraín", "Octavio",
        "Vicente", "Ismael", "Rodrigo")
FEMALE = ("María", "Guadalupe", "Ana", "Rosa", "Martha", "Silvia", "Leticia", "Verónica", "Adriana",
          "Claudia", "Laura", "Carmen", "Yolanda", "Juana", "Sofía", "Isabel", "Beatriz", "Margarita",
          "Dolores", "Concepción", "Teresa", "Gabriela", "Patricia", "Alejandra", "Rosario", "Graciela",
          "Lorena", "Ximena", "Araceli", "Consuelo")
SECOND_MALE = ("Luis", "Antonio", "Manuel", "Ángel", "Alberto", "Jesús", "Miguel", "Carlos", "Guadalupe")
SECOND_FEMALE = ("Guadalupe", "Elena", "Isabel", "Luisa", "Teresa", "Fernanda", "José", "del Carmen",
                 "de los Ángeles", "de Jesús")
SURNAMES = ("Hernández", "García", "Martínez", "López", "González", "Rodríguez", "Pérez", "Sánchez",
            "Ramírez", "Cruz", "Flores", "Gómez", "Morales", "Vázquez", "Reyes", "Jiménez", "Torres",
            "Díaz", "Gutiérrez", "Ruiz", "Mendoza", "Aguilar", "Ortiz", "Moreno", "Castillo", "Romero",
            "Álvarez", "Méndez", "Chávez", "Rivera", "Juárez", "Ramos", "Domínguez", "Herrera", "Medina",
            "Castro", "Vargas", "Velázquez", "Muñoz", "Garza", "Treviño", "Villarreal", "Padilla",
            "Zavala", "Ibarra", "Valenzuela", "Salazar", "Navarro", "Cervantes", "Solís",
            "Maldonado", "Ochoa", "Saucedo", "Esparza", "Barraza", "Olivas", "Montoya", "Arellano")
# Weighted so that a few surnames are very common, as García and Hernández are.
COMMON = ("Hernández", "García", "Martínez", "López", "González", "Rodríguez", "Pérez", "Sánchez")
PARTICLE_SURNAMES = ("de la Fuente", "del Río", "de León", "de la Cruz", "de la Garza", "de los Santos",
                     "de la Torre", "del Valle")
TOWNS = ("Hermosillo, Sonora", "Culiacán, Sinaloa", "Ciudad Juárez, Chihuahua", "Torreón, Coahuila",
         "Reynosa, Tamaulipas", "Nuevo Laredo, Tamaulipas", "Nogales, Sonora", "Mazatlán, Sinaloa",
         "Saltillo, Coahuila", "Chihuahua, Chihuahua", "Matamoros, Tamaulipas", "Guasave, Sinaloa",
         "Navojoa, Sonora", "Delicias, Chihuahua", "Monclova, Coahuila")
ALIASES = ("El Güero", "El Flaco", "El Chino", "El Gordo", "El Compa", "El Primo", "El Tigre", "El Chato",
           "El Mudo", "El Negro", "La Güera", "La Flaca", "El Charro", "El Tío", "El Pelón")
REGION_CODES = ("662", "667", "656", "871", "899", "867", "631", "669", "844", "614")
NICKNAME_OF: dict[str, list[str]] = {}
for _nick, _formal in NICKNAMES.items():
    for _name in _formal:
        NICKNAME_OF.setdefault(_name, []).append(_nick)
_FORMAL_WITH_NICKNAMES = ("JOSE", "JESUS", "FRANCISCO", "GUADALUPE", "SALVADOR", "EDUARDO", "GUILLERMO",
                          "IGNACIO", "ALBERTO", "ROBERTO", "ANTONIO", "FERNANDO", "ENRIQUE", "RICARDO",
                          "RAFAEL", "DOLORES", "CONCEPCION", "ROSARIO", "TERESA", "GABRIELA", "PATRICIA",
                          "MANUEL", "JAVIER", "SERGIO", "VICENTE", "GREGORIO")
_NICKS = {"JOSE": "Pepe", "JESUS": "Chuy", "FRANCISCO": "Paco", "GUADALUPE": "Lupe", "SALVADOR": "Chava",
          "EDUARDO": "Lalo", "GUILLERMO": "Memo", "IGNACIO": "Nacho", "ALBERTO": "Beto", "ROBERTO": "Beto",
          "ANTONIO": "Toño", "FERNANDO": "Nando", "ENRIQUE": "Quique", "RICARDO": "Richi", "RAFAEL": "Rafa",
          "DOLORES": "Lola", "CONCEPCION": "Concha", "ROSARIO": "Chayo", "TERESA": "Tere",
          "GABRIELA": "Gaby", "PATRICIA": "Paty", "MANUEL": "Manolo", "JAVIER": "Javi", "SERGIO": "Checo",
          "VICENTE": "Chente", "GREGORIO": "Goyo"}
VARIANTS = ("accent", "order", "compound", "particle", "nickname")


@dataclass
class Person:
    person_id: int
    given: list[str]
    paternal: str
    maternal: str
    sex: str
    dob: date
    town: str
    phone: str
    family_phone: str
    alias: str | None


@dataclass
class Record:
    """One agency's record of a person, as that agency wrote it, with what it varies in."""

    source: str
    record_id: str
    person_id: int
    values: dict[str, str]
    variants: set[str] = field(default_factory=set)


@dataclass
class SpanishSet:
    persons: list[Person]
    records: list[Record]
    mappings: dict[str, dict[str, Any]]


MAPPINGS: Mapping[str, dict[str, Any]] = {
    "usa": {"source": "usa", "phone_region": "US", "fields": {
        "record_id": "subject_id", "given_names": ["FIRST", "MIDDLE"], "surname": "LAST",
        "dob": {"column": "DOB", "format": "%m/%d/%Y"}, "sex": "SEX", "phones": "PHONE", "address": "CITY"}},
    "mex": {"source": "mex", "phone_region": "MX", "fields": {
        "record_id": "folio", "full_name": "nombre", "dob": {"column": "fecha_nacimiento", "format": "%d/%m/%Y"},
        "sex": "sexo", "phones": "telefonos", "national_id": "curp", "address": "municipio"}},
    "can": {"source": "can", "phone_region": "CA", "fields": {
        "record_id": "file_no", "full_name": "subject", "dob": "birth_date", "aliases": "known_as",
        "phones": "phone", "address": "city"}},
}


def _phone(rng: random.Random) -> str:
    return f"+52{rng.choice(REGION_CODES)}{rng.randrange(1000000, 9999999)}"


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.random()
    if kind < 0.4:
        return word[:i] + word[i + 1:]
    if kind < 0.7:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    letter = rng.choice("aeiourslnt")
    return word[:i] + (letter.upper() if word.isupper() else letter) + word[i + 1:]


def _family(rng: random.Random, next_id: int, size: int) -> list[Person]:
    pool = COMMON * 4 + SURNAMES
    paternal = rng.choice(PARTICLE_SURNAMES) if rng.random() < 0.08 else rng.choice(pool)
    maternal = rng.choice(PARTICLE_SURNAMES) if rng.random() < 0.04 else rng.choice(pool)
    town, family_phone = rng.choice(TOWNS), _phone(rng)
    base = date(1960, 1, 1) + timedelta(days=rng.randrange(0, 365 * 35))
    people = []
    used: set[str] = set()
    for k in range(size):
        sex = rng.choice("MF")
        first_pool = MALE if sex == "M" else FEMALE
        first = rng.choice([n for n in first_pool if n not in used] or list(first_pool))
        used.add(first)
        given = [first]
        if rng.random() < 0.45:
            given.append(rng.choice(SECOND_MALE if sex == "M" else SECOND_FEMALE))
        dob = base + timedelta(days=rng.randrange(300, 900) * k + rng.randrange(0, 60))
        alias = rng.choice(ALIASES) if rng.random() < 0.25 else None
        people.append(Person(next_id + k, given, paternal, maternal, sex, dob, town, _phone(rng), family_phone,
                             alias))
    return people


def _cousins(rng: random.Random, family: list[Person], next_id: int) -> list[Person]:
    """Cousins through the father: same paternal surname, another maternal one, often the same given name."""
    out = []
    for k, relative in enumerate(family[: rng.randint(1, 2)]):
        maternal = rng.choice([s for s in SURNAMES if s != relative.maternal])
        dob = relative.dob + timedelta(days=rng.randrange(-2000, 2000))
        out.append(Person(next_id + k, list(relative.given[:1]) if rng.random() < 0.7 else [rng.choice(MALE)],
                          relative.paternal, maternal, relative.sex, dob, relative.town if rng.random() < 0.5
                          else rng.choice(TOWNS), _phone(rng), _phone(rng), None))
    return out


def plain(text: str) -> str:
    """Accents removed, case kept."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _accented(person: Person) -> bool:
    whole = " ".join([*person.given, person.paternal, person.maternal])
    return plain(whole) != whole


def _dob_text(rng: random.Random, dob: date, order: str, missing: float) -> tuple[str, set[str]]:
    """The date as an agency enters it: sometimes missing, day and month swapped, or a year off."""
    roll = rng.random()
    if roll < missing:
        return "", {"dob_missing"}
    if roll < missing + 0.05 and dob.day <= 12 and dob.day != dob.month:
        dob, noted = date(dob.year, dob.day, dob.month), {"dob_swapped"}
    elif roll < missing + 0.08:
        dob, noted = date(dob.year + rng.choice((-1, 1)), dob.month, min(dob.day, 28)), {"dob_approximate"}
    else:
        noted = set()
    return dob.strftime(order), noted


def _phones(rng: random.Random, person: Person, own: float, family: float) -> str:
    roll = rng.random()
    if roll < own:
        number = person.phone
    elif roll < own + family:
        number = person.family_phone
    else:
        number = _phone(rng)  # a throwaway that no other agency saw
    return number


def _maybe_typo(rng: random.Random, words: list[str], rate: float) -> tuple[list[str], set[str]]:
    if rng.random() >= rate:
        return words, set()
    i = rng.randrange(len(words))
    return [*words[:i], _typo(rng, words[i]), *words[i + 1:]], {"typo"}


def _nickname(person: Person) -> str | None:
    return _NICKS.get(plain(person.given[0]).upper())


def _usa(rng: random.Random, person: Person, n: int) -> Record:
    def up(text: str) -> str:
        return plain(text).upper()

    first, middle = up(person.given[0]), up(person.given[1]) if len(person.given) > 1 else ""
    variants = {"accent"} if _accented(person) else set()
    paternal, maternal = up(person.paternal), up(person.maternal)
    if " " in paternal and rng.random() < 0.4:
        paternal = paternal.replace(" ", "")  # DELAFUENTE
    style = rng.random()
    if style < 0.35:
        last = f"{paternal}-{maternal}"
    elif style < 0.6:
        middle, last = maternal, paternal
        if len(person.given) > 1:
            variants.add("compound")
    elif style < 0.85:
        last = f"{paternal} {maternal}"
    elif style < 0.95:
        last = paternal
    else:
        last = maternal  # the maternal surname taken as the family name
    if rng.random() < 0.05 and (nick := _nickname(person)):
        first = up(nick)
        variants.add("nickname")
    (first, last), typo = _maybe_typo(rng, [first, last], 0.08)
    dob, dob_notes = _dob_text(rng, person.dob, "%m/%d/%Y", 0.1)
    number = _phones(rng, person, 0.45, 0.2)
    values = {"subject_id": f"US-{n:06d}", "FIRST": first, "MIDDLE": middle, "LAST": last, "DOB": dob,
              "SEX": person.sex, "PHONE": f"+52 {number[3:6]} {number[6:9]} {number[9:]}",
              "CITY": up(person.town.split(",")[0])}
    return Record("usa", values["subject_id"], person.person_id, values, variants | typo | dob_notes)


def _curp(rng: random.Random, person: Person) -> str:
    letters = plain(person.paternal).upper().replace(" ", "")[:2] + plain(person.maternal).upper()[:1]
    letters += plain(person.given[0]).upper()[:1]
    state = rng.choice(("SR", "SL", "CH", "CL", "TS"))
    return f"{letters}{person.dob:%y%m%d}{'H' if person.sex == 'M' else 'M'}{state}XXX{rng.randrange(10, 99)}"


def _mex(rng: random.Random, person: Person, n: int) -> Record:
    variants: set[str] = set()
    given = " ".join(person.given)
    style = rng.random()
    if style < 0.3:
        name = plain(f"{person.paternal} {person.maternal} {given}").upper()
        variants.add("order")
        variants |= {"accent"} if _accented(person) else set()
    elif style < 0.45:
        name = plain(f"{given} {person.paternal} {person.maternal}")
        variants |= {"accent"} if _accented(person) else set()
    else:
        name = f"{given} {person.paternal} {person.maternal}"
    words, typo = _maybe_typo(rng, name.split(), 0.08)
    name = " ".join(words)
    if person.alias and rng.random() < 0.7:
        name += rng.choice((f", alias {person.alias}", f' "{person.alias}"'))
    dob, dob_notes = _dob_text(rng, person.dob, "%d/%m/%Y", 0.05)
    phones = [_phones(rng, person, 0.5, 0.3)]
    if rng.random() < 0.2:
        phones.append(person.family_phone)
    values = {"folio": f"MX-{n:06d}", "nombre": name, "fecha_nacimiento": dob,
              "sexo": "Hombre" if person.sex == "M" else "Mujer",
              "telefonos": "; ".join(f"{p[3:6]} {p[6:9]} {p[9:]}" for p in dict.fromkeys(phones)),
              "curp": _curp(rng, person) if rng.random() < 0.5 else "", "municipio": person.town.split(",")[0]}
    if any(" " in s for s in (person.paternal, person.maternal)):
        variants.add("particle")
    return Record("mex", values["folio"], person.person_id, values, variants | typo | dob_notes)


def _can(rng: random.Random, person: Person, n: int) -> Record:
    variants: set[str] = {"order"}
    strip = rng.random() < 0.5

    def text(value: str) -> str:
        return plain(value) if strip else value

    if strip and _accented(person):
        variants.add("accent")
    nick = _nickname(person)
    if nick and rng.random() < 0.4:
        given = nick
        variants.add("nickname")
    elif len(person.given) > 1 and rng.random() < 0.6:
        given = person.given[0]
        variants.add("compound")
    else:
        given = " ".join(person.given)
    family = person.paternal if rng.random() < 0.5 else f"{person.paternal} {person.maternal}"
    words, typo = _maybe_typo(rng, text(family).split(), 0.06)
    dob, dob_notes = _dob_text(rng, person.dob, "%Y-%m-%d", 0.2)
    values = {"file_no": f"CA-{n:06d}", "subject": f"{' '.join(words)}, {text(given)}", "birth_date": dob,
              "known_as": person.alias if person.alias and rng.random() < 0.6 else "",
              "phone": (lambda p: f"+52-{p[3:6]}-{p[6:9]}-{p[9:]}")(_phones(rng, person, 0.5, 0.2)),
              "city": person.town.split(",")[0] if rng.random() < 0.5 else ""}
    if " " in person.paternal:
        variants.add("particle")
    return Record("can", values["file_no"], person.person_id, values, variants | typo | dob_notes)


def generate(families: int = 600, seed: int = 7) -> SpanishSet:
    """Persons in families with cousins, and each agency's records of them (truth is `person_id`)."""
    rng = random.Random(seed)
    persons: list[Person] = []
    for _ in range(families):
        family = _family(rng, len(persons), rng.choice((1, 2, 2, 3, 3, 4)))
        persons.extend(family)
        if rng.random() < 0.5:
            persons.extend(_cousins(rng, family, len(persons)))
    records: list[Record] = []
    counters = {"usa": 0, "mex": 0, "can": 0}
    writers = {"usa": _usa, "mex": _mex, "can": _can}
    for person in persons:
        agencies = [a for a, p in (("usa", 0.55), ("mex", 0.75), ("can", 0.4)) if rng.random() < p]
        if not agencies:
            agencies = [rng.choice(("usa", "mex", "can"))]
        if "mex" in agencies and rng.random() < 0.1:
            agencies.append("mex")  # the same person filed twice
        for agency in agencies:
            counters[agency] += 1
            records.append(writers[agency](rng, person, counters[agency]))
    rng.shuffle(records)
    return SpanishSet(persons, records, {k: dict(v) for k, v in MAPPINGS.items()})
