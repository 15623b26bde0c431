"""The analysts' pages in a real browser (Debian's Chromium through its chromedriver): sign in,
the queue, a finding reviewed from the keyboard alone, a blurred evidence thumbnail on request,
the language switch, and the pages' CSP letting our own script run. Skipped where Chromium is
missing unless OCSEA_REQUIRE_BROWSER is set (CI sets it). Images are generated patterns."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import insert, select

from ocsea.ingest.rows import item_key
from ocsea.service.access import add_user
from ocsea.service.app import create_app
from ocsea.store.db import findings, items, make_engine, reviews
from ocsea.web.media import MediaSettings
from tests.web_client import PASSWORD

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

if not (CHROMIUM and DRIVER):
    if os.environ.get("OCSEA_REQUIRE_BROWSER"):
        raise RuntimeError("OCSEA_REQUIRE_BROWSER is set but chromium/chromedriver are missing")
    pytest.skip("Chromium and chromedriver are not installed", allow_module_level=True)

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory, detector):
    import uvicorn

    tmp = tmp_path_factory.mktemp("browser")
    evidence = tmp / "evidence"
    evidence.mkdir()
    card = evidence / "IMG_2041.png"
    y, x = np.mgrid[0:300, 0:400]
    rgb = np.stack([x * 255 // 400, ((x // 25 + y // 25) % 2) * 255, y * 255 // 300], axis=-1)
    Image.fromarray(rgb.astype("uint8"), "RGB").save(card)
    engine = make_engine(f"sqlite:///{tmp / 'b.db'}")
    now = datetime.now(UTC)
    with engine.begin() as conn:
        digest = hashlib.sha256(card.read_bytes()).hexdigest()
        rows = [("file", item_key("sha256:" + digest), str(card), 9.0),
                ("p2p_file", "2" * 64, "pthc new.avi", 8.0),
                ("p2p_file", "3" * 64, "เด็ก ม.2 ขายคลิป", 7.0)]  # fmt: skip
        for k, (kind, key, text, prio) in enumerate(rows, 1):
            conn.execute(insert(items).values(id=k, kind=kind, key=key, text=text, seen_count=0))
            conn.execute(insert(findings).values(id=k, item_id=k, kind="unknown-flagged",
                                                 priority=prio, status="new", breakdown={},
                                                 updated_at=now))  # fmt: skip
    add_user(engine, "ana", PASSWORD, "analyst")
    add_user(engine, "ivy", PASSWORD, "investigator")
    add_user(engine, "sue", PASSWORD, "supervisor")
    add_user(engine, "ada", PASSWORD, "admin")
    from ocsea.store.db import term_candidates

    with engine.begin() as conn:  # a term mined from flagged queries (synthetic)
        conn.execute(insert(term_candidates).values(
            term="ฟิวแฟน ม.ต้น", score=42.0, flagged_count=12, total_count=14,
            examples=["ฟิวแฟน ม.ต้น คลิป"], discovered_at=now, status="new"))  # fmt: skip
    from ocsea.config import ReferralSettings
    from ocsea.referrals.store import import_documents, rebuild_cases
    from tests.test_web_case import T0, _doc

    docs = [_doc("A", emails=["One@Example.com"]),
            _doc("B", emails=["one@example.com"],
                 ipCaptureEvents=[{"ipAddress": "192.0.2.77", "dateTime": T0.isoformat()}]),
            _doc("C", ipCaptureEvents=[{"ipAddress": "192.0.2.77", "dateTime": T0.isoformat()}])]  # fmt: skip
    import json

    rs = ReferralSettings()
    import_documents(engine, [("d.json", json.dumps(docs).encode(), None)], "t", settings=rs)
    rebuild_cases(engine, rs)
    app = create_app(
        engine, detector, media=MediaSettings(evidence_roots=(evidence,)), referral_settings=rs
    )
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", engine
    server.should_exit = True
    thread.join(10)
    engine.dispose()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--lang=en-GB"):  # fmt: skip
        opts.add_argument(arg)
    opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    # chromedriver from Debian, named: Selenium Manager would otherwise look for one online
    drv = webdriver.Chrome(service=Service(executable_path=DRIVER), options=opts)
    drv.set_page_load_timeout(30)
    yield drv
    drv.quit()


def _wait(drv, cond, timeout=10):
    return WebDriverWait(drv, timeout).until(cond)


def _shot(drv, name: str) -> None:
    """Screenshots for a person to look at, where OCSEA_SCREENSHOTS names a folder."""
    out = os.environ.get("OCSEA_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        drv.save_screenshot(str(Path(out) / f"{name}.png"))


def _sign_in(drv, base: str, user: str, lang: str = "en") -> None:
    """Each test signs in itself, so that any one of them runs alone."""
    drv.get(base + "/")
    drv.delete_all_cookies()
    drv.get(base + f"/lang/{lang}")
    drv.find_element(By.NAME, "username").send_keys(user)
    drv.find_element(By.NAME, "password").send_keys(PASSWORD)
    drv.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    _wait(drv, lambda d: d.find_elements(By.CSS_SELECTOR, "form[action='/sign-out']"))
    _console_errors(drv)  # a fresh log for the test


def _thai_faces(drv, text: str) -> set[str] | None:
    """The states of the Noto Sans Thai faces the page loads for ``text`` (None if it fails)."""
    faces = drv.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "document.fonts.load('16px \"Noto Sans Thai\"', arguments[0])"
        ".then(f => done(f.map(x => x.status)), () => done(null));",
        text,
    )
    return set(faces) if faces else None


def _case_key(engine) -> str:
    """The key of the fixture's linked case."""
    from ocsea.store.db import referrals

    with engine.connect() as conn:
        return conn.execute(
            select(referrals.c.case_key).where(referrals.c.case_key.is_not(None))
        ).scalar()


def _console_errors(drv) -> list[str]:
    try:
        return [e["message"] for e in drv.get_log("browser") if e["level"] == "SEVERE"]
    except Exception:  # not every driver keeps the log
        return []


def test_sign_in_in_thai_then_review_from_the_keyboard(site, browser):
    base, engine = site
    browser.get(base + "/")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "th"
    _shot(browser, "sign-in-th")
    _sign_in(browser, base, "ana")
    browser.get(base + "/queue")
    links = browser.find_elements(By.CSS_SELECTOR, "a[href^='/findings/']")
    assert [a.get_attribute("href").rsplit("/", 1)[-1].split("?")[0] for a in links][:3] == [
        "1",
        "2",
        "3",
    ]
    browser.get(base + "/findings/2")
    browser.execute_script("window.notReloaded = true;")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("2")  # national
    body.send_keys("u")  # pubescent
    assert browser.find_element(By.CSS_SELECTOR, "input[value=national]").is_selected()
    body = browser.find_element(By.TAG_NAME, "body")
    browser.switch_to.active_element.send_keys("\ue007")  # Enter: save and open the next
    _wait(browser, lambda d: d.current_url.split("?")[0].endswith("/findings/3"))
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "p.note[role=status]"))
    # the next finding came without a page load: review goes on at one key press a finding
    assert browser.execute_script("return window.notReloaded === true;")
    with engine.connect() as conn:
        got = conn.execute(select(reviews.c.finding_id, reviews.c.classification,
                                  reviews.c.age_group)).all()  # fmt: skip
    assert [tuple(r) for r in got] == [(2, "national", "pubescent")]
    browser.find_element(By.TAG_NAME, "body").send_keys("k")  # back to the previous finding
    _wait(browser, lambda d: d.current_url.split("?")[0].endswith("/findings/1"))
    assert not _console_errors(browser)


def test_an_evidence_thumbnail_appears_only_when_asked_and_blurred(site, browser):
    base, _ = site
    _sign_in(browser, base, "ana")
    browser.get(base + "/findings/1")
    img = browser.find_element(By.ID, "media-img")
    assert not img.is_displayed() and not img.get_attribute("src")
    browser.find_element(By.TAG_NAME, "body").send_keys("m")
    _wait(browser, lambda d: d.find_element(By.ID, "media-img").is_displayed())
    _wait(browser, lambda d: d.execute_script(
        "return document.getElementById('media-img').naturalWidth") > 0)  # fmt: skip
    assert img.get_attribute("src").startswith("blob:")
    assert img.get_attribute("data-sharp") == "0"
    assert browser.find_elements(By.ID, "media-sharp") == []  # analysts may not unblur
    _shot(browser, "finding-thumbnail-blurred")
    assert not _console_errors(browser)


def test_the_thai_pages_render_thai_text(site, browser):
    base, _ = site
    _sign_in(browser, base, "ana", lang="th")
    browser.get(base + "/findings/3")
    assert "เด็ก" in browser.find_element(By.CSS_SELECTOR, "p.subject").text
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "th"
    # Thai glyphs come from the package's own font, whatever the machine has: the face loads
    # from /static/vendor and covers Thai (no box glyphs where the system has no Thai font)
    assert _thai_faces(browser, "เด็กนักเรียน") == {"loaded"}
    _shot(browser, "finding-th")


def test_an_investigator_sees_the_case_network_drawn(site, browser):
    base, engine = site
    key = _case_key(engine)
    _sign_in(browser, base, "ivy")
    browser.get(base + f"/cases/{key}")
    svg = browser.find_element(By.CSS_SELECTOR, "svg.network")
    assert svg.size["width"] > 300 and svg.size["height"] > 100
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.network circle")) == 3
    _shot(browser, "case-network")
    assert not _console_errors(browser)


def test_a_supervisor_unblurs_one_image_with_the_page_token(site, browser):
    base, engine = site
    _sign_in(browser, base, "sue")
    browser.get(base + "/findings/1")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("b")  # not before a blurred one is shown: the button is disabled
    assert browser.find_element(By.ID, "media-img").get_attribute("data-sharp") in (None, "")
    body.send_keys("m")
    _wait(browser, lambda d: d.find_element(By.ID, "media-img").get_attribute("data-sharp") == "0")
    browser.find_element(By.TAG_NAME, "body").send_keys("b")
    _wait(browser, lambda d: d.find_element(By.ID, "media-img").get_attribute("data-sharp") == "1")
    from ocsea.service import audit

    acts = [(e["actor"], e["action"]) for e in audit.entries(engine)]
    assert ("user:sue", "media.unblur") in acts
    assert not _console_errors(browser)


def test_a_correction_form_posts_from_the_browser(site, browser):
    base, engine = site
    key = _case_key(engine)
    _sign_in(browser, base, "ivy")
    browser.get(base + f"/cases/{key}")
    form = browser.find_element(By.CSS_SELECTOR, "form input[name=action][value=not_identifying]")
    form = form.find_element(By.XPATH, "..")
    form.find_element(By.NAME, "note").send_keys("shared office address")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(browser, lambda d: "done=not_identifying" in d.current_url)
    from ocsea.service import audit

    assert "networks.not_identifying" in [e["action"] for e in audit.entries(engine)]
    # put the network back for the other tests: revoke the mark and relink now
    from ocsea.config import ReferralSettings
    from ocsea.referrals.decisions import list_decisions, revoke
    from ocsea.referrals.store import rebuild_cases

    for d in list_decisions(engine):
        revoke(engine, "test", d.id)
    rebuild_cases(engine, ReferralSettings())


PAGES = {  # page: the scope that opens it
    "/queue": "findings:read", "/cases": "cases:read", "/requests": "requests:read",
    "/terms": "terms:read", "/console": "query-check", "/audit": "audit:read",
    "/admin": "users:admin",
}  # fmt: skip


@pytest.mark.parametrize("user", ["ana", "ivy", "sue", "ada"])
def test_each_role_sees_and_reaches_only_its_pages(site, browser, user):
    from ocsea.service.access import PERMISSIONS

    base, _ = site
    role = {"ana": "analyst", "ivy": "investigator", "sue": "supervisor", "ada": "admin"}[user]
    _sign_in(browser, base, user)
    nav = {a.get_attribute("href").removeprefix(base)
           for a in browser.find_elements(By.CSS_SELECTOR, "nav[aria-label=main] a")}  # fmt: skip
    for path, scope in PAGES.items():
        allowed = role in PERMISSIONS[scope]
        assert (path in nav) == allowed, (role, path)
        browser.get(base + path)
        refused = browser.find_elements(By.CSS_SELECTOR, "p.error[role=alert]")
        assert bool(refused) != allowed, (role, path)
        if user == "ada":
            _shot(browser, "page-" + path.strip("/"))
    # the refused pages answer 403, which the browser logs; nothing else may be wrong
    assert not [m for m in _console_errors(browser) if "status of 403" not in m]


def test_a_supervisor_accepts_a_term(site, browser):
    base, engine = site
    _sign_in(browser, base, "sue")
    browser.get(base + "/terms")
    row = browser.find_element(By.XPATH, "//tr[td[contains(., 'ฟิวแฟน')]]")
    row.find_element(By.CSS_SELECTOR, "form[action='/terms/accept'] button").click()
    _wait(browser, lambda d: "done=accepted" in d.current_url)
    assert "ฟิวแฟน" not in browser.find_element(By.TAG_NAME, "tbody").text
    from ocsea.service import audit

    assert "term.accept" in {e["action"] for e in audit.entries(engine)}


def test_an_investigator_adds_a_request_and_a_stale_token_is_refused(site, browser):
    base, engine = site
    _sign_in(browser, base, "ivy")
    browser.get(base + "/requests/new")
    browser.find_element(By.NAME, "requested_state").send_keys("United States")
    browser.find_element(By.NAME, "provider").send_keys("ExampleChat")
    browser.find_element(By.CSS_SELECTOR, "select[name=type] option[value=preservation]").click()
    browser.find_element(By.NAME, "sent_on").send_keys("11012026")  # the date field, as typed
    browser.find_element(By.CSS_SELECTOR, "form[action='/requests'] button[type=submit]").click()
    _wait(browser, lambda d: "/requests/" in d.current_url and "done=1" in d.current_url)
    assert "ExampleChat" in browser.page_source
    # the same form with a token that is not the session's: refused, and audited
    browser.get(base + "/requests/new")
    browser.execute_script(
        "document.querySelector(\"form[action='/requests'] input[name=csrf_token]\").value = 'stale';"
    )
    browser.find_element(By.NAME, "requested_state").send_keys("Japan")
    browser.find_element(By.CSS_SELECTOR, "form[action='/requests'] button[type=submit]").click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "p.error[role=alert]"))
    from ocsea.service import audit

    denied = [e for e in audit.entries(engine) if e["action"] == "access.denied"]
    assert denied and denied[-1]["detail"]["why"] == "CSRF check failed"


def test_an_edge_of_the_case_network_says_how_the_referral_wrote_it(site, browser):
    base, engine = site
    key = _case_key(engine)
    _sign_in(browser, base, "ivy")
    browser.get(base + f"/cases/{key}")
    titles = browser.execute_script(
        "return Array.from(document.querySelectorAll('svg.network line title'))"
        ".map(t => t.textContent);"
    )
    assert any(t.startswith("One@Example.com") for t in titles), titles


def test_the_offline_reports_link_to_each_other_sort_and_run_nothing_else(browser, tmp_path):
    """The demo's reports, opened from disk: linked to the index and to each other, tables sorted
    by a click and filtered by typing, the inline script allowed by its hash and nothing else
    (a CSP violation would be a console error), and the embedded Thai font loaded."""
    import subprocess
    import sys

    _console_errors(browser)  # what earlier tests left in the browser's log
    subprocess.run([sys.executable, "-m", "ocsea.cli", "demo", "--out", str(tmp_path / "d")],
                   check=True, capture_output=True, env={**os.environ, "PYTHAINLP_OFFLINE": "1"})  # fmt: skip
    for page in ("triage/report.html", "scan/report.html", "text/report.html", "cases/cases.html"):
        browser.get((tmp_path / "d" / page).as_uri())
        nav = browser.find_element(By.TAG_NAME, "nav")
        assert "index" in nav.text and nav.find_elements(By.TAG_NAME, "a")
        assert not _console_errors(browser), page
    browser.get((tmp_path / "d" / "text" / "report.html").as_uri())
    table = browser.find_element(By.TAG_NAME, "table")
    assert browser.find_elements(By.CSS_SELECTOR, "input[type=search]")  # more than ten rows
    score = table.find_elements(By.TAG_NAME, "th")[3]
    score.click()
    score.click()  # descending
    cells = [
        r.find_elements(By.TAG_NAME, "td")[3].text
        for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]
    values = [float(c) for c in cells if c]
    assert values == sorted(values, reverse=True) and len(values) > 10
    box = browser.find_element(By.CSS_SELECTOR, "input[type=search]")
    box.send_keys("pthc")
    shown = [r for r in table.find_elements(By.CSS_SELECTOR, "tbody tr") if r.is_displayed()]
    assert 0 < len(shown) < len(cells)
    assert _thai_faces(browser, "เด็ก") == {"loaded"}
    assert not _console_errors(browser)


def test_a_double_submit_records_one_review(site, browser):
    base, engine = site
    _sign_in(browser, base, "ana")
    browser.get(base + "/findings/1?status=all")
    browser.find_element(By.TAG_NAME, "body").send_keys("3")
    browser.execute_script(
        "const f = document.getElementById('review'); f.requestSubmit(); f.requestSubmit();"
    )
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "p.note[role=status]"))
    with engine.connect() as conn:
        n = conn.execute(select(reviews.c.id).where(reviews.c.finding_id == 1)).all()
    assert len(n) == 1
