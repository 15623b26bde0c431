"""Cross-border requests in the web app: record one from the form, take it through its steps with
dates and reasons, see its history; the board links to it; refused for roles without the scope."""

import pytest

from ocsea.config import ReferralSettings
from ocsea.service import audit
from ocsea.service.access import add_user
from ocsea.service.app import create_app
from ocsea.store.db import make_engine
from tests.web_client import PASSWORD, csrf_of, signed_in


@pytest.fixture
def site(tmp_path, detector):
    engine = make_engine(f"sqlite:///{tmp_path / 'q.db'}")
    add_user(engine, "ivy", PASSWORD, "investigator")
    add_user(engine, "ana", PASSWORD, "analyst")
    yield create_app(engine, detector, referral_settings=ReferralSettings()), engine
    engine.dispose()


def test_record_a_preservation_then_step_it_and_read_its_history(site):
    app, engine = site
    c = signed_in(app, "ivy")
    tok = csrf_of(c.get("/requests/new").text)
    r = c.post("/requests", data={"csrf_token": tok, "type": "preservation", "direction": "outgoing",
               "requesting_state": "Thailand", "requested_state": "United States",
               "provider": "ExampleChat", "sent_on": "2026-11-01", "referrals": "7100003, 7100009"},
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    page = c.get(r.headers["location"]).text
    assert "Preservation" in page and "ExampleChat" in page and "7100003, 7100009" in page
    assert "Preservation expires" in page  # the type's default expiry was set
    rid = r.headers["location"].split("/")[-1].split("?")[0]
    bad = c.post(f"/requests/{rid}", data={"csrf_token": tok, "status": "refused"})
    assert bad.status_code == 422 and "reason" in bad.text  # refusing needs a reason
    ok = c.post(f"/requests/{rid}", data={"csrf_token": tok, "status": "acknowledged",
                "on": "2026-11-05"}, follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303
    page = c.get(f"/requests/{rid}").text
    assert "acknowledged" in page and "2026-11-05" in page and "request.update" in page
    acts = [e["action"] for e in audit.entries(engine)]
    assert "request.add" in acts and "request.update" in acts and "request.read" in acts


def test_a_bad_request_keeps_what_was_typed(site):
    app, _ = site
    c = signed_in(app, "ivy")
    tok = csrf_of(c.get("/requests/new").text)
    r = c.post("/requests", data={"csrf_token": tok, "type": "mlat", "direction": "outgoing",
               "requesting_state": "Thailand", "requested_state": "thailand", "notes": "kept"})  # fmt: skip
    assert r.status_code == 422 and "same" in r.text and ">kept</textarea>" in r.text


def test_analysts_may_not_read_or_write_requests(site):
    app, _ = site
    ana = signed_in(app, "ana")
    assert ana.get("/requests/new").status_code == 403
    assert ana.get("/requests/1").status_code == 403
    assert signed_in(app, "ivy").get("/requests/99").status_code == 404
