"""The HTTP API (FastAPI), versioned under /v1. Errors are RFC 9457 problem details.

Raw queries sent to /v1/query-check are never stored; per-action counts are (GET /metrics).
"""

import asyncio
import hmac
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Cookie, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from ocsea import __version__
from ocsea.service import audit
from ocsea.service.access import (
    Principal,
    session_principal,
    verify_api_key,
)
from ocsea.service.deterrence import Policy
from ocsea.service.ratelimit import SharedRateLimiter
from ocsea.store.db import (
    findings,
    items,
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


@dataclass
class ApiContext:
    """What every area's routes share: the store, the detector and the deterrence policy, the
    auth dependency (``principal(scope)``), the rate limiter, the counters of /metrics and the
    matcher built on first use."""

    engine: Engine
    detector: Detector
    policy: Policy
    principal: Callable[[str], Callable]
    limiter: SharedRateLimiter
    counts: Counter
    state: dict[str, Any]


def create_app(engine: Engine, detector: Detector, policy: Policy | None = None,
               rate_per_second: float = 2000.0, burst: int = 4000, matcher=None, key_ttl: float = 10.0,
               referral_settings=None, media=None) -> FastAPI:  # fmt: skip
    policy = policy or Policy()
    # Shared by every instance and worker on this database (issue 20).
    limiter = SharedRateLimiter(engine, rate_per_second, burst)
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
                if writes and not (
                    x_csrf_token and hmac.compare_digest(x_csrf_token.encode(), csrf.encode())
                ):
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

    # One module of routes per area, as HMA gives each API area a blueprint.
    from ocsea.service import findings_api, hashes_api, query_api, session_api

    ctx = ApiContext(engine, detector, policy, principal, limiter, counts, state)
    query_api.register(app, ctx)
    hashes_api.register(app, ctx)
    record_review = findings_api.register(app, ctx)
    sign_in = session_api.register(app, ctx)
    from ocsea.service.casework_api import register as register_casework

    register_casework(app, engine, principal, Problem, referral_settings)
    from ocsea.web.pages import register as register_pages

    register_pages(app, engine, detector, sign_in, record_review, Problem, ReviewIn, policy, media)
    app.add_middleware(GuardMiddleware)
    return app
