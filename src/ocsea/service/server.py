"""Entry point for uvicorn workers: builds the app from settings (``ocsea serve`` runs this)."""

from __future__ import annotations

from fastapi import FastAPI


def app_factory() -> FastAPI:
    from ocsea.config import load_settings
    from ocsea.service.app import create_app
    from ocsea.store.db import make_engine
    from ocsea.text.detector import Detector
    from ocsea.triage.run import overlay_entries

    settings = load_settings()
    from ocsea.service import audit

    audit.configured_key()  # a bad OCSEA_AUDIT_KEY stops the start, not every audited request
    engine = make_engine(settings.database_url)
    detector = Detector.load(
        threshold=settings.text_threshold, extra_entries=overlay_entries(engine)
    )
    detector.lexicon.warm()  # before the first query check, not during it
    return create_app(engine, detector, media=settings.media,
                      rate_per_second=settings.service_rate_per_second,
                      burst=settings.service_burst, key_ttl=settings.service_key_ttl_s)  # fmt: skip


def _problem_400(msg: str) -> list[bytes]:
    import json

    body = json.dumps({"type": "about:blank", "title": "bad request", "status": 400,
                       "detail": msg}).encode()  # fmt: skip
    return [
        b"content-type: application/problem+json\r\n",
        b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
        b"connection: close\r\n",
        b"\r\n",
        body,
    ]


try:  # uvicorn answers requests it cannot parse itself, in plain text: problem+json as everywhere
    from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

    class ProblemHttpToolsProtocol(HttpToolsProtocol):
        def send_400_response(self, msg: str) -> None:
            content = [STATUS_LINE[400]]
            for name, value in self.server_state.default_headers:
                content.extend([name, b": ", value, b"\r\n"])
            content.extend(_problem_400(msg))
            self.transport.write(b"".join(content))
            self.transport.close()

except ImportError:  # pragma: no cover - httptools is a dependency
    ProblemHttpToolsProtocol = None  # type: ignore[assignment,misc]
