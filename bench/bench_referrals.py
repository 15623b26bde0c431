"""Referral benchmark → bench/results/referrals.json.

Synthetic CyberTipline JSON reports (batches of 500 a document) whose identifiers are drawn from
shared pools, so that networks form: import rate, case rebuild (graph + components + priority),
networks, peak RSS and database size on SQLite; and linking quality on the blind referral set
(tests/data/blind-referrals/, written apart from the code; bench/blind_referrals.py), dev and test
parts. Targets (issue 15): import >= 2,000 referrals/s on one core; blind test pairwise precision
>= 0.98, recall >= 0.95, no decoy group merged, every planted priority network in the top 20.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def _vmhwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def make_docs(n: int, per_doc: int, seed: int = 7) -> list[tuple[str, bytes, None]]:
    rng = random.Random(seed)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    pool = max(10, n // 3)
    docs, batch = [], []
    for i in range(n):
        at = t0 + timedelta(minutes=rng.randrange(0, 300 * 24 * 60))
        k = rng.randrange(pool)
        person = {
            "espUserId": f"u{rng.randrange(n)}",
            "screenName": f"user_{rng.randrange(n)}",
            "emails": [f"p{k}@example.com"] if rng.random() < 0.3 else [f"x{i}@example.org"],
            # one phone per pool index (a fixed 10,000 made one giant network at 200,000 reports)
            "phones": [{"number": f"08{k % 10}-{5 + (k // 10_000) % 5}55-{k % 10_000:04d}"}] if rng.random() < 0.2 else [],
            "ipCaptureEvents": [{"ipAddress": f"2001:db8:{rng.randrange(4096):x}::{rng.randrange(256):x}",
                                 "dateTime": at.isoformat()}],
        }  # fmt: skip
        batch.append({
            "reportId": f"B{i:08d}", "dateReceived": at.isoformat(),
            "reportedInformation": {"reportingEsp": {"espName": rng.choice(["ChatApp", "PhotoShare", "MailBox"])},
                                    "incidentSummary": {"incidentType": "Child Pornography", "reportAnnotations": rng.choice([[], ["sextortion"]])},
                                    "reportedPeople": {"reportedPersons": [person]}},
            "uploadedFiles": {"uploadedFiles": [{"filename": f"f{i}.jpg", "verificationHash": f"{rng.getrandbits(128):032x}",
                                                 "fileAnnotations": rng.choice([[], ["infant"], ["liveStreaming"]])}]},
        })  # fmt: skip
        if len(batch) == per_doc:
            docs.append((f"batch-{len(docs):04d}.json", json.dumps(batch).encode(), None))
            batch = []
    if batch:
        docs.append((f"batch-{len(docs):04d}.json", json.dumps(batch).encode(), None))
    return docs


def partial_relink(store: int, new: int) -> dict:
    """1,000 new referrals into a store of ``store``: the command a user runs (`ocsea referrals
    import new.json`: parse, store, relink the cases they can change), timed end to end in a fresh
    process; the full relink of the same store in the same run as the reference."""
    import subprocess

    from ocsea.config import ReferralSettings
    from ocsea.referrals.store import import_documents, rebuild_cases
    from ocsea.store.db import make_engine

    tmp = Path(tempfile.mkdtemp(prefix="ocsea-bench-inc-"))
    url = f"sqlite:///{tmp / 'big.db'}"
    engine = make_engine(url)
    docs = make_docs(store + new, 1000, seed=11)
    head, tail = docs[: store // 1000], docs[store // 1000 :]
    t = time.perf_counter()
    import_documents(engine, head, "bench", settings=ReferralSettings())
    t_import = time.perf_counter() - t
    t = time.perf_counter()
    rebuild_cases(engine, ReferralSettings(), "bench")
    t_full = time.perf_counter() - t
    engine.dispose()
    path = tmp / "new.json"
    path.write_bytes(tail[0][1])
    t = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "ocsea.cli", "referrals", "import", str(path), "--db", url],
                         capture_output=True, text=True, check=False)  # fmt: skip
    t_cli = time.perf_counter() - t
    return {
        "store_referrals": store, "new_referrals": new,
        "store_import_s": round(t_import, 1), "full_relink_s": round(t_full, 1),
        "import_and_partial_relink_s": round(t_cli, 2), "exit_code": run.returncode,
        "output": run.stdout.strip()[-300:], "target_s": 10,
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--referrals", type=int, default=20_000)
    ap.add_argument("--store", type=int, default=200_000, help="store size for the partial relink")
    ap.add_argument("--out", type=Path, default=Path("bench/results/referrals.json"))
    args = ap.parse_args()
    from ocsea.config import ReferralSettings
    from ocsea.referrals.store import import_documents, networks, rebuild_cases
    from ocsea.store.db import make_engine

    docs = make_docs(args.referrals, 500)
    tmp = Path(tempfile.mkdtemp(prefix="ocsea-bench-ref-"))
    db = tmp / "r.db"
    engine = make_engine(f"sqlite:///{db}")
    s = ReferralSettings()
    t = time.perf_counter()
    res = import_documents(engine, docs, "bench", settings=s)
    t_import = time.perf_counter() - t
    t = time.perf_counter()
    n_cases = rebuild_cases(engine, s, "bench")
    t_cases = time.perf_counter() - t
    t = time.perf_counter()
    g, nets = networks(engine, s, central_top=20)  # as `ocsea networks` shows them
    t_net = time.perf_counter() - t
    size_mb = sum(p.stat().st_size for p in tmp.glob("r.db*")) / 1e6
    out = {
        "machine": {"cores": os.cpu_count()},
        "referrals": res.new,
        "documents": len(docs),
        "import_s": round(t_import, 1),
        "import_referrals_per_s": round(res.new / t_import),
        "mentions": g.number_of_edges(),
        "graph_nodes": g.number_of_nodes(),
        "cases": n_cases,
        "rebuild_cases_s": round(t_cases, 1),
        "networks": len(nets),
        "largest_network_actors": max((len(n.actors) for n in nets), default=0),
        "networks_s": round(t_net, 1),
        "peak_rss_mb": round(_vmhwm_mb()),
        "db_mb": round(size_mb, 1),
    }
    out["partial_relink"] = partial_relink(args.store, 1000)
    from blind_referrals import score

    out["blind"] = {part: score(part) for part in ("dev", "test")}
    out["targets"] = {
        "import_referrals_per_s": 2000, "pairwise_precision": 0.98, "pairwise_recall": 0.95,
        "decoy_groups_merged": 0, "priority_networks_in_top_20": "all",
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
