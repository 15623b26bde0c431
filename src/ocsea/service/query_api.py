"""The search providers' and analysts' text routes: the real-time query check with its deterrence
message, and classification of texts."""

from typing import Annotated

from fastapi import Depends, Response
from fastapi.responses import JSONResponse

from ocsea.service.access import Principal
from ocsea.service.app import (
    ApiContext,
    ClassifyIn,
    ClassifyOut,
    QueryCheckIn,
    QueryCheckOut,
    _verdict_out,
)


def register(app, ctx: ApiContext) -> None:
    """POST /v1/query-check, POST /v1/classify."""
    detector, policy, principal, counts = ctx.detector, ctx.policy, ctx.principal, ctx.counts

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
