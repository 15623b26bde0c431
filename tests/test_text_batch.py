"""``ocsea.text.batch``: classify output rendered once a distinct text, the same bytes as rendering
every line (``read_lines`` then ``line_output``), however the input is cut into blocks."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocsea.text import batch
from ocsea.text.batch import DistinctLines, read_blocks, render_texts
from ocsea.text.dataset import MAX_LINE_BYTES, read_lines
from ocsea.text.output import line_output

# Lines of every kind read_lines tells apart: texts, repeats, CRLF, empty, blank, bad UTF-8.
_LINE = st.one_of(
    st.sampled_from(
        [b"kids menu", b"cp 12yo", b"\xe0\xb9\x80\xe0\xb8\x94\xe0\xb9\x87\xe0\xb8\x81 13"]
    ),
    st.binary(max_size=12),
    st.text(max_size=10).map(lambda t: t.encode("utf-8")),
).map(lambda b: b.replace(b"\n", b""))
_END = st.sampled_from([b"\n", b"\r\n", b"\r\r\n"])


def _reference(data: bytes) -> list[tuple[str | None, str | None, str]]:
    return [(x.text, x.error, x.raw) for x in read_lines(io.BytesIO(data))]


def _from_blocks(data: bytes, block_bytes: int) -> list[tuple[str | None, str | None, str]]:
    out = []
    for block in read_blocks(io.BytesIO(data), block_bytes):
        for key in block.lines:
            x = next(read_lines([key]))
            out.append((x.text, x.error, x.raw))
    return out


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.tuples(_LINE, _END), max_size=12),
    last=_LINE,
    block_bytes=st.integers(1, 40),
)
def test_blocks_hold_every_line_as_read_lines_reads_it(lines, last, block_bytes):
    data = b"".join(a + b for a, b in lines) + last
    assert _from_blocks(data, block_bytes) == _reference(data)
    sizes = sum(b.size for b in read_blocks(io.BytesIO(data), block_bytes))
    assert sizes == len(data)


@pytest.mark.parametrize(
    "line",
    [
        b"a" * MAX_LINE_BYTES,
        b"a" * MAX_LINE_BYTES + b"\r\r\r",  # read_lines strips the \r: not overlong
        b"a" * (MAX_LINE_BYTES - 1) + b"\r\r" + b"b",  # \r inside, then more: overlong
        b"a" * (MAX_LINE_BYTES + 1),
        b"a" * (3 * MAX_LINE_BYTES),
    ],
)
@pytest.mark.parametrize("block_bytes", [7, 4096, 1 << 20])
def test_long_lines_are_read_as_read_lines_reads_them_in_little_memory(line, block_bytes):
    data = line + b"\nnext\n" + line
    assert _from_blocks(data, block_bytes) == _reference(data)
    for block in read_blocks(io.BytesIO(data), block_bytes):
        assert all(len(k) <= MAX_LINE_BYTES + 1 for k in block.lines)


def _plain_output(detector, data: bytes, fmt: str) -> bytes:
    """What rendering every line gives: the command's output before this module."""
    return b"".join(
        line_output(x, detector, "auto", fmt)[1].encode("utf-8")
        for x in read_lines(io.BytesIO(data))
    )


_DATA = (
    b"kids menu\ncp 12yo\nkids menu\n\n   \n\xff\xfe bad\ncp 12yo\r\n"
    + "เด็ก ม.2 คลิป\n".encode()
    + b"x" * (MAX_LINE_BYTES + 5)
    + b"\nkids menu\ncp 12yo"
)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("window", [1, 3])
def test_output_is_what_rendering_every_line_gives(detector, fmt, window):
    """Blocks planned ``window`` at a time before the first is written, as a Dask run does: a
    text an unwritten block will render is borrowed from it, not rendered again."""
    lines = DistinctLines(fmt)
    blocks = list(read_blocks(io.BytesIO(_DATA), 16))
    out, errors, rendered = [], [], []
    plans = []
    for block in blocks:
        plans.append(lines.plan(block))
        rendered += plans[-1].missing
        if len(plans) == window:
            p = plans.pop(0)
            data, errs = lines.output(p, render_texts(detector, "auto", fmt, p.missing))
            out.append(data)
            errors += errs
    for p in plans:
        data, errs = lines.output(p, render_texts(detector, "auto", fmt, p.missing))
        out.append(data)
        errors += errs
    assert b"".join(out) == _plain_output(detector, _DATA, fmt)
    assert len(rendered) == len(set(rendered))  # no text rendered twice
    assert [n for n, _ in errors] == [4, 5, 6, 9]


def test_a_small_cache_forgets_and_renders_again_with_the_same_bytes(detector):
    data = b"".join(b"text %d\n" % (i % 7) for i in range(60))
    lines = DistinctLines("jsonl", cache_bytes=2_000)
    out, rendered = [], 0
    for block in read_blocks(io.BytesIO(data), 24):
        plan = lines.plan(block)
        rendered += len(plan.missing)
        out.append(lines.output(plan, render_texts(detector, "auto", "jsonl", plan.missing))[0])
    assert b"".join(out) == _plain_output(detector, data, "jsonl")
    assert rendered > 7  # it did forget


def test_a_block_needs_its_renderings_in_order(detector):
    lines = DistinctLines("jsonl")
    plan = lines.plan(next(read_blocks(io.BytesIO(b"a\nb\n"))))
    with pytest.raises(ValueError, match="1 renderings for 2 texts"):
        lines.output(plan, render_texts(detector, "auto", "jsonl", plan.missing[:1]))


def test_the_line_head_is_what_line_output_writes_first(detector):
    for fmt in ("jsonl", "csv"):
        x = next(read_lines([b"kids menu"], first_line=12345))
        assert line_output(x, detector, "auto", fmt)[1].startswith(batch.line_head(12345, fmt))


def test_written_blocks_are_let_go_though_each_borrowed_from_the_one_before():
    """A log's new texts recur in the next block: each block borrows from the one before, and a
    written block must let go of its lenders, or the chain keeps the whole input alive."""
    import gc

    from ocsea.text.batch import Plan

    data = b"".join(b"t%d\n" % (i // 3 - (i % 7)) for i in range(60_000))
    lines = DistinctLines("jsonl")
    pending = []
    borrowed = 0
    for block in read_blocks(io.BytesIO(data), 2048):
        pending.append(lines.plan(block))
        borrowed += len(pending[-1].borrowed)
        if len(pending) == 4:
            plan = pending.pop(0)
            lines.output(plan, [(b"x", None)] * len(plan.missing))
    gc.collect()
    assert borrowed > 100  # the chain is there
    assert sum(isinstance(o, Plan) for o in gc.get_objects()) <= 4 + 1


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(
        st.tuples(st.binary(max_size=14).map(lambda b: b.replace(b"\n", b"")), _END), max_size=10
    ),
    last=st.binary(max_size=14).map(lambda b: b.replace(b"\n", b"")),
    block_bytes=st.integers(1, 40),
)
def test_overlong_lines_of_any_make_are_read_as_read_lines_reads_them(
    monkeypatch, lines, last, block_bytes
):
    """With the line limit at 8 bytes, random lines are as often overlong as not: the cut (its
    start and a marker) renders as the whole line does, runs of \\r at the limit included. (The
    monkeypatch is the same for every example.)"""
    from ocsea.text import dataset

    monkeypatch.setattr(dataset, "MAX_LINE_BYTES", 8)
    monkeypatch.setattr(batch, "MAX_LINE_BYTES", 8)
    data = b"".join(a + b for a, b in lines) + last
    assert _from_blocks(data, block_bytes) == _reference(data)


def test_a_block_holds_at_most_max_block_lines(monkeypatch):
    monkeypatch.setattr(batch, "MAX_BLOCK_LINES", 7)
    data = b"".join(b"q%d\r\n" % i for i in range(100)) + b"last"
    blocks = list(read_blocks(io.BytesIO(data), 1 << 20))
    assert max(len(b.lines) for b in blocks) == 7
    assert [b.first_line for b in blocks] == [*range(1, 101, 7), 101]  # the last, unended line
    assert sum(b.size for b in blocks) == len(data)
    assert _from_blocks(data, 1 << 20) == _reference(data)
