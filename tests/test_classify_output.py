"""`ocsea classify` output: a text rendered once is written again from its rendering, with the
line's own number, and the bytes are those of rendering every line afresh."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ocsea.cli.app import app
from ocsea.text.batch import DistinctLines, read_blocks, render_texts
from ocsea.text.dataset import read_lines
from ocsea.text.output import line_output

TEXTS = [
    "kids menu comics",
    "คลิปน้อง ม.2",
    'a "quoted", text\twith tab',
    "ราคา,แพ็ค",
    "video.mp4",
    "",
    "   ",
]


def _lines(texts: list[str]) -> bytes:
    return "".join(t + "\n" for t in texts).encode("utf-8")


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@given(
    picks=st.lists(st.integers(0, len(TEXTS) - 1), max_size=40),
    small=st.booleans(),
    block=st.integers(1, 64),
)
@settings(max_examples=40, deadline=None)
def test_rendered_again_is_the_same_bytes(detector, fmt, picks, small, block):
    data = _lines([TEXTS[i] for i in picks]) + b"\xff\xfe bad utf-8\n"
    lines = DistinctLines(fmt, cache_bytes=600 if small else 1 << 20)  # small: forgets as it goes
    again = b""
    for b in read_blocks(io.BytesIO(data), block):
        plan = lines.plan(b)
        again += lines.output(plan, render_texts(detector, "auto", fmt, plan.missing))[0]
    fresh = [line_output(x, detector, "auto", fmt)[1] for x in read_lines(io.BytesIO(data))]
    assert again == "".join(fresh).encode("utf-8")


def test_a_table_lists_every_line(tmp_path):
    path = tmp_path / "in.txt"
    path.write_bytes(_lines(["kids menu", "kids menu", "cp 12yo"]))
    r = CliRunner().invoke(app, ["classify", str(path), "-f", "table"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    rows = [line for line in r.stdout.splitlines() if "kids menu" in line or "cp 12yo" in line]
    assert len(rows) == 3 and "csa" in rows[2] and "benign" in rows[0]


@given(st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")), max_size=20))
def test_line_sizes_add_up_to_the_input(lines):
    data = b"".join(x + b"\n" for x in lines)
    assert sum(x.size for x in read_lines(io.BytesIO(data))) == len(data)


def test_encoded_parts_bypass_only_a_plain_utf8_stdout(monkeypatch):
    from ocsea.cli.text import _utf8_stdout

    for enc, expected in (("utf-8", True), ("UTF8", True), ("tis-620", False), ("latin-1", False)):
        monkeypatch.setattr("sys.stdout", io.TextIOWrapper(io.BytesIO(), encoding=enc))
        assert _utf8_stdout() is expected


def test_a_line_the_output_encoding_cannot_take_stops_after_the_lines_before_it(tmp_path):
    """Through the text layer (stdout not UTF-8), lines are written one at a time with their
    errors before them, as a plain run always wrote them: the Thai line stops an ASCII stdout
    after lines 1 and 2, and line 4's error is never reported."""
    import os
    import subprocess
    import sys

    path = tmp_path / "in.txt"
    path.write_bytes(b"kids menu\n\n" + "เด็ก".encode() + b"\n\nlater\n")
    r = subprocess.run(
        [sys.executable, "-m", "ocsea.cli", "classify", str(path)],
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
        timeout=120,
    )
    assert r.returncode != 0
    assert r.stdout.count(b"\n") == 2 and b'"line": 2' in r.stdout
    assert b"line 2: empty line" in r.stderr and b"line 4" not in r.stderr


def test_a_table_shows_markup_in_a_line_as_text(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("[/] weather [bold]today\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["classify", str(path), "-f", "table"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "[/] weather [bold]today" in r.stdout
