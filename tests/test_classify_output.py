"""`ocsea classify` output: a text rendered once is written again from its rendering, with the
line's own number, and the bytes are those of rendering every line afresh."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocsea.text import output
from ocsea.text.dataset import read_lines
from ocsea.text.output import LineRenderer, line_output

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
@given(picks=st.lists(st.integers(0, len(TEXTS) - 1), max_size=40), small=st.booleans())
@settings(max_examples=40, deadline=None)
def test_rendered_again_is_the_same_bytes(detector, fmt, picks, small):
    data = _lines([TEXTS[i] for i in picks]) + b"\xff\xfe bad utf-8\n"
    kept = output.MAX_RENDERED
    output.MAX_RENDERED = 2 if small else kept  # a small cache is cleared as it goes
    try:
        render = LineRenderer(detector, "auto", fmt)
        again = [render(x)[1] for x in read_lines(io.BytesIO(data))]
    finally:
        output.MAX_RENDERED = kept
    fresh = [line_output(x, detector, "auto", fmt)[1] for x in read_lines(io.BytesIO(data))]
    assert again == fresh


def test_a_table_keeps_every_record(detector):
    render = LineRenderer(detector, "auto", "table")
    recs = [render(x)[0] for x in read_lines(io.BytesIO(_lines(["kids menu", "kids menu"])))]
    assert [r["line"] for r in recs] == [1, 2] and recs[0]["label"] == recs[1]["label"]


def test_an_unknown_format_is_refused(detector):
    with pytest.raises(ValueError, match="format must be one of"):
        LineRenderer(detector, "auto", "xml")


@given(st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")), max_size=20))
def test_line_sizes_add_up_to_the_input(lines):
    data = b"".join(x + b"\n" for x in lines)
    assert sum(x.size for x in read_lines(io.BytesIO(data))) == len(data)


def test_encoded_parts_bypass_only_a_plain_utf8_stdout(monkeypatch):
    from ocsea.cli.text import _utf8_stdout

    for enc, expected in (("utf-8", True), ("UTF8", True), ("tis-620", False), ("latin-1", False)):
        monkeypatch.setattr("sys.stdout", io.TextIOWrapper(io.BytesIO(), encoding=enc))
        assert _utf8_stdout() is expected
