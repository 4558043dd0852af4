"""What a partner's unit must hold, by kind: checked before any of it is applied.

A unit's seal and payload are the partner's word, and its code may differ from ours (an older
version, another implementation, a bug). A key missing or of the wrong type must not reach the
code that applies the unit, where it would raise (and fail the whole push) or be stored half-read;
it is refused with its unit alone, naming the field and the reason. Only what this node reads is
checked: keys it does not use may come and go. Lengths are checked against the columns elsewhere
(`receive._stored_strings`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ValidationError

from tearline import clock
from tearline.errors import InvalidInput, Problem
from tearline.validation import problems_of


def _timestamp(text: str) -> str:
    try:
        clock.parse_timestamp(text)
    except ValueError:
        raise ValueError("must be an RFC 3339 timestamp") from None
    return text


Timestamp = Annotated[str, AfterValidator(_timestamp)]


class Party(BaseModel):
    nation: str
    agency: str


class Recipient(BaseModel):
    nation: str
    agency: str | None = None


class Digest(BaseModel):
    id: str
    sha256: str


class Seal(BaseModel):
    id: str
    kind: str
    created: str | None = None
    modified: str | None = None
    sender: Party
    destination: str
    payload: dict[str, Any]
    object_digests: list[Digest] = []  # absent on a message seal: STIX 2.1 allows no empty list
    # `signature` is left to `seal.verify_unit`: a seal without one (or with garbage) is not the sender's.


class ConsentBody(BaseModel):
    """A consent as its grantor's node signed it (`consents._signed_consent`)."""

    id: str
    grantor: Party
    recipient: Recipient
    item_hashes: list[str]
    purpose: str
    expires_at: Timestamp
    request: str | None = None


class ConsentProof(BaseModel):
    body: ConsentBody
    signature: str


class ReleaseRecipient(BaseModel):
    agency: str | None = None


class ReleaseRecord(BaseModel):
    id: str
    recipient: ReleaseRecipient
    expires_at: Timestamp
    banner: str = ""


class ReleaseUnit(BaseModel):
    release: ReleaseRecord
    items: dict[str, str]  # each kept item's place in the tearline -> the originator's hash
    consents: list[ConsentProof] = []


class RecallUnit(BaseModel):
    release: str
    report: str | None = None


class ConsentRequestUnit(BaseModel):
    id: str
    requester: Party
    grantor: Party
    recipient: Recipient
    item_hashes: list[str]
    purpose: str


class ConsentAnswerUnit(BaseModel):
    request: str
    answer: Literal["granted", "refused"]
    consent: ConsentBody | None = None
    signature: str | None = None


class ConsentRevokeUnit(BaseModel):
    consent: str


PAYLOADS: dict[str, type[BaseModel]] = {
    "release": ReleaseUnit,
    "recall": RecallUnit,
    "consent-request": ConsentRequestUnit,
    "consent-answer": ConsentAnswerUnit,
    "consent-revoke": ConsentRevokeUnit,
}


def check_seal(seal: dict[str, Any], item: str) -> None:
    """Raise InvalidInput naming each field of the seal (as `seal.…`) that is missing or of the wrong type."""
    try:
        Seal.model_validate(seal)
    except ValidationError as err:
        raise InvalidInput(problems_of(err, "seal", item)) from None


def check_payload(kind: str, payload: dict[str, Any], item: str) -> None:
    """Raise InvalidInput naming each field of a `kind` unit's payload that is missing or of the wrong
    type (a kind we do not know is refused elsewhere)."""
    model = PAYLOADS.get(kind)
    if model is None:
        return
    try:
        checked = model.model_validate(payload)
    except ValidationError as err:
        raise InvalidInput(problems_of(err, "", item)) from None
    if isinstance(checked, ConsentAnswerUnit) and checked.answer == "granted":
        missing = [name for name in ("consent", "signature") if getattr(checked, name) is None]
        if missing:
            raise InvalidInput([Problem(name, "is required when the answer is granted", item) for name in missing])
