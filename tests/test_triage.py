import csv

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from ocsea.config import Settings
from ocsea.demo.synthetic import PLANTED_TERMS, make_demo_data
from ocsea.hashlists.store import import_file
from ocsea.ingest.p2p import ingest_p2p
from ocsea.ingest.queries import ingest_queries
from ocsea.ingest.stream import IngestError
from ocsea.match.matcher import Matcher
from ocsea.store.db import findings, items, make_engine, observations, query_sessions, query_stats
from ocsea.triage.priority import Factors, kind_of, priority
from ocsea.triage.run import accept_terms, discover_terms, overlay_entries, run_triage

from .test_cli import run

KEY = b"test-key"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return make_demo_data(tmp_path_factory.mktemp("demo"), p2p_rows=3000, query_rows=30000, seed=11)


@pytest.fixture
def engine(db_url):
    e = make_engine(db_url)
    yield e
    e.dispose()


def count(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_p2p_ingest_is_idempotent_and_resumable(engine, detector, demo, tmp_path):
    s = Settings()
    calls = {"n": 0}

    def crash_after_two_chunks(n):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("simulated crash")

    with pytest.raises(KeyboardInterrupt):
        ingest_p2p(
            engine,
            demo.p2p_log,
            detector,
            s,
            progress=crash_after_two_chunks,
            chunk_rows=700,
            columnar=False,
        )
    partial = count(engine, observations)
    assert partial == 1400  # two chunks committed, nothing of the third
    r = ingest_p2p(engine, demo.p2p_log, detector, s, chunk_rows=700, columnar=False)
    assert r.resumed_from_line == 1401 and r.rows_done == 1600
    assert count(engine, observations) == 3000
    again = ingest_p2p(engine, demo.p2p_log, detector, s)
    assert again.already_done and count(engine, observations) == 3000
    # The same rows in another file (an overlapping export) add no observations, through the
    # columnar path either (it keys rows as the row path does).
    copy = tmp_path / "copy.csv"
    copy.write_text(demo.p2p_log.read_text() + "\n")
    ingest_p2p(engine, copy, detector, s)
    assert count(engine, observations) == 3000


def test_malformed_rows_are_reported_and_the_rest_goes_on(engine, detector, tmp_path):
    p = tmp_path / "bad.csv"
    rows = [
        ["timestamp", "network", "ip", "guid", "filename", "size", "sha1"],
        ["2026-10-01T10:00:00Z", "gnutella", "192.0.2.1", "G1", "holiday.jpg", "100", ""],
        ["yesterday", "gnutella", "192.0.2.1", "G1", "a.jpg", "1", ""],
        ["2026-10-01T10:00:00Z", "gnutella", "999.1.1.1", "G1", "b.jpg", "1", ""],
        ["2026-10-01T10:00:00Z", "gnutella", "192.0.2.1", "", "c.jpg", "1", ""],
        ["2026-10-01T10:00:00Z", "gnutella", "192.0.2.1", "G2", "d.jpg", "1", "nothex"],
        ["1790000000", "edonkey", "2001:db8::1", "G3", "pthc new.avi", "5", "urn:sha1:" + "A" * 32],
    ]
    with p.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    with p.open("a") as fh:
        fh.write("only,three,fields\n")
    r = ingest_p2p(engine, p, detector, Settings())
    assert (r.rows_done, r.rows_rejected) == (2, 5)
    text = "\n".join(r.errors)
    for expect in ("bad.csv:3: field 'timestamp'", "bad.csv:4: field 'ip'", "bad.csv:5: field 'guid'",
                   "bad.csv:6: field 'sha1'", "bad.csv:8: expected 7 fields"):  # fmt: skip
        assert expect in text


def test_missing_columns_and_missing_key_are_clear_errors(engine, detector, tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("when,who\n1,2\n")
    with pytest.raises(IngestError, match="no column for timestamp"):
        ingest_p2p(engine, p, detector, Settings())
    q = tmp_path / "q.csv"
    q.write_text("timestamp,query,session_id\n2026-10-01T00:00:00Z,weather,s1\n")
    with pytest.raises(IngestError, match="pseudonymisation key"):
        ingest_queries(engine, q, detector, Settings())


def test_raw_session_ids_never_reach_the_database(tmp_path, detector, demo):
    db = tmp_path / "p.db"
    engine = make_engine(f"sqlite:///{db}")
    ingest_queries(engine, demo.query_log, detector, Settings(pseudonym_key=KEY))
    assert count(engine, query_sessions) > 0
    with engine.connect() as conn:
        sessions = [r[0] for r in conn.execute(select(query_sessions.c.session).limit(50))]
    assert all(len(s) == 32 and not s.startswith("sess-") for s in sessions)
    engine.dispose()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("p.db*"))
    assert b"sess-" not in raw


def test_triage_ranks_unknown_flagged_first_and_finds_planted_terms(engine, detector, demo):
    import_file(engine, demo.hash_list, "demo")
    s = Settings(pseudonym_key=KEY)
    ingest_p2p(engine, demo.p2p_log, detector, s)
    ingest_queries(engine, demo.query_log, detector, s)
    summary = run_triage(engine, s.triage_weights, Matcher.from_store(engine))
    assert summary.by_kind.get("known", 0) > 0 and summary.by_kind.get("unknown-flagged", 0) > 0
    with engine.connect() as conn:
        top = (
            conn.execute(select(findings.c.kind).order_by(findings.c.priority.desc()).limit(5))
            .scalars()
            .all()
        )
        assert count(engine, query_stats) > 0
    assert top[0] == "unknown-flagged"
    tok = detector.lexicon.tokenizer
    cands = discover_terms(
        engine, detector.lexicon.known_keys(), lambda t: [x.text for x in tok.tokenize(t)]
    )
    top_terms = [c.term for c in cands[:5]]
    assert set(PLANTED_TERMS) <= set(top_terms)
    assert not {"ราคา", "video", "kids", "school"} & {c.term for c in cands}
    accept_terms(engine, ["zqvx"], "csa_code", "mixed", 1.0, "tester")
    (entry,) = overlay_entries(engine)
    assert entry.term == "zqvx" and entry.source.startswith("analyst:tester ")
    from ocsea.text.detector import Detector

    det2 = Detector(
        detector.model,
        __import__("ocsea.text.lexicon", fromlist=["Lexicon"]).Lexicon.default(extra=[entry]),
    )
    assert any(r.term == "zqvx" for r in det2.classify("zqvx new").reasons)
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(func.count()).select_from(items).where(items.c.kind == "query")
            ).scalar_one()
            > 100
        )


# ---- the priority function --------------------------------------------------------------------
factor_strategy = st.builds(
    Factors,
    text_label=st.sampled_from(["csa", "adult", "benign", None]),
    text_score=st.floats(0, 1),
    known=st.booleans(),
    near_duplicate=st.booleans(),
    min_age=st.one_of(st.none(), st.integers(0, 40)),
    live=st.booleans(),
    payment=st.booleans(),
    producer=st.booleans(),
    n_sharers=st.integers(0, 1000),
    days_since_seen=st.one_of(st.none(), st.floats(0, 1000)),
)


def test_unknown_flagged_beats_known_beats_benign():
    base = {"text_score": 0.6, "n_sharers": 3, "days_since_seen": 2.0}
    unknown = priority(Factors(text_label="csa", **base))[0]
    known = priority(Factors(text_label="benign", known=True, **base))[0]
    benign = priority(Factors(text_label="benign", **base))[0]
    assert unknown > known > benign
    assert kind_of(Factors(text_label="csa", known=True)) == "known"


@settings(max_examples=300, deadline=None)
@given(f=factor_strategy)
def test_priority_is_monotone_in_each_factor(f):
    from dataclasses import replace

    p, parts = priority(f)
    assert p >= 0 and abs(sum(parts.values()) - p) < 1e-3
    assert priority(replace(f, text_score=min(1.0, f.text_score + 0.1)))[0] >= p
    assert priority(replace(f, n_sharers=f.n_sharers + 1))[0] >= p
    for flag in ("live", "payment", "producer"):
        assert priority(replace(f, **{flag: True}))[0] >= p
    if f.min_age is not None and f.min_age > 0:
        assert priority(replace(f, min_age=f.min_age - 1))[0] >= p
    if f.days_since_seen is not None and f.days_since_seen > 1:
        assert priority(replace(f, days_since_seen=f.days_since_seen - 1))[0] >= p


def test_cli_end_to_end(tmp_path, demo):
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    key = {"OCSEA_PSEUDONYM_KEY": "5f" * 32}
    run("hashes", "import", str(demo.hash_list), "--list", "demo", "--db", db)
    run("ingest", "p2p", str(demo.p2p_log), "--db", db)
    p = run("ingest", "queries", str(demo.query_log), "--db", db, check=False)
    assert p.returncode == 2 and "[pseudonymise] key_file" in " ".join(p.stderr.decode().split())
    run("ingest", "queries", str(demo.query_log), "--db", db, env=key)
    p = run("triage", "--report", str(tmp_path / "rep"), "--db", db)
    assert "unknown-flagged" in p.stdout.decode()
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "data:image/png;base64," in html
    from ocsea.web.assets import REPORT_SCRIPT, REPORT_SCRIPT_SRC

    # one script only, ours, inline and allowed by its hash; nothing is loaded from elsewhere
    assert html.count("<script") == 1 and f"<script>{REPORT_SCRIPT}</script>" in html
    assert f"script-src {REPORT_SCRIPT_SRC}" in html and "<script src" not in html
    for f in ("findings.csv", "sharers.csv", "terms.csv", "report.json"):
        assert (tmp_path / "rep" / f).exists()
    assert "GUID" in run("sharers", "--top", "5", "--db", db).stdout.decode()
    out = run("terms", "discover", "--db", db).stdout.decode()
    assert PLANTED_TERMS[0] in out
    run("terms", "accept", PLANTED_TERMS[0], "--analyst", "t", "--db", db)


def test_classify_uses_accepted_terms_from_the_database(tmp_path):
    db = tmp_path / "t.db"
    env = {"OCSEA_DATABASE_URL": f"sqlite:///{db}"}
    import json

    before = json.loads(run("classify", "-", stdin=b"zqvx\n", env=env).stdout)
    assert not [r for r in before["reasons"] if r["kind"] == "lexicon"]
    assert not db.exists()  # looking did not create a database
    run("terms", "accept", "zqvx", "--analyst", "t", "--db", f"sqlite:///{db}")
    after = json.loads(run("classify", "-", stdin=b"zqvx\n", env=env).stdout)
    (r,) = [r for r in after["reasons"] if r["kind"] == "lexicon"]
    assert (
        r["term"] == "zqvx" and r["category"] == "csa_code" and r["source"].startswith("analyst:t ")
    )


def test_the_words_of_one_frequent_query_are_no_new_term():
    """A term must be used in several different flagged queries: one popular flagged query's
    words (here spread out letter by letter, also reordered and with a number) are not
    candidates, a codeword across queries is."""
    from datetime import date

    from ocsea.triage.terms import MIN_DISTINCT, discover

    day = date(2026, 11, 1)
    rows = [(["วี", "ดี", "โอ", "คลา", "ส"], True, 500, day)]
    rows += [
        (["วี", "ดี", "โอ", "คลา", "ส", "2"], True, 1, day),
        (["ดี", "วี", "โอ", "คลา", "ส"], True, 1, day),
    ]
    rows += [(["qzx", "word", w], True, 3, day) for w in ("clip", "link", "pack")[:MIN_DISTINCT]]
    rows += [(["weather", "today", str(k)], False, 50, day) for k in range(20)]
    terms = [c.term for c in discover(rows, known_terms=set())]
    assert "qzx" in terms and "word" in terms
    assert not {"วี", "ดี", "โอ", "คลา"} & set(terms)
    fewer = [(["qzx", str(k)], True, 9, day) for k in range(MIN_DISTINCT - 1)]
    assert "qzx" not in [c.term for c in discover(fewer + rows[-20:], known_terms=set())]
