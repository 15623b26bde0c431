"""The review queue's routes: findings, one finding with its signals, reviews and sharers, a review;
a sharer's profile; new-term candidates and their acceptance."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Path, Query
from sqlalchemy import func, insert, select

from ocsea.service import audit
from ocsea.service.access import Principal
from ocsea.service.app import (
    MAX_ID,
    AcceptIn,
    ApiContext,
    FindingDetail,
    FindingOut,
    FindingsPage,
    Problem,
    ReviewIn,
    ReviewOut,
    SharerOut,
    TermOut,
    finding_query,
)
from ocsea.store.db import findings, items, observations, reviews, sharers, signals, term_candidates


def register(app, ctx: ApiContext) -> Callable:
    """GET /v1/findings, GET /v1/findings/{id}, POST /v1/findings/{id}/review,
    GET /v1/sharers/{id}, GET /v1/terms/candidates, POST /v1/terms/{term}/accept. Gives the one
    way a review is recorded (the pages use it too)."""
    engine, principal = ctx.engine, ctx.principal

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

    return record_review
