"""API for casework under /v1: referrals, networks, cases, cross-border requests.

Referrals carry personal data of suspects and victims: every read is audited, and only
investigators, supervisors and admins may use these endpoints (docs/permissions.md).
"""

import threading
from datetime import date
from typing import Annotated, Any

from fastapi import BackgroundTasks, Depends, FastAPI, Path, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from ocsea.config import ReferralSettings
from ocsea.service import audit
from ocsea.service.access import Principal

MAX_ID = 2**31 - 1
STATE = r"^[^\x00-\x1f]{1,100}$"


class ReferralImportIn(BaseModel):
    format: str = Field(default="auto", pattern="^(auto|ncmec|cybertip-xml|hotline|csv)$")
    content: str = Field(min_length=1, max_length=256 * 1024)
    file_name: str = Field(default="upload", max_length=200, pattern=r"^[\w.\-]+$")


class ReferralImportOut(BaseModel):
    cases_updating: bool = Field(
        description="cases are relinked after this answer; GET /v1/cases shows them"
    )
    new: int
    new_ids: list[int]
    duplicates: list[str]
    rejected: list[str]
    warnings: list[str]


class ReferralOut(BaseModel):
    id: int
    source: str
    report_id: str
    received_at: str | None
    reporter: str | None
    incident_type: str | None
    case: str | None


class ReferralsPage(BaseModel):
    total: int
    offset: int
    limit: int
    referrals: list[ReferralOut]


class ReferralDetail(ReferralOut):
    document: str
    document_sha256: str
    locator: str
    summary: dict[str, Any]


class JoinOut(BaseModel):
    kind: str
    value: str
    strength: str
    actors: list[str]
    evidence: list[dict[str, Any]]
    weight: float | None = Field(
        default=None, description="specificity weight in bits (docs/referrals.md)"
    )


class DecisionIn(BaseModel):
    """An analyst's correction: ``split`` (``case`` and the ``referral_ids`` to keep apart from the
    rest of it), ``merge`` (two or more ``cases``), ``not_identifying`` (``kind`` and ``value``)."""

    action: str = Field(pattern="^(split|merge|not_identifying)$")
    case: str | None = Field(default=None, pattern=r"^C\d{1,12}$")
    cases: list[Annotated[str, Field(pattern=r"^C\d{1,12}$")]] = Field(
        default_factory=list, max_length=50
    )
    referral_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list, max_length=10_000
    )
    kind: str | None = Field(default=None, pattern="^[a-z0-9_]{2,30}$")
    value: str | None = Field(default=None, max_length=600)
    note: str = Field(default="", max_length=2000)


class DecisionOut(BaseModel):
    id: int
    action: str
    kind: str
    value: str
    side_a: list[int]
    side_b: list[int]
    note: str
    created_by: str
    created_at: str
    revoked_by: str | None
    revoked_at: str | None
    cases_updating: bool = False


class NetworkOut(BaseModel):
    actors: list[dict[str, str]]
    joined_by: list[JoinOut]
    central: list[dict[str, Any]]


class CaseOut(BaseModel):
    key: str
    status: str
    merged_into: str | None
    priority: float
    breakdown: dict[str, float]
    evidence: dict[str, list[str]]
    referral_ids: list[int]
    sharer_ids: list[int]
    updated_at: str


class CasesPage(BaseModel):
    total: int
    offset: int
    limit: int
    cases: list[CaseOut]


class RequestIn(BaseModel):
    type: str = Field(
        pattern="^(mlat|preservation|emergency_disclosure|extradition|parallel_investigation)$"
    )
    direction: str = Field(default="outgoing", pattern="^(incoming|outgoing)$")
    requesting_state: str = Field(pattern=STATE)
    requested_state: str = Field(pattern=STATE)
    central_authority: str = Field(default="", max_length=300)
    legal_basis: str = Field(default="", max_length=300)
    provider: str = Field(default="", max_length=200)
    sent_on: date | None = None
    due_on: date | None = None
    referrals: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=500
    )
    entities: list[Annotated[str, Field(min_length=1, max_length=600)]] = Field(
        default_factory=list, max_length=500
    )
    follows_up: int | None = Field(default=None, ge=1, le=MAX_ID)
    notes: str = Field(default="", max_length=10_000)


class RequestPatch(BaseModel):
    status: str | None = Field(
        default=None, pattern="^(sent|acknowledged|in_execution|completed|refused|postponed)$"
    )
    on: date | None = None
    reason: str = Field(default="", max_length=4000)
    extend_days: int | None = Field(default=None, ge=1, le=365)
    due_on: date | None = None
    provider: str | None = Field(default=None, max_length=200)
    central_authority: str | None = Field(default=None, max_length=300)
    notes: str | None = Field(default=None, max_length=10_000)
    follow_up_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    link_referrals: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=500
    )
    link_entities: list[Annotated[str, Field(min_length=1, max_length=600)]] = Field(
        default_factory=list, max_length=500
    )


class RequestOut(BaseModel):
    id: int
    type: str
    direction: str
    requesting_state: str
    requested_state: str
    status: str
    central_authority: str
    legal_basis: str
    provider: str
    reason: str
    drafted_on: date | None
    sent_on: date | None
    acknowledged_on: date | None
    due_on: date | None
    executed_on: date | None
    expires_on: date | None
    follow_up_id: int | None
    referrals: list[str]
    entities: list[str]
    notes: str


class HistoryOut(BaseModel):
    at: str
    actor: str
    action: str
    changes: dict[str, list[Any]]


class DueOut(BaseModel):
    what: str
    on: date
    days_left: int
    request: RequestOut


def _req_out(r) -> RequestOut:
    from dataclasses import asdict

    d = asdict(r)
    return RequestOut(**{**d, "referrals": list(r.referrals), "entities": list(r.entities)})


def register(
    app: FastAPI, engine: Engine, principal, problem, settings: ReferralSettings | None = None
) -> None:
    """Add the casework routes; ``principal(scope)`` is the app's auth dependency and ``problem``
    its RFC 9457 error type."""
    from ocsea.referrals.legal_requests import RequestError

    if settings is None:
        from ocsea.config import load_settings

        settings = load_settings().referrals

    rebuild_queued = threading.Event()

    def relink(actor: str) -> None:
        from ocsea.referrals.store import rebuild_cases

        rebuild_queued.clear()  # imports from now on queue the next rebuild; this one reads after its lock
        rebuild_cases(engine, settings, actor)

    def queue_relink(actor: str, background: BackgroundTasks) -> None:
        """One queued rebuild covers every change before it (the pages use this too)."""
        if not rebuild_queued.is_set():
            rebuild_queued.set()
            background.add_task(relink, actor)

    app.state.queue_relink = queue_relink
    app.state.referral_settings = settings

    def ref_out(r) -> ReferralOut:
        return ReferralOut(id=r.id, source=r.source, report_id=r.report_id, received_at=str(r.received_at) if r.received_at else None,
                           reporter=r.reporter, incident_type=r.incident_type, case=r.case_key)  # fmt: skip

    @app.post(
        "/v1/referrals", response_model=ReferralImportOut, status_code=201, tags=["investigators"]
    )
    def import_referrals(
        body: ReferralImportIn,
        p: Annotated[Principal, Depends(principal("referrals:write"))],
        background: BackgroundTasks,
    ) -> ReferralImportOut:
        """Import one (small) referral document sent inline; large batches go through `ocsea
        referrals import`. Cases are relinked after the answer is sent (`cases_updating`)."""
        from ocsea.referrals.store import import_documents

        res = import_documents(
            engine,
            [(body.file_name, body.content.encode("utf-8"), None)],
            p.name,
            body.format,
            settings,
        )
        from ocsea.referrals.store import needs_relink

        if (
            res.new or needs_relink(engine)
        ) and not rebuild_queued.is_set():  # one queued rebuild covers every import before it
            rebuild_queued.set()
            background.add_task(relink, p.name)
        if res.rejected and not res.new and not res.duplicates:
            raise problem(422, "referral rejected", "; ".join(res.rejected)[:2000])
        return ReferralImportOut(new=res.new, new_ids=res.new_ids, duplicates=res.duplicates, rejected=res.rejected,
                                 warnings=res.warnings[:200], cases_updating=bool(res.new))  # fmt: skip

    @app.get("/v1/referrals", response_model=ReferralsPage, tags=["investigators"])
    def list_referrals(
        p: Annotated[Principal, Depends(principal("referrals:read"))],
        source: str | None = Query(default=None, pattern="^(ncmec|cybertip-xml|hotline|csv)$"),
        limit: int = Query(default=50, ge=1, le=500),
        offset: int = Query(default=0, ge=0, le=10_000_000),
    ) -> ReferralsPage:
        from ocsea.store.db import referrals

        q = select(referrals.c.id, referrals.c.source, referrals.c.report_id, referrals.c.received_at,
                   referrals.c.reporter, referrals.c.incident_type, referrals.c.case_key)  # fmt: skip
        if source:
            q = q.where(referrals.c.source == source)
        with engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(q.subquery())).scalar_one()
            rows = conn.execute(q.order_by(referrals.c.id.desc()).limit(limit).offset(offset)).all()
        audit.record(
            engine,
            p.name,
            "referrals.list",
            source or "",
            {"offset": offset, "returned": len(rows)},
        )
        return ReferralsPage(
            total=total, offset=offset, limit=limit, referrals=[ref_out(r) for r in rows]
        )

    @app.get("/v1/referrals/{referral_id}", response_model=ReferralDetail, tags=["investigators"])
    def get_referral(referral_id: Annotated[int, Path(ge=1, le=MAX_ID)],
                     p: Annotated[Principal, Depends(principal("referrals:read"))]) -> ReferralDetail:  # fmt: skip
        from ocsea.referrals.store import referral_by_id

        r = referral_by_id(engine, referral_id)
        if r is None:
            raise problem(404, "not found", f"no referral {referral_id}")
        audit.record(engine, p.name, "referral.read", str(referral_id))
        return ReferralDetail(**ref_out(r).model_dump(), document=r.file_name.rsplit("/", 1)[-1],
                              document_sha256=r.document_sha256, locator=r.locator, summary=r.summary)  # fmt: skip

    @app.get("/v1/referrals/{referral_id}/original", tags=["investigators"],
             responses={200: {"content": {"application/octet-stream": {}}}})  # fmt: skip
    def get_original(referral_id: Annotated[int, Path(ge=1, le=MAX_ID)],
                     p: Annotated[Principal, Depends(principal("referrals:read"))]) -> Response:  # fmt: skip
        """The original document, byte for byte (its SHA-256 is in the referral)."""
        from ocsea.referrals.store import original_document, referral_by_id

        r = referral_by_id(engine, referral_id)
        if r is None:
            raise problem(404, "not found", f"no referral {referral_id}")
        audit.record(
            engine, p.name, "referral.original", str(referral_id), {"sha256": r.document_sha256}
        )
        return Response(original_document(engine, r.id), media_type="application/octet-stream",
                        headers={"Content-Disposition": "attachment", "X-Content-SHA256": r.document_sha256})  # fmt: skip

    @app.get("/v1/networks", response_model=list[NetworkOut], tags=["investigators"])
    def get_networks(
        p: Annotated[Principal, Depends(principal("networks:read"))],
        confirmed_only: bool = False,
        limit: int = Query(default=50, ge=1, le=1000),
    ) -> list[NetworkOut]:
        from dataclasses import replace

        from ocsea.referrals.store import networks

        s = replace(settings, min_strength="confirmed") if confirmed_only else settings
        g, nets = networks(engine, s, central_top=limit)
        audit.record(engine, p.name, "networks.read", "", {"networks": len(nets)})
        return [NetworkOut(actors=[{"id": a, "label": str(g.nodes[a].get("label", a))} for a in n.actors],
                           joined_by=[JoinOut(kind=j.kind, value=j.value, strength=j.strength, actors=j.actors, evidence=j.evidence[:5], weight=j.weight)
                                      for j in n.joins],
                           central=[{"node": x, "betweenness": c} for x, c in n.central]) for n in nets[:limit]]  # fmt: skip

    def decision_out(r, updating: bool = False) -> DecisionOut:
        return DecisionOut(id=r.id, action=r.action, kind=r.kind, value=r.value, side_a=r.side_a, side_b=r.side_b,
                           note=r.note, created_by=r.created_by, created_at=str(r.created_at),
                           revoked_by=r.revoked_by, revoked_at=str(r.revoked_at) if r.revoked_at else None,
                           cases_updating=updating)  # fmt: skip

    @app.get("/v1/networks/decisions", response_model=list[DecisionOut], tags=["investigators"])
    def get_decisions(
        p: Annotated[Principal, Depends(principal("networks:read"))], revoked: bool = False
    ) -> list[DecisionOut]:
        """Analysts' corrections of the network graph (in force; with ``revoked``, all)."""
        from ocsea.referrals.decisions import list_decisions

        rows = list_decisions(engine, revoked)
        audit.record(engine, p.name, "networks.decisions", "", {"returned": len(rows)})
        return [decision_out(r) for r in rows]

    @app.post(
        "/v1/networks/decisions",
        response_model=DecisionOut,
        status_code=201,
        tags=["investigators"],
    )
    def post_decision(
        body: DecisionIn,
        p: Annotated[Principal, Depends(principal("networks:correct"))],
        background: BackgroundTasks,
    ) -> DecisionOut:
        """Split a network, merge two, or mark an identifier as not identifying. Audited, applied
        on every relink; cases are relinked after the answer (``cases_updating``)."""
        from ocsea.referrals import decisions as dec

        try:
            if body.action == "split":
                if not body.case or not body.referral_ids:
                    raise dec.DecisionError("a split needs case and referral_ids")
                did = dec.split_case(engine, p.name, body.case, body.referral_ids, body.note)
            elif body.action == "merge":
                did = dec.merge_cases(engine, p.name, body.cases, body.note)
            else:
                if not body.kind or not body.value:
                    raise dec.DecisionError("not_identifying needs kind and value")
                did = dec.mark_not_identifying(
                    engine, p.name, body.kind, body.value, body.note, settings.region
                )
        except dec.DecisionError as exc:
            raise problem(422, "decision rejected", str(exc)) from None
        queue_relink(p.name, background)
        row = next(r for r in dec.list_decisions(engine) if r.id == did)
        return decision_out(row, True)

    @app.delete("/v1/networks/decisions/{decision_id}", status_code=204, tags=["investigators"])
    def delete_decision(
        decision_id: Annotated[int, Path(ge=1, le=MAX_ID)],
        p: Annotated[Principal, Depends(principal("networks:correct"))],
        background: BackgroundTasks,
    ) -> Response:
        """Revoke a decision (the row stays, with who revoked it and when) and relink."""
        from ocsea.referrals import decisions as dec

        try:
            dec.revoke(
                engine, p.name, decision_id, may_revoke_others=p.role in ("supervisor", "admin")
            )
        except dec.DecisionError as exc:
            raise problem(404, "not found", str(exc)) from None
        except PermissionError as exc:
            raise problem(403, "forbidden", str(exc)) from None
        queue_relink(p.name, background)
        return Response(status_code=204)

    @app.get(
        "/v1/networks/graphml",
        tags=["investigators"],
        responses={200: {"content": {"application/graphml+xml": {}}}},
    )
    def get_graphml(p: Annotated[Principal, Depends(principal("networks:read"))]) -> Response:
        """The whole entity graph as GraphML (i2 Analyst's Notebook, Maltego, Gephi)."""
        from ocsea.referrals.graph import to_graphml
        from ocsea.referrals.store import load_graph

        g, _ = load_graph(engine, settings)
        audit.record(engine, p.name, "networks.export", "graphml", {"nodes": g.number_of_nodes()})
        return Response(to_graphml(g), media_type="application/graphml+xml")

    def case_out(r) -> CaseOut:
        return CaseOut(key=r.key, status=r.status, merged_into=r.merged_into, priority=r.priority, breakdown=r.breakdown,
                       evidence=r.evidence, referral_ids=r.referral_ids, sharer_ids=r.sharer_ids, updated_at=str(r.updated_at))  # fmt: skip

    @app.get("/v1/cases", response_model=CasesPage, tags=["investigators"])
    def list_cases(
        p: Annotated[Principal, Depends(principal("cases:read"))],
        min_priority: float = Query(default=0.0, ge=0, le=1e6),
        limit: int = Query(default=50, ge=1, le=500),
        offset: int = Query(default=0, ge=0, le=10_000_000),
    ) -> CasesPage:
        from ocsea.store.db import cases

        q = select(cases).where(cases.c.status == "open", cases.c.priority >= min_priority)
        with engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(q.subquery())).scalar_one()
            rows = conn.execute(
                q.order_by(cases.c.priority.desc(), cases.c.id).limit(limit).offset(offset)
            ).all()
        audit.record(engine, p.name, "cases.list", "", {"offset": offset, "returned": len(rows)})
        return CasesPage(total=total, offset=offset, limit=limit, cases=[case_out(r) for r in rows])

    @app.get("/v1/cases/{key}", response_model=CaseOut, tags=["investigators"])
    def get_case(key: Annotated[str, Path(pattern=r"^C\d{1,10}$")],
                 p: Annotated[Principal, Depends(principal("cases:read"))]) -> CaseOut:  # fmt: skip
        from ocsea.store.db import cases

        with engine.connect() as conn:
            r = conn.execute(select(cases).where(cases.c.key == key)).first()
        if r is None:
            raise problem(404, "not found", f"no case {key}")
        audit.record(engine, p.name, "case.read", key)
        return case_out(r)

    @app.post("/v1/requests", response_model=RequestOut, status_code=201, tags=["investigators"])
    def add_request(
        body: RequestIn, p: Annotated[Principal, Depends(principal("requests:write"))]
    ) -> RequestOut:
        from ocsea.referrals.legal_requests import LegalRequest
        from ocsea.referrals.requests_store import add, change

        data = body.model_dump(exclude={"follows_up"})
        req = LegalRequest(
            **{**data, "referrals": tuple(body.referrals), "entities": tuple(body.entities)}
        )
        from ocsea.referrals.requests_store import get as get_request_row

        try:
            if body.follows_up is not None:  # checked first: a rejected request writes nothing
                with engine.connect() as conn:
                    get_request_row(conn, body.follows_up)
            r = add(engine, req, p.name, settings)
            if body.follows_up is not None:
                change(engine, body.follows_up, p.name, settings, follow_up_id=r.id)
        except RequestError as exc:
            raise problem(422, "request rejected", str(exc)) from None
        return _req_out(r)

    @app.get("/v1/requests", response_model=list[RequestOut], tags=["investigators"])
    def list_requests_(p: Annotated[Principal, Depends(principal("requests:read"))],
                       status: str | None = Query(default=None, pattern="^(draft|sent|acknowledged|in_execution|completed|refused|postponed)$")) -> list[RequestOut]:  # fmt: skip
        from ocsea.referrals.requests_store import list_requests

        audit.record(engine, p.name, "requests.list", status or "")
        return [_req_out(r) for r in list_requests(engine, status)]

    @app.get("/v1/requests/due", response_model=list[DueOut], tags=["investigators"])
    def requests_due(p: Annotated[Principal, Depends(principal("requests:read"))],
                     within_days: int = Query(default=14, ge=0, le=3650)) -> list[DueOut]:  # fmt: skip
        from datetime import timedelta

        from ocsea.referrals.requests_store import due_list

        audit.record(engine, p.name, "requests.due", str(within_days))
        return [DueOut(what=d.what, on=d.on, days_left=d.days_left, request=_req_out(d.request))
                for d in due_list(engine, timedelta(days=within_days))]  # fmt: skip

    @app.get("/v1/requests/{request_id}", response_model=RequestOut, tags=["investigators"])
    def get_request(request_id: Annotated[int, Path(ge=1, le=MAX_ID)],
                    p: Annotated[Principal, Depends(principal("requests:read"))]) -> RequestOut:  # fmt: skip
        from ocsea.referrals.requests_store import get

        with engine.connect() as conn:
            try:
                r = get(conn, request_id)
            except RequestError as exc:
                raise problem(404, "not found", str(exc)) from None
        audit.record(engine, p.name, "request.read", str(request_id))
        return _req_out(r)

    @app.get(
        "/v1/requests/{request_id}/history", response_model=list[HistoryOut], tags=["investigators"]
    )
    def request_history(
        request_id: Annotated[int, Path(ge=1, le=MAX_ID)],
        p: Annotated[Principal, Depends(principal("requests:read"))],
    ) -> list[HistoryOut]:
        """Every change to one request, oldest first: who, when, each field before and after."""
        from ocsea.referrals.requests_store import get, history

        with engine.connect() as conn:
            try:
                get(conn, request_id)
            except RequestError as exc:
                raise problem(404, "not found", str(exc)) from None
        audit.record(engine, p.name, "request.history", str(request_id))
        return [HistoryOut(at=str(h["at"]), actor=h["actor"], action=h["action"],
                           changes=(h["detail"] or {}).get("changes", {})) for h in history(engine, request_id)]  # fmt: skip

    @app.patch("/v1/requests/{request_id}", response_model=RequestOut, tags=["investigators"])
    def patch_request(request_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: RequestPatch,
                      p: Annotated[Principal, Depends(principal("requests:write"))]) -> RequestOut:  # fmt: skip
        """One step or edit; every change goes to the audit log with its before and after."""
        from ocsea.referrals.requests_store import change

        try:
            r = change(engine, request_id, p.name, settings, status=body.status, on=body.on, reason=body.reason,
                       extend_days=body.extend_days, follow_up_id=body.follow_up_id, link_referrals=body.link_referrals,
                       link_entities=body.link_entities, due_on=body.due_on, provider=body.provider,
                       central_authority=body.central_authority, notes=body.notes)  # fmt: skip
        except RequestError as exc:
            status = 404 if str(exc).startswith("no request") else 409
            raise problem(
                status, "not found" if status == 404 else "change refused", str(exc)
            ) from None
        return _req_out(r)
