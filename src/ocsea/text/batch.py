"""``ocsea classify`` of many lines: each distinct text is classified and rendered once, and every
line is written as its number followed by what was rendered for its text.

Why: a search provider's log repeats its queries (2M lines of the benchmark's Zipf log hold 181k
distinct texts). Before, every line was decoded, looked up and its 1.6 kB of JSON encoded and
written one at a time (78 s for those 2M lines, 30 µs a line beyond classifying); here a line
costs a dictionary lookup and a copy of bytes. On a Dask cluster the same plan sends only the
texts no earlier block has rendered, so no text is classified twice across the workers (with
byte ranges and a cache per worker, two workers classified 235k texts for those 181k).

The plan is pure: ``read_blocks`` cuts the input into blocks of whole lines, ``DistinctLines``
says which texts of a block must be rendered and, with what was rendered, gives the block's
output bytes. Rendering (``render_texts``) is the one place the detector runs, in this process
or on a worker; both give the same bytes (tested against ``line_output``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

from ocsea.text.dataset import MAX_LINE_BYTES, read_lines
from ocsea.text.output import line_output

if TYPE_CHECKING:
    from ocsea.text.detector import Detector

BLOCK_BYTES = 1 << 20  # input read and planned at a time: ~15,000 queries
# Lines a block holds at most: its output is built whole, some 1.6 kB of jsonl a line, so a
# megabyte of two-byte lines (350,000 of them) made 575 MB for one block (a review found).
MAX_BLOCK_LINES = 16_384
# What rendered texts the client keeps, in bytes of output (two generations of half each): the
# benchmark log's 181k distinct texts render to 290 MB of jsonl.
CACHE_BYTES = 384 << 20

# A text's rendering: its output after the line's number (UTF-8), and its error or None.
Rendered = tuple[bytes, str | None]


@dataclass(slots=True)
class Block:
    """Whole lines of the input, without their ``\\n``; ``size`` bytes of input taken."""

    first_line: int
    lines: list[bytes]
    size: int


def read_blocks(stream: BinaryIO, block_bytes: int | None = None) -> Iterator[Block]:
    """The input's lines in blocks of about ``block_bytes`` and at most ``MAX_BLOCK_LINES``
    lines. A line longer than ``MAX_LINE_BYTES`` is kept only to its first ``MAX_LINE_BYTES``
    bytes and a marker (it is an error whatever follows), so a file without line ends never
    fills memory. Reads what a pipe has (``read1``): a plain run answers a line typed into
    stdin without waiting for a full block (on a cluster, output follows the input by the
    blocks in the cluster)."""
    block_bytes = block_bytes or BLOCK_BYTES
    lineno = 1
    carry = b""  # the start of the line not yet ended, at most MAX_LINE_BYTES
    over = False  # whether that line has more than carried, beyond a run of "\r"
    carry_size = 0  # the bytes of input it took so far (for progress)
    while chunk := _read_some(stream, block_bytes):
        pieces = chunk.split(b"\n")
        tail = pieces.pop()  # after the chunk's last line end: the start of the next line
        if pieces:
            carry, over = _grown(carry, over, pieces[0])
            lines = [_key(carry, over)]
            lines += [
                p if len(p) <= MAX_LINE_BYTES else _key(*_grown(b"", False, p)) for p in pieces[1:]
            ]
            size = carry_size + len(chunk) - len(tail)
            if len(lines) <= MAX_BLOCK_LINES:
                yield Block(lineno, lines, size)
            else:
                # Sizes by line (each piece and its line end), the carried start on the first.
                sizes = [len(p) + 1 for p in pieces]
                sizes[0] += carry_size
                for i in range(0, len(lines), MAX_BLOCK_LINES):
                    cut = slice(i, i + MAX_BLOCK_LINES)
                    yield Block(lineno + i, lines[cut], sum(sizes[cut]))
            lineno += len(lines)
            carry, over, carry_size = b"", False, 0
        carry, over = _grown(carry, over, tail)
        carry_size += len(tail)
    if carry_size:
        yield Block(lineno, [_key(carry, over)], carry_size)


def _grown(carry: bytes, over: bool, more: bytes) -> tuple[bytes, bool]:
    """A line's first MAX_LINE_BYTES bytes with ``more`` added, and whether anything beyond
    them is more than ``\r`` (which ``read_lines`` strips from a line's end)."""
    room = MAX_LINE_BYTES - len(carry)
    if len(more) <= room:
        return carry + more, over
    return carry + more[:room], over or bool(more[room:].strip(b"\r"))


def _key(start: bytes, over: bool) -> bytes:
    """A line as short as it can be and still render as itself: its start, and one byte that
    makes it overlong where it is (the error shows only its first MAX_LINE_BYTES)."""
    return start + b"#" if over else start


def _read_some(stream: BinaryIO, n: int) -> bytes:
    read1 = getattr(stream, "read1", None)
    return read1(n) if read1 is not None else stream.read(n)


def render_texts(detector: Detector, kind: str, fmt: str, texts: Sequence[bytes]) -> list[Rendered]:
    """Each raw line's output as ``line_output`` writes it, less the line number in front, and
    its error: what the plain command writes for that line, for any line number."""
    out: list[Rendered] = []
    head = len(line_head(1, fmt))
    for raw in texts:
        line = next(read_lines([raw]))
        _, text = line_output(line, detector, kind, fmt)
        assert text is not None  # jsonl and csv are rendered; tables are drawn from jsonl
        out.append((text[head:].encode("utf-8"), line.error))
    return out


# What a line's output starts with before its verdict: its number, as JSON writes it first in
# the record and ``csv.writer`` writes an int (never quoted).
_HEADS = {"jsonl": b'{"line": %d, ', "csv": b"%d,"}


def line_head(lineno: int, fmt: str) -> str:
    """What a line's output starts with before its verdict (``_HEADS``)."""
    return (_HEADS[fmt] % lineno).decode("ascii")


@dataclass(slots=True)
class Plan:
    """One block: the texts it must have rendered (``missing``, each once), and where each of
    its other texts' renderings is: already known, or coming with an earlier block's."""

    block: Block
    missing: list[bytes]
    known: dict[bytes, Rendered]
    borrowed: dict[bytes, Plan]
    rendered: dict[bytes, Rendered] = field(default_factory=dict)


class DistinctLines:
    """The client's side: which texts each block needs rendered, and each block's output once
    they are. Blocks are planned in input order and written in the same order; several may be
    planned before the first is written (a Dask run keeps a window of them in the cluster), and
    a text one of those will render is borrowed from it, not rendered again."""

    def __init__(self, fmt: str, cache_bytes: int = CACHE_BYTES) -> None:
        self.fmt = fmt
        self._half = max(1, cache_bytes // 2)
        self._new: dict[bytes, Rendered] = {}
        self._old: dict[bytes, Rendered] = {}
        self._new_bytes = 0
        self._coming: dict[bytes, Plan] = {}  # text -> the planned, unwritten block rendering it

    def plan(self, block: Block) -> Plan:
        known: dict[bytes, Rendered] = {}
        borrowed: dict[bytes, Plan] = {}
        missing: list[bytes] = []
        plan = Plan(block, missing, known, borrowed)
        for text in dict.fromkeys(block.lines):
            hit = self._get(text)
            if hit is not None:
                known[text] = hit
            elif (owner := self._coming.get(text)) is not None:
                borrowed[text] = owner
            else:
                missing.append(text)
                self._coming[text] = plan
        return plan

    def output(
        self, plan: Plan, rendered: Sequence[Rendered]
    ) -> tuple[bytes, list[tuple[int, str]]]:
        """The block's output bytes, given its missing texts' renderings in order, and its bad
        lines as (line number, error). Blocks must be written in the order they were planned."""
        if len(rendered) != len(plan.missing):
            raise ValueError(f"{len(rendered)} renderings for {len(plan.missing)} texts")
        plan.rendered = dict(zip(plan.missing, rendered, strict=True))
        table = {**plan.known, **plan.rendered}
        for text, owner in plan.borrowed.items():
            table[text] = owner.rendered[text]
        out: list[bytes] = []
        errors: list[tuple[int, str]] = []
        head = _HEADS[self.fmt]
        for lineno, text in enumerate(plan.block.lines, start=plan.block.first_line):
            tail, error = table[text]
            out.append(head % lineno)
            out.append(tail)
            if error is not None:
                errors.append((lineno, error))
        for text, r in plan.rendered.items():
            del self._coming[text]  # a text another block will render is borrowed, never planned
            self._put(text, r)
        # The block is written: what it held is the cache's to keep or drop, and it lets go of
        # the blocks it borrowed from, so a chain of blocks each borrowing from the one before
        # (a log's new texts recur in the next block) never keeps the whole input alive.
        plan.known, plan.borrowed = {}, {}
        plan.block.lines = []
        return b"".join(out), errors

    def _get(self, text: bytes) -> Rendered | None:
        hit = self._new.get(text)
        if hit is None:
            hit = self._old.get(text)
            if hit is not None:
                self._put(text, hit)  # still in use: carried into the new generation
        return hit

    def _put(self, text: bytes, r: Rendered) -> None:
        if text in self._new:
            return
        if self._new_bytes >= self._half:
            self._old, self._new, self._new_bytes = self._new, {}, 0
        self._new[text] = r
        self._new_bytes += len(text) + len(r[0]) + 100
