"""``ocsea ingest queries|p2p --dask``: the same store, the same lines on stderr and the same exit
code as a plain run, with bad rows, a second run of the same file and a resumed run; a worker
killed mid-run costs a retry, not a row; a ``--dask`` problem is one line."""

import json
import os
import random
import sqlite3
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ocsea.cli.app import app
from ocsea.cluster import connect, ranges, submit
from ocsea.cluster import ingest as cluster_ingest
from ocsea.cluster.work import DetectorSpec
from ocsea.config import Settings
from ocsea.ingest import stream
from ocsea.ingest.p2p import ingest_p2p_on_cluster
from ocsea.ingest.queries import ingest_queries, ingest_queries_on_cluster
from ocsea.store.db import make_engine
from ocsea.text.detector import Detector

from . import test_columnar as q_log
from . import test_p2p_columnar as p2p_log
from .cluster_faults import kill_after_three_results
from .test_cluster_classify import ENGLISH, THAI

distributed = pytest.importorskip("distributed")

KEY = "5f" * 32
# Columns whose values are the time of the run, not of the data (the audit chain's hashes
# cover its times).
RUN_TIME = {"created_at", "started_at", "finished_at", "imported_at", "updated_at", "at",
            "prev_hash", "hash"}  # fmt: skip
# Tables whose autoincrement ids another table refers to, by their natural key.
NATURAL = {"items": ("kind", "key"), "sharers": ("network", "guid"),
           "ingest_jobs": ("kind", "file_sha256")}  # fmt: skip
REFERS = {"item_id": "items", "sharer_id": "sharers", "job_id": "ingest_jobs"}


def contents(db: Path, keep_ids: bool = False) -> dict[str, list[tuple]]:
    """Every table's rows without the run's times; ids dropped and references given by natural
    key (insertion order, hence ids, is not defined), rows sorted; the audit log in its order.
    ``keep_ids``: ids kept as stored (where they must be the same)."""
    con = sqlite3.connect(db)
    try:
        tables = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        natural = {t: _natural_keys(con, t) for t in NATURAL}
        out = {}
        for t in tables:
            cols = [c[1] for c in con.execute(f"PRAGMA table_info({t})")]
            order = "ORDER BY id" if t == "audit_log" else ""
            rows = [
                tuple(_value(c, v, natural, keep_ids) for c, v in zip(cols, r, strict=True)
                      if c not in RUN_TIME and (keep_ids or c != "id"))
                for r in con.execute(f"SELECT * FROM {t} {order}")
            ]  # fmt: skip
            out[t] = rows if order else sorted(rows, key=repr)
        return out
    finally:
        con.close()


def _natural_keys(con: sqlite3.Connection, table: str) -> dict[int, tuple]:
    cols = ", ".join(NATURAL[table])
    return {r[0]: r[1:] for r in con.execute(f"SELECT id, {cols} FROM {table}")}


def _value(col: str, v, natural: dict, keep_ids: bool):
    if not keep_ids and col in REFERS and v is not None:
        return natural[REFERS[col]][v]
    return v


def same_store(a: Path, b: Path) -> None:
    got, want = contents(a), contents(b)
    assert got.keys() == want.keys()
    for table in want:
        assert got[table] == want[table], table


def ingest(kind: str, path: Path, db: Path, *extra: str):
    env = {"OCSEA_PSEUDONYM_KEY": KEY, "OCSEA_CONFIG": str(db.parent / "none.toml")}
    return CliRunner().invoke(app, ["ingest", kind, str(path), "--db", f"sqlite:///{db}", *extra],
                              env=env)  # fmt: skip


def same_run(plain, dask) -> None:
    assert dask.exit_code == plain.exit_code, dask.output
    assert dask.stdout_bytes == plain.stdout_bytes
    assert dask.stderr_bytes == plain.stderr_bytes


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> dict[str, Path]:
    """A query log (CSV and JSONL) and a P2P export with bad rows among good ones: the
    columnar tests' lines (every odd kind of line and value), and unique queries."""
    root = tmp_path_factory.mktemp("logs")
    rng = random.Random(20)
    lines = [q_log.plain_line(rng) for _ in range(1500)] + unique_queries(rng, 500)
    rng.shuffle(lines)
    for i, odd in enumerate(q_log.ODD_LINES * 2):
        lines.insert(rng.randrange(len(lines)), odd)
        time = q_log.TIMES[i % len(q_log.TIMES)]
        lines.insert(rng.randrange(len(lines)), f"{time},homework help,s1,".encode())
    q_log.write_log(root / "queries.csv", lines)
    (root / "queries.jsonl").write_bytes(b"".join(as_json(line) + b"\n" for line in lines))
    rows = [p2p_log.plain_line(rng) for _ in range(1500)]
    for _ in range(200):
        rows.insert(rng.randrange(len(rows)), p2p_log.odd_line(rng))
    for odd in p2p_log.ODD_LINES * 2:
        rows.insert(rng.randrange(len(rows)), odd)
    p2p_log.write_log(root / "p2p.csv", rows)
    return {"queries.csv": root / "queries.csv", "queries.jsonl": root / "queries.jsonl",
            "p2p.csv": root / "p2p.csv"}  # fmt: skip


def unique_queries(rng: random.Random, n: int, first: int = 0) -> list[bytes]:
    """Query-log lines of ordinary Thai and English words, each query different."""
    words = ENGLISH.split() + THAI.split()
    return [f"{rng.choice(q_log.TIMES[:5])},{' '.join(rng.sample(words, 3))} {i},s{i % 50},bkk".encode()
            for i in range(first, first + n)]  # fmt: skip


def as_json(line: bytes) -> bytes:
    """A CSV query-log line as a JSON object (with its problems: fields missing, too many); a
    line that is not UTF-8 or is blank stays as it is."""
    try:
        text = line.decode()
    except UnicodeDecodeError:
        return line
    if not text.strip() or '"' in text:
        return text.encode()
    names = q_log.HEADER.split(",")
    return json.dumps(dict(zip(names, text.split(","), strict=False)), ensure_ascii=False).encode()


@pytest.mark.parametrize("name", ["queries.csv", "queries.jsonl", "p2p.csv"])
@pytest.mark.parametrize("part_bytes", [None, 4096])  # the default cut (8 parts), many parts
def test_a_dask_ingest_stores_what_a_plain_one_does(
    cluster, logs, tmp_path, monkeypatch, name, part_bytes
):
    if part_bytes:
        monkeypatch.setattr(cluster_ingest, "PART_BYTES", part_bytes)
    kind, path = name.split(".")[0], logs[name]
    plain = ingest(kind, path, tmp_path / "plain.db")
    assert plain.exit_code == 1 and f"  {path}:" in plain.stderr  # bad rows, by file and line
    assert "… and" in plain.stderr  # more than 20 bad rows: the rest counted
    with monkeypatch.context() as here:
        not_here(here, stream.parse_rows, Detector.load, Detector.classify)
        same_run(plain, ingest(kind, path, tmp_path / "dask.db", "--dask", cluster[0]))
    same_store(tmp_path / "dask.db", tmp_path / "plain.db")
    if kind == "queries":
        assert contents(tmp_path / "dask.db")["query_sessions"]  # flagged queries' sessions
    # Again: already ingested, nothing added, the second audit record the same.
    again = ingest(kind, path, tmp_path / "plain.db")
    assert again.exit_code == 0 and "already ingested (same content)" in again.stderr
    same_run(again, ingest(kind, path, tmp_path / "dask.db", "--dask", cluster[0]))
    same_store(tmp_path / "dask.db", tmp_path / "plain.db")


def not_here(monkeypatch, *functions) -> None:
    """These functions fail if called in this process: with ``--dask`` they run on workers (the
    workers' processes keep theirs)."""

    def here(*args, **kwargs):
        raise AssertionError("run on the client, not on a worker")

    for fn in functions:
        owner = sys.modules[fn.__module__]
        owner = getattr(owner, fn.__qualname__.split(".")[0]) if "." in fn.__qualname__ else owner
        monkeypatch.setattr(owner, fn.__name__, here)


def crash_on(part: int):
    """A progress callback that stops the ingest as ``part`` is written (after its commit)."""
    seen = [0]

    def progress(_lines: int) -> None:
        seen[0] += 1
        if seen[0] == part:
            raise KeyboardInterrupt("simulated crash")

    return progress


def detector_spec() -> DetectorSpec:
    return DetectorSpec(None, Settings().text_threshold)


@pytest.mark.parametrize("name", ["queries.csv", "p2p.csv"])
def test_an_interrupted_dask_ingest_resumes_after_its_last_part(
    cluster, logs, tmp_path, monkeypatch, detector, name
):
    """Stopped after three parts, the run goes on from the line after them, here and on the
    cluster, and the store ends as a plain run's; the job counts every row once."""
    monkeypatch.setattr(cluster_ingest, "PART_BYTES", 8192)
    kind, path = name.split(".")[0], logs[name]
    on_cluster = ingest_queries_on_cluster if kind == "queries" else ingest_p2p_on_cluster
    settings = Settings(pseudonym_key=KEY.encode())
    _, client = cluster
    engine = make_engine(f"sqlite:///{tmp_path / 'dask.db'}")
    with pytest.raises(KeyboardInterrupt):
        on_cluster(engine, path, settings, client, detector_spec(), crash_on(3))
    line = committed_line(tmp_path / "dask.db")
    assert 0 < line < path.read_bytes().count(b"\n")
    r = on_cluster(engine, path, settings, client, detector_spec())
    assert r.resumed_from_line == line and not r.already_done
    plain = ingest(kind, path, tmp_path / "plain.db")
    assert plain.exit_code == 1
    same_store_but_audit(tmp_path / "dask.db", tmp_path / "plain.db")
    engine.dispose()


def test_a_plain_ingest_interrupted_is_finished_on_dask(cluster, logs, tmp_path, detector):
    path = logs["queries.csv"]
    settings = Settings(pseudonym_key=KEY.encode())
    engine = make_engine(f"sqlite:///{tmp_path / 'dask.db'}")
    with pytest.raises(KeyboardInterrupt):
        ingest_queries(engine, path, detector, settings, crash_on(2), chunk_rows=300,
                       columnar=False)  # fmt: skip
    assert committed_line(tmp_path / "dask.db") == 601  # the header and two chunks
    r = ingest_queries_on_cluster(engine, path, settings, cluster[1], detector_spec())
    assert r.resumed_from_line == 601
    ingest("queries", path, tmp_path / "plain.db")
    same_store_but_audit(tmp_path / "dask.db", tmp_path / "plain.db")
    engine.dispose()


def committed_line(db: Path) -> int:
    with sqlite3.connect(db) as con:
        ((line,),) = con.execute("SELECT line_no FROM ingest_jobs").fetchall()
    return line


def same_store_but_audit(a: Path, b: Path) -> None:
    got, want = contents(a), contents(b)
    got.pop("audit_log"), want.pop("audit_log")
    assert got == want


def test_a_worker_killed_mid_ingest_costs_a_retry_not_a_row(cluster, tmp_path, monkeypatch):
    """As the third part is written, one worker busy with a part is killed (SIGKILL); the
    scheduler runs its parts again and each row is stored and counted once."""
    address, client = cluster
    rng = random.Random(5)
    path = tmp_path / "big.csv"
    q_log.write_log(path, [*unique_queries(rng, 9000), b"yesterday,weather,s1,bkk"])
    monkeypatch.setattr(cluster_ingest, "PART_BYTES", 16_384)  # some 35 parts, 4 in the cluster
    plain = ingest("queries", path, tmp_path / "plain.db")
    killed, written = kill_after_three_results(monkeypatch, client)
    dask = ingest("queries", path, tmp_path / "dask.db", "--dask", address)
    same_run(plain, dask)
    assert "9000 rows ingested, 1 rejected" in dask.stderr
    same_store(tmp_path / "dask.db", tmp_path / "plain.db")
    assert killed and written[0] > 3 + 2 * submit.WINDOW_PER_SLOT * 2  # most parts came after
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it
    assert killed[0] not in client.run(os.getpid).values()


def test_a_worker_seeing_another_file_stops_the_ingest_in_one_line(
    cluster, logs, tmp_path, monkeypatch
):
    path = tmp_path / "p2p.csv"
    path.write_bytes(logs["p2p.csv"].read_bytes())
    cut_here = ranges.split_lines

    def cut_then_change(fh, parts, **at):
        cut = list(cut_here(fh, parts, **at))
        path.write_bytes(b"another file\n")  # before any part is sent
        yield from cut

    monkeypatch.setattr(ranges, "split_lines", cut_then_change)
    r = ingest("p2p", path, tmp_path / "dask.db", "--dask", cluster[0])
    assert r.exit_code == 2 and r.stderr.count("\n") == 1, r.stderr
    assert "failed on the Dask cluster" in r.stderr and "with 13 bytes, the client" in r.stderr


@pytest.mark.parametrize(("spec", "words"), [("local:0", "at least 1"),
                                             ("tcp://host", "expected tcp://HOST:PORT")])  # fmt: skip
def test_a_bad_spec_is_one_line_and_exit_2(logs, tmp_path, spec, words):
    r = ingest("queries", logs["queries.csv"], tmp_path / "x.db", "--dask", spec)
    assert r.exit_code == 2 and r.stdout == "" and r.stderr.count("\n") == 1
    assert r.stderr.startswith("error:") and words in r.stderr
    assert not (tmp_path / "x.db").exists()  # ended before anything was opened


def test_an_unreachable_scheduler_is_one_line_and_exit_2(logs, tmp_path, monkeypatch):
    monkeypatch.setattr(connect, "CONNECT_TIMEOUT_S", 1.0)
    r = ingest("p2p", logs["p2p.csv"], tmp_path / "x.db", "--dask", "tcp://127.0.0.1:9")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1
    assert "tcp://127.0.0.1:9 did not answer within 1 s" in r.stderr


def test_a_part_is_read_as_the_plain_run_reads_it(logs, detector):
    """Parts cut anywhere in a file with every odd line give its rows, numbers and errors."""
    from ocsea.ingest.stream import parsed_chunks

    path = logs["p2p.csv"]
    data = path.read_bytes()
    header = data.index(b"\n") + 1
    with path.open("rb") as fh:
        parts = list(ranges.split_lines(fh, 37, start=header, first_line=2))
    assert len(parts) > 30
    job = cluster_ingest.IngestJob(str(path), len(data), lambda raw: raw, lambda recs, d: recs,
                                   detector_spec())  # fmt: skip
    got = [cluster_ingest.ingest_part(job, p) for p in parts]
    (whole,) = parsed_chunks(path, lambda raw: raw, 1 << 30)(0, 0)
    assert [r for c in got for r in c.payload or []] == whole.payload
    assert [e for c in got for e in c.errors] == whole.errors and whole.errors
    assert (got[-1].end_offset, got[-1].end_line) == (whole.end_offset, whole.end_line)
    assert sum(c.n_lines for c in got) == whole.n_lines


def test_known_verdicts_answer_as_the_detector(detector):
    known = cluster_ingest.KnownVerdicts(
        {"holiday.jpg": detector.classify("holiday.jpg")}, "filename"
    )
    assert known.classify("holiday.jpg", "filename") == detector.classify("holiday.jpg")
    with pytest.raises(ValueError, match="filename texts, not query"):
        known.classify("holiday.jpg", "query")
