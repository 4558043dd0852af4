"""Generated organisation names with known truth, for measuring organisation resolution at scale.

Every name is invented from the word lists here and in `spanish_set` (a trade, one or two family
names, perhaps a region, a legal form). Arrivals restate a stored firm (another legal form, capitals,
no accents), mistype one letter of it, put its words in another order, or name a new firm.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from tearline.resolve.organisations import normalise_organisation
from tearline.resolve.spanish_set import SURNAMES, plain

TRADES = (
    "Transportes",
    "Autotransportes",
    "Fletes",
    "Logística",
    "Servicios",
    "Comercializadora",
    "Distribuidora",
    "Importadora",
    "Exportadora",
    "Agrícola",
    "Constructora",
    "Materiales",
    "Abarrotes",
    "Refaccionaria",
    "Farmacia",
    "Taller",
    "Grupo",
    "Inmobiliaria",
    "Pesquera",
    "Ganadera",
    "Minera",
    "Maquiladora",
    "Empacadora",
    "Gasolinera",
)
REGIONS = (
    "",
    "del Norte",
    "del Pacífico",
    "de Sonora",
    "de Sinaloa",
    "del Bajío",
    "de la Frontera",
    "del Golfo",
    "Fronteriza",
    "Internacional",
    "Nacional",
    "Regional",
    "Express",
    "del Noroeste",
    "de Chihuahua",
    "de Coahuila",
)
LEGAL_FORMS = ("S.A. de C.V.", "S. de R.L. de C.V.", "S.A.", "S.C.", "Inc.", "LLC", "Ltd.", "")
# How arrivals name a firm: (kind, share). A restatement must merge; a typo or a new order must go
# to review (see `keyed.judge`); a new firm may meet a near stored name by chance.
ARRIVAL_KINDS: tuple[tuple[str, float], ...] = (("restated", 0.4), ("typo", 0.2), ("reordered", 0.1), ("new", 0.3))


@dataclass(frozen=True)
class OrgArrival:
    name: str
    kind: str  # one of ARRIVAL_KINDS
    stored: str | None  # the stored name it restates, mistypes or reorders


def _name(rng: random.Random) -> tuple[str, str, str, str]:
    """(trade, family part, region, legal form) of a new firm."""
    first, second = rng.sample(SURNAMES, 2)
    family = rng.choice((first, f"{first} y {second}", f"Hermanos {first}", f"{first} {second}"))
    return rng.choice(TRADES), family, rng.choice(REGIONS), rng.choice(LEGAL_FORMS)


def _spell(parts: tuple[str, str, str, str]) -> str:
    return " ".join(p for p in parts if p)


def stored_names(count: int, seed: int = 31) -> list[str]:
    """`count` firms whose normalised names all differ."""
    rng, seen, names = random.Random(seed), set[str | None](), list[str]()
    while len(names) < count:
        name = _spell(_name(rng))
        key = normalise_organisation(name)
        if key not in seen:
            seen.add(key)
            names.append(name)
    return names


def _bare(name: str) -> tuple[str, str]:
    """(the name without its legal form, the legal form)."""
    for form in LEGAL_FORMS:
        if form and name.endswith(" " + form):
            return name[: -len(form) - 1], form
    return name, ""


def _restate(rng: random.Random, name: str) -> str:
    bare = _bare(name)[0]
    bare = plain(bare).upper() if rng.random() < 0.5 else bare
    return f"{bare} {rng.choice(LEGAL_FORMS)}".strip()


def _typo(rng: random.Random, name: str) -> str:
    words = name.split()
    long = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
    i = rng.choice(long) if long else 0
    word = words[i]
    j = rng.randrange(1, len(word) - 1) if len(word) > 2 else 0
    words[i] = word[:j] + rng.choice("aeiourstnl") + word[j + 1 :]
    return " ".join(words)


def _reorder(name: str) -> str:
    bare, form = _bare(name)
    words = bare.split()
    return " ".join([*words[1:], words[0], form]).strip()  # the trade last: "Hermanos Garza Transportes"


def arrivals(stored: list[str], count: int, seed: int = 32) -> list[OrgArrival]:
    """`count` arrivals against the stored firms, in the shares of ARRIVAL_KINDS."""
    rng = random.Random(seed)
    kinds, weights = [k for k, _ in ARRIVAL_KINDS], [w for _, w in ARRIVAL_KINDS]
    known = {normalise_organisation(n) for n in stored}
    out: list[OrgArrival] = []
    while len(out) < count:
        kind = rng.choices(kinds, weights)[0]
        if kind == "new":
            name = _spell(_name(rng))
            if normalise_organisation(name) not in known:
                out.append(OrgArrival(name, kind, None))
            continue
        original = rng.choice(stored)
        changed = (
            _restate(rng, original)
            if kind == "restated"
            else _typo(rng, original)
            if kind == "typo"
            else _reorder(original)
        )
        if kind == "restated" or normalise_organisation(changed) != normalise_organisation(original):
            out.append(OrgArrival(changed, kind, original))
    return out
