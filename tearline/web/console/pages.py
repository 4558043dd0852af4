"""Rendering console pages: the reader, their language, their CSRF token and the page's banner.

Every page shows the banner of what it displays, computed for the reader by the store, at its top
and its bottom. A page that displays nothing marked shows the lowest label of the node's nation.
Errors become pages too: a missing log-in or an expired session goes back to the log-in form, and
a hidden item answers exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape

from tearline.db.models import Principal
from tearline.errors import InvalidInput, NotFound, Problem, TearlineError, Unauthorized
from tearline.markings.scheme import NATIONAL_LABELS, TRILATERAL
from tearline.node import Node
from tearline.validation import field_path, reason
from tearline.web.app import SESSION_COOKIE, checked_csrf, node_of, principal_of_token
from tearline.web.console.i18n import LANGUAGE_COOKIE, LANGUAGE_NAMES, LANGUAGES, catalog, language_of
from tearline.web.console.messages import said
from tearline.web.csrf import CSRF_FIELD, CSRF_HEADER, csrf_token

TEMPLATES = Path(__file__).parent / "templates"
# Everything from this node and nothing else (no CDN, no inline script), and never inside a frame.
# Inline styles stay allowed: Leaflet positions its map panes with them.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(), auto_reload=False)


def page_principal(request: Request) -> Principal:
    """The reader of a page: the session cookie only (a page is never read with a bearer token)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthorized("log in first")
    return principal_of_token(request, token)


async def form_principal(request: Request, principal: Annotated[Principal, Depends(page_principal)]) -> Principal:
    """The reader of a state-changing request, which must carry the session's CSRF token."""
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    checked_csrf(request, principal, request.cookies.get(SESSION_COOKIE, ""), given)
    return principal


Reader = Annotated[Principal, Depends(page_principal)]
Writer = Annotated[Principal, Depends(form_principal)]


def banner_class(banner: str, nation: str) -> str:
    """A colour for the banner strip, from its level (the text, not the colour, is the marking)."""
    label = banner.split("//", 1)[0]
    level = TRILATERAL.common(nation, label)
    return f"level-{level if level is not None else 'x'}"


def lowest_label(nation: str) -> str:
    return NATIONAL_LABELS[nation][0]


def render(
    request: Request,
    template: str,
    principal: Principal | None,
    *,
    banner: str | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    node: Node = node_of(request)
    language = language_of(request)
    texts = catalog(language)
    nation = node.config.nation
    shown = banner or lowest_label(nation)
    session_token = request.cookies.get(SESSION_COOKIE)
    page = environment.get_template(template).render(
        request=request,
        _=texts.gettext,
        ngettext=texts.ngettext,
        said=lambda text: said(str(text), texts),  # the node's own refusals, in the reader's language
        lang=language,
        languages=[(code, LANGUAGE_NAMES[code], language_link(request, code)) for code in LANGUAGES],
        me=principal,
        roles=set(principal.roles) if principal else set(),
        node=node.config,
        banner=shown,
        banner_class=banner_class(shown, nation),
        csrf=csrf_token(node, session_token) if principal and session_token else "",
        path=request.url.path,
        **context,
    )
    response = HTMLResponse(page, status_code=status)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, language, samesite="strict", max_age=365 * 24 * 3600)
    response.headers["Content-Language"] = language
    response.headers["Cache-Control"] = "no-store"  # marked pages never sit in a browser cache
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def by_field(problems: list[Problem], fields: dict[str, str]) -> dict[str, list[Problem]]:
    """Each problem under the form field it is about, to be shown next to that field.

    `fields` maps the body's name to the form's (`expires_at` is the form's `expires`); a problem of a
    nested field (`recipient.nation`) belongs to its top field. One the form has no field for is under "".
    """
    placed: dict[str, list[Problem]] = {}
    for problem in problems:
        top = problem.field.split(".", 1)[0].split("[", 1)[0]
        placed.setdefault(fields.get(top, ""), []).append(problem)
    return placed


def language_link(request: Request, language: str) -> str:
    """This page in another language: its own query (a search, a page number) kept, `lang` replaced."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return "?" + urlencode([*kept, ("lang", language)])


def login_redirect(request: Request, expired: bool = False) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":  # a form posted after expiry: come back to a page, not to the action
        target = "/inbox"
    query = f"next={quote(target, safe='')}" + ("&expired=1" if expired else "")
    response = RedirectResponse(f"/login?{query}", status_code=303)
    if expired:
        response.delete_cookie(SESSION_COOKIE)
    return response


def error_page(request: Request, err: TearlineError) -> Response:
    problems = err.problems if isinstance(err, InvalidInput) else []
    rule = getattr(err, "rule", None)
    message = "not found" if isinstance(err, NotFound) else err.message
    return render(
        request, "error.html", None, status=err.status, message=message, rule=rule, problems=problems, code=err.code
    )


def malformed(err: RequestValidationError) -> InvalidInput:
    """A page's path, query or form parameter that is not what the route takes, named as the URL or form
    names it (`version`, not `query.version`): the console answers it as a page, never as JSON."""
    return InvalidInput([Problem(field_path(tuple(e["loc"][1:])) or "request", _url_reason(e)) for e in err.errors()])


def _url_reason(error: Any) -> str:
    """Why a value was refused; a URL's values are all text, so saying "it is a string" tells nothing."""
    said = reason(error)
    return said.removesuffix(" (it is a string)") if error["loc"][0] in ("path", "query") else said


class PageRoute(APIRoute):
    """A console route: errors become pages, and a missing or expired session goes to the log-in form."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Unauthorized as err:
                return login_redirect(request, expired="expired" in err.message)
            except TearlineError as err:
                return error_page(request, err)
            except RequestValidationError as err:  # raised before the page's own code runs
                return error_page(request, malformed(err))

        return page_handler
