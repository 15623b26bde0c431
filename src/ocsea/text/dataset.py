"""Reading labelled text data (CSV, TSV, JSONL with ``text`` and ``label``) and raw line input."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ocsea.text.model import LABELS

MAX_LINE_BYTES = 64 * 1024


class DataError(ValueError):
    """Input that cannot be read; the message names the file, line and field."""


@dataclass(frozen=True, slots=True)
class Labelled:
    text: str
    label: str
    lang: str = ""
    kind: str = ""  # query | filename | path | title, where the data says
    intent: str = ""  # what the row stands for (a blind set's intent or hard-negative tag)
    weight: float = 1.0  # how many times the row counts in training (a ``weight`` column)


# A row may count at most this many times: a typo of 1e9 would drown every other row.
MAX_WEIGHT = 1000.0


def read_labelled(path: Path | str) -> list[Labelled]:
    """Read ``text,label[,lang,kind,intent,weight]`` rows; the format follows the file's ending
    (.csv .tsv .jsonl)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    if suffix in (".jsonl", ".json", ".ndjson"):
        rows = _jsonl_rows(path, raw)
    elif suffix in (".csv", ".tsv", ".txt"):
        rows = _delimited_rows(path, raw, "\t" if suffix != ".csv" else ",")
    else:
        raise DataError(f"{path}: unknown data format {suffix!r}; use .csv, .tsv or .jsonl")
    out: list[Labelled] = []
    for lineno, row in rows:
        text = row.get("text")
        label = row.get("label")
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{path}:{lineno}: field 'text' is missing or empty")
        if label not in LABELS:
            raise DataError(f"{path}:{lineno}: field 'label' must be one of {list(LABELS)}")
        lang, kind, intent = (_optional(row, k) for k in ("lang", "kind", "intent"))
        out.append(Labelled(text, label, lang, kind, intent, _weight(path, lineno, row)))
    if not out:
        raise DataError(f"{path}: no rows")
    return out


def _weight(path: Path, lineno: int, row: dict) -> float:
    value = row.get("weight")
    if value is None or value == "":
        return 1.0
    try:
        w = float(value)
    except (TypeError, ValueError):
        raise DataError(f"{path}:{lineno}: field 'weight' is not a number: {value!r}") from None
    if not 0 < w <= MAX_WEIGHT:  # also NaN
        raise DataError(
            f"{path}:{lineno}: field 'weight' must be above 0 and at most {MAX_WEIGHT:g}"
        )
    return w


def _optional(row: dict, key: str) -> str:
    value = row.get(key) or ""
    return value if isinstance(value, str) else ""


def _jsonl_rows(path: Path, raw: str) -> Iterator[tuple[int, dict]]:
    for lineno, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise DataError(f"{path}:{lineno}: expected a JSON object")
        yield lineno, obj


def _delimited_rows(path: Path, raw: str, delimiter: str) -> Iterator[tuple[int, dict]]:
    reader = csv.DictReader(raw.splitlines(), delimiter=delimiter, quoting=csv.QUOTE_MINIMAL)
    fields = reader.fieldnames or []
    for need in ("text", "label"):
        if need not in fields:
            raise DataError(f"{path}:1: header has no column {need!r} (found {fields})")
    for row in reader:
        if None in row:
            raise DataError(f"{path}:{reader.line_num}: more fields than the header")
        yield reader.line_num, row


@dataclass(frozen=True, slots=True)
class InputLine:
    lineno: int
    text: str | None  # None when the line could not be used
    error: str | None
    raw: str  # what we can show of it
    size: int = 0  # bytes of input it took, its line end included (for progress)


def read_lines(stream: Iterable[bytes], first_line: int = 1) -> Iterator[InputLine]:
    """One input text per line; bad lines are reported, never fatal. ``first_line`` numbers a
    part of a file (a Dask worker's byte range) by the file's own line numbers."""
    for lineno, line in enumerate(stream, start=first_line):
        size = len(line)
        raw = line.rstrip(b"\n").rstrip(b"\r")
        if len(raw) > MAX_LINE_BYTES:
            shown = raw[:MAX_LINE_BYTES].decode("utf-8", errors="replace")
            yield InputLine(lineno, None, f"line longer than {MAX_LINE_BYTES} bytes", shown, size)
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            shown = raw.decode("utf-8", errors="replace")
            yield InputLine(lineno, None, f"not valid UTF-8 at byte {exc.start}", shown, size)
            continue
        if not text.strip():
            yield InputLine(lineno, None, "empty line", text, size)
            continue
        yield InputLine(lineno, text, None, text, size)
