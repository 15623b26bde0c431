"""Triage benchmark → bench/results/triage.json.

Ingest + triage of a synthetic P2P log and query log on SQLite and PostgreSQL: rows/s, peak RSS
(of a child process per backend), database size; and DuckDB reading the same CSV files with the
same aggregations, as a reference for what a columnar engine does on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {
    "p2p_rows_per_s_sqlite": 100_000,
    "query_rows_per_s_sqlite": 200_000,
    "peak_rss_mb": 1024,
}

CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
from ocsea.config import Settings
from ocsea.ingest.p2p import ingest_p2p
from ocsea.ingest.queries import ingest_queries
from ocsea.match.matcher import Matcher
from ocsea.store.db import make_engine
from ocsea.text.detector import Detector
from ocsea.triage.run import run_triage
url, p2p, queries = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
e = make_engine(url); det = Detector.load(); s = Settings(pseudonym_key=b"bench-key")
out = {}
t = time.perf_counter(); r = ingest_p2p(e, p2p, det, s); dt = time.perf_counter() - t
out["p2p"] = {"rows": r.rows_done, "s": round(dt, 1), "rows_per_s": round(r.rows_done / dt)}
t = time.perf_counter(); r = ingest_queries(e, queries, det, s); dt = time.perf_counter() - t
out["queries"] = {"rows": r.rows_done, "s": round(dt, 1), "rows_per_s": round(r.rows_done / dt)}
t = time.perf_counter(); tr = run_triage(e, s.triage_weights, Matcher.from_store(e)); dt = time.perf_counter() - t
out["triage"] = {"s": round(dt, 1), "findings": tr.findings, "sharers": tr.sharers}
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across execve, so a child would report the peak of
# the parent it was forked from (here the DuckDB reference run).
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")]
out["peak_rss_mb"] = round(int(hwm[0].split()[1]) / 1024, 1) if hwm else round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
print(json.dumps(out))
"""


def duckdb_reference(p2p: Path, queries: Path) -> dict:
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads TO 1")
    t = time.perf_counter()
    n_p2p = con.execute(
        f"""WITH r AS (SELECT * FROM read_csv('{p2p}', header=true, all_varchar=true))
        SELECT count(*), (SELECT count(*) FROM (SELECT sha1, count(DISTINCT guid), min(timestamp), max(timestamp)
                 FROM r GROUP BY sha1)), (SELECT count(*) FROM (SELECT network, guid, count(*) FROM r GROUP BY ALL))
        FROM r"""
    ).fetchone()[0]
    p2p_s = time.perf_counter() - t
    t = time.perf_counter()
    n_q = con.execute(
        f"""WITH r AS (SELECT * FROM read_csv('{queries}', header=true, all_varchar=true))
        SELECT count(*), (SELECT count(*) FROM (SELECT substr(timestamp, 1, 10) d, query, region, count(*)
                 FROM r GROUP BY ALL)) FROM r"""
    ).fetchone()[0]
    q_s = time.perf_counter() - t
    return {"threads": 1, "p2p": {"rows": n_p2p, "s": round(p2p_s, 2), "rows_per_s": round(n_p2p / p2p_s)},
            "queries": {"rows": n_q, "s": round(q_s, 2), "rows_per_s": round(n_q / q_s)}}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "triage.json")
    ap.add_argument("--p2p-rows", type=int, default=1_000_000)
    ap.add_argument("--query-rows", type=int, default=10_000_000)
    ap.add_argument(
        "--postgres",
        default=os.environ.get("OCSEA_BENCH_POSTGRES_URL", ""),
        help="a PostgreSQL database the benchmark may wipe (not the test database)",
    )
    args = ap.parse_args()
    from ocsea.demo.synthetic import make_demo_data

    tmp = Path(tempfile.mkdtemp(prefix="ocsea-triage-bench-"))
    t = time.perf_counter()
    data = make_demo_data(tmp / "data", p2p_rows=args.p2p_rows, query_rows=args.query_rows, seed=99)
    print(f"generated in {time.perf_counter() - t:.0f}s", flush=True)
    result: dict = {"targets": TARGETS, "p2p_rows": args.p2p_rows, "query_rows": args.query_rows,
                    "input_mb": {"p2p": round(data.p2p_log.stat().st_size / 1e6, 1),
                                 "queries": round(data.query_log.stat().st_size / 1e6, 1)}}  # fmt: skip
    print("duckdb reference ...", flush=True)
    result["duckdb_reference"] = duckdb_reference(data.p2p_log, data.query_log)
    backends = [("sqlite", f"sqlite:///{tmp / 'bench.db'}")]
    if args.postgres:
        backends.append(("postgresql", args.postgres))
    for name, url in backends:
        if name == "postgresql":
            from sqlalchemy import create_engine, text

            e = create_engine(url)
            with e.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            e.dispose()
        print(f"{name} ...", flush=True)
        p = subprocess.run([sys.executable, "-c", CHILD, url, str(data.p2p_log), str(data.query_log)],
                           capture_output=True, text=True, check=True)  # fmt: skip
        r = json.loads(p.stdout.strip().splitlines()[-1])
        if name == "sqlite":
            r["db_mb"] = round(sum(f.stat().st_size for f in tmp.glob("bench.db*")) / 1e6, 1)
        else:
            from sqlalchemy import create_engine, text

            e = create_engine(url)
            with e.connect() as conn:
                r["db_mb"] = round(
                    conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
                    / 1e6,
                    1,
                )
            e.dispose()
        result[name] = r
        print(json.dumps(r), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
