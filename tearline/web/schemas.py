"""Request bodies of the API, and their translation into store drafts (the third way in)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidatorFunctionWrapHandler, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from tearline import clock
from tearline.errors import InvalidInput, MarkingError, Problem
from tearline.markings.marking import Marking, Registry, marking_from_dict
from tearline.stix.checks import CONTENT, ENVELOPE, property_problems, source_field_problems
from tearline.stix.objects import object_draft
from tearline.stix.person import lifted, person_problems
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
    places = {o.id: o.properties for o in body.objects}  # where a sighting or an event is on the map
    drafts: list[ObjectDraft] = []
    for i, (obj, found) in enumerate(objects):
        properties = _properties(obj, found, places)
        own = _property_problems(obj, properties, found, i)
        problems += own
        if not own and found is not None:
            draft = object_draft(obj.id, obj.type, _stored(properties), found, places)
            problems += _restated_problems(obj, draft, i)
            drafts.append(_labelled(obj, draft))
    if problems:
        raise InvalidInput(problems)
    assert title_marking is not None
    return ReportDraft(
        stix_id=stix_id,
        title=PortionDraft(body.title.text, title_marking),
        portions=tuple(PortionDraft(p.text, m) for p, m in portions if m is not None),
        objects=tuple(drafts),
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


def _property_problems(obj: ObjectIn, properties: dict[str, Any], marking: Marking | None, index: int) -> list[Problem]:
    """The checks a bundle's objects pass, on the properties of one posted object."""
    spec = CONTENT.get(obj.type)  # what a STIX bundle's objects may hold (tearline.stix.checks)
    if spec is None:
        return []  # the store refuses an unknown type, naming the known ones
    envelope = "set by the object's own fields (id, type, ...), not in its properties"
    # A person's fields may come as in a bundle, in tearline's extension (tearline.stix.person).
    carried = {"extensions"} if obj.type == "identity" else set()
    found = [(name, envelope) for name in properties if name in ENVELOPE - carried]
    found += property_problems(properties, spec)
    if carried:
        found += person_problems(properties)
    out = [Problem(f"objects[{index}].properties.{name}", reason, obj.id) for name, reason in found]
    if marking is not None:
        out += [
            Problem(f"objects[{index}].marking.source_fields", reason, obj.id)
            for _, reason in source_field_problems(properties, marking.source_fields)
        ]
    return out


def _stored(properties: dict[str, Any]) -> dict[str, Any]:
    """Checked properties as the store keeps them: a person's fields in one form, however they came."""
    if "extensions" not in properties:
        return properties
    return {k: v for k, v in properties.items() if k != "extensions"} | lifted(properties)


# --- one value, once: the object's own fields restate its properties --------------------------------
#
# What a reader is shown of an object (its name, time, place and ends) is stored beside its properties,
# and what is exported, released and resolved is the properties. So the stored fields are derived from
# the properties, as the STIX way in derives them (`tearline.stix.objects.object_draft`); a field sent
# beside them must say the same, or the reviewed name would not be the released one (DESIGN §3.5).


def _properties(obj: ObjectIn, marking: Marking | None, places: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The properties, with a name given only beside them moved in, where the type has a name property
    and the name is not already what the properties give (a phone's number, a place's coordinates)."""
    spec = CONTENT.get(obj.type)
    if not obj.name or "name" in obj.properties or spec is None or spec.allowed("name") is None:
        return obj.properties
    if marking and not property_problems(obj.properties, spec) and _derived_name(obj, marking, places) == obj.name:
        return obj.properties  # the name the properties give, sent back as it was read
    return {**obj.properties, "name": obj.name}


def _derived_name(obj: ObjectIn, marking: Marking, places: dict[str, dict[str, Any]]) -> str | None:
    """The name the STIX way in gives these (checked) properties."""
    try:
        return object_draft(obj.id, obj.type, obj.properties, marking, places).name
    except (KeyError, TypeError, IndexError):
        return None


def _restated_problems(obj: ObjectIn, draft: ObjectDraft, index: int) -> list[Problem]:
    """Each field sent beside the properties that says something else than they do."""
    where = f"objects[{index}]"
    out = []
    if obj.name and obj.type != "sighting" and obj.name not in (draft.name, draft.body.get("name")):
        source = "properties.name" if "name" in draft.body else _NAMED_BY.get(obj.type, "properties.name")
        shown = draft.body.get("name", draft.name)
        out.append(Problem(f"{where}.name", _disagrees(obj.name, source, shown), obj.id))
    given = (
        ("observed_at", obj.observed_at, draft.observed_at),
        ("latitude", obj.latitude, draft.latitude),
        ("longitude", obj.longitude, draft.longitude),
        ("source_ref", obj.source_ref, draft.source_ref),
        ("target_ref", obj.target_ref, draft.target_ref),
    )
    for field, sent, derived in given:
        if sent is None or _same(sent, derived):
            continue
        held_in = _SOURCES.get((obj.type, field))
        if held_in is None:
            reason = f"a {obj.type} holds no {field} in its properties, which are what is exported and released"
        else:
            reason = _disagrees(sent, held_in, derived)
        out.append(Problem(f"{where}.{field}", reason, obj.id))
    return out


def _disagrees(sent: object, source: str, derived: object) -> str:
    return (
        f"{_shown(sent)} disagrees with {source}, {_shown(derived)}, which is what is exported and "
        "released; give it once, or the same in both"
    )


def _shown(value: object) -> str:
    return clock.as_utc(value).isoformat() if isinstance(value, datetime) else repr(value)


def _same(sent: object, derived: object) -> bool:
    if isinstance(sent, datetime) and isinstance(derived, datetime):
        # STIX timestamps say milliseconds: a time read back with its stored microseconds (an object
        # stored before the two had to agree) is the same time, and the editor sends it back as read.
        return abs(clock.as_utc(sent) - clock.as_utc(derived)) < timedelta(milliseconds=1)
    return sent == derived


def _labelled(obj: ObjectIn, draft: ObjectDraft) -> ObjectDraft:
    """A sighting has no name property: a name given to it is a label of its own, under its marking."""
    return replace(draft, name=obj.name) if obj.type == "sighting" and obj.name else draft


# Which property each of an object's own fields restates, by type (tearline.stix.objects).
_NAMED_BY = {
    "relationship": "properties.relationship_type",
    "x-tearline-phone": "properties.number",
    "x-tearline-vehicle": "properties.plate",
}
_SOURCES = {
    ("location", "latitude"): "properties.latitude",
    ("location", "longitude"): "properties.longitude",
    ("sighting", "observed_at"): "properties.first_seen",
    ("sighting", "latitude"): "the latitude of the place in properties.where_sighted_refs",
    ("sighting", "longitude"): "the longitude of the place in properties.where_sighted_refs",
    ("sighting", "source_ref"): "properties.sighting_of_ref",
    ("sighting", "target_ref"): "properties.where_sighted_refs[0]",
    ("x-tearline-event", "observed_at"): "properties.occurred",
    ("x-tearline-event", "latitude"): "the latitude of the place in properties.location_ref",
    ("x-tearline-event", "longitude"): "the longitude of the place in properties.location_ref",
    ("x-tearline-event", "target_ref"): "properties.location_ref",
    ("relationship", "source_ref"): "properties.source_ref",
    ("relationship", "target_ref"): "properties.target_ref",
}
