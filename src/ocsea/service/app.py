"""The HTTP API (FastAPI), versioned under /v1. Errors are RFC 9457 problem details.

Raw queries sent to /v1/query-check are never stored; per-action counts are (GET /metrics).
"""

import asyncio
import hmac
import logging
import math
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import Cookie, Depends, FastAPI, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from ocsea import __version__
from ocsea.service import audit
from ocsea.service.access import (
    Principal,
    check_password,
    end_session,
    login_attempt,
    login_succeeded,
    session_principal,
    start_session,
    verify_api_key,
)
from ocsea.service.deterrence import Policy
from ocsea.store.db import (
    findings,
    hash_entries,
    hash_lists,
    items,
    observations,
    reviews,
    sharers,
    signals,
    term_candidates,
)
from ocsea.text.detector import Detector
from ocsea.text.lexicon import CATEGORIES

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024
MAX_BATCH = 1000
MAX_TEXT = 2000
REQUEST_TIMEOUT_S = 30.0
MAX_ID = 2**31 - 1  # ids are 32-bit in the store; larger ones are a 422, not a 500
PROBLEM = "application/problem+json"


class Problem(Exception):
    def __init__(
        self, status: int, title: str, detail: str = "", headers: dict[str, str] | None = None
    ) -> None:
        self.status, self.title, self.detail, self.headers = status, title, detail, headers or {}


def _problem(
    status: int, title: str, detail: str = "", headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


class RateLimiter:
    """Token bucket per API key (per process)."""

    def __init__(self, per_second: float, burst: int) -> None:
        self.rate, self.burst = per_second, burst
        self._b: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._b.get(key, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1:
                self._b[key] = (tokens, now)
                return False
            self._b[key] = (tokens - 1, now)
            return True


# On every response that does not set its own (ASVS 8.1.1, 14.4): nothing the service answers is
# to be cached (findings, referrals and originals are evidence), sniffed, framed or sent on as a
# referrer, and a JSON API needs no script, style or image source.
SECURITY_HEADERS = (
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


def client_address(request: Request) -> str:
    """The client's address as uvicorn gives it (its proxy headers are trusted from loopback)."""
    return request.client.host if request.client else ""


def finding_query():
    """A finding with its item's text and digests: what the API and the pages list and show."""
    return select(findings.c.id, findings.c.kind, findings.c.priority, findings.c.status, findings.c.breakdown,
                  findings.c.updated_at, items.c.text, items.c.sha1, items.c.md5).join(items, items.c.id == findings.c.item_id)  # fmt: skip


class GuardMiddleware:
    """Body-size limit and request timeout as plain ASGI (Starlette's BaseHTTPMiddleware cost
    about a millisecond a request here). A body without Content-Length is read up to the limit
    and replayed to the app."""

    def __init__(
        self, app, max_body: int = MAX_BODY_BYTES, timeout: float = REQUEST_TIMEOUT_S
    ) -> None:
        self.app, self.max_body, self.timeout = app, max_body, timeout

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        too_big = _problem(413, "request too large", f"bodies are limited to {self.max_body} bytes")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return await too_big(scope, receive, send)
        if length is None and scope["method"] in ("POST", "PUT", "PATCH"):
            chunks, size, more = [], 0, True
            while more:
                msg = await receive()
                chunk = msg.get("body", b"")
                size += len(chunk)
                if size > self.max_body:
                    return await too_big(scope, receive, send)
                chunks.append(chunk)
                more = msg.get("more_body", False)
            body = b"".join(chunks)
            sent = False

            async def replay():
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            receive = replay
        started = False

        async def watch(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                have = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in have]
                if extra:
                    message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await asyncio.wait_for(self.app(scope, receive, watch), timeout=self.timeout)
        except TimeoutError:
            if not started:
                await _problem(503, "request took too long", f"limit {self.timeout:.0f}s")(
                    scope, receive, send
                )


class KeyCache:
    """Verified API keys for a few seconds: one database read per key and period instead of one
    per request (a search provider sends thousands a second). A revoked or expired key stops
    working within ``ttl`` seconds."""

    def __init__(self, engine: Engine, ttl: float = 10.0) -> None:
        self.engine, self.ttl = engine, ttl
        self._c: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Principal | None:
        now = time.monotonic()
        hit = self._c.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        p = verify_api_key(self.engine, key)
        with self._lock:
            if len(self._c) > 10_000:
                self._c.clear()
            self._c[key] = (now, p)
        return p


class QueryCheckIn(BaseModel):
    query: str = Field(min_length=1, max_length=MAX_TEXT)
    lang: str | None = Field(default=None, pattern="^(th|en)$")


class HelpOut(BaseModel):
    name: str
    contact: str


class QueryCheckOut(BaseModel):
    label: str
    score: float
    action: str = Field(pattern="^(allow|warn|block)$")
    message: str | None
    help: list[HelpOut]


class ClassifyIn(BaseModel):
    texts: list[Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]] = Field(
        min_length=1, max_length=MAX_BATCH
    )


class ReasonOut(BaseModel):
    kind: str
    term: str
    category: str
    span: list[int] | None
    weight: float
    source: str | None = None
    detail: str | None = None


MAX_REASONS = (
    20  # reasons returned per text, strongest first: a response stays near its request's size
)


class VerdictOut(BaseModel):
    text: str
    label: str
    score: float
    probs: dict[str, float]
    reasons: list[ReasonOut] = Field(description=f"the {MAX_REASONS} strongest reasons")
    reasons_total: int = 0
    normalized: str


class ClassifyOut(BaseModel):
    results: list[VerdictOut]


class LookupIn(BaseModel):
    md5: list[Annotated[str, Field(pattern="^[0-9a-fA-F]{32}$")]] = Field(
        default_factory=list, max_length=MAX_BATCH
    )
    sha1: list[Annotated[str, Field(pattern="^[0-9a-fA-F]{40}$")]] = Field(
        default_factory=list, max_length=MAX_BATCH
    )
    sha256: list[Annotated[str, Field(pattern="^[0-9a-fA-F]{64}$")]] = Field(
        default_factory=list, max_length=MAX_BATCH
    )
    pdq: list[Annotated[str, Field(pattern="^[0-9a-fA-F]{64}$")]] = Field(
        default_factory=list, max_length=MAX_BATCH
    )


class MatchOut(BaseModel):
    hash: str
    hash_type: str
    list: str
    category: str | None
    distance: int


class LookupOut(BaseModel):
    matches: list[MatchOut]


class FindingOut(BaseModel):
    id: int
    kind: str
    priority: float
    status: str
    name: str | None
    sha1: str | None
    md5: str | None
    breakdown: dict[str, Any]
    updated_at: str


class FindingsPage(BaseModel):
    total: int
    offset: int
    limit: int
    findings: list[FindingOut]


class ReviewIn(BaseModel):
    classification: str = Field(pattern="^(baseline|national|not_illegal)$")
    age_group: str = Field(default="unknown", pattern="^(infant|prepubescent|pubescent|unknown)$")
    virtual: bool = False
    notes: str = Field(default="", max_length=4000)


class ReviewOut(ReviewIn):
    id: int
    reviewer: str
    created_at: str


class FindingDetail(FindingOut):
    signals: list[dict[str, Any]]
    reviews: list[ReviewOut]
    sharers: list[dict[str, Any]]


class SharerOut(BaseModel):
    id: int
    network: str
    guid: str
    client: str | None
    priority: float | None
    breakdown: dict[str, Any] | None
    first_seen: str | None
    last_seen: str | None
    ips: list[dict[str, Any]]
    files: list[dict[str, Any]]


class TermOut(BaseModel):
    term: str
    score: float
    flagged_count: int
    total_count: int
    rising: float | None
    examples: list[str]
    status: str


class AcceptIn(BaseModel):
    category: str = Field(
        default="csa_code",
        pattern="^(" + "|".join(CATEGORIES) + ")$",
    )
    lang: str = Field(default="mixed", pattern="^(en|th|th-Latn|mixed)$")
    weight: float = Field(default=0.8, ge=-5, le=5)


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=128)


class LoginOut(BaseModel):
    username: str
    role: str
    csrf_token: str


class ListImportIn(BaseModel):
    format: str = Field(default="auto", pattern="^(auto|vics|icse|ncmec|text|jsonl)$")
    content: str = Field(min_length=1, max_length=MAX_BODY_BYTES)
    source: str = Field(default="", max_length=500)
    # a plain file name: letters, digits, '.', '-', '_', and not '.' or '..' (it names a temporary file)
    file_name: str = Field(
        default="upload",
        max_length=200,
        pattern=r"^([\w\-][\w.\-]*|\.[\w\-][\w.\-]*|\.\.[\w.\-]+)$",
    )


class ListImportOut(BaseModel):
    list: str
    format: str
    entries: int
    new: int
    already_imported: bool


class ListOut(BaseModel):
    name: str
    source: str
    entries: int


def _verdict_out(d: dict) -> VerdictOut:
    reasons = d.get("reasons", [])
    keep = set(
        sorted(range(len(reasons)), key=lambda i: -abs(reasons[i].get("weight", 0.0)))[:MAX_REASONS]
    )
    return VerdictOut(**{**d, "reasons": [r for i, r in enumerate(reasons) if i in keep],
                         "reasons_total": len(reasons)})  # fmt: skip


def create_app(engine: Engine, detector: Detector, policy: Policy | None = None,
               rate_per_second: float = 2000.0, burst: int = 4000, matcher=None, key_ttl: float = 10.0,
               referral_settings=None, media=None) -> FastAPI:  # fmt: skip
    policy = policy or Policy()
    limiter = RateLimiter(rate_per_second, burst)
    key_cache = KeyCache(engine, key_ttl)
    counts: Counter[str] = Counter()
    app = FastAPI(title="ocsea", version=__version__, docs_url=None, redoc_url=None,
                  description="Find, triage and refer online child sexual exploitation and abuse.")  # fmt: skip
    state: dict[str, Any] = {"matcher": matcher}

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        # A bug answers problem+json too, with an id to quote that leads to the logged trace.
        ref = uuid.uuid4().hex[:12]
        log.error("internal error %s on %s %s", ref, request.method, request.url.path,
                  exc_info=exc)  # fmt: skip
        # Starlette answers this outside GuardMiddleware: the headers are set here.
        headers = {k.decode(): v.decode() for k, v in SECURITY_HEADERS}
        return _problem(500, "internal error", f"reference {ref}: the service log has the details",
                        headers)  # fmt: skip

    @app.exception_handler(Problem)
    async def _p(_: Request, exc: Problem) -> JSONResponse:
        return _problem(exc.status, exc.title, exc.detail, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _h(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _problem(exc.status_code, str(exc.detail) if exc.detail else "error")

    @app.exception_handler(RequestValidationError)
    async def _v(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("type") == "json_invalid" and not _has_credentials(request):
            # FastAPI decodes the body before any dependency runs: say 401 first, as for any
            # other request without credentials.
            return _problem(401, "authentication required", "send an API key (Authorization: Bearer …)",
                            {"WWW-Authenticate": "Bearer"})  # fmt: skip
        where = ".".join(str(x) for x in first.get("loc", ()))
        return _problem(422, "invalid request", f"{where}: {first.get('msg', 'invalid')}")

    def _has_credentials(request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        key = request.headers.get("x-api-key") or (
            auth[7:] if auth.lower().startswith("bearer ") else ""
        )
        if key:
            return key_cache.get(key) is not None
        token = request.cookies.get("ocsea_session")
        return bool(token) and session_principal(engine, token) is not None

    def denied(p: Principal, request: Request, scope: str, why: str) -> None:
        """A known user or key refused: audited, with what was asked (ASVS 7.2.2)."""
        audit.record(engine, p.name + (f" [{p.key_id}]" if p.key_id else ""), "access.denied",
                     request.url.path[-300:], {"scope": scope, "why": why,
                                               "client": client_address(request)})  # fmt: skip

    def principal(scope: str):
        def dep(
            request: Request,
            authorization: Annotated[str | None, Header()] = None,
            x_api_key: Annotated[str | None, Header()] = None,
            x_csrf_token: Annotated[str | None, Header()] = None,
            ocsea_session: Annotated[str | None, Cookie()] = None,
        ) -> Principal:
            bearer = (
                authorization[7:]
                if authorization and authorization.lower().startswith("bearer ")
                else None
            )
            key = x_api_key or bearer
            if not key and ocsea_session:
                found = session_principal(engine, ocsea_session)
                if found is None:
                    raise Problem(401, "session expired or ended", "log in again")
                sp, csrf = found
                writes = request.method not in ("GET", "HEAD")
                if writes and not (x_csrf_token and hmac.compare_digest(x_csrf_token, csrf)):
                    denied(sp, request, scope, "CSRF check failed")
                    raise Problem(
                        403,
                        "CSRF check failed",
                        "send the X-CSRF-Token from login with every write",
                    )
                if not sp.may(scope):
                    denied(sp, request, scope, "role")
                    raise Problem(403, "forbidden", f"role {sp.role!r} may not use {scope!r}")
                return sp
            if not key:
                raise Problem(401, "authentication required", "send an API key (Authorization: Bearer …)",
                              {"WWW-Authenticate": "Bearer"})  # fmt: skip
            p = key_cache.get(key)
            if p is None:
                # Logged, not audited: anyone can send a wrong key, and the audit chain takes
                # one writer at a time (ASVS 7.2.1 asks for the log line).
                log.warning("refused API key %s… from %s on %s", key[:4], client_address(request),
                            request.url.path)  # fmt: skip
                raise Problem(
                    401,
                    "invalid, expired or revoked API key",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            if not p.may(scope):
                denied(p, request, scope, "role or key scopes")
                raise Problem(
                    403, "forbidden", f"role {p.role!r} with these scopes may not use {scope!r}"
                )
            if not limiter.allow(p.key_id or p.name):
                raise Problem(
                    429, "too many requests", "rate limit for this API key", {"Retry-After": "1"}
                )
            return p

        return dep

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
    def metrics() -> str:
        lines = ["# HELP ocsea_query_checks_total Query checks by action (queries are not stored).",
                 "# TYPE ocsea_query_checks_total counter"]  # fmt: skip
        for action in ("allow", "warn", "block"):
            lines.append(f'ocsea_query_checks_total{{action="{action}"}} {counts[action]}')
        lines += ["# HELP ocsea_classified_texts_total Texts classified through /v1/classify.",
                  "# TYPE ocsea_classified_texts_total counter", f"ocsea_classified_texts_total {counts['classify']}"]  # fmt: skip
        return "\n".join(lines) + "\n"

    @app.post("/v1/query-check", response_model=QueryCheckOut, tags=["search providers"])
    async def query_check(
        body: QueryCheckIn, _: Annotated[Principal, Depends(principal("query-check"))]
    ) -> Response:
        v = detector.classify(body.query, "query")
        action = policy.action(v.score)
        counts[action] += 1
        lang = policy.language(body.lang, body.query)
        warn = action != "allow"
        # A ready JSONResponse skips FastAPI's re-validation of the response model (the schema in
        # the OpenAPI document still comes from response_model; schemathesis checks conformance).
        return JSONResponse({"label": v.label, "score": round(v.score, 4), "action": action,
                             "message": policy.messages[lang] if warn else None,
                             "help": policy.help[lang] if warn else []})  # fmt: skip

    @app.post("/v1/classify", response_model=ClassifyOut, tags=["analysts"])
    def classify(
        body: ClassifyIn, _: Annotated[Principal, Depends(principal("classify"))]
    ) -> ClassifyOut:
        counts["classify"] += len(body.texts)
        return ClassifyOut(
            results=[_verdict_out(detector.classify(t).to_dict()) for t in body.texts]
        )

    @app.post("/v1/hashes/lookup", response_model=LookupOut, tags=["analysts"])
    def lookup(
        body: LookupIn, p: Annotated[Principal, Depends(principal("hashes:lookup"))]
    ) -> LookupOut:
        from ocsea.match.matcher import Matcher
        from ocsea.media.hashing import Digests, PdqHash

        if state["matcher"] is None:
            state["matcher"] = Matcher.from_store(engine)
        m = state["matcher"]
        out: list[MatchOut] = []
        for kind in ("md5", "sha1", "sha256"):
            for h in getattr(body, kind):
                d = Digests(0, h.lower() if kind == "md5" else "", h.lower() if kind == "sha1" else "",
                            h.lower() if kind == "sha256" else "")  # fmt: skip
                out += [MatchOut(hash=h, hash_type=x.hash_type, list=x.list_name, category=x.category, distance=0)
                        for x in m.match_digests(d)]  # fmt: skip
        for h in body.pdq:
            out += [MatchOut(hash=h, hash_type="pdq", list=x.list_name, category=x.category, distance=x.distance)
                    for x in m.match_pdq([PdqHash(h.lower(), 100)])]  # fmt: skip
        n = sum(len(getattr(body, k)) for k in ("md5", "sha1", "sha256", "pdq"))
        audit.record(engine, p.name, "hashes.lookup", "", {"hashes": n, "matches": len(out)})
        return LookupOut(matches=out)

    @app.get("/v1/lists", response_model=list[ListOut], tags=["analysts"])
    def lists(p: Annotated[Principal, Depends(principal("lists:read"))]) -> list[ListOut]:
        with engine.connect() as conn:
            rows = conn.execute(
                select(hash_lists.c.name, hash_lists.c.source, func.count(hash_entries.c.id))
                .join(hash_entries, hash_entries.c.list_id == hash_lists.c.id, isouter=True)
                .group_by(hash_lists.c.id, hash_lists.c.name, hash_lists.c.source)
                .order_by(hash_lists.c.name)
            ).all()
        audit.record(engine, p.name, "lists.read")
        return [ListOut(name=n, source=s, entries=c) for n, s, c in rows]

    def _finding(r) -> FindingOut:
        return FindingOut(id=r.id, kind=r.kind, priority=r.priority, status=r.status, name=r.text, sha1=r.sha1,
                          md5=r.md5, breakdown=r.breakdown or {}, updated_at=str(r.updated_at))  # fmt: skip

    @app.get("/v1/findings", response_model=FindingsPage, tags=["analysts"])
    def list_findings(
        p: Annotated[Principal, Depends(principal("findings:read"))],
        kind: str | None = Query(default=None, max_length=30),
        status: str | None = Query(default=None, pattern="^(new|reviewed)$"),
        min_priority: float = Query(default=0.0, ge=0),
        sort: str = Query(default="priority", pattern="^(priority|updated)$"),
        limit: int = Query(default=50, ge=1, le=500),
        offset: int = Query(default=0, ge=0, le=10_000_000),
    ) -> FindingsPage:
        q = finding_query().where(findings.c.priority >= min_priority)
        if kind:
            q = q.where(findings.c.kind == kind)
        if status:
            q = q.where(findings.c.status == status)
        order = findings.c.priority.desc() if sort == "priority" else findings.c.updated_at.desc()
        with engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(q.subquery())).scalar_one()
            rows = conn.execute(q.order_by(order, findings.c.id).limit(limit).offset(offset)).all()
        audit.record(
            engine,
            p.name,
            "findings.list",
            "",
            {"kind": kind, "status": status, "offset": offset, "returned": len(rows)},
        )
        return FindingsPage(
            total=total, offset=offset, limit=limit, findings=[_finding(r) for r in rows]
        )

    @app.get("/v1/findings/{finding_id}", response_model=FindingDetail, tags=["analysts"])
    def get_finding(
        finding_id: Annotated[int, Path(ge=1, le=MAX_ID)],
        p: Annotated[Principal, Depends(principal("findings:read"))],
    ) -> FindingDetail:
        with engine.connect() as conn:
            r = conn.execute(finding_query().where(findings.c.id == finding_id)).first()
            if r is None:
                raise Problem(404, "not found", f"no finding {finding_id}")
            item_id = conn.execute(
                select(findings.c.item_id).where(findings.c.id == finding_id)
            ).scalar_one()
            sig = [{"type": x.type, "source": x.source, "label": x.label, "score": x.score, "detail": x.detail}
                   for x in conn.execute(select(signals).where(signals.c.item_id == item_id))]  # fmt: skip
            rev = [ReviewOut(id=x.id, reviewer=x.reviewer, classification=x.classification, age_group=x.age_group,
                             virtual=bool(x.virtual), notes=x.notes or "", created_at=str(x.created_at))
                   for x in conn.execute(select(reviews).where(reviews.c.finding_id == finding_id).order_by(reviews.c.id))]  # fmt: skip
            sh = [{"sharer_id": x.id, "network": x.network, "guid": x.guid}
                  for x in conn.execute(select(sharers.c.id, sharers.c.network, sharers.c.guid).join(
                      observations, observations.c.sharer_id == sharers.c.id).where(observations.c.item_id == item_id).distinct().limit(200))]  # fmt: skip
        audit.record(engine, p.name, "finding.read", str(finding_id))
        return FindingDetail(**_finding(r).model_dump(), signals=sig, reviews=rev, sharers=sh)

    @app.post(
        "/v1/findings/{finding_id}/review",
        response_model=ReviewOut,
        status_code=201,
        tags=["analysts"],
    )
    def review(
        finding_id: Annotated[int, Path(ge=1, le=MAX_ID)],
        body: ReviewIn,
        p: Annotated[Principal, Depends(principal("findings:review"))],
    ) -> ReviewOut:
        return record_review(finding_id, body, p)

    def record_review(finding_id: int, body: ReviewIn, p: Principal) -> ReviewOut:
        """One review, its finding marked reviewed and the audit entry, in one transaction."""
        now = datetime.now(UTC)
        with engine.begin() as conn:
            if (
                conn.execute(select(findings.c.id).where(findings.c.id == finding_id)).first()
                is None
            ):
                raise Problem(404, "not found", f"no finding {finding_id}")
            rid = conn.execute(insert(reviews).values(finding_id=finding_id, reviewer=p.name, classification=body.classification,
                                                      age_group=body.age_group, virtual=int(body.virtual), notes=body.notes,
                                                      created_at=now)).inserted_primary_key[0]  # fmt: skip
            conn.execute(
                findings.update().where(findings.c.id == finding_id).values(status="reviewed")
            )
            audit.append(conn, p.name, "finding.review", str(finding_id), body.model_dump())
        return ReviewOut(id=rid, reviewer=p.name, created_at=str(now), **body.model_dump())

    @app.get("/v1/sharers/{sharer_id}", response_model=SharerOut, tags=["investigators"])
    def get_sharer(
        sharer_id: Annotated[int, Path(ge=1, le=MAX_ID)],
        p: Annotated[Principal, Depends(principal("sharers:read"))],
    ) -> SharerOut:
        with engine.connect() as conn:
            r = conn.execute(select(sharers).where(sharers.c.id == sharer_id)).first()
            if r is None:
                raise Problem(404, "not found", f"no sharer {sharer_id}")
            ips = [{"ip": x[0], "first_seen": str(x[1]), "last_seen": str(x[2]), "observations": x[3]}
                   for x in conn.execute(select(observations.c.ip, func.min(observations.c.seen_at), func.max(observations.c.seen_at), func.count())
                                         .where(observations.c.sharer_id == sharer_id).group_by(observations.c.ip))]  # fmt: skip
            files = [{"item_id": x[0], "name": x[1], "sha1": x[2], "observations": x[3]}
                     for x in conn.execute(select(items.c.id, items.c.text, items.c.sha1, func.count())
                                           .join(observations, observations.c.item_id == items.c.id)
                                           .where(observations.c.sharer_id == sharer_id)
                                           .group_by(items.c.id, items.c.text, items.c.sha1).limit(1000))]  # fmt: skip
        audit.record(engine, p.name, "sharer.read", str(sharer_id))
        return SharerOut(id=r.id, network=r.network, guid=r.guid, client=r.client, priority=r.priority, breakdown=r.breakdown,
                         first_seen=str(r.first_seen), last_seen=str(r.last_seen), ips=ips, files=files)  # fmt: skip

    @app.get("/v1/terms/candidates", response_model=list[TermOut], tags=["analysts"])
    def term_candidates_(p: Annotated[Principal, Depends(principal("terms:read"))],
                         limit: int = Query(default=50, ge=1, le=500)) -> list[TermOut]:  # fmt: skip
        with engine.connect() as conn:
            rows = conn.execute(select(term_candidates).where(term_candidates.c.status == "new")
                                .order_by(term_candidates.c.score.desc()).limit(limit)).all()  # fmt: skip
        return [TermOut(term=r.term, score=r.score, flagged_count=r.flagged_count, total_count=r.total_count,
                        rising=r.rising, examples=list(r.examples or []), status=r.status) for r in rows]  # fmt: skip

    @app.post("/v1/terms/{term}/accept", status_code=201, tags=["analysts"])
    def accept_term(term: Annotated[str, Path(min_length=1, max_length=200)], body: AcceptIn,
                    p: Annotated[Principal, Depends(principal("terms:accept"))]) -> dict[str, str]:  # fmt: skip
        from ocsea.triage.run import accept_terms

        accept_terms(engine, [term], body.category, body.lang, body.weight, p.name)
        audit.record(engine, p.name, "term.accept", term, body.model_dump())
        return {"term": term, "status": "accepted"}

    @app.post("/v1/lists/{name}/entries", response_model=ListImportOut, tags=["analysts"])
    def import_entries(
        name: Annotated[str, Path(min_length=1, max_length=200)],
        body: ListImportIn,
        p: Annotated[Principal, Depends(principal("lists:write"))],
    ) -> ListImportOut:
        """Import a (small) hash list sent inline; large lists go through `ocsea hashes import`."""
        import tempfile

        from ocsea.hashlists.formats import HashListError
        from ocsea.hashlists.store import import_file

        with tempfile.TemporaryDirectory(prefix="ocsea-upload-") as tmp:
            path = FsPath(tmp) / body.file_name
            path.write_text(body.content, encoding="utf-8")
            try:
                r = import_file(engine, path, name, body.source, body.format, strict=True)
            except HashListError as exc:
                raise Problem(422, "hash list rejected", str(exc).replace(tmp + "/", "")) from None
        state["matcher"] = None  # rebuilt on the next lookup
        audit.record(
            engine,
            p.name,
            "list.import",
            name,
            {"format": r.format, "entries": r.n_entries, "new": r.n_new},
        )
        return ListImportOut(
            list=name,
            format=r.format,
            entries=r.n_entries,
            new=r.n_new,
            already_imported=r.already_imported,
        )

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

    from ocsea.service.casework_api import register as register_casework

    register_casework(app, engine, principal, Problem, referral_settings)
    from ocsea.web.pages import register as register_pages

    register_pages(app, engine, detector, sign_in, record_review, Problem, ReviewIn, policy, media)
    app.add_middleware(GuardMiddleware)
    return app
