"""The analysts' pages: sign-in, home, the review queue and a finding's page with its keyboard
review form. Server-rendered (Jinja2, our own small script, no build step), on the service's
sessions, CSRF tokens, roles and audit: a page or button a role may not use is neither shown nor
accepted, and every read and review is audited as through the API."""

from __future__ import annotations

import hmac
import math
import time
from collections.abc import Callable
from datetime import timedelta
from importlib import resources
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import BackgroundTasks, Cookie, FastAPI, Form, Header, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import Field
from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Engine

from ocsea.service import audit
from ocsea.service.access import (
    AccessError,
    Principal,
    check_password,
    end_session,
    login_attempt,
    login_succeeded,
    session_principal,
    set_password,
)
from ocsea.service.app import client_address, finding_query
from ocsea.service.deterrence import Policy
from ocsea.store.db import (
    audit_log,
    cases,
    findings,
    items,
    observations,
    reviews,
    sharers,
    signals,
    term_candidates,
)
from ocsea.text.detector import Detector
from ocsea.web.i18n import LANGS, default_lang, words
from ocsea.web.media import MediaBusy, MediaRefused, MediaSettings, safe_thumbnail

PAGE_SIZE = 50
NEAR_DUPLICATES = 200  # shown on a finding's page for review in one go
MAX_ID = 2**62
# Pages load our own script and style only; nothing is framed, posted elsewhere or inlined. An
# evidence thumbnail is fetched by the page's script and shown from a blob: URL (never cached).
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
# Swagger UI sets style attributes and shows data: images; its scripts are files too.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
CLASSES = ("baseline", "national", "not_illegal")
# What an accepted term can be: the evidence categories an analyst adds from query logs.
TERM_CATEGORIES = ("csa_code", "minor", "sexual", "abbrev", "trade", "channel", "solicit", "live",
                   "extort", "payment", "hidden", "benign_sense", "intent_safe")  # fmt: skip
AGE_GROUPS = ("infant", "prepubescent", "pubescent", "unknown")

_env = Environment(
    loader=PackageLoader("ocsea.web", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def highlight(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[str, str | None]]:
    """The text cut into pieces, each with the reason that covers it (the first one given where
    reasons overlap) or None: what the page marks."""
    cover: list[str | None] = [None] * len(text)
    for start, end, why in spans:
        for k in range(max(0, start), min(len(text), end)):
            if cover[k] is None:
                cover[k] = why
    out: list[tuple[str, str | None]] = []
    for k, ch in enumerate(text):
        if out and out[-1][1] == cover[k]:
            out[-1] = (out[-1][0] + ch, cover[k])
        else:
            out.append((ch, cover[k]))
    return out


def register(app: FastAPI, engine: Engine, detector: Detector, sign_in: Callable,
             record_review: Callable, problem: type[Exception], review_in: type,
             policy: Policy | None = None, media: MediaSettings | None = None) -> None:  # fmt: skip
    policy = policy or Policy()
    media = media or MediaSettings(mode="off")
    static = resources.files("ocsea.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    import swagger_ui_bundle

    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
              name="docs-assets")  # fmt: skip

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs() -> HTMLResponse:
        """The API description in Swagger UI, from the package pip installed (no CDN)."""
        html = _env.get_template("docs.html").render()
        return HTMLResponse(html, headers={"Content-Security-Policy": DOCS_CSP})

    def lang_of(request: Request) -> str:
        lang = request.cookies.get("ocsea_lang") or default_lang()
        return lang if lang in LANGS else default_lang()

    def page(request: Request, template: str, code: int = 200, **ctx: Any) -> HTMLResponse:
        lang = lang_of(request)
        html = _env.get_template(template).render(t=words(lang), lang=lang, **ctx)
        # Referrer within the site only: a browser's Origin on our forms is then our own, also
        # where it sends no Sec-Fetch-Site (Safari before 16.4), and no address leaves the site.
        return HTMLResponse(html, status_code=code,
                            headers={"Content-Security-Policy": PAGE_CSP,
                                     "Referrer-Policy": "same-origin"})  # fmt: skip

    def cross_site(request: Request) -> bool:
        """A form posted from another site (login CSRF, or a forged review): the browser says so
        in Sec-Fetch-Site, or an Origin that is not this host."""
        fetch_site = request.headers.get("sec-fetch-site")
        if fetch_site is not None:
            # Browsers say where a request comes from; where they do not, their Origin (pages send
            # Referrer-Policy: same-origin, so it is a real one; "null" is refused).
            return fetch_site not in ("same-origin", "none")
        origin = request.headers.get("origin")
        if origin == "null":
            return True
        return bool(origin) and origin.split("://", 1)[-1] != request.headers.get("host", "")

    kinds_seen: dict[str, Any] = {"at": -1e9, "kinds": []}

    def finding_kinds(conn) -> list[str]:
        """The kinds the queue filters by, looked up once a minute: at 1M findings the lookup
        reads the whole table (about 100 ms on SQLite) and the kinds are a handful that rarely
        change."""
        now = time.monotonic()
        if now - kinds_seen["at"] > 60:
            kinds_seen["kinds"] = [
                k for (k,) in conn.execute(select(findings.c.kind).distinct().limit(50))
            ]
            kinds_seen["at"] = now
        return kinds_seen["kinds"]

    def signed_in(token: str | None) -> tuple[Principal, str] | None:
        return session_principal(engine, token) if token else None

    def to_sign_in(token: str | None) -> RedirectResponse:
        return RedirectResponse("/?ended=1" if token else "/", status_code=303)

    def gate(request: Request, token: str | None, scope: str | None = None, what: str = "",
             form_csrf: str | None = None) -> tuple[Principal, str] | Response:  # fmt: skip
        """The signed-in user and their CSRF token, or the answer that stops the request: a
        redirect to sign in, a refused form (posted from another site, or without its token), a
        refused role. Every refusal is audited."""
        found = signed_in(token)
        if found is None:
            return to_sign_in(token)
        who, csrf = found
        if form_csrf is not None and (
            cross_site(request) or not hmac.compare_digest(form_csrf.encode(), csrf.encode())
        ):
            audit.record(engine, who.name, "access.denied", request.url.path[-300:],
                         {"why": "CSRF check failed"})  # fmt: skip
            return page(request, "message.html", 403, who=who, csrf=csrf, message="csrf")
        if scope is not None and not who.may(scope):
            audit.record(engine, who.name, "access.denied", request.url.path[-300:],
                         {"page": what, "why": "role"})  # fmt: skip
            return page(request, "message.html", 403, who=who, csrf=csrf, message="not_allowed")
        return who, csrf

    from ocsea.web import admin_pages, request_pages

    admin_pages.register(app, engine, gate, page)
    request_pages.register(app, engine, gate, page)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request, ocsea_session: Annotated[str | None, Cookie()] = None,
             ended: int = Query(default=0, ge=0, le=1),
             changed: int = Query(default=0, ge=0, le=1)) -> HTMLResponse:  # fmt: skip
        found = signed_in(ocsea_session)
        if found is None:
            return page(request, "sign_in.html", ended=bool(ended or ocsea_session),
                        changed=bool(changed))  # fmt: skip
        who, csrf = found
        counts = {"new": 0, "reviewed": 0}
        top: list = []
        open_cases = None
        with engine.connect() as conn:
            if who.may("findings:read"):
                for status, n in conn.execute(
                    select(findings.c.status, func.count()).group_by(findings.c.status)
                ):
                    counts[status] = n
                top = conn.execute(finding_query().where(findings.c.status == "new")
                                   .order_by(findings.c.priority.desc(), findings.c.id).limit(10)).all()  # fmt: skip
            if who.may("cases:read"):
                open_cases = conn.execute(
                    select(func.count()).select_from(cases).where(cases.c.status == "open")
                ).scalar_one()
        due = None
        if who.may("requests:read"):
            from ocsea.referrals.requests_store import due_list

            due = len(due_list(engine, timedelta(days=7)))
        audit.record(engine, who.name, "page.home")
        return page(request, "home.html", who=who, csrf=csrf, counts=counts, top=top,
                    open_cases=open_cases, due=due)  # fmt: skip

    @app.post("/sign-in", response_class=HTMLResponse, include_in_schema=False)
    def sign_in_form(request: Request, username: Annotated[str, Form(max_length=100)],
                     password: Annotated[str, Form(max_length=128)],
                     ocsea_session: Annotated[str | None, Cookie()] = None) -> Response:  # fmt: skip
        if cross_site(request):
            return page(request, "message.html", 403, message="csrf")
        response = RedirectResponse("/", status_code=303)
        try:
            sign_in(username, password, request, response)
        except problem as exc:  # type: ignore[misc]
            return page(request, "sign_in.html", exc.status, error=exc.title,
                        detail=getattr(exc, "detail", ""), username=username)  # fmt: skip
        if ocsea_session:  # a new sign-in ends the browser's earlier session
            end_session(engine, ocsea_session)
        return response

    @app.post("/sign-out", include_in_schema=False)
    def sign_out(csrf_token: Annotated[str, Form(max_length=200)] = "",
                 ocsea_session: Annotated[str | None, Cookie()] = None) -> Response:  # fmt: skip
        found = signed_in(ocsea_session)
        if found is not None and hmac.compare_digest(csrf_token.encode(), found[1].encode()):
            end_session(engine, ocsea_session)
            audit.record(engine, found[0].name, "logout")
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie("ocsea_session", path="/")
        return response

    @app.get("/lang/{code}", include_in_schema=False)
    def set_lang(code: Annotated[str, Path(pattern="^(th|en)$")]) -> Response:
        response = RedirectResponse("/", status_code=303)
        response.set_cookie("ocsea_lang", code, max_age=365 * 86400, samesite="strict", path="/")
        return response

    @app.get("/queue", response_class=HTMLResponse, include_in_schema=False)
    def queue(
        request: Request,
        ocsea_session: Annotated[str | None, Cookie()] = None,
        status: str = Query(default="new", pattern="^(new|reviewed|all)$"),
        kind: str = Query(default="", max_length=30),
        after: str = Query(
            default="",
            max_length=60,
            pattern=r"^(|-?[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?:[0-9]{1,18})$",
        ),
    ) -> Response:
        gated = gate(request, ocsea_session, "findings:read", "queue")
        if isinstance(gated, Response):
            return gated
        who, csrf = gated
        q = _filtered(finding_query(), status, kind)
        if after:
            prio, fid = after.split(":")
            q = q.where(_after(float(prio), min(int(fid), MAX_ID)))
        with engine.connect() as conn:
            rows = conn.execute(q.order_by(findings.c.priority.desc(), findings.c.id)
                                .limit(PAGE_SIZE + 1)).all()  # fmt: skip
            kinds = finding_kinds(conn)
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        cursor = f"{rows[-1].priority!r}:{rows[-1].id}".replace("+", "") if more else ""
        audit.record(engine, who.name, "findings.list", "",
                     {"page": "queue", "status": status, "kind": kind, "returned": len(rows)})  # fmt: skip
        return page(request, "queue.html", who=who, csrf=csrf, rows=rows, status=status,
                    kind=kind, kinds=sorted(kinds), cursor=cursor)  # fmt: skip

    @app.get("/account", response_class=HTMLResponse, include_in_schema=False)
    def account(
        request: Request, ocsea_session: Annotated[str | None, Cookie()] = None
    ) -> Response:
        gated = gate(request, ocsea_session)
        if isinstance(gated, Response):
            return gated
        who, csrf = gated
        return page(request, "account.html", who=who, csrf=csrf)

    @app.post("/account/password", include_in_schema=False)
    def change_password(
        request: Request,
        csrf_token: Annotated[str, Form(max_length=200)],
        current: Annotated[str, Form(max_length=128)],
        new: Annotated[str, Form(max_length=128)],
        repeat: Annotated[str, Form(max_length=128)],
        ocsea_session: Annotated[str | None, Cookie()] = None,
    ) -> Response:
        """A user changes their own password (ASVS 2.1.5, 2.1.6): the current one is checked,
        throttled and audited as a login is; the new one ends every session of the user."""
        gated = gate(request, ocsea_session, form_csrf=csrf_token)
        if isinstance(gated, Response):
            return gated
        who, csrf = gated
        username = who.name.removeprefix("user:")
        t = words(lang_of(request))
        if new != repeat:
            return page(request, "account.html", 422, who=who, csrf=csrf,
                        error=t["passwords_differ"])  # fmt: skip
        wait = login_attempt(engine, [f"user:{username}"])
        if wait > 0:
            return page(request, "account.html", 429, who=who, csrf=csrf,
                        error=f"{t['wrong_password']} ({math.ceil(wait)} s)")  # fmt: skip
        if check_password(engine, username, current) is None:
            audit.record(engine, who.name, "password.change.failed", client_address(request))
            return page(request, "account.html", 401, who=who, csrf=csrf,
                        error=t["wrong_password"])  # fmt: skip
        login_succeeded(engine, username)
        try:
            set_password(engine, username, new)
        except AccessError as exc:
            return page(request, "account.html", 422, who=who, csrf=csrf, error=str(exc))
        audit.record(engine, who.name, "password.change", client_address(request))
        response = RedirectResponse("/?changed=1", status_code=303)
        response.delete_cookie("ocsea_session", path="/")
        return response

    @app.get("/cases", response_class=HTMLResponse, include_in_schema=False)
    def cases_page(request: Request, ocsea_session: Annotated[str | None, Cookie()] = None,
                   limit: int = Query(default=100, ge=1, le=500)) -> Response:  # fmt: skip
        """Open cases, highest priority first, each with the factors behind its score and the
        evidence for each factor."""
        gated = gate(request, ocsea_session, "cases:read", "cases")
        if isinstance(gated, Response):
            return gated
        who, csrf = gated
        from ocsea.referrals.store import top_cases

        rows = top_cases(engine, limit)
        audit.record(engine, who.name, "cases.list", "", {"page": True, "returned": len(rows)})
        return page(request, "cases.html", who=who, csrf=csrf, rows=rows)

    @app.get("/cases/{key}", response_class=HTMLResponse, include_in_schema=False)
    def case_page(request: Request, key: Annotated[str, Path(pattern=r"^C\d{1,12}$")],
                  ocsea_session: Annotated[str | None, Cookie()] = None,
                  done: str = Query(default="", pattern="^(|split|merge|not_identifying)$")) -> Response:  # fmt: skip
        """A case: its factors, referrals in time order, the identifiers that link them and how
        each referral wrote them, requests about them, the network drawn, and the corrections
        (split, merge, "not identifying") for the roles that may make them."""
        gated = gate(request, ocsea_session, "cases:read", "case")
        if isinstance(gated, Response):
            return gated
        who, csrf = gated
        from ocsea.web.case_view import case_view

        with engine.connect() as conn:
            view = case_view(conn, key)
        if view is None:
            return page(request, "message.html", 404, who=who, csrf=csrf, message="no_case")
        audit.record(engine, who.name, "case.read", key, {"page": True})
        return page(request, "case.html", who=who, csrf=csrf, v=view, done=done,
                    may_correct=who.may("networks:correct"),
                    may_requests=who.may("requests:read"))  # fmt: skip

    @app.post("/cases/{key}/correct", include_in_schema=False)
    def case_correct(
        request: Request,
        background: BackgroundTasks,
        key: Annotated[str, Path(pattern=r"^C\d{1,12}$")],
        csrf_token: Annotated[str, Form(max_length=200)],
        action: Annotated[str, Form(pattern="^(split|merge|not_identifying)$")],
        referral_ids: Annotated[list[int], Form(max_length=10_000)] = [],  # noqa: B006
        other: Annotated[str, Form(pattern=r"^(|C\d{1,12})$")] = "",
        kind: Annotated[str, Form(pattern="^(|[a-z0-9_]{2,30})$")] = "",
        value: Annotated[str, Form(max_length=600)] = "",
        note: Annotated[str, Form(max_length=2000)] = "",
        ocsea_session: Annotated[str | None, Cookie()] = None,
    ) -> Response:
        """The API's corrections from a form: audited by ``ocsea.referrals.decisions``; cases are
        relinked after the answer, as through the API."""
        gated = gate(request, ocsea_session, "networks:correct", "case " + action,
                     form_csrf=csrf_token)  # fmt: skip
        if isinstance(gated, Response):
            return gated
        who, csrf = gated
        from ocsea.referrals import decisions as dec

        try:
            if action == "split":
                if not referral_ids:
                    raise dec.DecisionError("choose the referrals to split off")
                dec.split_case(engine, who.name, key, referral_ids, note)
            elif action == "merge":
                if not other or other == key:
                    raise dec.DecisionError("name the other case to merge with")
                dec.merge_cases(engine, who.name, [key, other], note)
            else:
                if not kind or not value:
                    raise dec.DecisionError("not identifying needs the identifier")
                region = request.app.state.referral_settings.region
                dec.mark_not_identifying(engine, who.name, kind, value, note, region)
        except dec.DecisionError as exc:
            return page(request, "message.html", 422, who=who, csrf=csrf,
                        message="correction_rejected", detail=str(exc))  # fmt: skip
        request.app.state.queue_relink(who.name, background)
        return RedirectResponse(f"/cases/{key}?done={action}", status_code=303)

    @app.get("/console", response_class=HTMLResponse, include_in_schema=False)
    def console(request: Request, ocsea_session: Annotated[str | None, Cookie()] = None,
                q: str = Query(default="", max_length=2000)) -> Response:  # fmt: skip
        """The query check as a search provider's user meets it: verdict, marked words, action
        and the deterrence message in the query's language."""
        gated = gate(request, ocsea_session, "query-check", "console")
        if isinstance(gated, Response):
            return gated
        who, csrf = gated
        ctx: dict[str, Any] = {"q": q, "verdict": None}
        if q.strip():
            v = detector.classify(q, "query")
            action = policy.action(v.score)
            lang = policy.language(None, q)
            spans = [(r.span[0], r.span[1], f"{r.category}: {r.term}") for r in v.reasons if r.span]
            ctx.update(verdict=v, action=action, pieces=highlight(q, spans), message_lang=lang,
                       message=policy.messages[lang] if action != "allow" else None,
                       help=policy.help[lang] if action != "allow" else [])  # fmt: skip
            audit.record(engine, who.name, "query.console", "", {"chars": len(q), "action": action})
        return page(request, "console.html", who=who, csrf=csrf, **ctx)

    @app.get("/audit", response_class=HTMLResponse, include_in_schema=False)
    def audit_page(
        request: Request,
        ocsea_session: Annotated[str | None, Cookie()] = None,
        actor: str = Query(default="", max_length=200),
        action: str = Query(default="", max_length=60),
        before: int = Query(default=0, ge=0, le=MAX_ID),
        verify: int = Query(default=0, ge=0, le=1),
    ) -> Response:
        """The audit log, newest first, filtered by who and what; "verify" walks the whole
        chain with the configured key (as `ocsea audit verify`)."""
        gated = gate(request, ocsea_session, "audit:read", "audit")
        if isinstance(gated, Response):
            return gated
        who, csrf = gated
        q = select(audit_log.c.id, audit_log.c.at, audit_log.c.actor, audit_log.c.action,
                   audit_log.c.target, audit_log.c.detail)  # fmt: skip
        if actor:
            q = q.where(audit_log.c.actor == actor)
        if action:
            q = q.where(audit_log.c.action == action)
        if before:
            q = q.where(audit_log.c.id < before)
        with engine.connect() as conn:
            rows = conn.execute(q.order_by(audit_log.c.id.desc()).limit(PAGE_SIZE + 1)).all()
        older = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
        report = None
        if verify:
            rep = audit.verify_chain(engine, audit.configured_key())
            report = {"intact": rep.intact, "entries": rep.entries, "summary": rep.summary()}
        audit.record(engine, who.name, "audit.read", "", {"page": True, "verify": bool(verify)})
        return page(request, "audit.html", who=who, csrf=csrf, rows=rows[:PAGE_SIZE], actor=actor,
                    action=action, older=older, report=report)  # fmt: skip

    @app.get("/requests", response_class=HTMLResponse, include_in_schema=False)
    def requests_page(request: Request, ocsea_session: Annotated[str | None, Cookie()] = None,
                      within: int = Query(default=14, ge=0, le=365)) -> Response:  # fmt: skip
        """The deadline board: answers overdue or due, and preservations that expire (or have)
        with no follow-up request, soonest first (as `ocsea requests due`)."""
        gated = gate(request, ocsea_session, "requests:read", "requests")
        if isinstance(gated, Response):
            return gated
        who, csrf = gated
        from ocsea.referrals.requests_store import due_list

        rows = due_list(engine, timedelta(days=within))
        audit.record(engine, who.name, "requests.due", "", {"page": True, "within_days": within})
        return page(request, "requests.html", who=who, csrf=csrf, rows=rows, within=within)

    @app.get("/terms", response_class=HTMLResponse, include_in_schema=False)
    def terms_page(request: Request, ocsea_session: Annotated[str | None, Cookie()] = None,
                   done: str = Query(default="", pattern="^(|accepted|rejected)$")) -> Response:  # fmt: skip
        """New-term candidates from flagged queries, with accept and reject for the roles that
        may change the lexicon."""
        gated = gate(request, ocsea_session, "terms:read", "terms")
        if isinstance(gated, Response):
            return gated
        who, csrf = gated
        with engine.connect() as conn:
            rows = conn.execute(select(term_candidates).where(term_candidates.c.status == "new")
                                .order_by(term_candidates.c.score.desc()).limit(200)).all()  # fmt: skip
        audit.record(engine, who.name, "terms.list", "", {"page": True, "returned": len(rows)})
        return page(request, "terms.html", who=who, csrf=csrf, rows=rows, done=done,
                    may_accept=who.may("terms:accept"), categories=TERM_CATEGORIES)  # fmt: skip

    @app.post("/terms/{action}", include_in_schema=False)
    def terms_decide(
        request: Request,
        action: Annotated[str, Path(pattern="^(accept|reject)$")],
        csrf_token: Annotated[str, Form(max_length=200)],
        term: Annotated[str, Form(min_length=1, max_length=200)],
        category: Annotated[str, Form(max_length=30)] = "csa_code",
        ocsea_session: Annotated[str | None, Cookie()] = None,
    ) -> Response:
        gated = gate(
            request, ocsea_session, "terms:accept", "terms " + action, form_csrf=csrf_token
        )
        if isinstance(gated, Response):
            return gated
        who, csrf = gated
        from ocsea.triage.run import accept_terms, reject_terms

        if action == "accept":
            if category not in TERM_CATEGORIES:
                return page(request, "message.html", 422, who=who, csrf=csrf, message="not_allowed")
            accept_terms(engine, [term.strip()], category, "mixed", 0.8, who.name)
            audit.record(engine, who.name, "term.accept", term[:200], {"category": category})
        else:
            reject_terms(engine, [term.strip()], who.name)
        return RedirectResponse(f"/terms?done={action}ed", status_code=303)

    @app.get("/findings/{finding_id}", response_class=HTMLResponse, include_in_schema=False)
    def finding_page(
        request: Request,
        finding_id: Annotated[int, Path(ge=1, le=MAX_ID)],
        ocsea_session: Annotated[str | None, Cookie()] = None,
        status: str = Query(default="new", pattern="^(new|reviewed|all)$"),
        kind: str = Query(default="", max_length=30),
        saved: int = Query(default=0, ge=0, le=1),
    ) -> Response:
        gated = gate(request, ocsea_session, "findings:read", "finding")
        if isinstance(gated, Response):
            return gated
        who, csrf = gated
        with engine.connect() as conn:
            r = conn.execute(finding_query().add_columns(findings.c.item_id,
                                                         items.c.kind.label("item_kind"))
                             .where(findings.c.id == finding_id)).first()  # fmt: skip
            if r is None:
                return page(request, "message.html", 404, who=who, csrf=csrf, message="no_findings")
            sigs = conn.execute(select(signals).where(signals.c.item_id == r.item_id)).all()
            revs = conn.execute(select(reviews).where(reviews.c.finding_id == finding_id)
                                .order_by(reviews.c.id)).all()  # fmt: skip
            shs = conn.execute(select(sharers.c.id, sharers.c.network, sharers.c.guid)
                               .join(observations, observations.c.sharer_id == sharers.c.id)
                               .where(observations.c.item_id == r.item_id).distinct().limit(50)).all()  # fmt: skip
            dups = near_duplicates(conn, r.item_id, finding_id)
            base = _filtered(finding_query(), status, kind)
            nxt = _next_finding(conn, status, kind, r.priority, r.id)
            prev = conn.execute(base.where(_before(r.priority, r.id))
                                .order_by(findings.c.priority.asc(), findings.c.id.desc()).limit(1)).first()  # fmt: skip
        text = r.text or ""
        verdict = detector.classify(text) if text else None
        spans = [(rs.span[0], rs.span[1], f"{rs.category}: {rs.term}")
                 for rs in (verdict.reasons if verdict else ()) if rs.span]  # fmt: skip
        rules = [rs for rs in (verdict.reasons if verdict else ()) if rs.kind == "rule"]
        audit.record(engine, who.name, "finding.read", str(finding_id), {"page": True})
        return page(request, "finding.html", who=who, csrf=csrf, f=r, pieces=highlight(text, spans),
                    verdict=verdict, rules=rules,
                    hashes=[s for s in sigs if s.type == "hash"], sharers=shs, reviews=revs,
                    near_duplicates=dups,
                    next_id=nxt.id if nxt else None, prev_id=prev.id if prev else None,
                    status=status, kind=kind, classes=CLASSES, age_groups=AGE_GROUPS,
                    may_review=who.may("findings:review"), saved=bool(saved),
                    media=media.mode != "off" and r.item_kind == "file",
                    media_ready=media.enabled,
                    may_unblur=who.role in media.unblur_roles)  # fmt: skip

    def evidence_thumbnail(request: Request, finding_id: int, token: str | None,
                           csrf_header: str | None, sharp: bool) -> Response:  # fmt: skip
        """A thumbnail of a scanned image, made in memory, never cached; blurred unless a role
        allowed to asks for it sharp (a POST with the page's CSRF token). Both are audited."""
        gated = gate(request, token, "findings:read", "thumbnail",
                     form_csrf=csrf_header if sharp else None)  # fmt: skip
        if isinstance(gated, Response):
            # The page's script shows this text: a sentence, not a page or a redirect.
            if isinstance(gated, RedirectResponse):
                return _plain("your session has ended: sign in again", 401)
            return _plain("refused: your role, or the page is out of date", gated.status_code)
        who, _ = gated
        if media.mode == "off":
            return _plain("thumbnails are off on this service ([web.media] mode)", 404)
        if sharp and who.role not in media.unblur_roles:
            audit.record(engine, who.name, "access.denied", request.url.path[-300:],
                         {"page": "thumbnail", "why": "role may not unblur"})  # fmt: skip
            return _plain("your role may not see evidence unblurred", 403)
        if not media.enabled:
            return _plain("no evidence folders are configured ([web.media] evidence_roots)", 404)
        with engine.connect() as conn:
            it = conn.execute(select(items.c.kind, items.c.key, items.c.text)
                              .join(findings, findings.c.item_id == items.c.id)
                              .where(findings.c.id == finding_id)).first()  # fmt: skip
        if it is None or it.kind != "file" or not it.text:
            return _plain("no scanned file behind this finding", 404)
        try:
            png = safe_thumbnail(it.text, it.key, media, sharp=sharp)
        except MediaBusy as exc:
            return _plain(str(exc), 503)
        except MediaRefused as exc:
            audit.record(engine, who.name, "media.refused", str(finding_id), {"why": str(exc)})
            return _plain(str(exc), 422)
        audit.record(engine, who.name, "media.unblur" if sharp else "media.view", str(finding_id),
                     {"page": True})  # fmt: skip
        return Response(png, media_type="image/png",
                        headers={"Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'",
                                 "Content-Disposition": "inline"})  # fmt: skip

    @app.get("/findings/{finding_id}/thumbnail", include_in_schema=False)
    def thumbnail_blurred(request: Request, finding_id: Annotated[int, Path(ge=1, le=MAX_ID)],
                          ocsea_session: Annotated[str | None, Cookie()] = None) -> Response:  # fmt: skip
        return evidence_thumbnail(request, finding_id, ocsea_session, None, sharp=False)

    @app.post("/findings/{finding_id}/thumbnail/sharp", include_in_schema=False)
    def thumbnail_sharp(request: Request, finding_id: Annotated[int, Path(ge=1, le=MAX_ID)],
                        ocsea_session: Annotated[str | None, Cookie()] = None,
                        x_csrf_token: Annotated[str | None, Header(max_length=200)] = None) -> Response:  # fmt: skip
        return evidence_thumbnail(request, finding_id, ocsea_session, x_csrf_token or "",
                                  sharp=True)  # fmt: skip

    @app.post("/findings/{finding_id}/review", include_in_schema=False)
    def review_form(
        request: Request,
        finding_id: Annotated[int, Path(ge=1, le=MAX_ID)],
        csrf_token: Annotated[str, Form(max_length=200)],
        classification: Annotated[str, Form(pattern="^(baseline|national|not_illegal)$")],
        age_group: Annotated[
            str, Form(pattern="^(infant|prepubescent|pubescent|unknown)$")
        ] = "unknown",
        virtual: Annotated[str, Form(max_length=5)] = "",
        notes: Annotated[str, Form(max_length=4000)] = "",
        next_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
        status: Annotated[str, Form(pattern="^(new|reviewed|all)$")] = "new",
        kind: Annotated[str, Form(max_length=30)] = "",
        also: Annotated[
            list[Annotated[int, Field(ge=1, le=MAX_ID)]], Form(max_length=NEAR_DUPLICATES)
        ] = [],  # noqa: B006
        ocsea_session: Annotated[str | None, Cookie()] = None,
    ) -> Response:
        """A review, and the same review of the near-duplicates ticked beside it (each recorded
        and audited as its own review, its note naming the finding it was made from)."""
        gated = gate(request, ocsea_session, "findings:review", "review", form_csrf=csrf_token)
        if isinstance(gated, Response):
            return gated
        who, _ = gated
        body = review_in(classification=classification, age_group=age_group,
                         virtual=virtual in ("1", "on", "true"), notes=notes)  # fmt: skip
        record_review(finding_id, body, who)
        done = {finding_id}
        if also:  # only what is still a new near-duplicate of this finding now
            with engine.connect() as conn:
                item_id = conn.execute(select(findings.c.item_id)
                                       .where(findings.c.id == finding_id)).scalar()  # fmt: skip
                still = (
                    {d.id for d in near_duplicates(conn, item_id, finding_id)} if item_id else set()
                )
            also = [x for x in also if x in still]
        for other in dict.fromkeys(also):
            if other in done:
                continue
            note = f"with finding {finding_id} (near-duplicate)" + (f": {notes}" if notes else "")
            try:
                record_review(other, body.model_copy(update={"notes": note[:4000]}), who)
            except problem:  # type: ignore[misc]  # gone since the page was shown
                continue
            done.add(other)
        if next_id in done or (next_id is not None and status == "new" and len(done) > 1):
            # the next one was reviewed with this one: the first still to do after it
            with engine.connect() as conn:
                cur = conn.execute(
                    select(findings.c.priority).where(findings.c.id == finding_id)
                ).first()
                nxt = cur and _next_finding(conn, status, kind, cur.priority, finding_id, done)
            next_id = nxt.id if nxt else None
        query = urlencode({"status": status, "kind": kind})
        target = f"/findings/{next_id}?{query}&saved=1" if next_id else f"/queue?{query}"
        return RedirectResponse(target, status_code=303)


def near_duplicates(conn, item_id: int, finding_id: int, limit: int = NEAR_DUPLICATES):
    """New findings whose files matched the same hash-list entry as this finding's file (the
    same known picture, re-encoded or resized): what an analyst may review in one go."""
    entries: dict[str, set[int]] = {}
    for src, detail in conn.execute(select(signals.c.source, signals.c.detail)
                                    .where(signals.c.item_id == item_id, signals.c.type == "hash")):  # fmt: skip
        eid = (detail or {}).get("entry_id")
        if isinstance(eid, int):
            entries.setdefault(src, set()).add(eid)
    if not entries:
        return []
    same_entry = or_(*(and_(signals.c.source == src,
                            signals.c.detail["entry_id"].as_integer().in_(sorted(ids)))
                       for src, ids in entries.items()))  # fmt: skip
    others = select(signals.c.item_id).where(signals.c.type == "hash", same_entry)
    return conn.execute(finding_query().where(findings.c.item_id.in_(others),
                                              findings.c.id != finding_id,
                                              findings.c.status == "new")
                        .order_by(findings.c.priority.desc(), findings.c.id).limit(limit)).all()  # fmt: skip


def _plain(message: str, code: int) -> Response:
    return Response(message, status_code=code, media_type="text/plain; charset=utf-8")


def _filtered(q, status: str, kind: str):
    if status != "all":
        q = q.where(findings.c.status == status)
    if kind:
        q = q.where(findings.c.kind == kind)
    return q


def _next_finding(conn, status: str, kind: str, priority: float, fid: int, skip=()):
    """The finding after (priority, id) in the queue's order and filter, bar ``skip``."""
    q = _filtered(finding_query(), status, kind).where(_after(priority, fid))
    if skip:
        q = q.where(findings.c.id.not_in(skip))
    return conn.execute(q.order_by(findings.c.priority.desc(), findings.c.id).limit(1)).first()


def _after(priority: float, fid: int):
    """Keyset: what comes after (priority, id) in the order priority descending, id ascending.
    The plain bound on priority beside the OR lets an index scan start at the cursor instead of
    at the top (PostgreSQL, 1M findings: 516 ms -> below 1 ms a query)."""
    return and_(findings.c.priority <= priority,
                or_(findings.c.priority < priority,
                    and_(findings.c.priority == priority, findings.c.id > fid)))  # fmt: skip


def _before(priority: float, fid: int):
    return and_(findings.c.priority >= priority,
                or_(findings.c.priority > priority,
                    and_(findings.c.priority == priority, findings.c.id < fid)))  # fmt: skip
