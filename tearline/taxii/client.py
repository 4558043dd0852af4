"""A small TAXII 2.1 client (httpx), for talking to partner nodes and to other TAXII servers.

It authenticates with a bearer token, or with any `httpx.Auth` (node-to-node requests are signed
by the federation layer), and names the URL, the HTTP status and the TAXII error title whenever a
server refuses.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from tearline import clock
from tearline.errors import TearlineError
from tearline.taxii.collections import STIX_MEDIA_TYPE
from tearline.taxii.media import TAXII_MEDIA_TYPE

DEFAULT_TIMEOUT = 30.0


class TaxiiClientError(TearlineError):
    """A TAXII server refused or could not be reached; `status` is 502 unless the server said otherwise."""

    status = 502
    code = "taxii_client"

    def __init__(self, message: str, url: str, http_status: int | None = None, title: str | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.http_status = http_status
        self.title = title


class BearerAuth(httpx.Auth):
    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


@dataclass
class Envelope:
    """One page of objects (or manifest records, or versions) and where the next page is."""

    items: list[Any]
    more: bool
    next: str | None
    date_added_first: str | None = None
    date_added_last: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def _time(moment: datetime | str) -> str:
    if isinstance(moment, str):
        return moment
    return clock.as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class TaxiiClient:
    """A TAXII 2.1 client of one server. Use as a context manager, or call `close()`."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if token is not None and auth is not None:
            raise ValueError("give a bearer token or an auth hook, not both")
        self._http = httpx.Client(
            auth=BearerAuth(token) if token is not None else auth,
            headers={"Accept": TAXII_MEDIA_TYPE, **(headers or {})},
            timeout=timeout,
            transport=transport,
        )
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"

    def __enter__(self) -> TaxiiClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- resources -----------------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        """The discovery resource at `base_url` (for example https://node.example/taxii2/)."""
        return self._get(self.base_url).json()  # type: ignore[no-any-return]

    def api_root(self, api_root: str) -> dict[str, Any]:
        return self._get(_slash(api_root)).json()  # type: ignore[no-any-return]

    def collections(self, api_root: str) -> list[dict[str, Any]]:
        body = self._get(_slash(api_root) + "collections/").json()
        return list(body.get("collections", []))

    def collection(self, api_root: str, collection_id: str) -> dict[str, Any]:
        return self._get(self._collection_url(api_root, collection_id)).json()  # type: ignore[no-any-return]

    def objects_page(
        self,
        api_root: str,
        collection_id: str,
        *,
        added_after: datetime | str | None = None,
        limit: int | None = None,
        next: str | None = None,
        match: Mapping[str, str | list[str]] | None = None,
    ) -> Envelope:
        url = self._collection_url(api_root, collection_id) + "objects/"
        return self._page(url, "objects", _params(added_after, limit, next, match))

    def objects(
        self,
        api_root: str,
        collection_id: str,
        *,
        added_after: datetime | str | None = None,
        limit: int | None = None,
        match: Mapping[str, str | list[str]] | None = None,
    ) -> Iterator[Envelope]:
        """Every page of objects, following `next` until the server says there is no more."""
        url = self._collection_url(api_root, collection_id) + "objects/"
        yield from self._pages(url, "objects", added_after, limit, match)

    def object(self, api_root: str, collection_id: str, object_id: str, **match: str) -> Envelope:
        url = self._collection_url(api_root, collection_id) + f"objects/{object_id}/"
        return self._page(url, "objects", _params(None, None, None, match))

    def versions(self, api_root: str, collection_id: str, object_id: str) -> Envelope:
        url = self._collection_url(api_root, collection_id) + f"objects/{object_id}/versions/"
        return self._page(url, "versions", {})

    def manifest(
        self,
        api_root: str,
        collection_id: str,
        *,
        added_after: datetime | str | None = None,
        limit: int | None = None,
        match: Mapping[str, str | list[str]] | None = None,
    ) -> Iterator[Envelope]:
        url = self._collection_url(api_root, collection_id) + "manifest/"
        yield from self._pages(url, "objects", added_after, limit, match)

    def add_objects(self, api_root: str, collection_id: str, envelope: Mapping[str, Any]) -> dict[str, Any]:
        """POST an envelope; the answer is the server's status resource."""
        url = self._collection_url(api_root, collection_id) + "objects/"
        response = self._send("POST", url, json=dict(envelope), headers={"Content-Type": TAXII_MEDIA_TYPE})
        return response.json()  # type: ignore[no-any-return]

    def status(self, api_root: str, status_id: str) -> dict[str, Any]:
        return self._get(_slash(api_root) + f"status/{status_id}/").json()  # type: ignore[no-any-return]

    def add_and_wait(
        self, api_root: str, collection_id: str, envelope: Mapping[str, Any], *, timeout: float = 30.0
    ) -> dict[str, Any]:
        """POST an envelope, then poll its status until it is no longer pending (or `timeout` passes)."""
        status = self.add_objects(api_root, collection_id, envelope)
        deadline = time.monotonic() + timeout
        delay = 0.05
        while status.get("status") == "pending" and time.monotonic() < deadline:
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
            status = self.status(api_root, status["id"])
        return status

    # -- plumbing ------------------------------------------------------------------------------

    def _collection_url(self, api_root: str, collection_id: str) -> str:
        return _slash(api_root) + f"collections/{collection_id}/"

    def _pages(
        self,
        url: str,
        key: str,
        added_after: datetime | str | None,
        limit: int | None,
        match: Mapping[str, str | list[str]] | None,
    ) -> Iterator[Envelope]:
        page = self._page(url, key, _params(added_after, limit, None, match))
        yield page
        while page.more and page.next:
            page = self._page(url, key, _params(added_after, limit, page.next, match))
            yield page

    def _page(self, url: str, key: str, params: dict[str, str]) -> Envelope:
        response = self._get(url, params)
        body = response.json() if response.content else {}
        return Envelope(
            items=list(body.get(key, [])),
            more=bool(body.get("more", False)),
            next=body.get("next"),
            date_added_first=response.headers.get("X-TAXII-Date-Added-First"),
            date_added_last=response.headers.get("X-TAXII-Date-Added-Last"),
            raw=body,
        )

    def _get(self, url: str, params: Mapping[str, str] | None = None) -> httpx.Response:
        return self._send("GET", url, params=dict(params or {}))

    def _send(self, method: str, url: str, **kw: Any) -> httpx.Response:
        try:
            response = self._http.request(method, url, **kw)
        except httpx.HTTPError as err:
            raise TaxiiClientError(f"{method} {url}: {err.__class__.__name__}: {err}", url) from err
        if response.status_code >= 400:
            raise _refusal(method, response)
        return response


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _params(
    added_after: datetime | str | None, limit: int | None, next: str | None, match: Mapping[str, str | list[str]] | None
) -> dict[str, str]:
    params: dict[str, str] = {}
    if added_after is not None:
        params["added_after"] = _time(added_after)
    if limit is not None:
        params["limit"] = str(limit)
    if next is not None:
        params["next"] = next
    for name, value in (match or {}).items():
        params[f"match[{name}]"] = value if isinstance(value, str) else ",".join(value)
    return params


def _refusal(method: str, response: httpx.Response) -> TaxiiClientError:
    """The server's TAXII error message, named with the URL and status."""
    url = str(response.request.url)
    title = description = None
    try:
        body = response.json()
        if isinstance(body, dict):
            title, description = body.get("title"), body.get("description")
    except ValueError:
        pass
    said = f"{title}: {description}" if title and description else title or response.reason_phrase
    message = f"{method} {url} answered {response.status_code} ({said})"
    return TaxiiClientError(message, url, response.status_code, title)


def envelope_of(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """A TAXII envelope holding these STIX objects, ready to POST."""
    return {"objects": objects}


__all__ = ["STIX_MEDIA_TYPE", "BearerAuth", "Envelope", "TaxiiClient", "TaxiiClientError", "envelope_of"]
