import os
from pathlib import Path

os.environ.setdefault("PYTHAINLP_DATA", str(Path(__file__).resolve().parents[1] / ".cache" / "ptd"))
