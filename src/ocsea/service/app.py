"""The HTTP API (FastAPI), versioned under /v1. Errors are RFC 9457 problem details.

Raw queries sent to /v1/query-check are never stored; per-action counts are (GET /metrics).
"""

import threading
import time
from collections import Counter
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from ocsea import __version__
from ocsea.service import audit
from ocsea.service.access import Principal, verify_api_key
from ocsea.service.deterrence import Policy
from ocsea.store.db import hash_entries, hash_lists
from ocsea.text.detector import Detector

MAX_BODY_BYTES = 256 * 1024
MAX_BATCH = 1000
MAX_TEXT = 2000
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


class VerdictOut(BaseModel):
    text: str
    label: str
    score: float
    probs: dict[str, float]
    reasons: list[ReasonOut]
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


class ListOut(BaseModel):
    name: str
    source: str
    entries: int


def create_app(engine: Engine, detector: Detector, policy: Policy | None = None,
               rate_per_second: float = 2000.0, burst: int = 4000, matcher=None) -> FastAPI:  # fmt: skip
    policy = policy or Policy()
    limiter = RateLimiter(rate_per_second, burst)
    counts: Counter[str] = Counter()
    app = FastAPI(title="ocsea", version=__version__, docs_url=None, redoc_url=None,
                  description="Find, triage and refer online child sexual exploitation and abuse.")  # fmt: skip
    state: dict[str, Any] = {"matcher": matcher}

    @app.exception_handler(Problem)
    async def _p(_: Request, exc: Problem) -> JSONResponse:
        return _problem(exc.status, exc.title, exc.detail, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _h(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _problem(exc.status_code, str(exc.detail) if exc.detail else "error")

    @app.exception_handler(RequestValidationError)
    async def _v(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()))
        return _problem(422, "invalid request", f"{where}: {first.get('msg', 'invalid')}")

    @app.middleware("http")
    async def _limits(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return _problem(
                413, "request too large", f"bodies are limited to {MAX_BODY_BYTES} bytes"
            )
        if length is None and request.method in ("POST", "PUT", "PATCH"):
            body = await request.body()
            if len(body) > MAX_BODY_BYTES:
                return _problem(
                    413, "request too large", f"bodies are limited to {MAX_BODY_BYTES} bytes"
                )
        return await call_next(request)

    def principal(scope: str):
        def dep(authorization: Annotated[str | None, Header()] = None,
                x_api_key: Annotated[str | None, Header()] = None) -> Principal:  # fmt: skip
            key = x_api_key or (
                authorization[7:]
                if authorization and authorization.lower().startswith("bearer ")
                else None
            )
            if not key:
                raise Problem(401, "authentication required", "send an API key (Authorization: Bearer …)",
                              {"WWW-Authenticate": "Bearer"})  # fmt: skip
            p = verify_api_key(engine, key)
            if p is None:
                raise Problem(
                    401,
                    "invalid, expired or revoked API key",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            if not p.may(scope):
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
    def query_check(
        body: QueryCheckIn, _: Annotated[Principal, Depends(principal("query-check"))]
    ) -> QueryCheckOut:
        v = detector.classify(body.query, "query")
        action = policy.action(v.score)
        counts[action] += 1
        lang = policy.language(body.lang, body.query)
        return QueryCheckOut(label=v.label, score=round(v.score, 4), action=action,
                             message=policy.messages[lang] if action != "allow" else None,
                             help=[HelpOut(**h) for h in policy.help[lang]] if action != "allow" else [])  # fmt: skip

    @app.post("/v1/classify", response_model=ClassifyOut, tags=["analysts"])
    def classify(
        body: ClassifyIn, _: Annotated[Principal, Depends(principal("classify"))]
    ) -> ClassifyOut:
        counts["classify"] += len(body.texts)
        return ClassifyOut(
            results=[VerdictOut(**detector.classify(t).to_dict()) for t in body.texts]
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

    return app
