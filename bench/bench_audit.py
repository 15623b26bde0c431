"""The audit log under real load → bench/results/audit.json (issue 16).

`ocsea serve` as it ships (2 workers) on SQLite, and on PostgreSQL when OCSEA_BENCH_POSTGRES_URL
names one; 8 client threads call an audited read (GET /v1/lists) for 10 s. Then `ocsea audit
verify` must find the chain intact, and the log must hold exactly one entry per audited request
answered. An HMAC key is set, so every entry is keyed.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

from bench_service import wait_for_health  # the same start-up wait as the throughput bench

TARGETS = {
    "clients": 8,
    "seconds": 10,
    "forks": 0,
    "verify": "intact",
    "entries_equal_answers": True,
}


def run_one(db: str, seconds: float, clients: int) -> dict:
    import httpx
    from sqlalchemy import func, select

    from ocsea.service.access import create_api_key
    from ocsea.store.db import audit_log, make_engine

    key_hex = os.urandom(32).hex()
    env = {**os.environ, "OCSEA_DATABASE_URL": db, "OCSEA_AUDIT_KEY": key_hex}
    os.environ["OCSEA_AUDIT_KEY"] = key_hex
    from ocsea.service import audit

    audit.set_key(bytes.fromhex(key_hex))
    engine = make_engine(db)
    key = create_api_key(engine, "bench", "analyst", [], timedelta(hours=1))[1]
    with engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "ocsea.cli", "serve", "--port", str(port), "--workers", "2"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    answered = [0] * clients
    errors = [0] * clients
    try:
        wait_for_health(port)
        stop = time.monotonic() + seconds

        def client(i: int) -> None:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                              headers={"Authorization": f"Bearer {key}"}) as c:  # fmt: skip
                while time.monotonic() < stop:
                    r = c.get("/v1/lists")
                    if r.status_code == 200:
                        answered[i] += 1
                    else:
                        errors[i] += 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    rep = audit.verify_chain(engine, bytes.fromhex(key_hex))
    with engine.connect() as conn:
        after = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
        reads = conn.execute(
            select(func.count()).select_from(audit_log).where(audit_log.c.action == "lists.read")
        ).scalar_one()
    engine.dispose()
    return {
        "backend": db.split(":", 1)[0], "clients": clients, "seconds": seconds,
        "requests_answered": sum(answered), "requests_failed": sum(errors),
        "entries_added": after - before, "lists_read_entries": reads,
        "entries_equal_answers": reads == sum(answered),
        "verify": rep.summary(), "intact": rep.intact, "keyed_entries": rep.keyed,
        "problems": rep.problems[:5],
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--out", type=Path, default=Path("bench/results/audit.json"))
    args = ap.parse_args()
    out: dict = {"targets": TARGETS, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        out["runs"].append(
            run_one(f"sqlite:///{Path(tmp) / 'audit.db'}", args.seconds, args.clients)
        )
        print(json.dumps(out["runs"][-1], indent=2), flush=True)
    pg = os.environ.get("OCSEA_BENCH_POSTGRES_URL")
    if pg:
        from sqlalchemy import create_engine, text

        e = create_engine(pg)
        with e.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        e.dispose()
        out["runs"].append(run_one(pg, args.seconds, args.clients))
        print(json.dumps(out["runs"][-1], indent=2), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
