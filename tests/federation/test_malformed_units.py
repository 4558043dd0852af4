"""A partner's unit with a key missing or of the wrong type: refused on its own, naming the field and
the reason, with nothing of it stored, while the other units of the same push are applied.

Such a unit used to reach the code that applies it: a KeyError, TypeError, AttributeError or
ValueError escaped the inbox's per-unit refusal, so the whole push failed with a 500 (the good units
with it, and the partner's outbox retried the bad one forever); some were even stored half-read (a
string of item hashes as a list of characters, an answer that is not "granted" as a refusal).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tearline.db.federation_tables import Received, ReceivedRelease
from tearline.db.models import Grant, Report
from tearline.db.release_tables import Consent, ConsentRequest
from tests.federation.partner_units import (
    DROP,
    Build,
    World,
    consent_answer,
    consent_body,
    consent_request,
    consent_revoke,
    recall,
    release,
    resealed,
)

HELD_CONSENT = "consent--0e6f1a2b-7c3d-4e5f-8a9b-0c1d2e3f4a5b"

# (the faulty unit, the start of its refusal: the field and the reason)
CASES: list[tuple[str, Build, str]] = [
    # the seal itself, whatever its kind
    ("seal without kind", lambda w: resealed(w, consent_request(w), kind=DROP), "seal.kind: is required"),
    ("seal sender a string", lambda w: resealed(w, consent_request(w), sender="USA"),
     "seal.sender: must be an object (it is a string)"),
    ("seal payload a string", lambda w: resealed(w, consent_request(w), payload="consent"),
     "seal.payload: must be an object (it is a string)"),
    ("seal digests a string", lambda w: resealed(w, release(w), object_digests="all"),
     "seal.object_digests: must be a list (it is a string)"),
    ("seal digest without sha256", lambda w: resealed(w, release(w), object_digests__0__sha256=DROP),
     "seal.object_digests[0].sha256: is required"),
    # release
    ("release without record", lambda w: release(w, release=DROP), "release: is required"),
    ("release without recipient", lambda w: release(w, release__recipient=DROP), "release.recipient: is required"),
    ("release without expiry", lambda w: release(w, release__expires_at=DROP), "release.expires_at: is required"),
    ("release items a list", lambda w: release(w, items=["ab" * 32]), "items: must be an object (it is a list)"),
    ("release recipient a string", lambda w: release(w, release__recipient="MX-DEMO-FIA"),
     "release.recipient: must be an object (it is a string)"),
    ("release expiry not a time", lambda w: release(w, release__expires_at="soon"),
     "release.expires_at: must be an RFC 3339 timestamp"),
    ("release id a number", lambda w: release(w, release__id=7), "release.id: must be a string (it is a number)"),
    ("release consent body a string", lambda w: release(w, consents=[{"body": "x", "signature": ""}]),
     "consents[0].body: must be an object (it is a string)"),
    ("release consent without grantor", lambda w: release(w, consents=[{"body": consent_body(grantor=DROP),
     "signature": ""}]), "consents[0].body.grantor: is required"),
    # consent request
    ("request without grantor", lambda w: consent_request(w, grantor=DROP), "grantor: is required"),
    ("request without purpose", lambda w: consent_request(w, purpose=DROP), "purpose: is required"),
    ("request requester a string", lambda w: consent_request(w, requester="USA"),
     "requester: must be an object (it is a string)"),
    ("request hashes a string", lambda w: consent_request(w, item_hashes="ab" * 32),
     "item_hashes: must be a list (it is a string)"),
    # consent answer
    ("answer consent without grantor", lambda w: consent_answer(w, grantor=DROP), "consent.grantor: is required"),
    ("answer grant without signature", lambda w: consent_answer(w, {"signature": DROP}), "signature: is required"),
    ("answer grant without consent", lambda w: consent_answer(w, {"consent": DROP}),
     "consent: is required when the answer is granted"),
    ("answer consent a string", lambda w: consent_answer(w, {"consent": "granted"}),
     "consent: must be an object (it is a string)"),
    ("answer neither granted nor refused", lambda w: consent_answer(w, {"answer": True}),
     "answer: must be 'granted' or 'refused' (it is a boolean)"),
    ("answer hashes a string", lambda w: consent_answer(w, item_hashes="cd" * 32),
     "consent.item_hashes: must be a list (it is a string)"),
    # recall
    ("recall without release", lambda w: recall(w, release=DROP), "release: is required"),
    ("recall release an object", lambda w: recall(w, release={"id": "release--1"}),
     "release: must be a string (it is an object)"),
    # consent revoke
    ("revoke without consent", lambda w: consent_revoke(w, consent=DROP), "consent: is required"),
    ("revoke consent a list", lambda w: consent_revoke(w, consent=[HELD_CONSENT]),
     "consent: must be a string (it is a list)"),
]  # fmt: skip


def _state(world: World) -> dict[str, int]:
    """How many rows each table a unit may fill holds, and how many rows a unit may change are changed."""
    with world.mex.db.read() as session:
        counts = {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Received, ReceivedRelease, Grant, Report, Consent, ConsentRequest)
        }
        changed = {
            "answered requests": select(func.count()).where(ConsentRequest.state != "pending"),
            "revoked consents": select(func.count()).where(Consent.revoked_at.is_not(None)),
            "recalled grants": select(func.count()).where(Grant.recalled_at.is_not(None)),
            "recalled releases": select(func.count()).where(ReceivedRelease.recalled_at.is_not(None)),
        }
        return counts | {name: session.scalar(query) or 0 for name, query in changed.items()}


@pytest.mark.parametrize(("build", "refusal"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_malformed_unit_from_a_partner_is_refused_alone_and_the_rest_of_the_push_applies(
    world: World, build: Build, refusal: str
) -> None:
    faulty = build(world)
    before = _state(world)

    status = world.push(faulty, world.release)

    failure = next(f for f in status["failures"] if f["id"] == str(faulty.seal.get("id")))
    assert failure["message"].startswith(refusal), failure
    assert world.release.seal["id"] in {s["id"] for s in status["successes"]}, status
    genuine = {"Received": 1, "ReceivedRelease": 1, "Report": 1, "Grant": len(world.release.payload["items"])}
    assert _state(world) == {name: count + genuine.get(name, 0) for name, count in before.items()}


def test_a_refused_answer_needs_no_consent(world: World) -> None:
    """The checks ask only for what each unit needs: a refused answer carries no consent."""
    answer = consent_answer(world, {"answer": "refused", "consent": DROP, "signature": DROP})

    status = world.push(answer)

    assert [s["id"] for s in status["successes"]] == [answer.seal["id"]], status
    with world.mex.db.read() as session:
        assert session.scalar(select(ConsentRequest.state)) == "refused"


def test_a_grant_and_its_revoke_in_one_push_both_apply(world: World) -> None:
    grant, revoke = consent_answer(world), consent_revoke(world)
    assert grant.seal["id"] != revoke.seal["id"]

    status = world.push(grant, revoke)

    assert {s["id"] for s in status["successes"]} >= {grant.seal["id"], revoke.seal["id"]}, status
    with world.mex.db.read() as session:
        assert session.scalar(select(Consent.revoked_at).where(Consent.id == HELD_CONSENT)) is not None
