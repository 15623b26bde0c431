"""A case's page: factors, referrals in time order, the identifiers that link them with how each
referral wrote them, the network drawn as SVG, and corrections (split, merge, not identifying)
from forms for the roles that may, audited and relinked. Synthetic referrals (example.com,
documentation addresses)."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from ocsea.config import ReferralSettings
from ocsea.referrals.store import import_documents, rebuild_cases
from ocsea.service import audit
from ocsea.service.access import add_user
from ocsea.service.app import create_app
from ocsea.store.db import make_engine, referrals
from tests.web_client import PASSWORD, csrf_of, signed_in

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


def _doc(rid, **person):
    return {"reportId": rid, "incidentSummary": {"incidentType": "Child Pornography (possession, manufacture, and distribution)"},
            "reportedInformation": {"reportingEsp": {"espName": "ExampleChat"},
            "reportedPeople": {"reportedPersons": [{"espService": "ExampleChat", **person}]}}}  # fmt: skip


@pytest.fixture
def site(tmp_path, detector):
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    docs = [_doc("A", emails=["One@Example.com"]),
            _doc("B", emails=["one@example.com"],
                 ipCaptureEvents=[{"ipAddress": "192.0.2.77", "dateTime": T0.isoformat()}]),
            _doc("C", ipCaptureEvents=[{"ipAddress": "192.0.2.77",
                                        "dateTime": (T0 + timedelta(minutes=10)).isoformat()}])]  # fmt: skip
    s = ReferralSettings()
    import_documents(engine, [("d.json", json.dumps(docs).encode(), None)], "t", settings=s)
    rebuild_cases(engine, s)
    add_user(engine, "ivy", PASSWORD, "investigator")
    add_user(engine, "ana", PASSWORD, "analyst")
    app = create_app(engine, detector, referral_settings=s)
    with engine.connect() as conn:
        ids = dict(conn.execute(select(referrals.c.report_id, referrals.c.id)).all())
        key = conn.execute(select(referrals.c.case_key)).scalar()
    yield app, engine, ids, key
    engine.dispose()


def test_the_case_page_shows_what_links_and_how_each_referral_wrote_it(site):
    app, engine, ids, key = site
    c = signed_in(app, "ivy")
    page = c.get(f"/cases/{key}")
    assert page.status_code == 200
    html = page.text
    for rid in ids.values():
        assert f'id="r{rid}"' in html
    assert "One@Example.com" in html and "one@example.com" in html  # each as written
    assert '<svg class="network"' in html and html.count("<line ") == 4  # 2 identifiers × 2
    assert "<title>One@Example.com" in html  # an edge says how its referral wrote it
    assert ("case.read", key) in [(e["action"], e["target"]) for e in audit.entries(engine)]
    assert 'href="/cases/' + key + '"' in c.get("/cases").text


def test_corrections_from_the_page_are_audited_and_relink(site):
    app, engine, ids, key = site
    c = signed_in(app, "ivy")
    token = csrf_of(c.get(f"/cases/{key}").text)
    r = c.post(f"/cases/{key}/correct", data={"csrf_token": token, "action": "not_identifying",
               "kind": "ip", "value": "192.0.2.77", "note": "café Wi-Fi"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"].endswith("done=not_identifying")
    with engine.connect() as conn:  # the relink ran after the answer (a background task)
        keys = dict(conn.execute(select(referrals.c.report_id, referrals.c.case_key)).all())
    assert keys["A"] == keys["B"] and keys["C"] != keys["A"]
    r = c.post(f"/cases/{keys['A']}/correct", data={"csrf_token": token, "action": "split",
               "referral_ids": [str(ids["B"])], "note": "different people"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    bad = c.post(f"/cases/{keys['A']}/correct", data={"csrf_token": token, "action": "merge",
                 "other": ""}, follow_redirects=False)  # fmt: skip
    assert bad.status_code == 422 and "other case" in bad.text
    actions = [e["action"] for e in audit.entries(engine)]
    assert "networks.not_identifying" in actions and "networks.split" in actions


def test_analysts_may_not_read_cases_and_a_missing_case_is_a_404(site):
    app, engine, _, key = site
    assert signed_in(app, "ana").get(f"/cases/{key}").status_code == 403
    c = signed_in(app, "ivy")
    assert c.get("/cases/C999999").status_code == 404
    ana = signed_in(app, "ana")
    own = csrf_of(ana.get("/").text)
    assert ana.post(f"/cases/{key}/correct", data={"csrf_token": own, "action": "merge",
                    "other": "C1"}).status_code == 403  # fmt: skip
    refusals = [e["detail"] for e in audit.entries(engine) if e["action"] == "access.denied"]
    assert refusals[-1]["why"] == "role"  # refused for the role, not for a stale token


def test_an_identifier_is_marked_by_its_stored_form_too(tmp_path):
    """A case page sends the stored value; for a crypto address that is "eth|0x…", which is not
    a raw address (the review found every crypto mark refused)."""
    from sqlalchemy import insert

    from ocsea.referrals.decisions import list_decisions, mark_not_identifying, normalise
    from ocsea.store.db import entities

    engine = make_engine(f"sqlite:///{tmp_path / 'd.db'}")
    stored = normalise("crypto", "0x52908400098527886E0F7030069857D2E4169EE7")
    with engine.begin() as conn:
        conn.execute(insert(entities).values(kind="crypto", value=stored))
    mark_not_identifying(engine, "ivy", "crypto", stored, "exchange hot wallet")
    assert [(d.kind, d.value) for d in list_decisions(engine)] == [("crypto", stored)]
    engine.dispose()
