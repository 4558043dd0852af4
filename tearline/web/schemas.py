"""Request bodies of the API, and their translation into store drafts (the third way in)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidatorFunctionWrapHandler, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from tearline.errors import InvalidInput, MarkingError, Problem
from tearline.markings.marking import Marking, Registry, marking_from_dict
from tearline.stix.checks import CONTENT, ENVELOPE, property_problems, source_field_problems
from tearline.store.drafts import ObjectDraft, PortionDraft, ReportDraft, portion_text_too_long


class RequestBody(BaseModel):
    """A request body: a field it does not have is refused (a 422 naming it and the fields it has),
    never ignored: `portion` for `portions` would otherwise store a report without its portions."""

    model_config = ConfigDict(extra="forbid")
    noun: ClassVar[str] = "this body"

    @model_validator(mode="wrap")
    @classmethod
    def _unknown_fields_named(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(data)
        except ValidationError as err:
            if not any(e["type"] == "extra_forbidden" and len(e["loc"]) == 1 for e in err.errors()):
                raise
            raise ValidationError.from_exception_data(err.title, [cls._named(e) for e in err.errors()]) from None

    @classmethod
    def _named(cls, error: Any) -> InitErrorDetails:
        message = str(error["msg"])
        if error["type"] == "extra_forbidden" and len(error["loc"]) == 1:
            message = f"not a field of {cls.noun}; its fields are {', '.join(cls.model_fields)}"
        return InitErrorDetails(
            type=PydanticCustomError(str(error["type"]), message), loc=error["loc"], input=error.get("input")
        )


class PortionIn(RequestBody):
    noun = "a portion"
    text: str
    marking: dict[str, Any]


class ObjectIn(RequestBody):
    noun = "an object"
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


class ReportIn(RequestBody):
    noun = "a report"
    title: PortionIn
    portions: list[PortionIn] = Field(default_factory=list)
    objects: list[ObjectIn] = Field(default_factory=list)
    predicate: str = Field(description="The criminal predicate: the reasonable suspicion behind this record")
    need_to_know: str = ""
    review_due: datetime = Field(description="Review or purge date, at most 5 years out (28 CFR Part 23)")
    workspace: str | None = None


class LoginIn(RequestBody):
    noun = "a log-in"
    username: str
    password: str


class PolicyIn(RequestBody):
    noun = "a policy"
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

    problems += text_problems(body)
    title_marking = marking(body.title.marking, "title.marking")
    portions = [(p, marking(p.marking, f"portions[{i}].marking")) for i, p in enumerate(body.portions)]
    objects = [(o, marking(o.marking, f"objects[{i}].marking")) for i, o in enumerate(body.objects)]
    for i, (obj, found) in enumerate(objects):
        problems += _property_problems(obj, found, i)
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


def text_problems(body: ReportIn) -> list[Problem]:
    """A report written here needs a portion, and every text must be something and fit.

    The store checks the texts for every way in (`tearline.store.drafts`), naming `portion N`; here
    they are named by their path in the body (`portions[0].text`), as the API names every other
    problem of a portion. Only here is a portion required: a CSV mapping's portions are optional,
    and a tearline may keep only a title and objects."""
    problems = [] if body.portions else [Problem("portions", "a report needs at least one portion")]
    texts = [("title.text", body.title.text)] + [(f"portions[{i}].text", p.text) for i, p in enumerate(body.portions)]
    for path, text in texts:
        if not text.strip():
            problems.append(Problem(path, "must not be empty"))
        elif reason := portion_text_too_long(text):
            problems.append(Problem(path, reason))
    return problems


def _property_problems(obj: ObjectIn, marking: Marking | None, index: int) -> list[Problem]:
    """The checks a bundle's objects pass, on the properties of one posted object."""
    spec = CONTENT.get(obj.type)  # what a STIX bundle's objects may hold (tearline.stix.checks)
    if spec is None:
        return []  # the store refuses an unknown type, naming the known ones
    envelope = "set by the object's own fields (id, type, ...), not in its properties"
    found = [(name, envelope) for name in obj.properties if name in ENVELOPE]
    found += property_problems(obj.properties, spec)
    out = [Problem(f"objects[{index}].properties.{name}", reason, obj.id) for name, reason in found]
    if marking is not None:
        out += [
            Problem(f"objects[{index}].marking.source_fields", reason, obj.id)
            for _, reason in source_field_problems(obj.properties, marking.source_fields)
        ]
    return out


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
