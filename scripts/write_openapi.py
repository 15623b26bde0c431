"""Write docs/openapi.json from the app (a test checks that it is current)."""

import json
from pathlib import Path

from ocsea.service.app import create_app
from ocsea.store.db import make_engine
from ocsea.text.detector import Detector

if __name__ == "__main__":
    out = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"
    app = create_app(make_engine("sqlite://"), Detector.load())
    out.write_text(json.dumps(app.openapi(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {out}")
