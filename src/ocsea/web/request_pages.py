"""Cross-border requests in the web app: a form to record one (MLAT, preservation, emergency
disclosure, extradition, parallel investigation), and a request's page with its history and the
form for its next step (a status change with its date and reason, an extension, edits, linked
referrals, a follow-up). The same store functions as the API and the CLI, so the same checks
and the same audit entries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated

from fastapi import Cookie, FastAPI, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine

from ocsea.referrals.legal_requests import (
    DIRECTIONS,
    NEEDS_REASON,
    TRANSITIONS,
    TYPES,
    LegalRequest,
    RequestError,
)
from ocsea.service import audit

MAX_ID = 2**62
DATE = r"^(|\d{4}-\d{2}-\d{2})$"
STATE = 100


def _date(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise RequestError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _ids(text: str) -> list[str]:
    return [x.strip() for x in text.replace(";", ",").split(",") if x.strip()][:500]


def register(app: FastAPI, engine: Engine, gate: Callable, page: Callable) -> None:
    def settings(request: Request):
        """The service's [referrals] settings (set by ``casework_api.register``)."""
        return request.app.state.referral_settings

    @app.get("/requests/new", response_class=HTMLResponse, include_in_schema=False)
    def new_form(
        request: Request, ocsea_session: Annotated[str | None, Cookie()] = None
    ) -> Response:
        gated = gate(request, ocsea_session, "requests:write", "new request")
        if isinstance(gated, Response):
            return gated
        who, csrf = gated
        return page(request, "request_new.html", who=who, csrf=csrf, types=TYPES,
                    directions=DIRECTIONS, form={})  # fmt: skip

    @app.post("/requests", include_in_schema=False)
    def add_request(
        request: Request,
        csrf_token: Annotated[str, Form(max_length=200)],
        type: Annotated[str, Form(max_length=30)],
        direction: Annotated[str, Form(max_length=10)],
        requesting_state: Annotated[str, Form(max_length=STATE)],
        requested_state: Annotated[str, Form(max_length=STATE)],
        central_authority: Annotated[str, Form(max_length=300)] = "",
        legal_basis: Annotated[str, Form(max_length=300)] = "",
        provider: Annotated[str, Form(max_length=200)] = "",
        sent_on: Annotated[str, Form(pattern=DATE)] = "",
        due_on: Annotated[str, Form(pattern=DATE)] = "",
        expires_on: Annotated[str, Form(pattern=DATE)] = "",
        referrals: Annotated[str, Form(max_length=20_000)] = "",
        notes: Annotated[str, Form(max_length=4000)] = "",
        ocsea_session: Annotated[str | None, Cookie()] = None,
    ) -> Response:
        gated = gate(request, ocsea_session, "requests:write", "add request", form_csrf=csrf_token)
        if isinstance(gated, Response):
            return gated
        who, csrf = gated
        from ocsea.referrals.requests_store import add

        form = dict(type=type, direction=direction, requesting_state=requesting_state,
                    requested_state=requested_state, central_authority=central_authority,
                    legal_basis=legal_basis, provider=provider, sent_on=sent_on, due_on=due_on,
                    expires_on=expires_on, referrals=referrals, notes=notes)  # fmt: skip
        try:
            req = LegalRequest(
                type=type, direction=direction, requesting_state=requesting_state,
                requested_state=requested_state, central_authority=central_authority,
                legal_basis=legal_basis, provider=provider, notes=notes,
                status="sent" if sent_on else "draft", sent_on=_date(sent_on),
                due_on=_date(due_on), expires_on=_date(expires_on),
                referrals=tuple(_ids(referrals)),
            )  # fmt: skip
            saved = add(engine, req, who.name, settings(request))
        except RequestError as exc:
            return page(request, "request_new.html", 422, who=who, csrf=csrf, types=TYPES,
                        directions=DIRECTIONS, form=form, error=str(exc))  # fmt: skip
        return RedirectResponse(f"/requests/{saved.id}?done=1", status_code=303)

    @app.get("/requests/{request_id}", response_class=HTMLResponse, include_in_schema=False)
    def show(request: Request, request_id: Annotated[int, Path(ge=1, le=MAX_ID)],
             ocsea_session: Annotated[str | None, Cookie()] = None,
             done: Annotated[int, Query(ge=0, le=1)] = 0) -> Response:  # fmt: skip
        gated = gate(request, ocsea_session, "requests:read", "request")
        if isinstance(gated, Response):
            return gated
        who, csrf = gated
        return _render(request, who, csrf, request_id, done=bool(done))

    def _render(request: Request, who, csrf: str, request_id: int, code: int = 200,
                **ctx) -> Response:  # fmt: skip
        from ocsea.referrals.requests_store import get, history

        with engine.connect() as conn:
            try:
                req = get(conn, request_id)
            except RequestError:
                return page(request, "message.html", 404, who=who, csrf=csrf,
                            message="no_requests")  # fmt: skip
        audit.record(engine, who.name, "request.read", str(request_id), {"page": True})
        return page(request, "request.html", code, who=who, csrf=csrf, r=req,
                    steps=sorted(TRANSITIONS.get(req.status, ())), needs_reason=NEEDS_REASON,
                    history=history(engine, request_id),
                    may_write=who.may("requests:write"), **ctx)  # fmt: skip

    @app.post("/requests/{request_id}", include_in_schema=False)
    def update(
        request: Request,
        request_id: Annotated[int, Path(ge=1, le=MAX_ID)],
        csrf_token: Annotated[str, Form(max_length=200)],
        status: Annotated[str, Form(max_length=20)] = "",
        on: Annotated[str, Form(pattern=DATE)] = "",
        reason: Annotated[str, Form(max_length=2000)] = "",
        extend_days: Annotated[int | None, Form(ge=1, le=365)] = None,
        due_on: Annotated[str, Form(pattern=DATE)] = "",
        expires_on: Annotated[str, Form(pattern=DATE)] = "",
        provider: Annotated[str, Form(max_length=200)] = "",
        notes: Annotated[str, Form(max_length=4000)] = "",
        link_referrals: Annotated[str, Form(max_length=20_000)] = "",
        follow_up_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
        ocsea_session: Annotated[str | None, Cookie()] = None,
    ) -> Response:
        gated = gate(request, ocsea_session, "requests:write", "update request",
                     form_csrf=csrf_token)  # fmt: skip
        if isinstance(gated, Response):
            return gated
        who, csrf = gated
        from ocsea.referrals.requests_store import change, get

        try:
            with engine.connect() as conn:
                before = get(conn, request_id)
            edits = {}
            if due_on:
                edits["due_on"] = _date(due_on)
            if expires_on:
                edits["expires_on"] = _date(expires_on)
            if provider and provider != before.provider:
                edits["provider"] = provider
            notes = notes.replace("\r\n", "\n")  # browsers send CRLF: not a change by itself
            if notes != before.notes and notes.strip():
                edits["notes"] = notes
            change(engine, request_id, who.name, settings(request), status=status or None,
                   on=_date(on), reason=reason, extend_days=extend_days,
                   follow_up_id=follow_up_id, link_referrals=_ids(link_referrals), **edits)  # fmt: skip
        except RequestError as exc:
            return _render(request, who, csrf, request_id, 422, error=str(exc))
        return RedirectResponse(f"/requests/{request_id}?done=1", status_code=303)
