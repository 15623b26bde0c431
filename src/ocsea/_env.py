"""Process settings that must be in place before PyThaiNLP is imported: it must never reach the network."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def configure_offline() -> None:
    """Force PyThaiNLP offline and give it a writable data directory."""
    os.environ["PYTHAINLP_OFFLINE"] = "1"
    given = os.environ.get("PYTHAINLP_DATA")
    if given:
        Path(given).mkdir(parents=True, exist_ok=True)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        path = Path(base) / "ocsea" / "pythainlp-data"
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError:
            path = Path(tempfile.gettempdir()) / "ocsea-pythainlp-data"
            path.mkdir(parents=True, exist_ok=True)
        os.environ["PYTHAINLP_DATA"] = str(path)
