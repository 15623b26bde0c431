import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ocsea.hashlists.store import import_file
from ocsea.match.matcher import Matcher
from ocsea.scan import worker
from ocsea.scan.archives import ArchiveLimits, iter_members
from ocsea.scan.runner import Ranker, ScanInterrupted, rank_records, run_scan
from ocsea.scan.worker import ScanOptions, scan_path
from ocsea.store.db import make_engine

from .test_cli import run


def img(path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray((rng.random((16, 16, 3)) * 255).astype("uint8")).resize((200, 160)).save(path)
    return path


def ctrl_c_at(k: int):
    """A progress callback that presses Ctrl-C at its ``k``-th call."""
    calls = {"n": 0}

    def progress(n, b):
        calls["n"] += 1
        if calls["n"] == k:
            raise KeyboardInterrupt

    return progress


@pytest.fixture
def evidence(tmp_path):
    ev = tmp_path / "ev"
    (ev / "sub").mkdir(parents=True)
    img(ev / "a.png", 1)
    img(ev / "b.png", 2)
    Image.open(ev / "a.png").rotate(180).save(ev / "sub" / "pthc_new.jpg", quality=90)
    img(ev / "sub" / "เด็ก ป5 โป๊.png", 3)
    (ev / "notes.txt").write_text("hello")
    return ev


def names(members):
    return [(m.name, m.skipped) for m in members]


def test_zip_traversal_names_are_neutralised_and_bombs_refused(tmp_path):
    z = tmp_path / "x.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("../../etc/passwd", b"benign text")
        zf.writestr("/abs/path.txt", b"x")
        zf.writestr("bomb.bin", b"\0" * 5_000_000)
        info = zipfile.ZipInfo("link")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")
    got = dict(names(iter_members(str(z), "x.zip", ArchiveLimits())))
    assert got["etc/passwd"] is None and got["abs/path.txt"] is None
    assert "compression ratio" in got["bomb.bin"]
    assert "symbolic link" in got["link"]
    assert not (tmp_path / "etc").exists()


def test_nested_archives_and_depth_limit(tmp_path):
    def zbytes(name, payload):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr(name, payload)
        return buf.getvalue()

    inner = zbytes("deep.txt", b"x")
    for level in range(4):
        inner = zbytes(f"l{level}.zip", inner)
    (tmp_path / "n.zip").write_bytes(inner)
    got = names(iter_members(str(tmp_path / "n.zip"), "n.zip", ArchiveLimits(max_depth=3)))
    assert any("nesting deeper" in (s or "") for _, s in got)
    assert not any(n.endswith("deep.txt") for n, s in got if s is None)


def test_tar_links_and_corrupt_archives(tmp_path):
    t = tmp_path / "t.tar.gz"
    with tarfile.open(t, "w:gz") as tf:
        data = b"benign"
        ti = tarfile.TarInfo("../up/file.txt")
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
        ln = tarfile.TarInfo("ln")
        ln.type = tarfile.SYMTYPE
        ln.linkname = "/etc/passwd"
        tf.addfile(ln)
    got = dict(names(iter_members(str(t), "t.tar.gz", ArchiveLimits())))
    assert got["up/file.txt"] is None and "not followed" in got["ln"]
    (tmp_path / "c.zip").write_bytes(b"PK\x03\x04 broken")
    got = names(iter_members(str(tmp_path / "c.zip"), "c.zip", ArchiveLimits()))
    assert "corrupt archive" in got[0][1]


def test_symlinks_and_unreadable_files(tmp_path, monkeypatch):
    (tmp_path / "real.txt").write_text("x")
    os.symlink("/etc/passwd", tmp_path / "link")
    (rec,) = scan_path(str(tmp_path / "link"), ScanOptions())
    assert "symbolic link" in rec["error"]

    def deny(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(worker, "_open_readonly", deny)
    (rec,) = scan_path(str(tmp_path / "real.txt"), ScanOptions())
    assert rec["error"] == "cannot read: Permission denied"


def test_a_file_that_changes_between_stat_and_read(tmp_path, monkeypatch):
    """The digests and the size are of the bytes read, the in-memory read stays within its
    limit however large the file has become, and a file replaced by another is refused."""
    import hashlib

    path = img(tmp_path / "a.png", 1)
    first = os.lstat(path)
    small = path.stat().st_size
    monkeypatch.setattr(worker, "IMAGE_IN_MEMORY", small + 10)
    with path.open("ab") as fh:
        fh.write(b"x" * 5000)  # grows past the limit after its lstat
    real_lstat = os.lstat
    monkeypatch.setattr(worker.os, "lstat", lambda p: first if p == str(path) else real_lstat(p))
    (rec,) = scan_path(str(path), ScanOptions())
    whole = path.read_bytes()
    assert rec["sha256"] == hashlib.sha256(whole).hexdigest()
    assert rec["size"] == len(whole) == small + 5000
    assert "changed while being scanned" in rec["error"]

    other = img(tmp_path / "b.png", 2)
    stale = os.lstat(other)
    monkeypatch.setattr(worker.os, "lstat", lambda p: stale)
    (rec,) = scan_path(str(path), ScanOptions())
    assert rec["error"].startswith("replaced while being scanned")
    assert "sha256" not in rec


def test_read_once_keeps_small_files_and_streams_large_ones(tmp_path):
    import hashlib

    from ocsea.media.hashing import digest_read_once

    data = bytes(range(256)) * 4000
    (tmp_path / "f").write_bytes(data)
    for limit, kept in ((len(data), True), (len(data) - 1, False), (1000, False)):
        with worker._open_readonly(str(tmp_path / "f")) as fh:
            d, held = digest_read_once(fh, limit)
        assert d.size == len(data)
        assert d.sha256 == hashlib.sha256(data).hexdigest()
        assert (held == data) if kept else held is None


def test_scan_workers_use_one_blas_thread(monkeypatch):
    from threadpoolctl import threadpool_info, threadpool_limits

    before = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    monkeypatch.setattr(worker, "_BLAS_LIMITED_IN", 0)
    worker._one_blas_thread()
    assert all(i["num_threads"] == 1 for i in threadpool_info() if i["user_api"] == "blas")
    if before:
        threadpool_limits(max(before), user_api="blas")  # as it was, for the other tests


def test_scan_finds_known_near_and_suspicious_and_resumes(evidence, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    (a,) = scan_path(str(evidence / "a.png"), ScanOptions())
    lst = tmp_path / "known.jsonl"
    lst.write_text(
        json.dumps({"md5": a["md5"], "pdq": a["pdq"][0][0], "pdq_quality": 100, "category": "1"})
        + "\n"
    )
    import_file(engine, lst, "demo")
    out = tmp_path / "out"
    with pytest.raises(ScanInterrupted):
        run_scan(evidence, out, ScanOptions(video=False), workers=2, progress=ctrl_c_at(2))
    summary = run_scan(evidence, out, ScanOptions(video=False), workers=2)
    assert summary.files_resumed >= 2 and summary.files_resumed + summary.files_hashed_now == 5
    again = run_scan(evidence, out, ScanOptions(video=False), workers=2)
    assert again.files_hashed_now == 0 and again.files_resumed == 5
    from ocsea.text.detector import Detector

    findings = rank_records(summary.records, evidence, Matcher.from_store(engine), Detector.load())
    kinds = {Path(f.path).name: f.kind for f in findings}
    assert kinds["a.png"] == "known"
    assert kinds["pthc_new.jpg"] == "near-duplicate"
    assert kinds["เด็ก ป5 โป๊.png"] == "suspicious-unknown"
    assert "b.png" not in kinds and "notes.txt" not in kinds
    assert findings[0].kind == "suspicious-unknown"  # unknown-but-suspicious ranks first


def test_ranking_each_file_as_it_is_saved_gives_the_same_report(evidence, tmp_path, detector):
    """``Ranker`` (each file ranked as ``run_scan`` saves it, the files an earlier run hashed at
    the end) gives the findings ``rank_records`` gives on all the records, in the same order,
    ties included, whatever order the workers finish in."""
    import shutil

    for i in range(6):  # ties: files whose only finding is the same error
        (evidence / f"broken{i}.jpg").write_bytes(b"not an image")
        shutil.copy(evidence / "sub" / "เด็ก ป5 โป๊.png", evidence / f"copy{i} เด็ก ป5 โป๊.png")
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    matcher = Matcher.from_store(engine)
    out = tmp_path / "out"
    with pytest.raises(ScanInterrupted):
        run_scan(evidence, out, ScanOptions(video=False), workers=2, progress=ctrl_c_at(4))
    ranker = Ranker(evidence, matcher, detector)
    seen: list[str] = []

    def add(path, records):
        seen.append(path)
        ranker.add(path, records)

    summary = run_scan(evidence, out, ScanOptions(video=False), workers=2, on_records=add)
    assert sorted(seen) == sorted(set(seen)) and summary.files_resumed >= 1
    assert len(seen) == summary.files_seen
    want = rank_records(summary.records, evidence, matcher, detector)
    got = ranker.findings()
    assert [f.to_dict() for f in got] == [f.to_dict() for f in want]
    assert sum(f.kind == "error" for f in got) >= 6
    # workers finish in any order: files fed last-first rank the same
    from ocsea.scan.runner import STATE_FILE, StateDB

    state = StateDB(out / STATE_FILE)
    backwards = Ranker(evidence, matcher, detector)
    for path, records in reversed(list(state.all_rows())):
        backwards.add(path, records)
    state.close()
    assert [f.to_dict() for f in backwards.findings()] == [f.to_dict() for f in want]


def test_cli_scan_and_hash_contracts(evidence, tmp_path):
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    p = run("hash", str(evidence / "a.png"), str(evidence / "notes.txt"), "--format", "jsonl")
    recs = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert {"path", "size", "md5", "sha1", "sha256", "pdq", "pdq_quality"} <= set(recs[0])
    assert "pdq" not in recs[1]
    lst = tmp_path / "l.jsonl"
    lst.write_text(
        json.dumps({"md5": recs[0]["md5"], "pdq": recs[0]["pdq"], "category": "1"}) + "\n"
    )
    run("hashes", "import", str(lst), "--list", "demo", "--source", "test", "--db", db)
    p = run("match", str(evidence / "sub" / "pthc_new.jpg"), "--db", db)
    (m,) = json.loads(p.stdout)["matches"]
    assert m["list"] == "demo" and m["hash_type"] == "pdq" and m["distance"] <= 31
    out = tmp_path / "rep"
    run("scan", str(evidence), "--out", str(out), "--db", db, "--no-video")
    rep = json.loads((out / "report.json").read_text())
    assert rep["counts"]["known"] == 1 and rep["counts"]["suspicious-unknown"] == 1
    assert (out / "report.html").exists() and (out / "report.csv").exists()


def test_scan_results_join_triage(evidence, tmp_path, detector):
    from ocsea.ingest.scan import ingest_scan
    from ocsea.triage.report import ranked_findings
    from ocsea.triage.run import run_triage

    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    (a,) = scan_path(str(evidence / "a.png"), ScanOptions())
    lst = tmp_path / "known.jsonl"
    lst.write_text(json.dumps({"md5": a["md5"], "pdq": a["pdq"][0][0], "category": "1"}) + "\n")
    import_file(engine, lst, "demo")
    out = tmp_path / "scan-out"
    run_scan(evidence, out, ScanOptions(video=False), workers=1)
    matcher = Matcher.from_store(engine)
    r = ingest_scan(engine, out, detector, matcher)
    assert r.rows_done == 5 and ingest_scan(engine, out, detector, matcher).already_done
    run_triage(engine, {}, matcher)
    kinds = {Path(f["name"]).name: f["kind"] for f in ranked_findings(engine)}
    assert kinds["a.png"] == "known" and kinds["pthc_new.jpg"] == "near-duplicate"
    assert kinds["เด็ก ป5 โป๊.png"] == "unknown-flagged"


def test_hash_digests_and_pdq_come_from_one_read(tmp_path, monkeypatch):
    """`ocsea hash` reads an image once: its PDQ is of the bytes its digests are of, not of the
    file opened again (which may have changed meanwhile)."""
    import hashlib

    from ocsea.media import hashing
    from ocsea.media.file_record import hash_one

    path = img(tmp_path / "a.png", 3)
    seen = []
    real = hashing.pdq_image

    def spy(source):
        seen.append(source)
        return real(source)

    monkeypatch.setattr(hashing, "pdq_image", spy)
    rec = hash_one(path)
    assert rec["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert [type(s) for s in seen] == [io.BytesIO]
    assert rec["pdq"] == real(path).hex


def test_an_error_while_ranking_keeps_what_was_hashed(tmp_path):
    """An error in ``on_records`` (the ranking) stops the scan but keeps the files hashed so
    far: a re-run resumes after them (a review lost 400 of 450 without this)."""
    ev = tmp_path / "ev"
    ev.mkdir()
    for i in range(30):
        (ev / f"f{i:02d}.txt").write_text(str(i))
    seen = []

    def fail_at_twenty(path, records):
        seen.append(path)
        if len(seen) == 20:
            raise RuntimeError("ranking failed")

    with pytest.raises(RuntimeError):
        run_scan(
            ev, tmp_path / "out", ScanOptions(media=False), workers=1, on_records=fail_at_twenty
        )
    again = run_scan(ev, tmp_path / "out", ScanOptions(media=False), workers=1)
    assert again.files_resumed >= 19 and again.files_seen == 30


@pytest.mark.skipif(os.name != "posix", reason="byte file names are a POSIX matter")
def test_names_that_are_not_utf8_are_scanned_and_reported(tmp_path):
    """An old TIS-620 or Latin-1 name reaches Python as lone surrogates: it stopped the whole
    scan (SQLite and the UTF-8 report cannot hold them). Now it is hashed, resumed and shown
    with its bytes as \\xNN."""
    ev = tmp_path / "ev"
    ev.mkdir()
    os.mkdir(os.fsencode(ev) + b"/\xa1\xa2dir")
    (Path(os.fsdecode(os.fsencode(ev) + b"/\xa1\xa2dir")) / "pthc.txt").write_text("x")
    Path(os.fsdecode(os.fsencode(ev) + b"/bad\xff.txt")).write_text("hello")
    out = tmp_path / "out"
    run("scan", str(ev), "--out", str(out), "--db", f"sqlite:///{tmp_path / 'db.sqlite'}")
    report = (out / "report.csv").read_text(encoding="utf-8")
    assert "\\xa1\\xa2dir" in report and report.count("pthc.txt") == 1
    json.loads((out / "report.json").read_text(encoding="utf-8"))
    r = run("scan", str(ev), "--out", str(out), "--db", f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert "0 hashed now, 2 resumed" in r.stdout.decode(), r.stdout.decode()
