"""Linking quality on the blind referral set (tests/data/blind-referrals/, issue 15).

Imports one part into a fresh SQLite store with the command a user runs (`ocsea referrals import`),
then compares the cases with the part's truth:
- pairwise precision and recall: a pair of referrals is linked when they share a case, and should
  be when the truth puts them in one network (recall also over every planted pair: a referral that
  was not imported misses all its pairs);
- recall by identifier kind: of the pairs that share each planted identifier, how many are linked;
- decoy groups merged: two members with different truth (or both in no network) in one case;
- priority: each planted network with a priority marker has its main case in the top 20.
Score the test part only; read the dev part's errors (``--explain`` lists them).

    python bench/blind_referrals.py dev [--explain]
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pairs(ids):
    return itertools.combinations(sorted(ids), 2)


def score(part: str, explain: bool = False) -> dict:
    base = ROOT / "tests" / "data" / "blind-referrals" / part
    doc = json.loads((base / "truth.json").read_text())
    truth: dict[str, str | None] = doc["referrals"]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "referrals.db"
        files = sorted(str(p) for p in (base / "referrals").iterdir())
        t0 = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-m", "ocsea.cli", "referrals", "import", *files,
             "--db", f"sqlite:///{db}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        took = time.perf_counter() - t0
        with sqlite3.connect(db) as conn:
            got = {str(r): k for r, k in conn.execute("select report_id, case_key from referrals")}
            ranked = [k for (k,) in conn.execute(
                "select key from cases where status = 'open' order by priority desc, id")]  # fmt: skip
    ids = [i for i in truth if i in got]
    tp = fp = fn = 0
    wrong, missed = [], []
    for a, b in _pairs(ids):
        same = truth[a] is not None and truth[a] == truth[b]
        linked = got[a] == got[b]
        tp += same and linked
        fp += linked and not same
        fn += same and not linked
        if linked and not same:
            wrong.append((a, b, truth[a], truth[b]))
        if same and not linked:
            missed.append((a, b, truth[a]))
    planted = sum(1 for a, b in _pairs(truth) if truth[a] is not None and truth[a] == truth[b])
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for net in doc["networks"].values():
        for ident in net["shared_identifiers"]:
            for a, b in _pairs(ident["members"]):
                by_kind[ident["kind"]][1] += 1
                by_kind[ident["kind"]][0] += got.get(a) is not None and got.get(a) == got.get(b)
    merged = []
    for d in doc["decoys"]:
        bad = [(a, b) for a, b in _pairs(d["members"]) if a in got and b in got
               and got[a] == got[b] and not (truth[a] is not None and truth[a] == truth[b])]  # fmt: skip
        if bad:
            merged.append({"id": d["id"], "kind": d["kind"], "pairs": bad[:3],
                           "beyond_brief": d.get("beyond_brief", False)})  # fmt: skip
    top20 = set(ranked[:20])
    priority = {}
    for name, net in doc["networks"].items():
        if not net["priority"]:
            continue
        keys = Counter(got[m] for m in net["members"] if m in got)
        main = keys.most_common(1)[0][0] if keys else None
        priority[name] = {"in_top_20": main in top20,
                          "rank": ranked.index(main) + 1 if main in ranked else None,
                          "markers": net["priority"]}  # fmt: skip
    out = {
        "part": part,
        "referrals": len(truth),
        "imported": len(ids),
        "import_exit_code": run.returncode,
        "import_seconds": round(took, 2),
        "pairwise_precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
        "pairwise_recall": round(tp / planted, 4) if planted else 0.0,
        "pairwise_recall_imported": round(tp / (tp + fn), 4) if tp + fn else 0.0,
        "false_pairs": fp,
        "missed_pairs": fn,
        "recall_by_kind": {
            k: {"linked": v[0], "pairs": v[1], "recall": round(v[0] / v[1], 3)}
            for k, v in sorted(by_kind.items())
        },
        "decoy_groups": len(doc["decoys"]),
        "decoy_groups_merged": len(merged),
        "decoy_groups_merged_in_brief": sum(1 for m in merged if not m["beyond_brief"]),
        "priority_networks": len(priority),
        "priority_networks_in_top_20": sum(p["in_top_20"] for p in priority.values()),
    }
    if explain:
        out["merged_decoys"] = merged
        out["wrong_pairs"] = wrong[:40]
        out["missed_pairs"] = missed[:80]
        out["priority"] = priority
        out["stderr"] = run.stderr[-3000:]
    return out


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    print(json.dumps(score(args[0] if args else "dev", "--explain" in sys.argv), indent=2))
