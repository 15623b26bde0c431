"""The analysts' pages through the service: sign-in, home, queue, a finding's page with its
highlighted reasons, keyboard review form, CSRF and roles. (Keyboard use in a real browser is for
the browser tests the web-app issue asks for.)"""

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from ocsea.service import audit
from ocsea.service.access import add_user
from ocsea.service.app import create_app
from ocsea.store.db import findings, items, make_engine
from ocsea.web.pages import highlight
from tests.web_client import PASSWORD, csrf_of, signed_in


@pytest.fixture
def engine(tmp_path):
    e = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    now = datetime.now(UTC)
    with e.begin() as conn:
        for k, (text, prio) in enumerate(
            [("pthc new.avi", 9.0), ("holiday IMG_2041.JPG", 1.0), ("เด็ก ม.2 ขายคลิป", 7.5)], 1
        ):
            conn.execute(insert(items).values(id=k, kind="p2p_file", key=f"{k:064d}", text=text,
                                              seen_count=0))  # fmt: skip
            conn.execute(insert(findings).values(id=k, item_id=k, kind="p2p_file", priority=prio,
                                                 status="new", breakdown={"factors": {"text_score": prio}},
                                                 updated_at=now))  # fmt: skip
    add_user(e, "ana", PASSWORD, "analyst")
    add_user(e, "boss", PASSWORD, "admin")
    yield e
    e.dispose()


@pytest.fixture
def app(engine, detector):
    return create_app(engine, detector)


def test_signed_out_visitors_see_the_sign_in_form_in_thai_by_default(app):
    r = TestClient(app, base_url="https://testserver").get("/")
    assert r.status_code == 200 and "เข้าสู่ระบบ" in r.text and 'lang="th"' in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"
    assert (
        TestClient(app, base_url="https://testserver")
        .get("/queue", follow_redirects=False)
        .status_code
        == 303
    )


def test_a_wrong_password_stays_on_the_form_and_is_audited(app, engine):
    c = TestClient(app, base_url="https://testserver")
    r = c.post("/sign-in", data={"username": "ana", "password": "not the password"})
    assert r.status_code == 401 and "wrong user name or password" in r.text
    assert "login.failed" in [e["action"] for e in audit.entries(engine)]


def test_home_and_queue_rank_findings_by_priority(app):
    c = signed_in(app, "ana")
    home = c.get("/")
    assert "New findings" in home.text and ">3<" in home.text
    q = c.get("/queue")
    order = [q.text.index(s) for s in ("pthc new.avi", "เด็ก ม.2 ขายคลิป", "holiday IMG_2041.JPG")]
    assert order == sorted(order)


def test_queue_pages_by_keyset(app, monkeypatch):
    import ocsea.web.pages as pages

    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    c = signed_in(app, "ana")
    first = c.get("/queue")
    assert "holiday" not in first.text
    cursor = re.search(r'after=([^"&]+)"', first.text).group(1)
    second = c.get(f"/queue?after={cursor}")
    assert "holiday IMG_2041.JPG" in second.text and "pthc new.avi" not in second.text


def test_a_finding_page_marks_the_reasons_and_a_review_goes_to_the_next(app, engine):
    c = signed_in(app, "ana")
    page = c.get("/findings/1")
    assert "<mark" in page.text and "pthc" in page.text  # the codeword is marked on its span
    assert 'data-key="1"' in page.text and 'id="next"' in page.text
    r = c.post("/findings/1/review", data={"csrf_token": csrf_of(page.text),
               "classification": "baseline", "age_group": "prepubescent", "next_id": "3"},
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"].startswith("/findings/3")
    actions = [(e["action"], e["target"]) for e in audit.entries(engine)]
    assert ("finding.review", "1") in actions and ("finding.read", "1") in actions
    assert (
        "baseline" in c.get("/findings/1?status=all").text
        or "Baseline" in c.get("/findings/1?status=all").text
    )


def test_a_review_without_its_csrf_token_is_refused(app, engine):
    c = signed_in(app, "ana")
    r = c.post("/findings/1/review", data={"csrf_token": "forged", "classification": "baseline"})
    assert r.status_code == 403
    assert not [e for e in audit.entries(engine) if e["action"] == "finding.review"]


def test_sign_out_ends_the_session(app):
    c = signed_in(app, "ana")
    token = csrf_of(c.get("/").text)
    c.post("/sign-out", data={"csrf_token": token})
    assert c.get("/queue", follow_redirects=False).status_code == 303


def test_pages_switch_language(app):
    c = signed_in(app, "ana", lang="th")
    assert "คิวตรวจสอบ" in c.get("/").text
    c.get("/lang/en")
    assert "Review queue" in c.get("/").text


def test_highlight_cuts_the_text_at_the_reasons():
    assert highlight("abc def", [(4, 7, "x"), (5, 6, "y")]) == [("abc ", None), ("def", "x")]
    assert highlight("", []) == []


def test_api_docs_are_served_from_the_installed_package(app):
    c = TestClient(app, base_url="https://testserver")
    page = c.get("/docs")
    assert page.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    assert c.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert c.get("/static/docs.js").status_code == 200


def test_cases_are_shown_to_roles_that_may_read_them_and_refused_to_others(app, engine):
    from ocsea.store.db import cases

    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(cases).values(key="C7", status="open", referral_ids=[7, 9], sharer_ids=[],
                     priority=6.5, breakdown={"infant": 3.0, "live_streaming": 3.0},
                     evidence={"infant": ["ncmec 7: victim aged 2"]}, updated_at=now))  # fmt: skip
    boss = signed_in(app, "boss")
    page = boss.get("/cases")
    assert page.status_code == 200 and "C7" in page.text and "victim aged 2" in page.text
    ana = signed_in(app, "ana")
    assert "/cases" not in ana.get("/").text  # not shown
    assert ana.get("/cases").status_code == 403  # and refused
    assert any(e["action"] == "access.denied" for e in audit.entries(engine))


def test_forms_posted_from_another_site_are_refused(app, engine):
    c = TestClient(app, base_url="https://testserver")
    r = c.post("/sign-in", data={"username": "ana", "password": PASSWORD},
               headers={"Origin": "https://evil.example.org"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 403 and "ocsea_session" not in r.headers.get("set-cookie", "")
    s = signed_in(app, "ana")
    token = csrf_of(s.get("/findings/1").text)
    r = s.post("/findings/1/review", data={"csrf_token": token, "classification": "baseline"},
               headers={"Sec-Fetch-Site": "cross-site"})  # fmt: skip
    assert r.status_code == 403


def test_a_browser_posting_our_own_form_with_origin_null_is_accepted(app):
    """Our pages send no referrer, so a browser's Origin on their forms is "null": where it says
    Sec-Fetch-Site it is believed; a null Origin with nothing else is refused (found in Chromium)."""
    c = TestClient(app, base_url="https://testserver")
    ok = c.post("/sign-in", data={"username": "ana", "password": PASSWORD},
                headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"}, follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303
    c = TestClient(app, base_url="https://testserver")
    bad = c.post("/sign-in", data={"username": "ana", "password": PASSWORD},
                 headers={"Origin": "null"}, follow_redirects=False)  # fmt: skip
    assert bad.status_code == 403


def test_a_bad_cursor_is_refused_not_a_crash(app):
    c = signed_in(app, "ana")
    for bad in ("...:1", "1:99999999999999999999", "nan:1"):
        assert c.get("/queue", params={"after": bad}).status_code == 422


def test_term_candidates_are_accepted_or_rejected_by_roles_that_may(app, engine):
    from sqlalchemy import select

    from ocsea.store.db import lexicon_terms, term_candidates

    now = datetime.now(UTC)
    with engine.begin() as conn:
        for term in ("newcode", "harmless"):
            conn.execute(insert(term_candidates).values(term=term, score=40.0, flagged_count=30,
                         total_count=31, examples=[f"{term} 2026"], discovered_at=now, status="new"))  # fmt: skip
    ana = signed_in(app, "ana")
    page = ana.get("/terms")
    assert "newcode" in page.text and "/terms/accept" not in page.text  # analysts read, not decide
    assert (
        ana.post(
            "/terms/accept", data={"csrf_token": csrf_of(page.text), "term": "newcode"}
        ).status_code
        == 403
    )
    boss = signed_in(app, "boss")
    token = csrf_of(boss.get("/terms").text)
    r = boss.post(
        "/terms/accept", data={"csrf_token": token, "term": "newcode", "category": "csa_code"}
    )
    assert r.status_code == 200 and "harmless" in r.text and "newcode</strong>" not in r.text
    boss.post("/terms/reject", data={"csrf_token": token, "term": "harmless"})
    with engine.connect() as conn:
        status = dict(conn.execute(select(term_candidates.c.term, term_candidates.c.status)).all())
        accepted = [r.term for r in conn.execute(select(lexicon_terms.c.term))]
    assert status == {"newcode": "accepted", "harmless": "rejected"} and accepted == ["newcode"]
    actions = [e["action"] for e in audit.entries(engine)]
    assert "term.accept" in actions and "term.reject" in actions


def test_the_query_check_console_shows_what_a_user_would_see(app, engine):
    c = signed_in(app, "ana", lang="en")
    page = c.get("/console", params={"q": "pthc new"})
    assert page.status_code == 200 and "<mark" in page.text and "block" in page.text
    assert "1300" in page.text  # the help line of the deterrence message
    calm = c.get("/console", params={"q": "weather tomorrow bangkok"})
    assert "the user sees nothing" in calm.text
    assert "query.console" in [e["action"] for e in audit.entries(engine)]


def test_admins_read_and_verify_the_audit_log_others_may_not(app, engine):
    boss = signed_in(app, "boss")
    page = boss.get("/audit", params={"verify": 1})
    assert page.status_code == 200 and "Intact" in page.text and "login" in page.text
    only = boss.get("/audit", params={"action": "login"})
    assert "login.failed" not in only.text
    ana = signed_in(app, "ana")
    assert "/audit" not in ana.get("/").text and ana.get("/audit").status_code == 403


def test_the_deadline_board_shows_an_expiring_preservation(app, engine):
    from datetime import timedelta

    from ocsea.config import ReferralSettings
    from ocsea.referrals.legal_requests import LegalRequest
    from ocsea.referrals.requests_store import add

    today = datetime.now(UTC).date()
    add(engine, LegalRequest("preservation", "outgoing", "Thailand", "United States",
                             provider="PhotoShare", sent_on=today - timedelta(days=85)),
        "seed", ReferralSettings())  # fmt: skip
    boss = signed_in(app, "boss")
    page = boss.get("/requests", params={"within": 30})
    assert page.status_code == 200 and "PhotoShare" in page.text and "preservation" in page.text
    ana = signed_in(app, "ana")
    assert ana.get("/requests").status_code == 403


def test_a_user_changes_their_own_password_and_every_session_ends(app, engine):
    c = signed_in(app, "ana")
    other = signed_in(app, "ana")  # a second browser
    form = c.get("/account")
    token = csrf_of(form.text)
    wrong = c.post("/account/password", data={"csrf_token": token, "current": "not it at all",
                   "new": "violet harbour lantern", "repeat": "violet harbour lantern"})  # fmt: skip
    assert wrong.status_code == 401
    weak = c.post("/account/password", data={"csrf_token": token, "current": PASSWORD,
                  "new": "password1234", "repeat": "password1234"})  # fmt: skip
    assert weak.status_code == 422
    ok = c.post("/account/password", data={"csrf_token": token, "current": PASSWORD,
                "new": "violet harbour lantern", "repeat": "violet harbour lantern"},
                follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303 and ok.headers["location"] == "/?changed=1"
    assert other.get("/queue", follow_redirects=False).status_code == 303  # ended too
    fresh = TestClient(app, base_url="https://testserver")
    r = fresh.post("/sign-in", data={"username": "ana", "password": "violet harbour lantern"},
                   follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    actions = [e["action"] for e in audit.entries(engine)]
    assert "password.change.failed" in actions and "password.change" in actions


def test_near_duplicates_are_reviewed_in_one_go(app, engine):
    """Files that matched the same hash-list entry are listed on a finding's page; ticked, they
    get the same review (each recorded and audited), and "next" skips what was just reviewed."""
    from ocsea.store.db import reviews, signals

    now = datetime.now(UTC)
    with engine.begin() as conn:
        for k, entry in ((10, 5), (11, 5), (12, 5), (13, 6)):
            conn.execute(insert(items).values(id=k, kind="file", key=f"{k:064d}", text=f"IMG_{k}.JPG",
                                              seen_count=0))  # fmt: skip
            conn.execute(insert(findings).values(id=k, item_id=k, kind="near-duplicate",
                                                 priority=50.0 - k, status="new", breakdown={},
                                                 updated_at=now))  # fmt: skip
            conn.execute(insert(signals).values(item_id=k, type="hash", source="vics", label="1",
                                                score=1.0, created_at=now,
                                                detail={"list": "vics", "hash_type": "pdq",
                                                        "distance": 8, "entry_id": entry}))  # fmt: skip
    c = signed_in(app, "ana")
    page = c.get("/findings/10").text
    assert 'name="also" value="11"' in page and 'name="also" value="12"' in page
    assert 'value="13"' not in page  # another entry
    r = c.post("/findings/10/review", data={"csrf_token": csrf_of(page), "classification": "baseline",
               "age_group": "pubescent", "also": ["11", "12", "13", "2"], "next_id": "11"},
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"].startswith("/findings/13")
    with engine.connect() as conn:
        got = {r.finding_id: r.notes for r in conn.execute(select(reviews))}
    # 13 (another entry) and 2 (no hash match) were sent too: only near-duplicates are reviewed
    assert set(got) == {10, 11, 12} and "with finding 10" in got[11]
    assert sum(e["action"] == "finding.review" for e in audit.entries(engine)) == 3


def test_a_finding_page_gives_the_media_risk_reasons_never_a_verdict(app, engine):
    from sqlalchemy import update

    with engine.begin() as conn:
        conn.execute(update(findings).where(findings.c.id == 2).values(
            kind="review-first",
            breakdown={"factors": {"media_risk": 1.4},
                       "media_reasons": ["sexual-content score 0.71 (open_nsfw; 0 none, 1 explicit)",
                                         "no face found (small, turned or covered faces are not found)"]}))  # fmt: skip
    page = signed_in(app, "ana", "en").get("/findings/2").text
    assert "Review first: content risk of the file" in page and "sexual-content score 0.71" in page
    assert "never a finding that the file is illegal" in page
    assert "<img" not in page.split("Review first")[1].split("</section>")[0]  # words, no image
