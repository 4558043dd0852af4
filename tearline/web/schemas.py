"""Request bodies of the API, and their translation into store drafts (the third way in)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from tearline.errors import InvalidInput, MarkingError, Problem
from tearline.markings.marking import Marking, Registry, marking_from_dict
from tearline.store.drafts import ObjectDraft, PortionDraft, ReportDraft


class PortionIn(BaseModel):
    text: str
    marking: dict[str, Any]


class ObjectIn(BaseModel):
    id: str = Field(description="STIX id, e.g. identity--<uuid4>")
    type: str
    name: str = ""
    properties: dict[str, Any] = Field(default_factory=dict)
    marking: dict[str, Any]
    observed_at: datetime | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    source_ref: str | None = None
    target_ref: str | None = None


class ReportIn(BaseModel):
    title: PortionIn
    portions: list[PortionIn] = Field(default_factory=list)
    objects: list[ObjectIn] = Field(default_factory=list)
    predicate: str = Field(description="The criminal predicate: the reasonable suspicion behind this record")
    need_to_know: str = ""
    review_due: datetime = Field(description="Review or purge date, at most 5 years out (28 CFR Part 23)")
    workspace: str | None = None


class LoginIn(BaseModel):
    username: str
    password: str


class PolicyIn(BaseModel):
    policy: str = Field(description="Cedar forbid rules, each with an @id annotation")


def report_draft(body: ReportIn, registry: Registry, stix_id: str | None = None) -> ReportDraft:
    """Translate an API body into a draft, collecting every marking problem with its path."""
    problems: list[Problem] = []

    def marking(raw: dict[str, Any], where: str) -> Marking | None:
        try:
            return marking_from_dict(raw, registry, where)
        except MarkingError as err:
            problems.extend(err.problems)
            return None

    title_marking = marking(body.title.marking, "title.marking")
    portions = [(p, marking(p.marking, f"portions[{i}].marking")) for i, p in enumerate(body.portions)]
    objects = [(o, marking(o.marking, f"objects[{i}].marking")) for i, o in enumerate(body.objects)]
    if problems:
        raise InvalidInput(problems)
    assert title_marking is not None
    return ReportDraft(
        stix_id=stix_id,
        title=PortionDraft(body.title.text, title_marking),
        portions=tuple(PortionDraft(p.text, m) for p, m in portions if m is not None),
        objects=tuple(_object_draft(o, m) for o, m in objects if m is not None),
        predicate=body.predicate,
        need_to_know=body.need_to_know,
        review_due=body.review_due,
        workspace=body.workspace,
    )


def _object_draft(obj: ObjectIn, marking: Marking) -> ObjectDraft:
    return ObjectDraft(
        stix_id=obj.id,
        stix_type=obj.type,
        body=obj.properties,
        marking=marking,
        name=obj.name or str(obj.properties.get("name", "")),
        observed_at=obj.observed_at,
        latitude=obj.latitude,
        longitude=obj.longitude,
        source_ref=obj.source_ref,
        target_ref=obj.target_ref,
    )
