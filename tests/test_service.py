import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update

from ocsea.service import audit
from ocsea.service.access import (
    PERMISSIONS,
    ROLES,
    AccessError,
    add_user,
    check_password,
    create_api_key,
    revoke_api_key,
)
from ocsea.service.app import MAX_BATCH, create_app
from ocsea.store.db import audit_log, make_engine

# Endpoint -> (method, path, body, scope). Every endpoint of the API is listed here.
ENDPOINTS = {
    "query-check": ("post", "/v1/query-check", {"query": "weather today"}, "query-check"),
    "classify": ("post", "/v1/classify", {"texts": ["weather today"]}, "classify"),
    "lookup": ("post", "/v1/hashes/lookup", {"md5": ["0" * 32]}, "hashes:lookup"),
    "lists": ("get", "/v1/lists", None, "lists:read"),
    "findings": ("get", "/v1/findings?limit=5", None, "findings:read"),
    "finding": ("get", "/v1/findings/1", None, "findings:read"),
    "review": (
        "post",
        "/v1/findings/1/review",
        {"classification": "baseline", "age_group": "prepubescent"},
        "findings:review",
    ),
    "sharer": ("get", "/v1/sharers/1", None, "sharers:read"),
    "terms": ("get", "/v1/terms/candidates", None, "terms:read"),
    "accept": ("post", "/v1/terms/zqvx/accept", {"category": "csa_code"}, "terms:accept"),
    "import": (
        "post",
        "/v1/lists/api/entries",
        {"format": "text", "content": "c4ca4238a0b923820dcc509a6f75849b\n"},
        "lists:write",
    ),
    "referral-import": ("post", "/v1/referrals", {"content": '{"reportId": "R2"}', "file_name": "r.json"}, "referrals:write"),
    "referrals": ("get", "/v1/referrals", None, "referrals:read"),
    "referral": ("get", "/v1/referrals/1", None, "referrals:read"),
    "referral-original": ("get", "/v1/referrals/1/original", None, "referrals:read"),
    "networks": ("get", "/v1/networks", None, "networks:read"),
    "graphml": ("get", "/v1/networks/graphml", None, "networks:read"),
    "decisions": ("get", "/v1/networks/decisions", None, "networks:read"),
    "decision-add": ("post", "/v1/networks/decisions", {"action": "not_identifying", "kind": "email", "value": "a@example.com"},
                     "networks:correct"),
    "cases": ("get", "/v1/cases", None, "cases:read"),
    "case": ("get", "/v1/cases/C1", None, "cases:read"),
    "request-add": ("post", "/v1/requests", {"type": "mlat", "requesting_state": "Thailand", "requested_state": "Japan"},
                    "requests:write"),
    "requests": ("get", "/v1/requests", None, "requests:read"),
    "requests-due": ("get", "/v1/requests/due", None, "requests:read"),
    "request": ("get", "/v1/requests/1", None, "requests:read"),
    "request-history": ("get", "/v1/requests/1/history", None, "requests:read"),
    "request-update": ("patch", "/v1/requests/1", {"extend_days": 1}, "requests:write"),
}  # fmt: skip


@pytest.fixture
def engine(db_url):
    e = make_engine(db_url)
    seed(e)
    yield e
    e.dispose()


def seed(e):
    """One finding (id 1) on one item shared by one sharer (id 1), one term candidate."""
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from ocsea.store.db import findings, items, observations, sharers, term_candidates

    now = datetime.now(UTC)
    with e.begin() as conn:
        conn.execute(
            insert(items).values(
                id=1, kind="p2p_file", key="k" * 64, text="pthc new.avi", seen_count=0
            )
        )
        conn.execute(
            insert(sharers).values(
                id=1,
                network="gnutella",
                guid="G1",
                first_seen=now,
                last_seen=now,
                priority=5.0,
                breakdown={},
            )
        )
        conn.execute(
            insert(observations).values(
                row_key=1, sharer_id=1, item_id=1, ip="192.0.2.7", port=6346, seen_at=now
            )
        )
        conn.execute(insert(findings).values(id=1, item_id=1, kind="unknown-flagged", priority=9.5,
                                             breakdown={"factors": {"unknown_flagged": 4.0}}, status="new", updated_at=now))  # fmt: skip
        conn.execute(insert(term_candidates).values(term="zqvx", score=99.0, flagged_count=9, total_count=9, rising=0.5,
                                                    examples=["zqvx x"], discovered_at=now, status="new"))  # fmt: skip
    seed_casework(e)


def seed_casework(e):
    """Referral 1 in case C1, and preservation request 1."""
    from datetime import date

    from ocsea.config import ReferralSettings
    from ocsea.referrals.legal_requests import LegalRequest
    from ocsea.referrals.requests_store import add
    from ocsea.referrals.store import import_documents, rebuild_cases

    doc = b'{"reportId": "R1", "reportedInformation": {"reportedPeople": {"reportedPersons": [{"emails": ["a@example.com"]}]}}}'
    import_documents(e, [("r1.json", doc, None)], "seed")
    rebuild_cases(e, ReferralSettings())
    add(e, LegalRequest("preservation", "outgoing", "Thailand", "United States", sent_on=date(2026, 11, 1)), "seed",
        ReferralSettings())  # fmt: skip
    with e.begin() as conn:  # the tests of the audit chain start from an empty log, at id 1
        conn.execute(audit_log.delete())
        if e.dialect.name == "postgresql":
            from sqlalchemy import text

            conn.execute(text("ALTER SEQUENCE audit_log_id_seq RESTART WITH 1"))


@pytest.fixture
def client(engine, detector):
    return TestClient(create_app(engine, detector, rate_per_second=1000, burst=1000, key_ttl=0))


def call(client, method, path, body, headers):
    if method == "get":
        return client.get(path, headers=headers)
    if method == "patch":
        return client.patch(path, json=body, headers=headers)
    return client.post(path, json=body, headers=headers)


def key_for(engine, role, scopes=()):
    return create_api_key(engine, f"test-{role}", role, list(scopes), timedelta(days=1))[1]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_permission_matrix(engine, client, role, endpoint):
    method, path, body, scope = ENDPOINTS[endpoint]
    key = key_for(engine, role)
    r = call(client, method, path, body, {"Authorization": f"Bearer {key}"})
    if role in PERMISSIONS[scope]:
        assert r.status_code in (200, 201), r.text
    else:
        assert r.status_code == 403
        assert r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_no_or_bad_key_is_401(client, endpoint):
    method, path, body, _ = ENDPOINTS[endpoint]
    assert call(client, method, path, body, {}).status_code == 401
    r = call(client, method, path, body, {"X-API-Key": "ocsea_nope_nope"})
    assert r.status_code == 401 and r.json()["title"].startswith("invalid")


def test_scopes_narrow_a_role_and_revocation_and_expiry(engine, client):
    svc = key_for(engine, "service", ["query-check"])
    h = {"Authorization": f"Bearer {svc}"}
    assert client.post("/v1/query-check", json={"query": "x"}, headers=h).status_code == 200
    assert client.post("/v1/classify", json={"texts": ["x"]}, headers=h).status_code == 403
    key_id = svc.split("_")[1]
    revoke_api_key(engine, key_id)
    assert client.post("/v1/query-check", json={"query": "x"}, headers=h).status_code == 401
    expired_id, expired = create_api_key(
        engine, "old", "service", ["query-check"], timedelta(hours=1)
    )
    from datetime import UTC, datetime

    from ocsea.store.db import api_keys

    with engine.begin() as conn:  # lifetimes must be positive: age this one instead
        conn.execute(update(api_keys).where(api_keys.c.key_id == expired_id).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))  # fmt: skip
    assert (
        client.post(
            "/v1/query-check", json={"query": "x"}, headers={"X-API-Key": expired}
        ).status_code
        == 401
    )
    with pytest.raises(AccessError):
        create_api_key(engine, "bad", "service", ["lists:write"], None)


def test_query_check_contract(engine, client):
    h = {"X-API-Key": key_for(engine, "service", ["query-check"])}
    benign = client.post("/v1/query-check", json={"query": "การบ้าน ป.5 คณิตศาสตร์"}, headers=h).json()
    assert benign["action"] == "allow" and benign["message"] is None and benign["help"] == []
    bad = client.post("/v1/query-check", json={"query": "คลิปเด็ก ป.5 โป๊"}, headers=h).json()
    assert bad["label"] == "csa" and bad["action"] == "block"
    assert "ผิดกฎหมาย" in bad["message"] and any(x["contact"] == "1300" for x in bad["help"])
    en = client.post(
        "/v1/query-check", json={"query": "pthc video", "lang": "en"}, headers=h
    ).json()
    assert "illegal in Thailand" in en["message"]
    metrics = client.get("/metrics").text
    assert 'ocsea_query_checks_total{action="block"} 2' in metrics
    assert "pthc" not in metrics  # queries are not kept


def test_limits_and_problem_details(engine, detector):
    app = create_app(engine, detector, rate_per_second=0.001, burst=3)
    c = TestClient(app)
    h = {"X-API-Key": key_for(engine, "analyst")}
    big = c.post(
        "/v1/classify",
        content=b'{"texts": ["' + b"a" * 300_000 + b'"]}',
        headers={**h, "content-type": "application/json"},
    )
    assert big.status_code == 413 and big.headers["content-type"] == "application/problem+json"
    too_many = c.post("/v1/classify", json={"texts": ["a"] * (MAX_BATCH + 1)}, headers=h)
    assert too_many.status_code == 422 and "texts" in too_many.json()["detail"]
    assert c.post("/v1/query-check", json={"query": ""}, headers=h).status_code == 422
    codes = [
        c.post("/v1/query-check", json={"query": "a"}, headers=h).status_code for _ in range(5)
    ]
    assert codes.count(429) >= 1 and codes[0] == 200


def test_audit_chain_detects_edit_delete_reorder(engine):
    for i in range(5):
        audit.record(engine, "tester", "finding.read", f"f{i}", {"i": i})
    ok, n, why = audit.verify(engine)
    assert ok and n == 5 and why.startswith("intact")
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == 3).values(actor="someone else"))
    ok, _, why = audit.verify(engine)
    assert not ok and "entry 3" in why and "edited" in why


def test_audit_chain_detects_deletion(engine):
    for i in range(4):
        audit.record(engine, "tester", "x", str(i))
    with engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.id == 2))
    ok, _, why = audit.verify(engine)
    assert not ok and "entry 3" in why


def test_audit_chain_detects_reordering(engine):
    for i in range(3):
        audit.record(engine, "tester", "x", str(i))
    rows = list(audit.entries(engine))
    with engine.begin() as conn:  # swap the content of entries 1 and 2 (hashes move with them)
        # whoever can write the database can drop the index that stops forks: it guards
        # concurrency, the chain (and its key and checkpoints) guards against tampering
        conn.exec_driver_sql("DROP INDEX uq_audit_prev_hash")
        for a, b in ((rows[0], rows[1]), (rows[1], rows[0])):
            conn.execute(update(audit_log).where(audit_log.c.id == a["id"]).values(
                at=b["at"], actor=b["actor"], action=b["action"], target=b["target"], detail=b["detail"],
                prev_hash=b["prev_hash"], hash=b["hash"]))  # fmt: skip
    assert not audit.verify(engine)[0]


def test_passwords_are_argon2_and_checked(engine):
    add_user(engine, "ana", "correct horse battery", "analyst")
    assert check_password(engine, "ana", "correct horse battery").role == "analyst"
    assert check_password(engine, "ana", "wrong password!!") is None
    with pytest.raises(AccessError):
        add_user(engine, "bob", "short", "analyst")
    with engine.connect() as conn:
        from sqlalchemy import select

        from ocsea.store.db import users

        h = conn.execute(select(users.c.password_hash)).scalar()
    assert h.startswith("$argon2id$")


def test_ocsea_serve_answers_on_loopback(tmp_path):
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    db = f"sqlite:///{tmp_path / 's.db'}"
    engine = make_engine(db)
    key = key_for(engine, "service", ["query-check"])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OCSEA_DATABASE_URL": db}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ocsea.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        r = httpx.post(f"http://127.0.0.1:{port}/v1/query-check", json={"query": "pthc"},
                       headers={"Authorization": f"Bearer {key}"}, timeout=5)  # fmt: skip
        assert r.status_code == 200 and r.json()["action"] == "block"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_findings_review_sharer_terms_flow(engine, client):
    h = {"X-API-Key": key_for(engine, "supervisor")}
    page = client.get("/v1/findings?kind=unknown-flagged&min_priority=1", headers=h).json()
    assert page["total"] == 1 and page["findings"][0]["name"] == "pthc new.avi"
    r = client.post(
        "/v1/findings/1/review",
        json={"classification": "national", "age_group": "pubescent", "notes": "ok"},
        headers=h,
    )
    assert r.status_code == 201 and r.json()["reviewer"] == "key:test-supervisor"
    d = client.get("/v1/findings/1", headers=h).json()
    assert (
        d["status"] == "reviewed"
        and d["reviews"][0]["classification"] == "national"
        and d["sharers"][0]["guid"] == "G1"
    )
    assert client.get("/v1/findings/999", headers=h).status_code == 404
    bad = client.post("/v1/findings/1/review", json={"classification": "maybe"}, headers=h)
    assert bad.status_code == 422
    sh = client.get("/v1/sharers/1", headers=h).json()
    assert sh["ips"][0]["ip"] == "192.0.2.7" and sh["files"][0]["name"] == "pthc new.avi"
    assert client.get("/v1/terms/candidates", headers=h).json()[0]["term"] == "zqvx"
    assert client.post("/v1/terms/zqvx/accept", json={}, headers=h).status_code == 201
    assert client.get("/v1/terms/candidates", headers=h).json() == []
    actions = [e["action"] for e in audit.entries(engine)]
    for a in ("findings.list", "finding.review", "finding.read", "sharer.read", "term.accept"):
        assert a in actions
    assert audit.verify(engine)[0]


def test_openapi_document_is_current(engine, detector):
    import json
    from pathlib import Path

    doc = create_app(engine, detector).openapi()
    committed = json.loads(
        (Path(__file__).resolve().parents[1] / "docs" / "openapi.json").read_text()
    )
    assert committed == json.loads(json.dumps(doc)), "run: python scripts/write_openapi.py"


def test_reviews_export_feeds_training(tmp_path, engine, client):
    from .test_cli import run

    h = {"X-API-Key": key_for(engine, "analyst")}
    assert (
        client.post(
            "/v1/findings/1/review", json={"classification": "baseline"}, headers=h
        ).status_code
        == 201
    )
    url = engine.url.render_as_string(hide_password=False)
    out = tmp_path / "labelled.csv"
    run("reviews", "export", "--out", str(out), "--db", url)
    lines = out.read_text().splitlines()
    assert lines[0].startswith("text,label") and lines[1].startswith("pthc new.avi,csa,baseline")


def test_list_import_through_the_api(engine, client):
    h = {"X-API-Key": key_for(engine, "supervisor")}
    body = {"format": "text", "content": "c4ca4238a0b923820dcc509a6f75849b\n", "source": "api test"}
    r = client.post("/v1/lists/api/entries", json=body, headers=h).json()
    assert (r["entries"], r["new"], r["already_imported"]) == (1, 1, False)
    assert client.post("/v1/lists/api/entries", json=body, headers=h).json()["already_imported"]
    hit = client.post(
        "/v1/hashes/lookup", json={"md5": ["C4CA4238A0B923820DCC509A6F75849B"]}, headers=h
    ).json()
    assert hit["matches"][0]["list"] == "api"
    bad = client.post(
        "/v1/lists/api/entries", json={"format": "text", "content": "nothex\n"}, headers=h
    )
    assert bad.status_code == 422 and "upload:1" in bad.json()["detail"]


def test_browser_session_cookie_and_csrf(engine, client):
    from ocsea.service.access import disable_user

    add_user(engine, "sup", "correct horse battery", "supervisor")
    bad = client.post("/v1/session/login", json={"username": "sup", "password": "nope nope nope"})
    assert bad.status_code == 401
    r = client.post(
        "/v1/session/login", json={"username": "sup", "password": "correct horse battery"}
    )
    assert r.status_code == 200
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie
    csrf = r.json()["csrf_token"]
    token = r.cookies.get("ocsea_session") or client.cookies.get("ocsea_session")
    c = TestClient(client.app, cookies={"ocsea_session": token})
    assert c.get("/v1/findings").status_code == 200  # reads need no CSRF token
    review = {"classification": "not_illegal"}
    assert c.post("/v1/findings/1/review", json=review).status_code == 403  # no CSRF token
    assert (
        c.post("/v1/findings/1/review", json=review, headers={"X-CSRF-Token": "forged"}).status_code
        == 403
    )
    ok = c.post("/v1/findings/1/review", json=review, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201 and ok.json()["reviewer"] == "user:sup"
    disable_user(engine, "sup")
    assert c.get("/v1/findings").status_code == 401
    actions = [e["action"] for e in audit.entries(engine)]
    assert "login.failed" in actions and "login" in actions


def test_logout_ends_the_session(engine, client):
    add_user(engine, "ana2", "correct horse battery", "analyst")
    r = client.post(
        "/v1/session/login", json={"username": "ana2", "password": "correct horse battery"}
    )
    token = r.cookies.get("ocsea_session") or client.cookies.get("ocsea_session")
    c = TestClient(client.app, cookies={"ocsea_session": token})
    assert c.get("/v1/findings").status_code == 200
    assert c.post("/v1/session/logout").status_code == 204
    assert (
        TestClient(client.app, cookies={"ocsea_session": token}).get("/v1/findings").status_code
        == 401
    )


def test_casework_api_flow(engine, client):
    h = {"Authorization": f"Bearer {key_for(engine, 'investigator')}"}
    doc = '{"reportId": "R9", "reportedInformation": {"reportedPeople": {"reportedPersons": [{"emails": ["a@example.com"]}]}}}'
    r = client.post("/v1/referrals", json={"content": doc, "file_name": "r9.json"}, headers=h)
    assert r.status_code == 201 and r.json()["new"] == 1 and r.json()["cases_updating"]
    cases = client.get("/v1/cases", headers=h).json()["cases"]
    assert [c["referral_ids"] for c in cases] == [
        [1, r.json()["new_ids"][0]]
    ]  # joined by the e-mail
    bad = client.post(
        "/v1/referrals", json={"content": "{not json", "file_name": "x.json"}, headers=h
    )
    assert bad.status_code == 422 and "not valid JSON" in bad.json()["detail"]
    original = client.get("/v1/referrals/1/original", headers=h)
    assert (
        original.content.startswith(b'{"reportId": "R1"')
        and len(original.headers["x-content-sha256"]) == 64
    )
    step = client.patch("/v1/requests/1", json={"status": "completed"}, headers=h)
    assert step.status_code == 409 and "cannot go from sent to completed" in step.json()["detail"]
    ok = client.patch(
        "/v1/requests/1", json={"status": "acknowledged", "on": "2026-11-02"}, headers=h
    )
    assert ok.status_code == 200 and ok.json()["acknowledged_on"] == "2026-11-02"
    hist = client.get("/v1/requests/1/history", headers=h).json()
    assert [x["action"] for x in hist] == ["request.update"]  # the seed's own entries were cleared
    assert hist[-1]["changes"]["status"] == ["sent", "acknowledged"]
    assert client.get("/v1/requests/99", headers=h).status_code == 404
    assert client.get("/v1/cases/C999", headers=h).status_code == 404


def test_network_corrections_through_the_api(engine, client):
    inv = {"Authorization": f"Bearer {key_for(engine, 'investigator')}"}
    sup = {"Authorization": f"Bearer {key_for(engine, 'supervisor')}"}
    doc = '{"reportId": "R9", "reportedInformation": {"reportedPeople": {"reportedPersons": [{"emails": ["a@example.com"]}]}}}'
    assert (
        client.post(
            "/v1/referrals", json={"content": doc, "file_name": "r9.json"}, headers=inv
        ).status_code
        == 201
    )
    (case,) = client.get("/v1/cases", headers=inv).json()["cases"]
    r = client.post("/v1/networks/decisions", json={"action": "split", "case": case["key"],
                    "referral_ids": case["referral_ids"][1:], "note": "two people"}, headers=inv)  # fmt: skip
    assert r.status_code == 201 and r.json()["cases_updating"], r.text
    assert len(client.get("/v1/cases", headers=inv).json()["cases"]) == 2
    did = r.json()["id"]
    bad = client.post("/v1/networks/decisions", json={"action": "not_identifying", "kind": "email",
                      "value": "nobody@example.com"}, headers=inv)  # fmt: skip
    assert bad.status_code == 422 and "no referral names" in bad.json()["detail"]
    other_key = create_api_key(
        engine, "another-investigator", "investigator", [], timedelta(days=1)
    )[1]
    other = {"Authorization": f"Bearer {other_key}"}
    refused = client.delete(f"/v1/networks/decisions/{did}", headers=other)
    assert refused.status_code == 403 and "supervisor" in refused.json()["detail"]
    assert client.delete(f"/v1/networks/decisions/{did}", headers=sup).status_code == 204
    assert client.delete(f"/v1/networks/decisions/{did}", headers=sup).status_code == 404
    listed = client.get("/v1/networks/decisions?revoked=true", headers=inv).json()
    assert listed[0]["revoked_at"] and listed[0]["note"] == "two people"


@pytest.mark.parametrize(
    "content, name",
    [
        ("\ufeff", "bom.csv"),
        ("report_id,email\nR1,a@example.com,extra\n", "x.csv"),
        ("<report>", "r.xml"),
    ],
)
def test_unreadable_referral_documents_are_422_not_500(engine, client, content, name):
    h = {"Authorization": f"Bearer {key_for(engine, 'investigator')}"}
    r = client.post("/v1/referrals", json={"content": content, "file_name": name}, headers=h)
    assert r.status_code == 422, r.text


def test_failed_logins_lock_the_account_for_a_growing_time(engine, client):
    from ocsea.service.access import unlock

    add_user(engine, "target", "correct horse battery", "admin")
    wrong = {"username": "target", "password": "wrong password!!"}
    codes = [client.post("/v1/session/login", json=wrong).status_code for _ in range(10)]
    assert codes[:5] == [401] * 5 and 429 in codes[5:]
    r = client.post(
        "/v1/session/login", json={"username": "target", "password": "correct horse battery"}
    )
    assert (
        r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    )  # not even the right password
    assert r.headers["content-type"] == "application/problem+json"
    with engine.connect() as conn:
        from ocsea.store.db import login_throttle

        lock = conn.execute(
            select(login_throttle).where(login_throttle.c.key == "user:target")
        ).first()
    assert lock.failures >= 6
    assert unlock(engine, "user:target") and unlock(engine, "ip:testclient")
    ok = client.post(
        "/v1/session/login", json={"username": "target", "password": "correct horse battery"}
    )
    assert ok.status_code == 200


def test_failures_lock_for_twice_as_long_each_time():
    from datetime import UTC, datetime

    from ocsea.service.access import FREE_FAILURES, login_failed

    e = make_engine("sqlite://")
    t = datetime(2026, 1, 1, tzinfo=UTC)
    locks = [login_failed(e, ["user:x"], t) for _ in range(FREE_FAILURES + 4)]
    assert locks[:FREE_FAILURES] == [0.0] * FREE_FAILURES and locks[FREE_FAILURES:] == [
        2.0,
        4.0,
        8.0,
        16.0,
    ]


def test_a_new_password_or_disabling_ends_every_session(engine, client):
    from ocsea.service.access import disable_user, set_password

    add_user(engine, "sess", "correct horse battery", "analyst")
    tokens = []
    for _ in range(2):
        r = client.post(
            "/v1/session/login", json={"username": "sess", "password": "correct horse battery"}
        )
        tokens.append(r.cookies.get("ocsea_session") or client.cookies.get("ocsea_session"))
        client.cookies.clear()
    for t in tokens:
        assert (
            TestClient(client.app, cookies={"ocsea_session": t}).get("/v1/findings").status_code
            == 200
        )
    set_password(engine, "sess", "another long password")
    for t in tokens:
        assert (
            TestClient(client.app, cookies={"ocsea_session": t}).get("/v1/findings").status_code
            == 401
        )
    r = client.post(
        "/v1/session/login", json={"username": "sess", "password": "another long password"}
    )
    token = r.cookies.get("ocsea_session") or client.cookies.get("ocsea_session")
    client.cookies.clear()
    disable_user(engine, "sess")
    assert (
        TestClient(client.app, cookies={"ocsea_session": token}).get("/v1/findings").status_code
        == 401
    )


def test_an_idle_session_ends(engine, client):
    from datetime import UTC, datetime, timedelta

    from ocsea.service.access import IDLE_MINUTES
    from ocsea.store.db import sessions

    add_user(engine, "idle", "correct horse battery", "analyst")
    r = client.post(
        "/v1/session/login", json={"username": "idle", "password": "correct horse battery"}
    )
    token = r.cookies.get("ocsea_session") or client.cookies.get("ocsea_session")
    client.cookies.clear()
    c = TestClient(client.app, cookies={"ocsea_session": token})
    assert c.get("/v1/findings").status_code == 200
    with engine.begin() as conn:
        old = datetime.now(UTC) - timedelta(minutes=IDLE_MINUTES + 1)
        conn.execute(update(sessions).values(last_seen_at=old, created_at=old))
    assert c.get("/v1/findings").status_code == 401


def test_key_lifetimes_are_positive(engine):
    from typer.testing import CliRunner

    from ocsea.cli import app

    with pytest.raises(AccessError, match="positive"):
        create_api_key(engine, "k", "service", [], timedelta(0))
    got = CliRunner().invoke(
        app, ["apikeys", "create", "--name", "k", "--expires", "0h", "--db", "sqlite://"]
    )
    assert got.exit_code == 2 and "positive" in got.output


def test_malformed_json_without_credentials_is_401_not_422(client):
    r = client.post(
        "/v1/classify", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"


def test_a_dot_file_name_is_422_not_500(engine, client):
    h = {"Authorization": f"Bearer {key_for(engine, 'admin')}"}
    for name in (".", ".."):
        r = client.post("/v1/lists/x/entries", json={"format": "text", "content": "c4ca4238a0b923820dcc509a6f75849b\n",
                                                     "file_name": name}, headers=h)  # fmt: skip
        assert r.status_code == 422, r.text


def test_a_rejected_request_writes_nothing(engine, client):
    from ocsea.store.db import legal_requests

    h = {"Authorization": f"Bearer {key_for(engine, 'investigator')}"}
    with engine.connect() as conn:
        before = conn.execute(select(legal_requests.c.id)).all()
    r = client.post("/v1/requests", json={"type": "mlat", "requesting_state": "Thailand", "requested_state": "Japan",
                                          "follows_up": 9999}, headers=h)  # fmt: skip
    assert r.status_code == 422
    with engine.connect() as conn:
        assert conn.execute(select(legal_requests.c.id)).all() == before


def test_classify_answers_stay_near_the_size_of_the_request(engine, client):
    from ocsea.service.app import MAX_REASONS

    h = {"Authorization": f"Bearer {key_for(engine, 'analyst')}"}
    text = " ".join(["teen xxx clip 13yo"] * 100)[:2000]
    body = {"texts": [text] * 50}
    r = client.post("/v1/classify", json=body, headers=h)
    assert r.status_code == 200
    assert all(len(x["reasons"]) <= MAX_REASONS for x in r.json()["results"])
    assert len(r.content) < 6 * len(json.dumps(body))


def test_parallel_wrong_passwords_cannot_all_pass_the_lock(engine, client):
    from concurrent.futures import ThreadPoolExecutor

    from ocsea.service.access import FREE_FAILURES

    add_user(engine, "par", "correct horse battery", "admin")

    def attempt(_):
        c = TestClient(client.app)
        return c.post(
            "/v1/session/login", json={"username": "par", "password": "wrong password!!"}
        ).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(attempt, range(24)))
    assert set(codes) <= {401, 429} and codes.count(401) <= FREE_FAILURES + 1, codes


def test_every_response_says_no_store_and_nosniff(client):
    for r in (client.get("/healthz"), client.get("/v1/lists")):  # answered, and refused
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["referrer-policy"] == "no-referrer"


def test_a_bug_answers_problem_json_with_a_reference(engine, detector, caplog):
    app = create_app(engine, detector)

    def boom():
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    r = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert r.status_code == 500 and r.headers["content-type"].startswith("application/problem+json")
    ref = r.json()["detail"].split()[1].rstrip(":")
    assert "a bug" not in r.text  # no internals to the client
    assert any(ref in rec.getMessage() for rec in caplog.records)  # the log has it


@pytest.mark.parametrize("password", ["password1234", "aaaaaaaaaaaa", " " * 12, "x" * 129])
def test_weak_or_overlong_passwords_are_refused(engine, password):
    from ocsea.service.access import AccessError, set_password

    add_user(engine, "pw", "correct horse battery", "analyst")
    with pytest.raises(AccessError):
        add_user(engine, "pw2", password, "analyst")
    with pytest.raises(AccessError):
        set_password(engine, "pw", password)


def test_a_refused_user_or_key_is_audited(engine, client):
    """A known principal asking for what its role may not do leaves an audit entry; a wrong
    key (anyone can send one) only a log line."""
    from ocsea.service.audit import entries

    key = key_for(engine, "analyst")
    r = client.get("/v1/networks", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 403
    denied = [e for e in entries(engine) if e["action"] == "access.denied"]
    assert denied and denied[-1]["actor"].startswith("key:test-analyst [")
    assert "/v1/networks" in denied[-1]["target"]
    n = len(list(entries(engine)))
    r = client.get("/v1/lists", headers={"Authorization": "Bearer ocsea_wrong"})
    assert r.status_code == 401
    assert len(list(entries(engine))) == n
