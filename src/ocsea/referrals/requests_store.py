"""Cross-border requests in the store. Every change is one transaction with its audit entry,
which records each changed field as [before, after]."""

from __future__ import annotations

from dataclasses import asdict, fields, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine

from ocsea.config import ReferralSettings
from ocsea.referrals.legal_requests import (
    DueItem,
    LegalRequest,
    RequestError,
    due,
    extend,
    new_request,
    transition,
)
from ocsea.service import audit
from ocsea.store.db import legal_requests

EDITABLE = ("central_authority", "legal_basis", "provider", "notes", "due_on", "expires_on",
            "requesting_state", "requested_state")  # fmt: skip
_COLS = {f.name for f in fields(LegalRequest)}


def _from_row(r) -> LegalRequest:
    d = {k: getattr(r, k) for k in _COLS if k not in ("referrals", "entities")}
    return LegalRequest(**d, referrals=tuple(r.referrals or ()), entities=tuple(r.entities or ()))


def _values(req: LegalRequest) -> dict:
    d = {k: v for k, v in asdict(req).items() if k in _COLS and k != "id"}
    d["referrals"], d["entities"] = list(req.referrals), list(req.entities)
    return d


def _jsonable(v):
    return v.isoformat() if isinstance(v, date) else list(v) if isinstance(v, tuple) else v


def _changes(a: LegalRequest, b: LegalRequest) -> dict:
    return {k: [_jsonable(getattr(a, k)), _jsonable(getattr(b, k))]
            for k in _COLS if getattr(a, k) != getattr(b, k)}  # fmt: skip


def get(conn: Connection, request_id: int) -> LegalRequest:
    r = conn.execute(select(legal_requests).where(legal_requests.c.id == request_id)).first()
    if r is None:
        raise RequestError(f"no request {request_id}")
    return _from_row(r)


def add(engine: Engine, req: LegalRequest, actor: str, settings: ReferralSettings,
        today: date | None = None) -> LegalRequest:  # fmt: skip
    today = today or datetime.now(UTC).date()
    req = new_request(req, today, settings.due_days, settings.expiry_days)
    with engine.begin() as conn:
        if req.follow_up_id is not None:
            get(conn, req.follow_up_id)
        rid = conn.execute(insert(legal_requests).values(
            **_values(req), created_by=actor, updated_at=datetime.now(UTC))).inserted_primary_key[0]  # fmt: skip
        req = replace(req, id=rid)
        audit.append(conn, actor, "request.add", str(rid),
                     {k: _jsonable(v) for k, v in _values(req).items() if v not in (None, "", [])})  # fmt: skip
    return req


def change(engine: Engine, request_id: int, actor: str, settings: ReferralSettings, *,
           status: str | None = None, on: date | None = None, reason: str = "",
           extend_days: int | None = None, follow_up_id: int | None = None,
           link_referrals: list[str] = (), link_entities: list[str] = (), **edits) -> LegalRequest:  # fmt: skip
    """One update: a status step, an extension, a follow-up link and/or edited fields."""
    bad = [k for k in edits if k not in EDITABLE]
    if bad:
        raise RequestError(f"cannot edit {', '.join(bad)} (editable: {', '.join(EDITABLE)})")
    on = on or datetime.now(UTC).date()
    with engine.begin() as conn:
        before = get(conn, request_id)
        after = replace(before, **{k: v for k, v in edits.items() if v is not None}).check()
        if status:
            after = transition(after, status, on, reason, settings.due_days, settings.expiry_days)
        elif reason:
            after = replace(after, reason=reason)
        if extend_days:
            after = extend(after, extend_days)
        if follow_up_id is not None:
            if follow_up_id == request_id:
                raise RequestError("a request cannot follow itself up")
            get(conn, follow_up_id)
            after = replace(after, follow_up_id=follow_up_id)
        if link_referrals or link_entities:
            after = replace(after, referrals=tuple(dict.fromkeys([*after.referrals, *link_referrals])),
                            entities=tuple(dict.fromkeys([*after.entities, *link_entities])))  # fmt: skip
        diff = _changes(before, after)
        if not diff:
            raise RequestError("nothing to change")
        conn.execute(update(legal_requests).where(legal_requests.c.id == request_id)
                     .values(**_values(after), updated_at=datetime.now(UTC)))  # fmt: skip
        audit.append(conn, actor, "request.update", str(request_id), {"changes": diff})
    return after


def list_requests(engine: Engine, status: str | None = None) -> list[LegalRequest]:
    q = select(legal_requests).order_by(legal_requests.c.id)
    if status:
        q = q.where(legal_requests.c.status == status)
    with engine.connect() as conn:
        return [_from_row(r) for r in conn.execute(q)]


def due_list(engine: Engine, within: timedelta, today: date | None = None) -> list[DueItem]:
    today = today or datetime.now(UTC).date()
    horizon = today + within
    q = select(legal_requests).where(
        ((legal_requests.c.due_on <= horizon) & legal_requests.c.status.notin_(("completed", "refused", "draft")))
        | ((legal_requests.c.expires_on <= horizon) & (legal_requests.c.status != "refused")
           & legal_requests.c.follow_up_id.is_(None))
    )  # fmt: skip
    with engine.connect() as conn:
        return due([_from_row(r) for r in conn.execute(q)], today, within)


def history(engine: Engine, request_id: int) -> list[dict]:
    """Every change to one request, oldest first, from the audit log (who, when, what)."""
    from ocsea.store.db import audit_log

    q = (select(audit_log.c.at, audit_log.c.actor, audit_log.c.action, audit_log.c.detail)
         .where(audit_log.c.target == str(request_id), audit_log.c.action.in_(("request.add", "request.update")))
         .order_by(audit_log.c.id))  # fmt: skip
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]
