"""The TAXII 2.1 server of a node, under /taxii2: discovery, one API root, collections, objects,
manifests, versions and status resources (TAXII 2.1 §4-§5).

A caller sees only the collections the providers of `tearline.taxii.collections` list for them,
and only the objects those collections admit; anything else answers the same 404 as something
missing. Every request that reads or decides is audited, with the ids it served.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from tearline import clock
from tearline.db.federation_tables import TaxiiStatus
from tearline.db.models import Principal
from tearline.errors import Forbidden, NotFound, Problem, TearlineError, Unauthorized
from tearline.node import Node
from tearline.store.filters import Reader
from tearline.taxii import holdings as _holdings  # noqa: F401  (registers the holdings collection)
from tearline.taxii.collections import STIX_MEDIA_TYPE, Caller, Collection, Filters, ObjectPage, collections_for
from tearline.taxii.errors import BadRequest, TooLarge, Unprocessable, body_of, error_body
from tearline.taxii.filters import Query, page_headers, parse_query, taxii_time
from tearline.taxii.media import TAXII_MEDIA_TYPE, require_taxii_accept, require_taxii_content
from tearline.web.app import NodeDep, PrincipalDep
from tearline.web.audited import audited, audited_read, reader_of
from tearline.web.nul import RefuseNul
from tearline.web.opaque import seal, unseal

API_ROOT = "tearline"
MAX_CONTENT_LENGTH = 10 * 1024 * 1024


class TaxiiResponse(Response):
    media_type = TAXII_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


router = APIRouter(dependencies=[Depends(require_taxii_accept)], default_response_class=TaxiiResponse)
root = f"/{API_ROOT}"


def _caller(node: Node, principal: Principal, reader: Reader | None) -> Caller:
    return Caller(node, principal, reader_of(reader))


def _collection(session: Session, caller: Caller, collection_id: str) -> Collection:
    for collection in collections_for(session, caller):
        if collection.id == collection_id:
            return collection
    raise NotFound(f"no collection {collection_id}")


def _readable(session: Session, caller: Caller, collection_id: str) -> Collection:
    collection = _collection(session, caller, collection_id)
    if not collection.can_read:
        raise Forbidden(f"collection {collection_id} takes objects but does not serve them", rule="taxii-write-only")
    return collection


def _query(request: Request, *, versions: bool = True) -> Query:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return parse_query(params, versions=versions)


def collection_resource(collection: Collection) -> dict[str, Any]:
    return {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "can_read": collection.can_read,
        "can_write": collection.can_write,
        "media_types": [STIX_MEDIA_TYPE],
    }


def _paged(body: dict[str, Any], key: str, items: list[Any], page: ObjectPage) -> dict[str, Any]:
    body["more"] = page.more
    if page.more and page.next:
        body["next"] = page.next
    if items:  # TAXII leaves out an empty list rather than sending one
        body[key] = items
    return body


def _answer(body: dict[str, Any], page: ObjectPage | None = None, status: int = 200) -> TaxiiResponse:
    return TaxiiResponse(body, status_code=status, headers=page_headers(page.objects) if page else None)


@router.get("/", name="discovery")
def discovery(request: Request, node: NodeDep, principal: PrincipalDep) -> TaxiiResponse:
    with audited_read(node, principal, "taxii.discovery"):
        pass
    api_root = str(request.url_for("api_root"))
    return _answer(
        {
            "title": f"tearline TAXII 2.1: {node.config.name}",
            "description": "Marked counter-narcotics intelligence, served only to those the markings admit.",
            "default": api_root,
            "api_roots": [api_root],
        }
    )


@router.get(f"{root}/", name="api_root")
def api_root(node: NodeDep, principal: PrincipalDep) -> TaxiiResponse:
    with audited_read(node, principal, "taxii.api-root"):
        pass
    return _answer(
        {
            "title": node.config.name,
            "description": f"The collections of {node.config.name} that you may read or write.",
            "versions": [TAXII_MEDIA_TYPE],
            "max_content_length": MAX_CONTENT_LENGTH,
        }
    )


@router.get(f"{root}/collections/")
def list_collections(node: NodeDep, principal: PrincipalDep) -> TaxiiResponse:
    with audited_read(node, principal, "taxii.collections") as (session, reader, trail):
        found = collections_for(session, _caller(node, principal, reader))
        trail.objects = [f"collection:{c.id}" for c in found]
        body = [collection_resource(c) for c in found]
    return _answer({"collections": body} if body else {})


@router.get(f"{root}/collections/{{collection_id}}/")
def get_collection(collection_id: str, node: NodeDep, principal: PrincipalDep) -> TaxiiResponse:
    with audited_read(node, principal, "taxii.collection", [f"collection:{collection_id}"]) as (session, reader, _):
        body = collection_resource(_collection(session, _caller(node, principal, reader), collection_id))
    return _answer(body)


@router.get(f"{root}/collections/{{collection_id}}/objects/")
def get_objects(collection_id: str, request: Request, node: NodeDep, principal: PrincipalDep) -> TaxiiResponse:
    with audited_read(node, principal, "taxii.objects", [f"collection:{collection_id}"]) as (session, reader, trail):
        query = _query(request)
        caller = _caller(node, principal, reader)
        page = _page(session, caller, _readable(session, caller, collection_id), query)
        trail.objects += [o.stix_id for o in page.objects]
    return _answer(_paged({}, "objects", [o.body for o in page.objects], page), page)


@router.get(f"{root}/collections/{{collection_id}}/manifest/")
def get_manifest(collection_id: str, request: Request, node: NodeDep, principal: PrincipalDep) -> TaxiiResponse:
    with audited_read(node, principal, "taxii.manifest", [f"collection:{collection_id}"]) as (session, reader, trail):
        query = _query(request)
        caller = _caller(node, principal, reader)
        page = _page(session, caller, _readable(session, caller, collection_id), query)
        trail.objects += [o.stix_id for o in page.objects]
    records = [
        {"id": o.stix_id, "date_added": taxii_time(o.date_added), "version": o.modified, "media_type": o.media_type}
        for o in page.objects
    ]
    return _answer(_paged({}, "objects", records, page), page)


def _one_object(
    request: Request, node: Node, principal: Principal, action: str, ids: tuple[str, str], *, all_versions: bool
) -> ObjectPage:
    collection_id, object_id = ids
    with audited_read(node, principal, action, [f"collection:{collection_id}", object_id]) as (session, reader, trail):
        query = _query(request, versions=not all_versions)
        if query.filters.ids or query.filters.types:
            raise BadRequest("match[id] and match[type] do not apply to one object")
        filters = replace(query.filters, ids=(object_id,))
        caller = _caller(node, principal, reader)
        collection = _readable(session, caller, collection_id)
        page = _page(session, caller, collection, replace(query, filters=filters))
        if not page.objects and (query.next is None or not _held(session, caller, collection, object_id)):
            raise NotFound(f"no object {object_id}")  # with or without `next`: a hidden id is a missing one
        trail.objects = [f"collection:{collection_id}", *(o.stix_id for o in page.objects)]
    return page


def _page(session: Session, caller: Caller, collection: Collection, query: Query) -> ObjectPage:
    """A page of the collection, its `next` sealed (`tearline.web.opaque`): a collection's own cursor
    names a place in a node-wide order, whose gaps would count what the caller may not see.

    A `next` is opened only for the principal and collection it was given for; any other is refused
    as one this server did not give, as a collection refuses a malformed cursor of its own.
    """
    after = None
    if query.next is not None:
        after = unseal(caller.node, _cursor_purpose(collection), caller.principal.id, query.next)
        if after is None:
            raise BadRequest(f"next {query.next[:80]!r} is not a page this server gave")
    page = collection.page(session, caller, query.filters, query.limit, after)
    if page.next is None:
        return page
    return replace(page, next=seal(caller.node, _cursor_purpose(collection), caller.principal.id, page.next))


def _cursor_purpose(collection: Collection) -> str:
    return f"taxii-next:{collection.id}"


def _held(session: Session, caller: Caller, collection: Collection, object_id: str) -> bool:
    """Does the collection serve any version of the object to the caller? (Asked only of an empty page.)"""
    every = Filters(ids=(object_id,), versions=("all",))
    return bool(collection.page(session, caller, every, 1, None).objects)


@router.get(f"{root}/collections/{{collection_id}}/objects/{{object_id}}/")
def get_object(
    collection_id: str, object_id: str, request: Request, node: NodeDep, principal: PrincipalDep
) -> TaxiiResponse:
    page = _one_object(request, node, principal, "taxii.object", (collection_id, object_id), all_versions=False)
    return _answer(_paged({}, "objects", [o.body for o in page.objects], page), page)


@router.get(f"{root}/collections/{{collection_id}}/objects/{{object_id}}/versions/")
def get_versions(
    collection_id: str, object_id: str, request: Request, node: NodeDep, principal: PrincipalDep
) -> TaxiiResponse:
    page = _one_object(request, node, principal, "taxii.versions", (collection_id, object_id), all_versions=True)
    return _answer(_paged({}, "versions", [o.modified for o in page.objects], page), page)


@router.delete(f"{root}/collections/{{collection_id}}/objects/{{object_id}}/")
def delete_object(collection_id: str, object_id: str, node: NodeDep, principal: PrincipalDep) -> TaxiiResponse:
    with audited(node, principal, "taxii.delete", [f"collection:{collection_id}", object_id]) as (session, reader, _):
        _collection(session, _caller(node, principal, reader), collection_id)
        raise Forbidden(
            "objects are never deleted over TAXII; the originator recalls a release instead", rule="taxii-no-delete"
        )


async def envelope_bytes(request: Request) -> bytes:
    """The POSTed body, refused before it is read when it is not TAXII or larger than we advertise."""
    require_taxii_content(request)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_CONTENT_LENGTH:
        raise TooLarge(f"the body is {declared} bytes; this API root takes at most {MAX_CONTENT_LENGTH}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_CONTENT_LENGTH:
            raise TooLarge(f"the body exceeds {MAX_CONTENT_LENGTH} bytes, the most this API root takes")
    return bytes(body)


def _envelope(raw: bytes) -> dict[str, Any]:
    try:
        envelope = json.loads(raw)
    except ValueError as err:
        raise Unprocessable(f"the body is not JSON: {err}") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
        raise Unprocessable("the body must be a TAXII envelope: an object with a list of 'objects'")
    return envelope


@router.post(f"{root}/collections/{{collection_id}}/objects/")
def add_objects(
    collection_id: str, node: NodeDep, principal: PrincipalDep, raw: Annotated[bytes, Depends(envelope_bytes)]
) -> TaxiiResponse:
    with audited(node, principal, "taxii.add", [f"collection:{collection_id}"]) as (session, reader, trail):
        caller = _caller(node, principal, reader)
        collection = _collection(session, caller, collection_id)
        if not collection.can_write:
            raise Forbidden(f"collection {collection_id} is read-only", rule="taxii-read-only")
        envelope = _envelope(raw)
        trail.objects += [str(o.get("id")) for o in envelope["objects"] if isinstance(o, dict)]
        result = collection.add(session, caller, envelope)
        status = TaxiiStatus(
            id=str(uuid.uuid4()),
            principal_id=principal.id,
            status="pending" if result.pendings else "complete",
            request_timestamp=clock.now(),
            total_count=len(envelope["objects"]),
            successes=result.successes,
            failures=result.failures,
            pendings=result.pendings,
        )
        session.add(status)
        session.flush()
        body = status_resource(status)
    return _answer(body, status=202)


def status_resource(row: TaxiiStatus) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.id,
        "status": row.status,
        "request_timestamp": taxii_time(row.request_timestamp),
        "total_count": row.total_count,
        "success_count": len(row.successes),
        "failure_count": len(row.failures),
        "pending_count": len(row.pendings),
    }
    for key in ("successes", "failures", "pendings"):
        if getattr(row, key):
            body[key] = getattr(row, key)
    return body


@router.get(f"{root}/status/{{status_id}}/")
def get_status(status_id: str, node: NodeDep, principal: PrincipalDep) -> TaxiiResponse:
    with audited_read(node, principal, "taxii.status", [f"status:{status_id}"]) as (session, _, _t):
        row = session.get(TaxiiStatus, status_id)
        # Another principal's status answers like a missing one: it would tell what they sent.
        if row is None or row.principal_id != principal.id:
            raise NotFound(f"no status {status_id}")
        body = status_resource(row)
    return _answer(body)


async def _tearline_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TearlineError)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
    return TaxiiResponse(body_of(exc), status_code=exc.status, headers=headers)


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    description = "no such TAXII resource" if exc.status_code == 404 else str(exc.detail)
    return TaxiiResponse(error_body(exc.status_code, description), status_code=exc.status_code)


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return TaxiiResponse(error_body(400, "the request is not a valid TAXII 2.1 request"), status_code=400)


def _nul_refused(problems: list[Problem]) -> Response:
    where = ", ".join(p.field for p in problems)
    return TaxiiResponse(error_body(400, f"{where}: {problems[0].reason}"), status_code=400)


def taxii_app(node: Node) -> FastAPI:
    """The TAXII server as its own application, so that every error under /taxii2 is a TAXII error."""
    app = FastAPI(title="tearline TAXII 2.1", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.node = node
    app.add_exception_handler(TearlineError, _tearline_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)

    app.add_middleware(RefuseNul, refuse=_nul_refused)
    app.include_router(router)
    return app
