"""A partner's unit holding a string longer than the column it would fill: refused whole, naming the
field and its limit, on every database, while the other units of the same push are applied.

Such a value used to reach an insert: PostgreSQL's DataError escaped the inbox's per-unit refusal,
so the whole push failed with a 500 (and the partner's outbox, retrying it, stalled behind it),
while SQLite stored the value whole.
"""

from __future__ import annotations

from typing import Any

import pytest

from tearline.db.federation_tables import Received, ReceivedRelease
from tearline.db.models import Grant
from tearline.db.release_tables import Consent, ConsentRequest
from tests.federation.partner_units import Build, World, consent_answer, consent_request, release, resealed

LONG = "x" * 300


# (the faulty unit, the field its refusal names, the column's limit, the tables it must leave untouched)
CASES: list[tuple[str, Build, str, int, tuple[Any, ...]]] = [
    ("seal id", lambda w: resealed(w, consent_request(w), id=f"x-tearline-seal--{LONG}"), "seal.id", 96,
     (Received, ConsentRequest)),
    ("seal version", lambda w: resealed(w, consent_request(w), modified=LONG), "seal.modified", 40,
     (Received, ConsentRequest)),
    ("consent request id", lambda w: consent_request(w, id=LONG), "id", 64, (Received, ConsentRequest)),
    ("requester agency", lambda w: consent_request(w, requester__agency=LONG), "requester.agency", 64,
     (Received, ConsentRequest)),
    ("grantor agency", lambda w: consent_request(w, grantor__agency=LONG), "grantor.agency", 64,
     (Received, ConsentRequest)),
    ("recipient nation", lambda w: consent_request(w, recipient__nation="CANADA"), "recipient.nation", 3,
     (Received, ConsentRequest)),
    ("recipient agency", lambda w: consent_request(w, recipient__agency=LONG), "recipient.agency", 64,
     (Received, ConsentRequest)),
    ("release id", lambda w: release(w, release__id=LONG), "release.id", 64, (Received, ReceivedRelease, Grant)),
    ("release recipient agency", lambda w: release(w, release__recipient__agency=LONG),
     "release.recipient.agency", 64, (Received, ReceivedRelease, Grant)),
    ("item hash", lambda w: release(w, items__title="f" * 300), "items.title", 64,
     (Received, ReceivedRelease, Grant)),
    ("consent id", lambda w: consent_answer(w, id=LONG), "consent.id", 64, (Received, Consent, Grant)),
    ("consent recipient nation", lambda w: consent_answer(w, recipient__nation="CANADA"),
     "consent.recipient.nation", 3, (Received, Consent, Grant)),
    ("consent grantor agency", lambda w: consent_answer(w, grantor__agency=LONG), "consent.grantor.agency", 64,
     (Received, Consent, Grant)),
]  # fmt: skip


@pytest.mark.parametrize(("build", "field", "limit", "tables"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_an_over_long_value_from_a_partner_is_refused_whole_and_the_rest_of_the_push_applies(
    world: World, build: Build, field: str, limit: int, tables: tuple[Any, ...]
) -> None:
    faulty = build(world)
    before = {model: world.count(model) for model in tables}

    status = world.push(faulty, world.release)

    failure = next(f for f in status["failures"] if f["id"] == str(faulty.seal["id"]))
    assert f"{field}: must be at most {limit} characters" in failure["message"], failure
    assert world.release.seal["id"] in {s["id"] for s in status["successes"]}, status
    genuine = {Received: 1, ReceivedRelease: 1, Grant: len(world.release.payload["items"])}
    after = {model: world.count(model) for model in tables}
    assert after == {model: before[model] + genuine.get(model, 0) for model in tables}
