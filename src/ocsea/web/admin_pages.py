"""The administration page: user accounts (add, disable, unlock) and API keys (create, shown
once; revoke), for admins only, every change audited as the CLI's are (``ocsea users``,
``ocsea apikeys``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Cookie, FastAPI, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine

from ocsea.service import audit
from ocsea.service.access import (
    PERMISSIONS,
    ROLES,
    AccessError,
    add_user,
    create_api_key,
    disable_user,
    list_api_keys,
    list_users,
    parse_lifetime,
    revoke_api_key,
    unlock,
)

SCOPE = "users:admin"
USER_ROLES = tuple(r for r in ROLES if r != "service")
NAME = r"^[A-Za-z0-9._@-]{1,100}$"


def register(app: FastAPI, engine: Engine, gate: Callable, page: Callable) -> None:
    def show(request: Request, who, csrf: str, code: int = 200, **ctx) -> HTMLResponse:
        keys = list_api_keys(engine)
        keys.sort(key=lambda k: (k["revoked_at"] is not None, str(k["created_at"])), reverse=False)
        return page(request, "admin.html", code, who=who, csrf=csrf, users=list_users(engine),
                    keys=keys, roles=USER_ROLES, key_roles=ROLES, scopes=sorted(PERMISSIONS),
                    **ctx)  # fmt: skip

    @app.get("/admin", response_class=HTMLResponse, include_in_schema=False)
    def admin(request: Request, ocsea_session: Annotated[str | None, Cookie()] = None) -> Response:
        gated = gate(request, ocsea_session, SCOPE, "admin")
        if isinstance(gated, Response):
            return gated
        who, csrf = gated
        audit.record(engine, who.name, "admin.read", "", {"page": True})
        return show(request, who, csrf)

    @app.post("/admin/users", include_in_schema=False)
    def user_add(
        request: Request,
        csrf_token: Annotated[str, Form(max_length=200)],
        username: Annotated[str, Form(pattern=NAME)],
        role: Annotated[str, Form(max_length=20)],
        password: Annotated[str, Form(max_length=128)],
        ocsea_session: Annotated[str | None, Cookie()] = None,
    ) -> Response:
        gated = gate(request, ocsea_session, SCOPE, "add user", form_csrf=csrf_token)
        if isinstance(gated, Response):
            return gated
        who, csrf = gated
        try:
            add_user(engine, username, password, role)
        except AccessError as exc:
            return show(request, who, csrf, 422, error=str(exc))
        audit.record(engine, who.name, "user.add", username, {"role": role, "page": True})
        return RedirectResponse("/admin?done=user", status_code=303)

    @app.post("/admin/users/{username}/{action}", include_in_schema=False)
    def user_change(
        request: Request,
        username: Annotated[str, Path(pattern=NAME)],
        action: Annotated[str, Path(pattern="^(disable|unlock)$")],
        csrf_token: Annotated[str, Form(max_length=200)],
        ocsea_session: Annotated[str | None, Cookie()] = None,
    ) -> Response:
        gated = gate(request, ocsea_session, SCOPE, f"{action} user", form_csrf=csrf_token)
        if isinstance(gated, Response):
            return gated
        who, csrf = gated
        if action == "disable":
            if who.name == f"user:{username}":
                return show(request, who, csrf, 422, error="an admin does not disable themself")
            try:
                disable_user(engine, username)
            except AccessError as exc:
                return show(request, who, csrf, 404, error=str(exc))
        elif not unlock(engine, f"user:{username}"):
            return show(request, who, csrf, 404, error=f"{username} is not locked")
        audit.record(engine, who.name, f"user.{action}", username, {"page": True})
        return RedirectResponse(f"/admin?done={action}", status_code=303)

    @app.post("/admin/keys", response_class=HTMLResponse, include_in_schema=False)
    def key_create(
        request: Request,
        csrf_token: Annotated[str, Form(max_length=200)],
        name: Annotated[str, Form(min_length=1, max_length=100)],
        role: Annotated[str, Form(max_length=20)] = "service",
        scopes: Annotated[list[str], Form(max_length=len(PERMISSIONS))] = [],  # noqa: B006
        expires: Annotated[str, Form(max_length=10)] = "90d",
        ocsea_session: Annotated[str | None, Cookie()] = None,
    ) -> Response:
        """The new key is on this answer only (no-store), never stored in the clear."""
        gated = gate(request, ocsea_session, SCOPE, "create key", form_csrf=csrf_token)
        if isinstance(gated, Response):
            return gated
        who, csrf = gated
        try:
            key_id, key = create_api_key(engine, name, role, scopes, parse_lifetime(expires))
        except AccessError as exc:
            return show(request, who, csrf, 422, error=str(exc))
        audit.record(engine, who.name, "apikey.create", key_id,
                     {"name": name, "role": role, "scopes": scopes, "page": True})  # fmt: skip
        return show(request, who, csrf, new_key=key, new_key_id=key_id)

    @app.post("/admin/keys/{key_id}/revoke", include_in_schema=False)
    def key_revoke(
        request: Request,
        key_id: Annotated[str, Path(pattern="^[0-9a-f]{16}$")],
        csrf_token: Annotated[str, Form(max_length=200)],
        ocsea_session: Annotated[str | None, Cookie()] = None,
    ) -> Response:
        gated = gate(request, ocsea_session, SCOPE, "revoke key", form_csrf=csrf_token)
        if isinstance(gated, Response):
            return gated
        who, csrf = gated
        if not revoke_api_key(engine, key_id):
            return show(request, who, csrf, 404, error=f"no active key {key_id}")
        audit.record(engine, who.name, "apikey.revoke", key_id, {"page": True})
        return RedirectResponse("/admin?done=revoke", status_code=303)
