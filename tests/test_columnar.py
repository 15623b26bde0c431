"""The columnar ingest path stores exactly what the row path stores, reports the same bad lines
with the same messages, and resumes the same way."""

import random
import shutil
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ocsea.config import Settings
from ocsea.ingest import columnar
from ocsea.ingest import queries as queries_mod
from ocsea.ingest.queries import ingest_queries
from ocsea.store.db import items, make_engine, query_sessions, query_stats, signals

KEY = b"test-key"
HEADER = "timestamp,query,session_id,region"
QUERIES = ["weather bangkok", "ด.ญ. ป.5 คลิป", "school uniform shop", "pthc 12yo", "ข่าว ตำรวจ จับ",
           "เด็ก ม.2 หลุด", "homework help", " padded query ", "teen 19yo", "ราคา ทอง"]  # fmt: skip
TIMES = ["2026-10-01T10:00:00Z", "2026-10-01T23:30:00-05:00", "2026-10-02 01:02:03",
         "2026-10-02T00:00:00.5+07:00", "1790000000", "1790000000123", "2026-10-03T10:00:00 UTC",
         " 2026-10-03T10:00:00Z", "2026-10-03", "2026-02-30T00:00:00Z", "2026-10-01T24:00:00Z",
         "yesterday", "", "0999-01-01T00:00:00"]  # fmt: skip
ODD_LINES = [b"", b"   ", b"\t", b"only,two", b"a,b,c,d,e", b'2026-10-01T10:00:00Z,"comma, inside",s1,bkk',
             b"2026-10-01T10:00:00Z,bad \xff utf8,s1,bkk", b"2026-10-01T10:00:00Z,,s1,bkk",
             b"2026-10-01T10:00:00Z,nul\x00byte,s1,bkk", b"2026-10-01T10:00:00Z,cr\rinside,s1,bkk",
             b"2026-10-01T10:00:00Z," + b"x" * 1200 + b",s1,bkk", b"2026-10-01T10:00:00Z,q,s1,r,"]  # fmt: skip


@pytest.fixture(scope="module")
def template_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("tpl") / "t.db"
    make_engine(f"sqlite:///{db}").dispose()
    return db


def fresh_engine(template_db, path):
    shutil.copy(template_db, path)
    return make_engine(f"sqlite:///{path}")


def stored(engine):
    """Everything ingest writes, by natural keys (ids may differ between the two runs)."""
    with engine.connect() as conn:
        text = dict(conn.execute(select(items.c.id, items.c.text)).all())
        return {
            "items": sorted(text.values()),
            "stats": sorted(
                (str(r.day), text[r.item_id], r.region, r.count)
                for r in conn.execute(select(query_stats))
            ),
            "sessions": sorted(
                (str(r.day), text[r.item_id], r.session)
                for r in conn.execute(select(query_sessions))
            ),
            "signals": sorted((text[r.item_id], r.label) for r in conn.execute(select(signals))),
        }


def both_paths(template_db, tmp_path, detector, path, **kw):
    out = []
    for col in (True, False):
        e = fresh_engine(template_db, tmp_path / f"{col}.db")
        r = ingest_queries(e, path, detector, Settings(pseudonym_key=KEY), columnar=col, **kw)
        out.append(((r.rows_done, r.rows_rejected, r.errors), stored(e)))
        e.dispose()
    return out


def write_log(path, lines: list[bytes], crlf: bool = False):
    nl = b"\r\n" if crlf else b"\n"
    path.write_bytes(HEADER.encode() + nl + nl.join(lines) + nl)


def plain_line(rng: random.Random) -> bytes:
    t = rng.choice(TIMES[:5])
    return (
        f"{t},{rng.choice(QUERIES)},s{rng.randrange(40)},{rng.choice(['bkk', 'cnx', ''])}".encode()
    )


@pytest.mark.parametrize("crlf", [False, True])
def test_columnar_and_row_paths_store_the_same(template_db, tmp_path, detector, monkeypatch, crlf):
    monkeypatch.setattr(columnar, "MIN_FAST_LINES", 50)
    rng = random.Random(7)
    lines = [plain_line(rng) for _ in range(3000)]
    for i, odd in enumerate(ODD_LINES * 3):
        lines.insert(rng.randrange(len(lines)), odd)
        lines.insert(
            rng.randrange(len(lines)), f"{TIMES[i % len(TIMES)]},homework help,s1,".encode()
        )
    p = tmp_path / "q.csv"
    write_log(p, lines, crlf)
    (cr, cs), (rr, rs) = both_paths(template_db, tmp_path, detector, p)
    assert cr == rr and cs == rs
    assert cr[0] > 3000 and cr[1] > 20 and cs["sessions"]
    # Chunks far smaller than the file, so lines meet chunk edges: still the same.
    monkeypatch.setattr(columnar, "CHUNK_BYTES", 4096)
    (cr2, cs2), _ = both_paths(template_db, tmp_path, detector, p)
    assert cr2 == rr and cs2 == rs
    # And epochs of a few chunks each (and of few row-parsed rows): counts and sessions from
    # several epochs add up to the same.
    monkeypatch.setattr(columnar, "FLUSH_BYTES", 3 * 4096)
    monkeypatch.setattr(columnar, "FLUSH_RECORDS", 10)
    (cr3, cs3), _ = both_paths(template_db, tmp_path, detector, p)
    assert cr3 == rr and cs3 == rs
    # Epochs closed on distinct queries, and queries stored as items a few at a time.
    monkeypatch.setattr(columnar, "FLUSH_BYTES", 1 << 30)
    monkeypatch.setattr(columnar, "FLUSH_RECORDS", 1 << 30)
    monkeypatch.setattr(columnar, "FLUSH_KEYS", 12)
    monkeypatch.setattr(queries_mod, "QUERY_BATCH", 3)
    (cr4, cs4), _ = both_paths(template_db, tmp_path, detector, p)
    assert cr4 == rr and cs4 == rs


def spy_on_loads(monkeypatch) -> list[bool]:
    """Whether each DuckDB load of a block read it (the P2P tests use it too)."""
    calls: list[bool] = []
    real = columnar.DuckChunk.load

    def spy(self, *a):
        ok = real(self, *a)
        calls.append(ok)
        return ok

    monkeypatch.setattr(columnar.DuckChunk, "load", spy)
    return calls


def test_a_plain_file_goes_through_duckdb(template_db, tmp_path, detector, monkeypatch):
    calls = spy_on_loads(monkeypatch)
    rng = random.Random(3)
    p = tmp_path / "q.tsv"
    lines = [plain_line(rng).replace(b",", b"\t") for _ in range(columnar.MIN_FAST_LINES + 10)]
    p.write_bytes(HEADER.replace(",", "\t").encode() + b"\n" + b"\n".join(lines) + b"\n")
    e = fresh_engine(template_db, tmp_path / "a.db")
    r = ingest_queries(e, p, detector, Settings(pseudonym_key=KEY))
    assert calls == [True] and r.rows_done == len(lines) and r.rows_rejected == 0
    # Nothing process-wide was changed on the way (scikit-learn looks pandas up in sys.modules).
    assert sys.modules.get("pandas", "absent") is not None


line = st.one_of(
    st.builds(
        lambda t, q, s, g: f"{t},{q},{s},{g}".encode(),
        st.sampled_from(TIMES),
        st.sampled_from([*QUERIES, ""]),
        st.sampled_from(["s1", "s2", "", " s3 "]),
        st.sampled_from(["bkk", "", " cnx"]),
    ),
    st.sampled_from(ODD_LINES),
    st.binary(max_size=40).filter(lambda b: b"\n" not in b),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(line, min_size=1, max_size=60), crlf=st.booleans())
def test_any_lines_give_the_same_result(template_db, tmp_path, detector, monkeypatch, lines, crlf):
    monkeypatch.setattr(columnar, "MIN_FAST_LINES", 1)
    p = tmp_path / "q.csv"
    write_log(p, lines, crlf)
    (cr, cs), (rr, rs) = both_paths(template_db, tmp_path, detector, p)
    assert cr == rr and cs == rs


def test_columnar_ingest_resumes_after_a_crash(template_db, tmp_path, detector, monkeypatch):
    monkeypatch.setattr(columnar, "MIN_FAST_LINES", 10)
    monkeypatch.setattr(columnar, "CHUNK_BYTES", 2048)
    monkeypatch.setattr(columnar, "FLUSH_BYTES", 4096)  # an epoch of about two chunks
    rng = random.Random(5)
    p = tmp_path / "q.csv"
    write_log(p, [plain_line(rng) for _ in range(400)])
    e = fresh_engine(template_db, tmp_path / "r.db")
    calls = {"n": 0}

    def crash_on_second(n):
        calls["n"] += 1
        if calls["n"] == 5:  # after the second epoch, before the third is written
            raise KeyboardInterrupt("simulated crash")

    s = Settings(pseudonym_key=KEY)
    with pytest.raises(KeyboardInterrupt):
        ingest_queries(e, p, detector, s, progress=crash_on_second)
    r = ingest_queries(e, p, detector, s)
    assert r.resumed_from_line > 1
    again = ingest_queries(e, p, detector, s)
    assert again.already_done
    whole = fresh_engine(template_db, tmp_path / "w.db")
    ingest_queries(whole, p, detector, s)
    assert stored(e) == stored(whole)


def test_the_columnar_path_can_be_switched_off_in_config(tmp_path):
    from ocsea.config import ConfigError, load_settings

    cfg = tmp_path / "ocsea.toml"
    cfg.write_text("[ingest]\ncolumnar = false\n")
    assert load_settings(cfg).ingest_columnar is False
    assert load_settings(tmp_path / "none.toml").ingest_columnar is True
    cfg.write_text('[ingest]\ncolumnar = "yes"\n')
    with pytest.raises(ConfigError, match=r"ingest\.columnar"):
        load_settings(cfg)


def test_the_epoch_size_is_set_in_config_and_reaches_the_ingest(tmp_path, monkeypatch, detector):
    from ocsea.config import ConfigError, load_settings

    cfg = tmp_path / "ocsea.toml"
    assert load_settings(cfg).ingest_epoch_mb is None
    cfg.write_text("[ingest]\nepoch_mb = 64\n")
    s = load_settings(cfg)
    assert s.ingest_epoch_mb == 64
    for bad in ("8", "5000", '"64"', "64.5", "true"):
        cfg.write_text(f"[ingest]\nepoch_mb = {bad}\n")
        with pytest.raises(ConfigError, match=r"ingest\.epoch_mb"):
            load_settings(cfg)
    seen = []
    real = columnar.Epochs.__init__

    def spy(self, flush_bytes=None):
        seen.append(flush_bytes)
        real(self, flush_bytes)

    monkeypatch.setattr(columnar.Epochs, "__init__", spy)
    p = tmp_path / "q.csv"
    write_log(p, [b"2026-10-01T10:00:00Z,homework help,s1,bkk"])
    e = make_engine(f"sqlite:///{tmp_path / 'e.db'}")
    ingest_queries(e, p, detector, Settings(pseudonym_key=KEY, ingest_epoch_mb=64))
    assert seen == [64 << 20]


def _reader_threads() -> list:
    import threading

    return [t for t in threading.enumerate() if t.name == "ocsea-ingest-reader"]


def test_read_ahead_keeps_file_order_and_stays_within_its_depth():
    import threading

    ahead = {"max": 0}
    taken = []
    lock = threading.Lock()

    def prepare(chunk):
        with lock:
            ahead["max"] = max(ahead["max"], chunk - len(taken))
        return chunk

    for item in columnar.read_ahead(iter(range(200)), prepare, depth=2):
        with lock:
            taken.append(item)
    assert taken == list(range(200))
    assert ahead["max"] <= 3  # two waiting in the queue and one being prepared
    assert not _reader_threads()


def test_read_ahead_raises_the_readers_error_and_stops():
    def prepare(chunk):
        if chunk == 3:
            raise ValueError("chunk 3 is bad")
        return chunk

    got = []
    with pytest.raises(ValueError, match="chunk 3 is bad"):
        for item in columnar.read_ahead(iter(range(10)), prepare):
            got.append(item)
    assert got == [0, 1, 2]
    assert not _reader_threads()


def test_read_ahead_stops_the_reader_when_the_writer_stops():
    closed = []

    def chunks():
        try:
            yield from range(1000)
        finally:
            closed.append(True)

    gen = columnar.read_ahead(chunks(), lambda c: c)
    with pytest.raises(RuntimeError, match="writer failed"):
        for item in gen:
            if item == 5:
                raise RuntimeError("writer failed")
    gen.close()
    assert not _reader_threads()
    assert closed == [True]  # the file is closed, not left to the garbage collector


def test_epochs_close_on_input_size_or_on_rows_held(monkeypatch):
    monkeypatch.setattr(columnar, "FLUSH_BYTES", 100)
    monkeypatch.setattr(columnar, "FLUSH_RECORDS", 5)
    ep = columnar.Epochs()

    def prep(n_records):
        return columnar.Prepared(ep.epoch, 1, 0, 0, None, 0, [None] * n_records, [], [])

    assert [ep.close_if_full(prep(0), 60).ends_epoch for _ in range(4)] == [
        False,
        True,
        False,
        True,
    ]
    assert ep.epoch == 2
    assert ep.close_if_full(prep(5), 1).ends_epoch
    assert ep.epoch == 3

    class Keys:
        n_keys = 7

    monkeypatch.setattr(columnar, "FLUSH_KEYS", 10)
    with_keys = columnar.Prepared(ep.epoch, 1, 0, 0, Keys(), 0, [], [], [])
    assert not ep.close_if_full(with_keys, 1).ends_epoch
    assert ep.close_if_full(with_keys, 1).ends_epoch


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300), size=st.integers(1, 64), small=st.integers(4, 64))
def test_blocks_count_lines_and_measure_them_as_a_split_would(tmp_path_factory, data, size, small):
    """Blocks count their lines without splitting, and the longest line is found in NumPy: both
    as ``data.split(b"\\n")`` less a last empty piece gives."""
    p = tmp_path_factory.mktemp("blocks") / "f.csv"
    p.write_bytes(data)
    blocks = list(columnar.raw_chunks(p, 0, 0, size, ramp=size > 8))
    assert b"".join(b.data for b in blocks) == data
    line = 1
    for b in blocks:
        lines = b.data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        assert (b.n_lines, b.lines, b.first_line, b.end_line) == (
            len(lines),
            lines,
            line,
            line + len(lines) - 1,
        )
        line += len(lines)
        old = columnar.MAX_LINE
        columnar.MAX_LINE = small  # the NumPy path, on short inputs
        try:
            expect = max(map(len, lines), default=0)
            got = columnar.longest_line(b.data)
            assert got == expect or (len(b.data) < small and expect <= got < small)
        finally:
            columnar.MAX_LINE = old
