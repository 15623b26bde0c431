"""What ``ocsea classify`` writes for one input line: its record and that record's text in the
output format. One function for the plain command and its Dask workers alike, so that both
write the same bytes."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from ocsea.text.dataset import InputLine

if TYPE_CHECKING:
    from ocsea.text.detector import Detector

FORMATS = ("jsonl", "csv", "table")
CSV_HEADER = ("line", "text", "label", "score", "p_csa", "p_adult", "p_benign", "reasons", "error")


def line_output(
    line: InputLine, detector: Detector, kind: str, fmt: str
) -> tuple[dict[str, Any], str | None]:
    """The line's record, and its text in ``fmt`` (None for a table, which is drawn at the end
    from the records). A bad line's record carries its error instead of a verdict."""
    if line.text is None:
        rec: dict[str, Any] = {"line": line.lineno, "text": line.raw, "error": line.error}
    else:
        rec = {"line": line.lineno, **detector.classify(line.text, kind).to_dict()}
    if fmt == "jsonl":
        return rec, json.dumps(rec, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return rec, csv_line(csv_row(rec))
    if fmt == "table":
        return rec, None
    raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")


# Texts whose rendered lines a ``LineRenderer`` keeps, at most (then it starts afresh): some
# 1.2 kB each. A query log repeats its queries, and rendering a verdict (``to_dict``, then JSON)
# cost more than classifying it from the detector's cache: 300,000 lines of a Zipf log took
# 8.7 s to render against 6.3 s to classify.
MAX_RENDERED = 50_000
# Rendered lines longer than this are not kept, so the cache stays under ~MAX_RENDERED × 12 kB
# whatever the input (a 64 kB line renders to several times that).
MAX_RENDERED_CHARS = 8_192


class LineRenderer:
    """``line_output`` for the lines of one run with one detector: a text rendered before is
    written from what was rendered for it then, with this line's number in front (the same
    bytes, tested). Bad lines and tables go through ``line_output`` itself. A Dask worker's
    threads may share one: a dict's get and set are atomic, and a text cleared away is rendered
    again."""

    def __init__(self, detector: Detector, kind: str, fmt: str) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
        self.detector = detector
        self.kind = kind
        self.fmt = fmt
        self._tails: dict[str, str] = {}

    def __call__(self, line: InputLine) -> tuple[dict[str, Any] | None, str | None]:
        """``line_output(line, …)``; the record is None where the text was rendered before."""
        if line.text is None or self.fmt == "table":
            return line_output(line, self.detector, self.kind, self.fmt)
        head = _line_head(line.lineno, self.fmt)
        tail = self._tails.get(line.text)
        if tail is not None:
            return None, head + tail
        rec, text = line_output(line, self.detector, self.kind, self.fmt)
        if text is None or not text.startswith(head) or len(text) > MAX_RENDERED_CHARS:
            return rec, text  # long lines are rarely repeated queries: not kept
        if len(self._tails) >= MAX_RENDERED:
            self._tails.clear()
        self._tails[line.text] = text[len(head) :]
        return rec, text


def _line_head(lineno: int, fmt: str) -> str:
    """What a line's output starts with before its verdict: its number, as JSON writes it first
    in the record and ``csv.writer`` writes an int (never quoted)."""
    return f'{{"line": {lineno}, ' if fmt == "jsonl" else f"{lineno},"


def csv_row(rec: dict[str, Any]) -> list[Any]:
    probs = rec.get("probs", {})
    return [
        rec["line"],
        rec["text"],
        rec.get("label", ""),
        rec.get("score", ""),
        probs.get("csa", ""),
        probs.get("adult", ""),
        probs.get("benign", ""),
        reasons_short(rec.get("reasons", [])),
        rec.get("error", ""),
    ]


def csv_line(values: list[Any] | tuple[Any, ...]) -> str:
    """One CSV row as ``csv.writer`` writes it by default (quoting, ``\\r\\n``)."""
    buf = io.StringIO()
    csv.writer(buf).writerow(values)
    return buf.getvalue()


def reasons_short(reasons: list[dict]) -> str:
    """The reasons a person reads, in one cell: ``kind:category=term; …`` (not the model's)."""
    parts = []
    for r in reasons:
        if r["kind"] == "model":
            continue
        parts.append(f"{r['kind']}:{r['category']}={r['term']}")
    return "; ".join(parts)
