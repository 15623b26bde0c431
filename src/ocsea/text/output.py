"""What ``ocsea classify`` writes for one input line: its record and that record's text in the
output format. One function for the plain command and its Dask workers alike, so that both
write the same bytes (``ocsea.text.batch`` renders each distinct text once with it)."""

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
