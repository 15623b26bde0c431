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
    engine = make_engine(settings.database_url)
    detector = Detector.load(
        threshold=settings.text_threshold, extra_entries=overlay_entries(engine)
    )
    return create_app(engine, detector)
