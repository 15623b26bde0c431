"""Several service instances on one database behave as one service (issue 20): a rate limit is
shared, a revoked key is refused by every instance, the audit chain stays one line."""

import os
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx

from ocsea.service import audit
from ocsea.service.access import create_api_key, revoke_api_key
from ocsea.service.ratelimit import SharedRateLimiter
from ocsea.store.db import make_engine

RATE, BURST = 5.0, 10


def test_two_limiters_on_one_database_accept_no_more_than_one_bucket(db_url):
    engine = make_engine(db_url)
    a = SharedRateLimiter(engine, RATE, BURST, lease=3)
    b = SharedRateLimiter(engine, RATE, BURST, lease=3)
    accepted = []
    start = time.time()

    def hammer(limiter):
        n = 0
        while time.time() - start < 1.5:
            n += limiter.allow("key-1")
        accepted.append(n)

    threads = [threading.Thread(target=hammer, args=(x,)) for x in (a, b, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - start
    assert BURST <= sum(accepted) <= BURST + RATE * elapsed + 1
    assert a.allow("key-2") and b.allow("key-2")  # buckets are per key
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(tmp: Path, db_url: str, port: int) -> subprocess.Popen:
    cfg = tmp / "ocsea.toml"
    cfg.write_text(f"[service]\nrate_per_second = {RATE}\nburst = {BURST}\nkey_ttl_s = 1\n")
    env = {**os.environ, "OCSEA_DATABASE_URL": db_url, "OCSEA_CONFIG": str(cfg),
           "PYTHAINLP_OFFLINE": "1"}  # fmt: skip
    ocsea = Path(sys.executable).parent / "ocsea"
    return subprocess.Popen(
        [str(ocsea), "serve", "--port", str(port), "--workers", "1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def _wait_up(port: int, proc: subprocess.Popen) -> None:
    for _ in range(120):
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode() if proc.stderr else "server died")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise AssertionError("server did not start")


def test_two_serve_processes_share_limits_revocation_and_the_audit_chain(db_url, tmp_path):
    engine = make_engine(db_url)  # migrated once, as `ocsea serve` does
    key_id, key = create_api_key(
        engine, "provider-a", "service", ["query-check"], timedelta(days=1)
    )
    ports = [_free_port(), _free_port()]
    procs = [_serve(tmp_path, db_url, p) for p in ports]
    try:
        for port, proc in zip(ports, procs, strict=True):
            _wait_up(port, proc)
        h = {"Authorization": f"Bearer {key}"}
        codes: dict[int, list[int]] = {p: [] for p in ports}
        start = time.time()

        def load(port: int) -> None:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
                while time.time() - start < 2.0:
                    r = c.post("/v1/query-check", json={"query": "kids shoes"}, headers=h)
                    codes[port].append(r.status_code)

        threads = [threading.Thread(target=load, args=(p,)) for p in ports for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.time() - start
        ok = [sum(1 for c in codes[p] if c == 200) for p in ports]
        assert all(ok), codes  # both instances served
        assert sum(ok) <= BURST + RATE * elapsed + 1, (ok, elapsed)  # one limit for both
        assert all(set(codes[p]) <= {200, 429} for p in ports)

        # revoked through one instance's database: the other refuses it within key_ttl_s (1 s)
        revoke_api_key(engine, key_id)
        time.sleep(1.5)
        for port in ports:
            r = httpx.post(f"http://127.0.0.1:{port}/v1/query-check",
                           json={"query": "a"}, headers=h, timeout=10)  # fmt: skip
            assert r.status_code == 401, (port, r.status_code)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
    for i in range(3):  # writers after the load: the chain is still one line
        audit.record(engine, "test", "check", str(i))
    assert audit.verify_chain(engine).intact
    engine.dispose()
