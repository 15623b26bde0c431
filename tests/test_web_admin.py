"""The administration page: admins add, disable and unlock users and create (shown once) and
revoke API keys, every change audited; no other role sees or reaches it."""

import re

import pytest
from fastapi.testclient import TestClient

from ocsea.service import audit
from ocsea.service.access import add_user, list_users, login_failed, verify_api_key
from ocsea.service.app import create_app
from ocsea.store.db import make_engine
from tests.web_client import PASSWORD, csrf_of, signed_in


@pytest.fixture
def site(tmp_path, detector):
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    add_user(engine, "root", PASSWORD, "admin")
    add_user(engine, "sup", PASSWORD, "supervisor")
    yield create_app(engine, detector), engine
    engine.dispose()


def test_only_admins_see_and_reach_the_page(site):
    app, _ = site
    sup = signed_in(app, "sup")
    assert 'href="/admin"' not in sup.get("/").text
    assert sup.get("/admin").status_code == 403
    root = signed_in(app, "root")
    assert 'href="/admin"' in root.get("/").text and root.get("/admin").status_code == 200


def test_an_admin_adds_disables_and_unlocks_users(site):
    app, engine = site
    root = signed_in(app, "root")
    tok = csrf_of(root.get("/admin").text)
    weak = root.post("/admin/users", data={"csrf_token": tok, "username": "ana", "role": "analyst",
                     "password": "password123"})  # fmt: skip
    assert weak.status_code == 422 and 'role="alert"' in weak.text
    assert "ana" not in [u.username for u, _ in list_users(engine)]
    ok = root.post("/admin/users", data={"csrf_token": tok, "username": "ana", "role": "analyst",
                   "password": "plum orbit lantern 42"}, follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303
    c = TestClient(app, base_url="https://testserver")
    assert (
        c.post(
            "/sign-in",
            data={"username": "ana", "password": "plum orbit lantern 42"},
            follow_redirects=False,
        ).status_code
        == 303
    )  # the new user can sign in
    for _ in range(6):
        login_failed(engine, ["user:ana"])
    assert root.post("/admin/users/ana/unlock", data={"csrf_token": tok},
                     follow_redirects=False).status_code == 303  # fmt: skip
    assert root.post("/admin/users/ana/disable", data={"csrf_token": tok},
                     follow_redirects=False).status_code == 303  # fmt: skip
    c = TestClient(app, base_url="https://testserver")
    assert c.post("/sign-in", data={"username": "ana", "password": "plum orbit lantern 42"},
                  follow_redirects=False).status_code != 303  # fmt: skip
    assert root.post("/admin/users/root/disable", data={"csrf_token": tok}).status_code == 422
    acts = [e["action"] for e in audit.entries(engine)]
    assert {"user.add", "user.unlock", "user.disable"} <= set(acts)


def test_a_new_key_is_shown_once_works_and_is_revoked(site):
    app, engine = site
    root = signed_in(app, "root")
    tok = csrf_of(root.get("/admin").text)
    r = root.post("/admin/keys", data={"csrf_token": tok, "name": "search-a", "role": "service",
                  "scopes": ["query-check"], "expires": "30d"})  # fmt: skip
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    key = re.search(r'id="new-key">([^<]+)<', r.text).group(1)
    p = verify_api_key(engine, key)
    assert p is not None and p.role == "service" and p.scopes == {"query-check"}
    assert key not in root.get("/admin").text  # shown once
    key_id = key.split("_")[1]
    assert root.post(f"/admin/keys/{key_id}/revoke", data={"csrf_token": tok},
                     follow_redirects=False).status_code == 303  # fmt: skip
    assert verify_api_key(engine, key) is None
    bad = root.post("/admin/keys", data={"csrf_token": tok, "name": "x", "role": "analyst",
                    "scopes": ["users:admin"], "expires": "30d"})  # fmt: skip
    assert bad.status_code == 422  # an analyst key cannot carry an admin scope
    assert (
        root.post("/admin/keys", data={"csrf_token": tok, "name": "x", "expires": "0d"}).status_code
        == 422
    )
    acts = [e["action"] for e in audit.entries(engine)]
    assert "apikey.create" in acts and "apikey.revoke" in acts


def test_admin_forms_need_the_pagecsrf_of(site):
    app, _ = site
    root = signed_in(app, "root")
    r = root.post("/admin/users", data={"csrf_token": "nope", "username": "x", "role": "analyst",
                  "password": "plum orbit lantern 42"})  # fmt: skip
    assert r.status_code == 403
