import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ocsea import __version__

ENV = {**os.environ, "PYTHONIOENCODING": "utf-8"}


def run(*args, stdin: bytes | None = None, check=True, env: dict | None = None):
    p = subprocess.run(
        [sys.executable, "-m", "ocsea.cli", *args],
        input=stdin,
        capture_output=True,
        env={**ENV, **(env or {})},
        timeout=300,
    )
    if check:
        assert p.returncode == 0, p.stderr.decode()
    return p


@pytest.fixture(scope="module")
def jsonl_run():
    lines = [
        b"pthc 2011 video",
        "การบ้าน ป.5".encode(),
        b"",
        b"\xff\xfe broken",
        "สาว 19 โป๊".encode(),
        b"   ",
        "คลิปเด็ก ป๕ โป๊".encode(),
    ]
    p = run("classify", "-", "--format", "jsonl", stdin=b"\n".join(lines) + b"\n", check=False)
    assert p.returncode == 1  # some lines could not be classified: named on stderr, the rest go on
    return lines, p


def test_one_object_per_line_in_order(jsonl_run):
    lines, p = jsonl_run
    out = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert len(out) == len(lines)
    assert [o["line"] for o in out] == list(range(1, len(lines) + 1))
    assert out[0]["label"] == "csa" and out[0]["text"] == "pthc 2011 video"
    assert out[1]["label"] == "benign"
    assert out[4]["label"] == "adult"
    assert out[6]["label"] == "csa"
    for o in (out[0], out[1], out[4], out[6]):
        assert {"text", "label", "score", "probs", "reasons"} <= set(o)


def test_bad_lines_are_reported_not_fatal(jsonl_run):
    _, p = jsonl_run
    out = [json.loads(x) for x in p.stdout.decode().splitlines()]
    for i in (2, 3, 5):
        assert "error" in out[i] and "label" not in out[i]
    err = p.stderr.decode()
    assert "line 3: empty line" in err
    assert "line 4: not valid UTF-8" in err
    assert "line 6: empty line" in err


def test_csv_and_file_input(tmp_path):
    f = tmp_path / "in.txt"
    f.write_text("pthc\nweather today\n", encoding="utf-8")
    p = run("classify", str(f), "--format", "csv")
    rows = p.stdout.decode().splitlines()
    assert rows[0].startswith("line,text,label,score")
    assert len(rows) == 3 and ",csa," in rows[1]


def test_threshold_option():
    p = run("classify", "-", "--threshold", "1.0", stdin=b"pthc\n")
    assert json.loads(p.stdout)["label"] != "csa" or json.loads(p.stdout)["score"] >= 1.0


def test_version_and_help():
    assert run("--version").stdout.decode().strip() == f"ocsea {__version__}"
    assert "classify" in run("--help").stdout.decode()


def test_missing_file_is_one_clear_line():
    p = run("classify", "/nonexistent/file.txt", check=False)
    assert p.returncode == 2
    err = p.stderr.decode().strip()
    assert err.count("\n") == 0 and "no such file" in err and "Traceback" not in err


def test_bad_model_file_is_one_clear_line(tmp_path):
    bad = tmp_path / "model.npz"
    bad.write_bytes(b"not a model")
    p = run("classify", "-", "--model", str(bad), stdin=b"x\n", check=False)
    assert p.returncode == 2 and "not an ocsea text model" in p.stderr.decode()


def test_explain_shows_reasons():
    p = run("text", "explain", "คลิปเด็ก ป.5 โป๊")
    out = p.stdout.decode()
    assert "csa" in out and "minor" in out and "grade" in out


def test_demo_tells_the_whole_story(tmp_path):
    d = tmp_path / "demo"
    p = run("demo", "--out", str(d), "--top", "5")
    assert (d / "report.html").read_text(encoding="utf-8").startswith("<!doctype html>")
    assert (d / "text" / "report.csv").read_text(encoding="utf-8").startswith("rank,")
    assert (d / "triage" / "report.html").exists() and (d / "scan" / "report.html").exists()
    stdout = p.stdout.decode()
    assert "top 5 findings" in stdout and "unknown-flagged" in stdout and "zqvx" in stdout
    assert "report:" in stdout.lower()
    assert (d / "ocsea.db.index").is_dir()  # the persisted match index beside the store
    again = run("demo", "--out", str(d), "--top", "5")  # `make demo` twice: the same story
    assert "top 5 findings" in again.stdout.decode()


def test_html_report_escapes_text(tmp_path):
    from ocsea.demo import _write_html
    from ocsea.text.detector import Detector

    det = Detector.load()
    v = det.classify("<script>alert(1)</script> pthc")
    path = Path(tmp_path / "r.html")
    _write_html(path, [("test", v)], {"csa": 1, "adult": 0, "benign": 0}, 0.1)
    assert "<script>alert" not in path.read_text(encoding="utf-8")
