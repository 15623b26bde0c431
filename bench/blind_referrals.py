"""Pairwise linking quality on the blind referral set (tests/data/blind-referrals/, issue 15).

Imports one part into a fresh SQLite store with the command a user runs (`ocsea referrals import`),
then compares the cases with the part's truth: a pair of referrals is linked when they share a
case, and should be when the truth puts them in one network. Prints precision and recall over the
referrals that were imported, and recall over every planted pair (a referral that was not imported
misses all its pairs). Score the test part only; read the dev part's errors.

    python bench/blind_referrals.py dev
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def score(part: str) -> dict[str, float | int]:
    base = ROOT / "tests" / "data" / "blind-referrals" / part
    truth: dict[str, str | None] = json.loads((base / "truth.json").read_text())["referrals"]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "referrals.db"
        files = sorted(str(p) for p in (base / "referrals").iterdir())
        subprocess.run(
            [
                sys.executable,
                "-m",
                "ocsea.cli",
                "referrals",
                "import",
                *files,
                "--db",
                f"sqlite:///{db}",
            ],
            capture_output=True,
            check=False,
        )
        with sqlite3.connect(db) as conn:
            got = {str(r): k for r, k in conn.execute("select report_id, case_key from referrals")}
    ids = [i for i in truth if i in got]
    tp = fp = fn = 0
    for a, b in itertools.combinations(ids, 2):
        same = truth[a] is not None and truth[a] == truth[b]
        linked = got[a] == got[b]
        tp += same and linked
        fp += linked and not same
        fn += same and not linked
    planted = sum(
        1
        for a, b in itertools.combinations(truth, 2)
        if truth[a] is not None and truth[a] == truth[b]
    )
    return {
        "referrals": len(truth),
        "imported": len(ids),
        "pairwise_precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
        "pairwise_recall_imported": round(tp / (tp + fn), 4) if tp + fn else 0.0,
        "pairwise_recall_all": round(tp / planted, 4) if planted else 0.0,
    }


if __name__ == "__main__":
    print(json.dumps(score(sys.argv[1] if len(sys.argv) > 1 else "dev"), indent=2))
