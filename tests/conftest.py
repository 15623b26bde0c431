import os
from pathlib import Path

import pytest

os.environ.setdefault("PYTHAINLP_DATA", str(Path(__file__).resolve().parents[1] / ".cache" / "ptd"))

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def detector():
    from ocsea.text.detector import Detector

    return Detector.load()


@pytest.fixture(scope="session")
def lexicon(detector):
    return detector.lexicon


from hypothesis import settings  # noqa: E402

# CI replays a fixed set of examples (no flaky runs); local runs keep exploring new ones.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
