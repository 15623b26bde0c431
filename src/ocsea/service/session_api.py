"""Sign-in for people: the one login of the API and the pages (throttled, audited), logout."""

import math
from collections.abc import Callable
from typing import Annotated

from fastapi import Cookie, Request, Response

from ocsea.service import audit
from ocsea.service.access import (
    Principal,
    check_password,
    end_session,
    login_attempt,
    login_succeeded,
    start_session,
)
from ocsea.service.app import ApiContext, LoginIn, LoginOut, Problem, client_address


def register(app, ctx: ApiContext) -> Callable:
    """POST /v1/session/login, POST /v1/session/logout. Gives ``sign_in`` for the pages."""
    engine, limiter = ctx.engine, ctx.limiter

    def sign_in(username: str, password: str, request: Request, response: Response
                ) -> tuple[Principal, str]:  # fmt: skip
        """The one login of the API and the pages: throttled, audited; sets the session cookie
        on ``response`` and gives the principal and its CSRF token, or raises Problem."""
        client = client_address(request)
        if not limiter.allow(f"login:{client}"):
            raise Problem(429, "too many requests", "too many login attempts", {"Retry-After": "1"})
        keys = [f"user:{username[:100]}", f"ip:{client}"]
        wait = login_attempt(engine, keys)  # counted before the password is checked
        if wait > 0:  # no password is checked while locked, not even the right one
            audit.record(
                engine,
                f"user:{username[:100]}",
                "login.locked",
                client,
                {"retry_after_s": round(wait)},
            )
            raise Problem(429, "too many failed logins", f"try again in {math.ceil(wait)} s",
                          {"Retry-After": str(math.ceil(wait))})  # fmt: skip
        p = check_password(engine, username, password)
        if p is None:
            audit.record(engine, f"user:{username[:100]}", "login.failed", client)
            raise Problem(401, "wrong user name or password")
        login_succeeded(engine, username, client)
        token, csrf = start_session(engine, p)
        response.set_cookie("ocsea_session", token, httponly=True, secure=True, samesite="strict",
                            max_age=8 * 3600, path="/")  # fmt: skip
        audit.record(engine, p.name, "login", client)
        return p, csrf

    @app.post("/v1/session/login", response_model=LoginOut, tags=["web app"])
    def login(body: LoginIn, response: Response, request: Request) -> LoginOut:
        """Password login for the web app: an HttpOnly, Secure, SameSite=Strict session cookie;
        the CSRF token in the answer must come back as X-CSRF-Token on every write."""
        p, csrf = sign_in(body.username, body.password, request, response)
        return LoginOut(username=body.username, role=p.role, csrf_token=csrf)

    @app.post("/v1/session/logout", status_code=204, tags=["web app"])
    def logout(ocsea_session: Annotated[str | None, Cookie()] = None) -> Response:
        if ocsea_session:
            end_session(engine, ocsea_session)
        response = Response(status_code=204)
        response.delete_cookie("ocsea_session", path="/")
        return response

    return sign_in
