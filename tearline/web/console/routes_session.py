"""Log-in and log-out of the console.

The log-in form is the API's log-in (`POST /api/login`, argon2id, an expiring session token in an
HttpOnly, SameSite=Strict cookie). The form itself carries a double-submit token, so that another
site cannot log a browser in under its own account. Log-out revokes the session's token on the node.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from tearline.errors import Forbidden, Unauthorized
from tearline.store.principals import revoke_token
from tearline.web import routes_admin
from tearline.web.app import SESSION_COOKIE, NodeDep
from tearline.web.audited import audited
from tearline.web.console.pages import PageRoute, Writer, render
from tearline.web.schemas import LoginIn

router = APIRouter(route_class=PageRoute, include_in_schema=False)
LOGIN_COOKIE = "tearline_login"


def _local(target: str | None) -> str:
    """Only a path of this node: never an open redirect to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/inbox"


def _login_form(request: Request, status: int = 200, error: str | None = None) -> Response:
    nonce = secrets.token_urlsafe(24)
    expired = request.query_params.get("expired") == "1"
    response = render(
        request,
        "login.html",
        None,
        status=status,
        nonce=nonce,
        error=error,
        expired=expired,
        next=_local(request.query_params.get("next")),
    )
    response.set_cookie(LOGIN_COOKIE, nonce, httponly=True, samesite="strict", max_age=3600)
    return response


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/inbox", status_code=303)


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_form(request)


@router.post("/login")
def login(
    request: Request,
    node: NodeDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/inbox",
) -> Response:
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not hmac.compare_digest(nonce, csrf):
        raise Forbidden("the log-in form has expired or came from another site; load it again", rule="csrf")
    response = RedirectResponse(_local(next), status_code=303)
    try:
        routes_admin.login(LoginIn(username=username, password=password), node, response)
    except Unauthorized:
        return _login_form(request, 401, "wrong username or password")
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, node: NodeDep, principal: Writer) -> Response:
    with audited(node, principal, "logout") as (session, _, _trail):
        revoke_token(session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
