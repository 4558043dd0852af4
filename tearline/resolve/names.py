"""Spanish and Latin-American names, parsed into given names, paternal and maternal surnames,
particles and aliases, whatever order and fields a source wrote them in.

Handles particles (de, del, de la, de los, y), compound given names (José Luis, María de los
Ángeles), accents, hyphenated and fused surnames (Hernández-Garza, Delafuente), surname-first
order ("Hernández Garza, José Luis" and the official "HERNANDEZ GARZA JOSE LUIS"), the maternal
surname written as a middle name, nicknames and "El …" aliases.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache

from tearline.resolve.nicknames import GIVEN_NAMES, NICKNAMES, PARTICLES, SURNAMES, formal_names
from tearline.resolve.phonetic import phonetic_key

_ALIAS_MARK = re.compile(r"\b(?:alias|a\.?k\.?a\.?|apodo)\b[:\s]*", re.IGNORECASE)
_QUOTED = re.compile(r"[\"“”«»]([^\"“”«»]+)[\"“”«»]|\(([^)]+)\)")
_NOT_NAME = re.compile(r"[^A-Z\s,\-]")
_ARTICLES = frozenset({"EL", "LA", "LOS", "LAS"})
_FUSED = ("DELOS", "DELAS", "DELA", "DEL", "DE")
_GIVEN_TAILS = frozenset({"ANGELES", "CARMEN", "JESUS", "ROSARIO", "LOURDES", "PILAR", "SOCORRO", "GUADALUPE",
                          "LUZ", "CARIDAD", "NIEVES", "MERCEDES", "DIOS"})


def fold(text: str) -> str:
    """Upper case, accents removed (Ñ becomes N), anything but letters, spaces, commas and hyphens dropped."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).upper()
    return " ".join(_NOT_NAME.sub(" ", bare.replace("'", "")).split())


def alias_key(alias: str) -> str:
    """An alias without its article, so that "El Güero" and "Güero" agree."""
    words = fold(alias).replace("-", " ").replace(",", " ").split()
    while len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(words)


@dataclass(frozen=True)
class PersonName:
    """A parsed name. Given names and surnames are folded; nicknames are kept as written."""

    given: tuple[str, ...] = ()
    paternal: str | None = None
    maternal: str | None = None
    particles: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    initials: tuple[str, ...] = ()  # middle names written as an initial alone ("Robert E Price")
    generation: str | None = None  # JR, SR, II, III, IV: a namesake of another generation exists

    @property
    def formal_given(self) -> tuple[tuple[str, ...], ...]:
        """Each given name as the formal names it may stand for (Beto: Alberto or Roberto)."""
        out: list[tuple[str, ...]] = []
        for name in self.given:
            alternatives = formal_names(name)
            if alternatives and " " in alternatives[0]:  # Chema is two names: José María
                out.extend((part,) for part in alternatives[0].split())
            else:
                out.append(alternatives)
        return tuple(out)

    @property
    def surnames(self) -> tuple[str, ...]:
        return tuple(s for s in (self.paternal, self.maternal) if s)


@dataclass
class _Surnames:
    cores: list[str] = field(default_factory=list)
    particles: list[str] = field(default_factory=list)


def _is_given(word: str) -> bool:
    return word in GIVEN_NAMES or word in NICKNAMES


def _is_surname(word: str) -> bool:
    return word in SURNAMES and word not in GIVEN_NAMES


def one_edit(a: str, b: str) -> bool:
    """One substitution, insertion, deletion or swap of neighbours apart (not equal)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) < len(b):
        return a[i:] == b[i + 1:]
    return a[i + 1:] == b[i + 1:] or (i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i]
                                      and a[i + 2:] == b[i + 2:])


@lru_cache(maxsize=65536)
def _near_kind(word: str) -> str | None:
    """For a word no list knows: "given" or "surname" when it is one typo from a known word of
    that kind only (TORES is Torres, ARECELI is Araceli), so that a misspelling keeps its place."""
    if len(word) < 5 or word in GIVEN_NAMES or word in SURNAMES or word in NICKNAMES:
        return None
    given = any(one_edit(word, known) for known in GIVEN_NAMES)
    surname = any(one_edit(word, known) for known in SURNAMES)
    if given == surname:
        return None
    return "given" if given else "surname"


def _looks_given(word: str) -> bool:
    return _is_given(word) or _near_kind(word) == "given"


def _looks_surname(word: str) -> bool:
    return (_is_surname(word) and not _is_given(word)) or _near_kind(word) == "surname"


def _unfuse(word: str) -> tuple[list[str], str]:
    """Delafuente -> (["DE", "LA"], "FUENTE") when the rest is a known surname; else ([], word)."""
    for prefix in _FUSED:
        rest = word[len(prefix):]
        if word.startswith(prefix) and rest in SURNAMES:
            parts = {"DELOS": ["DE", "LOS"], "DELAS": ["DE", "LAS"], "DELA": ["DE", "LA"]}.get(prefix, [prefix])
            return parts, rest
    return [], word


def split_surnames(words: list[str]) -> _Surnames:
    """Family-name words to surname cores: particles attach to the next word, hyphens and "y" separate."""
    out = _Surnames()
    pending: list[str] = []
    for raw in words:
        for word in raw.split("-"):
            if not word:
                continue
            if word == "Y" and out.cores and not pending:
                continue
            if word in PARTICLES and word != "Y":
                pending.append(word)
                continue
            particles, core = _unfuse(word)
            out.particles.extend(pending + particles)
            out.cores.append(core)
            pending = []
    if pending and not out.cores:  # "De La" alone is a surname of its own
        out.cores.append(pending[-1])
    return out


def _split_given(words: list[str], *, misspelt: bool = False,
                 initials: list[str] | None = None) -> tuple[list[str], list[str]]:
    """Given-name words to (given names, trailing surname-like words such as a maternal middle name);
    `misspelt`: a word one typo from a known surname ends the given names too (a whole name, where
    surnames must follow; not a given-names field, whose middle names may be from any language).
    Initials written alone are not given names; they are added to `initials`."""
    given: list[str] = []
    trailing: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if len(word) == 1:  # an initial is no name to compare, only a middle name's first letter
            if initials is not None and given:
                initials.append(word)
            i += 1
            continue
        if word in PARTICLES and given and i + 1 < len(words):
            # María de los Ángeles, José de Jesús: particles inside a compound given name
            j = i
            while j < len(words) and words[j] in PARTICLES:
                j += 1
            if j < len(words) and words[j] in _GIVEN_TAILS:
                given.append(words[j])
                i = j + 1
                continue
            trailing = words[i:]  # "de la Fuente": the surnames begin
            break
        surname_like = _looks_surname(word) if misspelt else _is_surname(word) and not _is_given(word)
        if given and ("-" in word or surname_like):
            trailing = words[i:]
            break
        given.append(word)
        i += 1
    return given, trailing


def _extract_aliases(text: str) -> tuple[str, list[str]]:
    aliases: list[str] = []

    def keep(match: re.Match[str]) -> str:
        aliases.append(match.group(1) or match.group(2))
        return " "

    text = _QUOTED.sub(keep, text)
    parts = _ALIAS_MARK.split(text)
    aliases.extend(a for chunk in parts[1:] for a in re.split(r"[;/,]", chunk))
    return parts[0], [a for a in (alias_key(a) for a in aliases) if a]


def _given_suffix(words: list[str]) -> int:
    """Where the trailing given names begin ("DE LOS SANTOS JUAREZ BEATRIZ" -> 4); len(words) if none."""
    cut = len(words)
    while cut > 0:
        after_particle = cut > 1 and words[cut - 2] in PARTICLES
        # "DE LA CRUZ", "DE LOS SANTOS": after a particle only a given name's tail stays given
        if _looks_given(words[cut - 1]) and (not after_particle or words[cut - 1] in _GIVEN_TAILS):
            cut -= 1
            continue
        start = cut - 1
        while start > 0 and words[start - 1] in PARTICLES:
            start -= 1
        # particles between two given names belong to them: "MARTHA DEL CARMEN"
        if words[cut - 1] in PARTICLES and cut < len(words) and start > 0 and _is_given(words[start - 1]):
            cut = start
            continue
        break
    return cut


def _surname_first_cut(words: list[str]) -> int | None:
    """Where the given names begin in a surname-first name such as the official
    "HERNANDEZ GARZA JOSE LUIS"; None when the name reads given-first."""
    if len(words) < 2:
        return None
    # A word that is both a given name and a surname (Santos, Rosa) opens a surname-first name
    # only when at least two family words come before the given names.
    first_is_given = _looks_given(words[0])
    if first_is_given and words[0] not in SURNAMES:
        return None
    cut = _given_suffix(words)
    if (2 if first_is_given else 1) <= cut < len(words):
        return cut
    if first_is_given:
        return None
    # A misspelt given name ("CRUZ OLIVAS ARTARO"): after two surnames when it opens with a known one.
    if len(words) >= 3 and _is_surname(words[0]) and _is_surname(words[1]):
        return 2
    return None


def parse_full_name(text: str) -> PersonName:
    """An unparsed whole name, in any common order, with any aliases it carries."""
    name_part, aliases = _extract_aliases(text)
    folded = fold(name_part).strip(" ,")
    if "," in folded:
        family, _, given_text = folded.partition(",")
        return _compose(given_text.replace(",", " ").split(), family.split(), aliases, [])
    words = folded.split()
    if not words:
        return PersonName(aliases=tuple(aliases))
    cut = _surname_first_cut(words)
    if cut is not None:
        return _compose(words[cut:], words[:cut], aliases, [])
    if len(words) == 1:
        return _compose(words, [], aliases, []) if _is_given(words[0]) else _compose([], words, aliases, [])
    initials: list[str] = []
    given, trailing = _split_given(words, misspelt=True, initials=initials)
    if not trailing and len(given) > 1:
        # Nothing recognised as a surname: the first word and the known given names after it are
        # given names ("Pedro Alberto Zamudio"), and the rest, at least the last word, the surnames.
        keep = 1
        while keep < len(given) - 1 and _looks_given(given[keep]):
            keep += 1
        given, trailing = given[:keep], given[keep:]
    elif len(trailing) == 1 and len(given) > 1 and not _looks_given(given[-1]):
        # "Arturo Aguirre Martínez": a word no list knows, just before the one known surname, is the
        # paternal surname. Surnames are far more varied than given names, and a whole name ends in two.
        given, trailing = given[:-1], [given[-1], *trailing]
    return _compose(given, trailing, aliases, initials)


def _compose(given_words: list[str], family_words: list[str], aliases: list[str], initials: list[str]) -> PersonName:
    given, trailing = _split_given(given_words, initials=initials)
    surnames = split_surnames(trailing + family_words)
    cores = surnames.cores
    return PersonName(
        given=tuple(given),
        paternal=cores[0] if cores else None,
        maternal=cores[1] if len(cores) > 1 else None,
        particles=tuple(surnames.particles),
        aliases=tuple(dict.fromkeys(aliases)),
        initials=tuple(initials),
    )


def parse_name(
    full_name: str | None = None,
    given_names: str | None = None,
    paternal_surname: str | None = None,
    maternal_surname: str | None = None,
    surname: str | None = None,
    aliases: str | None = None,
) -> PersonName:
    """Parse whichever name fields a source has; structured fields win over a whole name."""
    fields = [full_name, given_names, paternal_surname, maternal_surname, surname]
    markers = [split_generation(f) for f in fields]
    full_name, given_names, paternal_surname, maternal_surname, surname = (text for text, _ in markers)
    generation = next((m for _, m in markers if m), None)
    return replace(_parse_name(full_name, given_names, paternal_surname, maternal_surname, surname, aliases),
                   generation=generation)


def _parse_name(full_name: str | None, given_names: str | None, paternal_surname: str | None,
                maternal_surname: str | None, surname: str | None, aliases: str | None) -> PersonName:
    extra_aliases = [alias_key(a) for a in re.split(r"[;/,|]", aliases or "") if alias_key(a)]
    structured = any((given_names, paternal_surname, maternal_surname, surname))
    if not structured:
        parsed = parse_full_name(full_name or "")
        return _with_aliases(parsed, extra_aliases)
    given_text, given_aliases = _extract_aliases(given_names or "")
    initials: list[str] = []
    given, middle_surnames = _split_given(fold(given_text).replace(",", " ").split(), initials=initials)
    particles: list[str] = []
    if paternal_surname or maternal_surname:
        paternal = split_surnames(fold(paternal_surname or "").split())
        maternal = split_surnames(fold(maternal_surname or "").split())
        cores = paternal.cores[:1] + (maternal.cores[:1] or paternal.cores[1:2])
        particles = paternal.particles + maternal.particles
        if middle_surnames and len(cores) < 2:
            cores += split_surnames(middle_surnames).cores[:1]
    else:
        # Unknown structure. A surname-like middle name is the maternal surname that a US form
        # put in the middle-name field: "JOSE GARZA / HERNANDEZ" is Hernández Garza.
        family = split_surnames(fold(surname or "").split())
        middle = split_surnames(middle_surnames)
        cores = family.cores[:1] + middle.cores[:1] + family.cores[1:2] if middle.cores else family.cores
        particles = family.particles + middle.particles
    if not given and full_name:
        given = list(parse_full_name(full_name).given)
    return _with_aliases(
        PersonName(
            given=tuple(given),
            paternal=cores[0] if cores else None,
            maternal=cores[1] if len(cores) > 1 else None,
            particles=tuple(particles),
            initials=tuple(initials),
        ),
        given_aliases + extra_aliases,
    )


# A generational suffix at the end of a name (or of its surname field), with or without a period or
# parentheses. "Sr." before a name is Señor, a title, and is not read here.
_GENERATION = re.compile(r"[\s,]*\(?\b(jr|junior|hijo|sr|senior|padre|ii|iii|iv)\b\.?\)?[\s,]*$", re.IGNORECASE)
_GENERATION_OF = {"JR": "JR", "JUNIOR": "JR", "HIJO": "JR", "SR": "SR", "SENIOR": "SR", "PADRE": "SR"}


def split_generation(text: str | None) -> tuple[str | None, str | None]:
    """A name field without its generational suffix, and the suffix (JR, SR, II, III or IV).

    "Ernesto Villalobos Treviño Jr." is Ernesto Villalobos Treviño, JR: the suffix is no maternal
    surname, and it says that a father of one name exists (hijo and padre are Mexico's JR and SR)."""
    if not text:
        return text, None
    match = _GENERATION.search(text)
    if not match or not text[: match.start()].strip():
        return text, None
    word = match.group(1).upper()
    return text[: match.start()], _GENERATION_OF.get(word, word)


def _with_aliases(name: PersonName, more: list[str]) -> PersonName:
    if not more:
        return name
    return replace(name, aliases=tuple(dict.fromkeys((*name.aliases, *more))))


def name_keys(name: PersonName) -> dict[str, object]:
    """The name columns the model compares."""
    formal = name.formal_given
    first = formal[0] if formal else ()
    every = sorted({alt for alts in formal for alt in alts})
    return {
        "given1": first[0] if first else None,
        "given_all": " ".join(alts[0] for alts in formal) or None,
        "given_first_alts": list(first) or None,
        "given_alts": every or None,
        "given_keys": sorted({phonetic_key(a) for a in every}) or None,
        "given1_key": phonetic_key(first[0]) if first else None,
        "paternal": name.paternal,
        "maternal": name.maternal,
        "paternal_key": phonetic_key(name.paternal) if name.paternal else None,
        "maternal_key": phonetic_key(name.maternal) if name.maternal else None,
        "alias_keys": list(name.aliases) or None,
        # the second given name's first letter, however it was written (Eric, E)
        "given2_initial": (formal[1][0][0] if len(formal) > 1 else name.initials[0] if name.initials else None),
        "generation": name.generation,
    }
