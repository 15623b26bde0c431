"""Hash-list formats: parse to entries, or fail naming file, line and field. Pure: text in,
entries out. Unknown fields are kept in ``extra``; nothing is dropped silently.

Formats: Project VIC VICS JSON (1.x ``odata.metadata`` and 2.0 ``@odata.context``; ``value[]`` of
Media, or of cases holding ``Media[]``), INTERPOL ICSE CSV export (``;``), NCMEC-style CSV (any
delimiter, hash columns by name), plain text (one hash a line), ocsea JSONL, and Meta's vPDQ
per-frame files (``frame,quality,hash,timestamp``; one video a file).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from ocsea.match.vpdq import (
    VpdqFormatError,
    frames_from_json,
    frames_to_json,
    looks_like_meta_file,
    parse_meta_file,
)

FORMATS = ("vics", "icse", "ncmec", "text", "jsonl", "vpdq")
HASH_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "pdq": 64}
_HEX = re.compile(r"[0-9a-f]+")
ICSE_HEADER = (
    "MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim identified;Offender identified;"
    "Series name;Number of submissions;File Available;Media Type;Baseline"
)
MAX_ENTRIES = 50_000_000


class HashListError(ValueError):
    """A hash list that cannot be imported; names the file, line (or item) and field."""


@dataclass
class HashEntry:
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    photodna: str | None = None
    category: str | None = None
    media_id: str | None = None
    vpdq: list[dict] | None = None  # frames: {"hash", "quality", "frame", "timestamp"}
    extra: dict[str, Any] = field(default_factory=dict)
    line: int | None = None  # where in its file (provenance; not exported)

    def has_hash(self) -> bool:
        return any((self.md5, self.sha1, self.sha256, self.pdq, self.photodna, self.vpdq))

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, {}, []) and k != "line"}


def check_hash(kind: str, value: Any, where: str) -> str | None:
    """Lower-cased hex of the right length, or None for an empty value."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise HashListError(f"{where}: field '{kind}' must be a string")
    v = value.strip().lower()
    if not v:
        return None
    if len(v) != HASH_LENGTHS[kind] or not _HEX.fullmatch(v):
        raise HashListError(
            f"{where}: field '{kind}' is not a {HASH_LENGTHS[kind]}-digit hex {kind.upper()} hash"
        )
    return v


def _text(value: Any) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def detect_format(name: str, head: str) -> str:
    """Guess the format from the file name and its first characters."""
    lower = name.lower()
    stripped = head.lstrip("\ufeff \t\r\n")
    if lower.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if looks_like_meta_file(stripped[:4000]):
        return "vpdq"
    if stripped.startswith("{") and (
        "odata" in head[:2000] or '"value"' in head[:2000] or '"Cases"' in head[:2000]
    ):
        return "vics"
    if stripped.startswith("{"):
        return "jsonl"
    first = stripped.splitlines()[0] if stripped else ""
    cells = {c.strip().lower() for c in first.replace('"', "").split(";")}
    if ";" in first and {"image id", "photodna"} <= cells and cells & {"md5", "sha1"}:
        return "icse"  # ICSE's export, whatever the column order
    if any(h in first.lower() for h in ("md5", "sha1", "sha-1", "sha256", "photodna", "pdq")) and (
        "," in first or ";" in first or "\t" in first
    ):
        return "ncmec"
    return "text"


def _lines(text: str) -> list[str]:
    """Lines at the file's own breaks (\\n, with \\r\\n), not at every break Unicode knows."""
    out = text.lstrip("\ufeff").split("\n")
    if out and out[-1] == "":
        out.pop()
    return [x[:-1] if x.endswith("\r") else x for x in out]


class _Rows:
    """Row errors: raised at once (strict), or collected while the other rows go on."""

    def __init__(self, rejects: list[str] | None, shift: int = 0) -> None:
        self.rejects = rejects
        self.shift = shift  # added to line numbers: a block of a file read in blocks

    def bad(self, exc: HashListError) -> None:
        if self.rejects is None:
            raise exc
        self.rejects.append(str(exc))


def parse(fmt: str, text: str, name: str, text_type: str = "auto",
          rejects: list[str] | None = None, shift: int = 0, allow_empty: bool = False) -> list[HashEntry]:  # fmt: skip
    """Every entry of a list. A row that cannot be read raises, or with ``rejects`` (a list) is
    named there with its line and the other rows are kept; a file that cannot be read raises."""
    if fmt not in FORMATS:
        raise HashListError(f"{name}: unknown format {fmt!r}; one of {FORMATS}")
    parser = {"vics": parse_vics, "icse": parse_icse, "ncmec": parse_ncmec, "jsonl": parse_jsonl,
              "vpdq": parse_vpdq_file}  # fmt: skip
    rows = _Rows(rejects, shift)
    if fmt == "text":
        entries = parse_text(text, name, text_type, rows)
    elif fmt == "vpdq":
        entries = parse_vpdq_file(text, name)
    else:
        entries = parser[fmt](text, name, rows)
    if not entries and not allow_empty:
        if rejects:
            raise HashListError(
                f"{name}: no readable entries ({len(rejects)} rows rejected; first: {rejects[0]})"
            )
        raise HashListError(f"{name}: no hash entries found")
    if len(entries) > MAX_ENTRIES:
        raise HashListError(f"{name}: more than {MAX_ENTRIES} entries")
    return entries


# ---- vPDQ: Meta's per-frame file, one video a file ---------------------------------------------
def parse_vpdq_file(text: str, name: str) -> list[HashEntry]:
    """``frame_number,quality,hash,timestamp`` lines (what Meta's vpdq tools and ``ocsea hash
    --vpdq-out`` write): one entry, the video, named by the file."""
    try:
        frames = parse_meta_file(text, name)
    except VpdqFormatError as exc:
        raise HashListError(str(exc)) from None
    stem = name.replace("\\", "/").rsplit("/", 1)[-1]
    for suffix in (".vpdq.txt", ".txt", ".vpdq"):
        stem = stem.removesuffix(suffix)
    return [HashEntry(media_id=stem or None, vpdq=frames_to_json(frames))]


# ---- VICS -------------------------------------------------------------------------------------
_VICS_KNOWN = {"md5": "md5", "sha1": "sha1", "sha256": "sha256", "category": "category",
               "mediaid": "media_id", "photodna": "photodna", "pdq": "pdq"}  # fmt: skip


def _vics_media(doc: Any, path: str) -> Iterator[tuple[str, dict]]:
    """Media objects wherever VICS puts them: value[], value[].Media[], Cases[].Media[]."""
    if isinstance(doc, list):
        for i, item in enumerate(doc):
            yield from _vics_media(item, f"{path}[{i}]")
    elif isinstance(doc, dict):
        nested = False
        for key in ("value", "Cases", "Media"):
            if isinstance(doc.get(key), list):
                nested = True
                yield from _vics_media(doc[key], f"{path}.{key}" if path else key)
        if not nested and any(k.lower() in ("md5", "sha1", "mediaid", "photodna") for k in doc):
            yield path, doc


class _LineFinder:
    """The line a VICS media object sits on, found by one of its values (JSON keeps no
    positions). Media come in document order, so each search starts where the last one ended:
    searching from the start each time made 80,000 media take 153 s."""

    def __init__(self, text: str) -> None:
        self.text, self.pos, self.line = text, 0, 1

    def __call__(self, media: dict) -> int | None:
        for key in ("MD5", "SHA1", "SHA256", "MediaID", "md5", "sha1", "sha256", "mediaID"):
            v = media.get(key)
            if isinstance(v, str | int) and str(v).strip():
                pos = self.text.find(str(v), self.pos)
                if pos >= 0:
                    self.line += self.text.count("\n", self.pos, pos)
                    self.pos = pos
                    return self.line
        return None


def parse_vics(text: str, name: str, rows: _Rows | None = None) -> list[HashEntry]:
    rows = rows or _Rows(None)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HashListError(f"{name}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    if not isinstance(doc, dict) or not (
        "odata.metadata" in doc or "@odata.context" in doc or "value" in doc or "Cases" in doc
    ):
        raise HashListError(f"{name}: not a VICS document (no odata.metadata/@odata.context/value)")
    out: list[HashEntry] = []
    case_fields = {k: v for k, v in doc.items() if k.lower() in ("caseid", "casenumber", "case")}
    line_of = _LineFinder(text)
    for path, media in _vics_media(doc, ""):
        line = line_of(media)
        where = f"{name}:{line}: {path}" if line else f"{name}: {path}"
        e = HashEntry(line=line)
        try:
            for key, value in media.items():
                known = _VICS_KNOWN.get(key.lower())
                if known in ("md5", "sha1", "sha256", "pdq"):
                    setattr(e, known, check_hash(known, value, where))
                elif known in ("category", "media_id", "photodna"):
                    setattr(e, known, _text(value))
                else:
                    e.extra[key] = value
            if not e.has_hash():
                raise HashListError(f"{where}: media has no MD5, SHA1, SHA256 or PhotoDNA")
        except HashListError as exc:
            rows.bad(exc)
            continue
        for k, v in _case_of(doc, path).items():
            e.extra.setdefault(k, v)
        for k, v in case_fields.items():
            e.extra.setdefault(k, v)
        out.append(e)
    return out


def _case_of(doc: Any, path: str) -> dict:
    """The case-level fields (CaseID, case number) of the case a media object sits in."""
    parts = path.split(".")
    node = doc
    found: dict = {}
    for part in parts:
        key, _, idx = part.partition("[")
        if not isinstance(node, dict) or key not in node:
            break
        node = node[key]
        if idx and isinstance(node, list):
            node = node[int(idx.rstrip("]"))]
        if isinstance(node, dict):
            for k, v in node.items():
                if k.lower() in ("caseid", "casenumber", "casenum", "case") and not isinstance(
                    v, list | dict
                ):
                    found[k] = v
    return found


# ---- ICSE -------------------------------------------------------------------------------------
ICSE_COLUMNS = {"md5": "MD5", "sha1": "SHA1", "photodna": "PhotoDNA", "media_id": "Image ID",
                "baseline": "Baseline"}  # fmt: skip


def parse_icse(text: str, name: str, rows: _Rows | None = None) -> list[HashEntry]:
    """ICSE export: columns found by name (an export with reordered or extra columns reads)."""
    rows = rows or _Rows(None)
    # the file's own line breaks: splitlines() also breaks at U+2028, U+0085 or a form feed
    # inside a field, cutting it and shifting every later line number
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=";")
    header = [h.strip() for h in next(reader, None) or []]
    at = {h.lower(): i for i, h in enumerate(header)}
    col = {k: at.get(v.lower()) for k, v in ICSE_COLUMNS.items()}
    if col["md5"] is None and col["sha1"] is None and col["photodna"] is None:
        raise HashListError(
            f"{name}:1: an ICSE header names MD5, SHA1 or PhotoDNA (got {';'.join(header)[:200]!r})"
        )
    out: list[HashEntry] = []
    for row in reader:
        lineno = reader.line_num + rows.shift
        if not any(c.strip() for c in row):
            continue
        where = f"{name}:{lineno}"
        try:
            if len(row) != len(header):
                raise HashListError(f"{where}: expected {len(header)} fields, got {len(row)}")

            def cell(k: str, row=row) -> str:
                return row[col[k]] if col[k] is not None else ""

            baseline = cell("baseline").strip().lower()
            e = HashEntry(
                md5=check_hash("md5", cell("md5"), where), sha1=check_hash("sha1", cell("sha1"), where),
                photodna=_text(cell("photodna")), media_id=_text(cell("media_id")),
                category="baseline" if baseline in ("yes", "true", "1", "y") else "icse",
                extra={h: row[i] for i, h in enumerate(header) if i not in col.values() or h == "Baseline"},
                line=lineno,
            )  # fmt: skip
            if not e.has_hash():
                raise HashListError(f"{where}: row has no MD5, SHA1 or PhotoDNA")
        except HashListError as exc:
            rows.bad(exc)
            continue
        out.append(e)
    return out


# ---- NCMEC-style CSV ----------------------------------------------------------------------------
_COLUMN_ALIASES = {
    "md5": ("md5", "md5 hash", "md5hash", "md5_hash", "hash_md5"),
    "sha1": ("sha1", "sha-1", "sha1 hash", "sha1hash", "sha1_hash", "hash_sha1"),
    "sha256": ("sha256", "sha-256", "sha256 hash", "sha256hash", "sha256_hash", "hash_sha256"),
    "pdq": ("pdq", "pdq hash", "pdq_hash"),
    "photodna": ("photodna", "photo dna", "photodna hash", "photodna_hash", "pdna", "pdna hash"),
    "category": ("category", "classification", "ncmec classification", "label"),
    "media_id": ("id", "media id", "mediaid", "media_id", "hash id", "file id", "fileid"),
}


def parse_ncmec(text: str, name: str, rows: _Rows | None = None) -> list[HashEntry]:
    rows = rows or _Rows(None)
    body = text.lstrip("\ufeff")
    if not body.strip():
        raise HashListError(f"{name}: empty file")
    first = body.split("\n", 1)[0].rstrip("\r")
    try:
        dialect = csv.Sniffer().sniff(first, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)
    header = [h.strip() for h in next(reader)]
    cols: dict[str, int] = {}
    for i, h in enumerate(header):
        for kind, aliases in _COLUMN_ALIASES.items():
            if h.lower() in aliases and kind not in cols:
                cols[kind] = i
    if not any(k in cols for k in ("md5", "sha1", "sha256", "pdq", "photodna")):
        raise HashListError(
            f"{name}:1: header names no hash column (md5, sha1, sha256, pdq, photodna)"
        )
    out: list[HashEntry] = []
    for row in reader:
        lineno = reader.line_num + rows.shift
        if not any(c.strip() for c in row):
            continue
        where = f"{name}:{lineno}"
        e = HashEntry(line=lineno)
        try:
            if len(row) != len(header):
                raise HashListError(f"{where}: expected {len(header)} fields, got {len(row)}")
            for kind, i in cols.items():
                if kind in HASH_LENGTHS:
                    setattr(e, kind, check_hash(kind, row[i], where))
                else:
                    setattr(e, kind, _text(row[i]))
            if not e.has_hash():
                raise HashListError(f"{where}: row has no hash value")
        except HashListError as exc:
            rows.bad(exc)
            continue
        used = set(cols.values())
        e.extra = {header[i]: row[i] for i in range(len(header)) if i not in used and row[i] != ""}
        out.append(e)
    return out


# ---- plain text ---------------------------------------------------------------------------------
def parse_text(
    text: str, name: str, text_type: str = "auto", rows: _Rows | None = None
) -> list[HashEntry]:
    """One hash a line; ``type:hash`` also accepted. 64 hex digits are SHA-256 unless
    ``text_type`` says pdq."""
    if text_type not in ("auto", *HASH_LENGTHS):
        raise HashListError(f"{name}: unknown text hash type {text_type!r}")
    by_len = {32: "md5", 40: "sha1", 64: "sha256"}
    rows = rows or _Rows(None)
    out: list[HashEntry] = []
    for lineno, raw in enumerate(_lines(text), start=1 + rows.shift):
        try:
            e = _text_line(raw, lineno, name, text_type, by_len)
        except HashListError as exc:
            rows.bad(exc)
            continue
        if e is not None:
            out.append(e)
    return out


def _text_line(raw: str, lineno: int, name: str, text_type: str, by_len: dict) -> HashEntry | None:
    line = raw.strip().lower()
    if text_type != "auto" and len(line) == HASH_LENGTHS[text_type] and _HEX.fullmatch(line):
        # A bare hash of the stated type, as national-size lists are: the checks below give
        # the same entry (1M PDQ lines: 7.1 -> 5.2 s of profiled parsing).
        e = HashEntry(line=lineno)
        setattr(e, text_type, line)
        return e
    line = raw.split("#", 1)[0].strip()
    if not line:
        return None
    kind = text_type
    value = line
    if ":" in line:
        prefix, value = (p.strip() for p in line.split(":", 1))
        prefix = prefix.lower().replace("-", "")
        if prefix not in HASH_LENGTHS:
            raise HashListError(f"{name}:{lineno}: unknown hash type {prefix!r}")
        kind = prefix
    value = value.split()[0] if value.split() else ""
    if kind == "auto":
        kind = by_len.get(len(value), "")
        if not kind:
            raise HashListError(f"{name}:{lineno}: {len(value)} characters is no known hash length")
    e = HashEntry(line=lineno)
    setattr(e, kind, check_hash(kind, value, f"{name}:{lineno}"))
    return e


# ---- ocsea JSONL --------------------------------------------------------------------------------
def parse_jsonl(text: str, name: str, rows: _Rows | None = None) -> list[HashEntry]:
    rows = rows or _Rows(None)
    out: list[HashEntry] = []
    for lineno, line in enumerate(_lines(text), start=1 + rows.shift):
        if not line.strip():
            continue
        where = f"{name}:{lineno}"
        try:
            out.append(_jsonl_row(line, where, lineno))
        except HashListError as exc:
            rows.bad(exc)
    return out


def _jsonl_row(line: str, where: str, lineno: int) -> HashEntry:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise HashListError(f"{where}: invalid JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise HashListError(f"{where}: expected a JSON object")
    e = HashEntry(line=lineno)
    for key, value in obj.items():
        if key in HASH_LENGTHS:
            setattr(e, key, check_hash(key, value, where))
        elif key == "pdq_quality":
            if value is not None and (not isinstance(value, int) or not 0 <= value <= 100):
                raise HashListError(f"{where}: field 'pdq_quality' must be an integer 0..100")
            e.pdq_quality = value
        elif key == "vpdq":
            try:
                e.vpdq = frames_to_json(frames_from_json(value, f"{where} vpdq"))
            except VpdqFormatError as exc:
                raise HashListError(str(exc)) from None
        elif key in ("category", "media_id", "photodna"):
            setattr(e, key, _text(value))
        elif key == "extra" and isinstance(value, dict):
            e.extra.update(value)
        else:
            e.extra[key] = value
    if not e.has_hash():
        raise HashListError(f"{where}: object has no hash field")
    return e


# ---- export -------------------------------------------------------------------------------------
def to_jsonl(entries: list[HashEntry]) -> str:
    return "".join(json.dumps(e.to_json(), ensure_ascii=False) + "\n" for e in entries)


def to_vics(entries: list[HashEntry], list_name: str) -> str:
    """VICS 2.0 JSON: ``@odata.context`` and ``value[]`` of Media."""
    media = []
    for i, e in enumerate(entries, start=1):
        m: dict[str, Any] = {"MediaID": e.media_id or str(i)}
        if e.category is not None:
            m["Category"] = int(e.category) if e.category.isdigit() else e.category
        for key, attr in (("MD5", "md5"), ("SHA1", "sha1"), ("SHA256", "sha256")):
            if getattr(e, attr):
                m[key] = getattr(e, attr).upper()
        if e.photodna:
            m["PhotoDNA"] = e.photodna
        if e.pdq:
            m["PDQ"] = e.pdq
        for k, v in e.extra.items():
            m.setdefault(k, v)
        media.append(m)
    doc = {
        "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media",
        "ocsea.list": list_name,
        "value": media,
    }
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
