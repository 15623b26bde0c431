"""The columnar P2P ingest stores exactly what the row path stores (files, sharers, sightings with
their row keys, sharer addresses, verdicts), reports the same bad lines, and resumes the same way."""

import base64
import random
from datetime import UTC

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ocsea.config import Settings
from ocsea.ingest import columnar
from ocsea.ingest import p2p as p2p_mod
from ocsea.ingest.columnar import exact_epoch_sql
from ocsea.ingest.p2p import ingest_p2p
from ocsea.ingest.rows import parse_time
from ocsea.store.db import items, make_engine, observations, sharer_ips, sharers, signals

from .test_columnar import fresh_engine, spy_on_loads

HEADER = "timestamp,network,ip,port,guid,client,filename,size,sha1,md5"
NAMES = ["holiday.jpg", "pthc 9yo new.avi", "ด.ญ. ป.5 คลิป.mp4", "setup.exe", "teen 19yo.mp4",
         "IMG_0001.png", "ข่าว ตำรวจ.pdf", "  padded name.jpg ", "a" * 1001]  # fmt: skip
TIMES = ["2026-10-01T10:00:00Z", "2026-10-01T23:30:00-05:00", "2026-10-02 01:02:03",
         "2026-10-02T00:00:00.5+07:00", "1790000000", "1790000000123", "1790000000.25",
         "2026-10-03T10:00:00 UTC", " 2026-10-03T10:00:00Z", "2026-10-03", "2026-02-30T00:00:00Z",
         "yesterday", "", "๑๗๙๐๐๐๐๐๐๐", "9999999999999"]  # fmt: skip
SHA1 = ["ab" * 20, "AB" * 20, "urn:sha1:" + base64.b32encode(bytes.fromhex("cd" * 20)).decode(),
        "sha1:" + "ef" * 20, "", "nothex", "12" * 20]  # fmt: skip
IPS = ["192.0.2.1", "203.0.113.7", "2001:db8:0:0::1", "2001:db8::1", "", "999.1.1.1", " 192.0.2.9"]
PORTS = ["6346", "0", "65535", "65536", "", "๖๓๔๖", "²", " 80", "-1"]
SIZES = ["100", "0", "", "99999999999999999999", "12x", "๑๒"]
GUIDS = ["G1", "G2", "g1", " G3 ", ""]
CLIENTS = ["LimeWire/5.5", "", "eMule/0.50a"]
NETWORKS = ["gnutella", "EDONKEY", "", " bittorrent"]
ODD_LINES = [b"", b"   ", b"only,three,fields", b'2026-10-01T10:00:00Z,gnutella,192.0.2.1,1,G1,,"a, b.jpg",1,,',
             b"2026-10-01T10:00:00Z,gnutella,192.0.2.1,1,G1,,bad \xff.jpg,1,,",
             b"2026-10-01T10:00:00Z,gnutella,192.0.2.1,1,G1,,nul\x00.jpg,1,,",
             b"2026-10-01T10:00:00Z,gnutella,192.0.2.1,1,G1,,cr\rinside.jpg,1,,"]  # fmt: skip


@pytest.fixture(scope="module")
def template_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("tpl") / "t.db"
    make_engine(f"sqlite:///{db}").dispose()
    return db


def stored(engine):
    """Everything P2P ingest writes, by natural keys (ids differ between runs)."""
    with engine.connect() as conn:
        key = dict(conn.execute(select(items.c.id, items.c.key)).all())
        guid = {r.id: (r.network, r.guid) for r in conn.execute(select(sharers))}
        return {
            "items": sorted((r.key, r.text, r.sha1, r.md5, r.size, str(r.first_seen), str(r.last_seen))
                            for r in conn.execute(select(items))),
            "sharers": sorted((r.network, r.guid, r.client, str(r.first_seen), str(r.last_seen))
                              for r in conn.execute(select(sharers))),
            "observations": sorted((r.row_key, guid[r.sharer_id], key[r.item_id], r.ip, r.port, str(r.seen_at))
                                   for r in conn.execute(select(observations))),
            "sharer_ips": sorted((guid[r.sharer_id], r.ip, str(r.first_seen), str(r.last_seen))
                                 for r in conn.execute(select(sharer_ips))),
            "signals": sorted((key[r.item_id], r.label) for r in conn.execute(select(signals))),
        }  # fmt: skip


def both_paths(template_db, tmp_path, detector, path):
    out = []
    for col in (True, False):
        e = fresh_engine(template_db, tmp_path / f"{col}.db")
        r = ingest_p2p(e, path, detector, Settings(), columnar=col)
        out.append(((r.rows_done, r.rows_rejected, r.errors), stored(e)))
        e.dispose()
    return out


def plain_line(rng: random.Random) -> bytes:
    sha1 = rng.choice(["ab" * 20, "cd" * 20, ""])
    return (f"{rng.choice(TIMES[:6])},{rng.choice(['gnutella', 'edonkey'])},"
            f"{rng.choice(IPS[:4])},{rng.randrange(1, 65536)},{rng.choice(['G1', 'G2', 'G3'])},"
            f"{rng.choice(CLIENTS)},{rng.choice(NAMES[:7])},{rng.choice(['100', '0', ''])},"
            f"{sha1},").encode()  # fmt: skip


def odd_line(rng: random.Random) -> bytes:
    """Values the SQL leaves to the row parser, or that the row path's cleaners change."""
    return ",".join([rng.choice(TIMES), rng.choice(NETWORKS), rng.choice(IPS), rng.choice(PORTS),
                     rng.choice(GUIDS), rng.choice(CLIENTS), rng.choice(NAMES), rng.choice(SIZES),
                     rng.choice(SHA1), rng.choice(["", "AA" * 16, "md5:" + "bb" * 16])]).encode()  # fmt: skip


def write_log(path, lines: list[bytes]) -> None:
    path.write_bytes(HEADER.encode() + b"\n" + b"\n".join(lines) + b"\n")


def test_columnar_and_row_paths_store_the_same(template_db, tmp_path, detector, monkeypatch):
    monkeypatch.setattr(columnar, "MIN_FAST_LINES", 50)
    rng = random.Random(7)
    lines = [plain_line(rng) for _ in range(2000)]
    for _ in range(300):
        lines.insert(rng.randrange(len(lines)), odd_line(rng))
    for odd in ODD_LINES * 2:
        lines.insert(rng.randrange(len(lines)), odd)
    p = tmp_path / "p.csv"
    write_log(p, lines)
    (cr, cs), (rr, rs) = both_paths(template_db, tmp_path, detector, p)
    assert cr == rr
    for table in rs:
        assert cs[table] == rs[table], table
    assert cr[0] > 2000 and cr[1] > 50 and len(rs["sharer_ips"]) > 3
    # Chunks far smaller than the file: a file's name is still its first row's, and a sharer's
    # client its last row's that names one.
    monkeypatch.setattr(p2p_mod, "BLOCK_BYTES", 4096)
    blocks = []
    real = columnar.prepare_chunk
    monkeypatch.setattr(columnar, "prepare_chunk", lambda *a: blocks.append(1) or real(*a))
    (cr2, cs2), _ = both_paths(template_db, tmp_path, detector, p)
    assert cr2 == rr and cs2 == rs
    assert len(blocks) > 20


def test_a_plain_export_goes_through_duckdb(template_db, tmp_path, detector, monkeypatch):
    calls = spy_on_loads(monkeypatch)
    parsed = []
    monkeypatch.setattr(columnar, "parse_rows", lambda rows, *a: parsed.extend(rows) or [])
    rng = random.Random(3)
    p = tmp_path / "p.csv"
    write_log(p, [plain_line(rng) for _ in range(columnar.MIN_FAST_LINES + 10)])
    r = ingest_p2p(fresh_engine(template_db, tmp_path / "a.db"), p, detector, Settings())
    assert calls == [True] and parsed == []
    assert r.rows_done == columnar.MIN_FAST_LINES + 10 and r.rows_rejected == 0


line = st.one_of(
    st.builds(lambda seed: plain_line(random.Random(seed)), st.integers(0, 10_000)),
    st.builds(lambda seed: odd_line(random.Random(seed)), st.integers(0, 10_000)),
    st.sampled_from(ODD_LINES),
    st.binary(max_size=60).filter(lambda b: b"\n" not in b),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(line, min_size=1, max_size=40))
def test_any_lines_give_the_same_result(template_db, tmp_path, detector, monkeypatch, lines):
    monkeypatch.setattr(columnar, "MIN_FAST_LINES", 1)
    p = tmp_path / "p.csv"
    write_log(p, lines)
    (cr, cs), (rr, rs) = both_paths(template_db, tmp_path, detector, p)
    assert cr == rr and cs == rs


def test_columnar_p2p_ingest_resumes_after_a_crash(template_db, tmp_path, detector, monkeypatch):
    monkeypatch.setattr(columnar, "MIN_FAST_LINES", 10)
    monkeypatch.setattr(p2p_mod, "BLOCK_BYTES", 2048)  # ~25 rows a chunk, each its own epoch
    rng = random.Random(5)
    p = tmp_path / "p.csv"
    write_log(p, [plain_line(rng) for _ in range(400)])
    e = fresh_engine(template_db, tmp_path / "r.db")
    calls = {"n": 0}

    def crash_on_third(n):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("simulated crash")

    with pytest.raises(KeyboardInterrupt):
        ingest_p2p(e, p, detector, Settings(), progress=crash_on_third)
    with e.connect() as conn:  # two chunks committed, nothing of the third
        assert 0 < len(conn.execute(select(observations.c.id)).all()) < 100
    r = ingest_p2p(e, p, detector, Settings())
    assert r.resumed_from_line > 1
    assert ingest_p2p(e, p, detector, Settings()).already_done
    whole = fresh_engine(template_db, tmp_path / "w.db")
    ingest_p2p(whole, p, detector, Settings(), columnar=False)
    assert stored(e) == stored(whole)


@settings(max_examples=200, deadline=None)
@given(
    value=st.one_of(
        st.integers(10**8, 10**13 - 1).map(str),
        st.integers(4294967296000 - 50, 4294967296000 + 50).map(str),
        st.from_regex(r"[0-9]{9,13}", fullmatch=True),
    )
)
def test_epoch_times_in_sql_are_exactly_those_of_the_row_parser(value):
    con = duckdb.connect()
    got = con.execute(f"SELECT {exact_epoch_sql('v')} FROM (SELECT ? AS v)", [value]).fetchone()[0]
    if got is not None:  # NULL: left to the row parser
        assert got.replace(tzinfo=UTC) == parse_time(value)
    else:
        assert int(value) >= 4294967296000, f"{value} should be read in SQL"


def test_row_keys_of_both_paths_deduplicate_each_other(template_db, tmp_path, detector):
    """A sighting stored by one path is not stored again by the other (an overlapping export)."""
    rng = random.Random(11)
    lines = [plain_line(rng) for _ in range(3000)]
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    write_log(a, lines[:2000])
    write_log(b, lines[1000:])
    e = fresh_engine(template_db, tmp_path / "d.db")
    ingest_p2p(e, a, detector, Settings(), columnar=False)
    ingest_p2p(e, b, detector, Settings(), columnar=True)
    whole = tmp_path / "whole.csv"
    write_log(whole, lines)
    e2 = fresh_engine(template_db, tmp_path / "d2.db")
    ingest_p2p(e2, whole, detector, Settings(), columnar=False)
    assert stored(e)["observations"] == stored(e2)["observations"]


def test_foreign_keys_are_checked_again_after_ingest_even_when_it_fails(
    template_db, tmp_path, detector, monkeypatch
):
    """The columnar writer turns SQLite's per-row reference checks off for its own transaction
    only: every stored reference is valid, and the connection goes back to the pool with
    checks on, also after a failed epoch."""
    from ocsea.ingest import p2p

    monkeypatch.setattr(columnar, "MIN_FAST_LINES", 10)
    rng = random.Random(9)
    p = tmp_path / "p.csv"
    write_log(p, [plain_line(rng) for _ in range(300)])
    e = fresh_engine(template_db, tmp_path / "fk.db")
    seen_off = []
    real = p2p._store_items_and_sharers

    def spy(conn, *a):
        seen_off.append(conn.exec_driver_sql("PRAGMA foreign_keys").scalar())
        return real(conn, *a)

    monkeypatch.setattr(p2p, "_store_items_and_sharers", spy)
    ingest_p2p(e, p, detector, Settings())
    assert seen_off and set(seen_off) == {0}  # off inside the epoch's transaction
    with e.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []

    def boom(*a):
        raise RuntimeError("disk full")

    monkeypatch.setattr(p2p, "_text_signals", boom)
    q = tmp_path / "q.csv"
    write_log(q, [plain_line(rng) for _ in range(300)])
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_p2p(e, q, detector, Settings())
    with e.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    e.dispose()


def test_config_switches_p2p_ingest_to_the_row_path(template_db, tmp_path, detector, monkeypatch):
    loads = []
    monkeypatch.setattr(columnar.DuckChunk, "load", lambda self, *a: loads.append(1) or False)
    rng = random.Random(4)
    p = tmp_path / "p.csv"
    write_log(p, [plain_line(rng) for _ in range(columnar.MIN_FAST_LINES + 1)])
    s = Settings()
    s.ingest_columnar = False
    r = ingest_p2p(fresh_engine(template_db, tmp_path / "row.db"), p, detector, s)
    assert r.rows_done == columnar.MIN_FAST_LINES + 1 and loads == []


def test_tab_separated_exports_store_the_same_both_ways(
    template_db, tmp_path, detector, monkeypatch
):
    monkeypatch.setattr(columnar, "MIN_FAST_LINES", 20)
    rng = random.Random(21)
    lines = [plain_line(rng).replace(b",", b"\t") for _ in range(400)]
    for _ in range(40):
        lines.insert(rng.randrange(len(lines)), odd_line(rng).replace(b",", b"\t"))
    p = tmp_path / "p.tsv"
    p.write_bytes(HEADER.replace(",", "\t").encode() + b"\n" + b"\n".join(lines) + b"\n")
    (cr, cs), (rr, rs) = both_paths(template_db, tmp_path, detector, p)
    assert cr == rr and cs == rs and cr[0] >= 400
