"""The parts a batch input is cut into for the workers (``ocsea ingest``). A file is cut into
byte ranges that start on line starts, found by one read of it here (workers then read only
their own range); each range knows its first line's number, so workers number lines as the file
does. (``ocsea classify`` reads its input here and sends distinct texts: ``ocsea.text.batch``.)"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

_BLOCK = 1 << 20  # bytes read at a time while looking for line ends


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Bytes ``start`` up to ``end`` of a file, ``first_line`` being the number of the line at
    ``start`` (from 1)."""

    start: int
    end: int
    first_line: int

    @property
    def size(self) -> int:
        return self.end - self.start


def split_lines(
    fh: BinaryIO, parts: int, start: int = 0, first_line: int = 1
) -> Iterator[ByteRange]:
    """About ``parts`` ranges of a seekable file covering it exactly from ``start`` (a line
    start, of line ``first_line``: where a resumed ingest goes on), in order, each starting on
    a line start (a long line makes its range longer, and there may be fewer). Lazy: a range is
    given as soon as its end is found."""
    size = fh.seek(0, 2)
    step = max(1, math.ceil((size - start) / max(1, parts)))
    line = first_line
    while start < size:
        end, newlines = _range_end(fh, start, min(start + step, size), size)
        if end == start:  # the file shrank since its size was taken
            return
        yield ByteRange(start, end, line)
        start, line = end, line + newlines


def _range_end(fh: BinaryIO, start: int, target: int, size: int) -> tuple[int, int]:
    """The first line start at or after ``target`` (or the file's end), and the newlines from
    ``start`` up to it. ``start < target <= size``."""
    fh.seek(start)
    pos, newlines, last = start, 0, b""
    while pos < target:
        block = fh.read(min(_BLOCK, target - pos))
        if not block:  # the file shrank since its size was taken
            return pos, newlines
        newlines += block.count(b"\n")
        pos += len(block)
        last = block[-1:]
    if pos >= size or last == b"\n":
        return pos, newlines
    while block := fh.read(_BLOCK):
        nl = block.find(b"\n")
        if nl >= 0:
            return pos + nl + 1, newlines + 1
        pos += len(block)
    return pos, newlines
