"""Hash-list formats: parse to entries, or fail naming file, line and field. Pure: text in,
entries out. Unknown fields are kept in ``extra``; nothing is dropped silently.

Formats: Project VIC VICS JSON (1.x ``odata.metadata`` and 2.0 ``@odata.context``; ``value[]`` of
Media, or of cases holding ``Media[]``), INTERPOL ICSE CSV export (``;``), NCMEC-style CSV (any
delimiter, hash columns by name), plain text (one hash a line), ocsea JSONL, and Meta's vPDQ
per-frame files (``frame,quality,hash,timestamp``; one video a file).
"""

from __future__ import annotations

import csv
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

    def has_hash(self) -> bool:
        return any((self.md5, self.sha1, self.sha256, self.pdq, self.photodna, self.vpdq))

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, {}, [])}


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
    if first.replace('"', "").startswith("MD5;SHA1;PhotoDNA"):
        return "icse"
    if any(h in first.lower() for h in ("md5", "sha1", "sha-1", "sha256", "photodna", "pdq")) and (
        "," in first or ";" in first or "\t" in first
    ):
        return "ncmec"
    return "text"


def parse(fmt: str, text: str, name: str, text_type: str = "auto") -> list[HashEntry]:
    if fmt not in FORMATS:
        raise HashListError(f"{name}: unknown format {fmt!r}; one of {FORMATS}")
    parser = {"vics": parse_vics, "icse": parse_icse, "ncmec": parse_ncmec, "jsonl": parse_jsonl,
              "vpdq": parse_vpdq_file}  # fmt: skip
    entries = parse_text(text, name, text_type) if fmt == "text" else parser[fmt](text, name)
    if not entries:
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


def parse_vics(text: str, name: str) -> list[HashEntry]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HashListError(f"{name}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    if not isinstance(doc, dict) or not (
        "odata.metadata" in doc or "@odata.context" in doc or "value" in doc or "Cases" in doc
    ):
        raise HashListError(f"{name}: not a VICS document (no odata.metadata/@odata.context/value)")
    out: list[HashEntry] = []
    for path, media in _vics_media(doc, ""):
        where = f"{name}: {path}"
        e = HashEntry()
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
        out.append(e)
    return out


# ---- ICSE -------------------------------------------------------------------------------------
def parse_icse(text: str, name: str) -> list[HashEntry]:
    lines = text.lstrip("\ufeff").splitlines()
    reader = csv.reader(lines, delimiter=";")
    header = next(reader, None)
    if header is None or ";".join(h.strip() for h in header) != ICSE_HEADER:
        raise HashListError(f"{name}:1: header is not the ICSE export header {ICSE_HEADER!r}")
    out: list[HashEntry] = []
    for row in reader:
        lineno = reader.line_num
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise HashListError(f"{name}:{lineno}: expected {len(header)} fields, got {len(row)}")
        rec = dict(zip(header, row, strict=True))
        where = f"{name}:{lineno}"
        baseline = (rec.get("Baseline") or "").strip().lower()
        e = HashEntry(
            md5=check_hash("md5", rec["MD5"], where),
            sha1=check_hash("sha1", rec["SHA1"], where),
            photodna=_text(rec["PhotoDNA"]),
            media_id=_text(rec["Image ID"]),
            category="baseline" if baseline in ("yes", "true", "1", "y") else "icse",
            extra={
                k: v for k, v in rec.items() if k not in ("MD5", "SHA1", "PhotoDNA", "Image ID")
            },
        )
        if not e.has_hash():
            raise HashListError(f"{where}: row has no MD5, SHA1 or PhotoDNA")
        out.append(e)
    return out


# ---- NCMEC-style CSV ----------------------------------------------------------------------------
_COLUMN_ALIASES = {
    "md5": ("md5", "md5 hash", "md5hash", "md5_hash", "hash_md5"),
    "sha1": ("sha1", "sha-1", "sha1 hash", "sha1hash", "sha1_hash", "hash_sha1"),
    "sha256": ("sha256", "sha-256", "sha256 hash", "sha256hash", "sha256_hash", "hash_sha256"),
    "pdq": ("pdq", "pdq hash", "pdq_hash"),
    "photodna": ("photodna", "photo dna", "photodna hash", "photodna_hash"),
    "category": ("category", "classification", "ncmec classification", "label"),
    "media_id": ("id", "media id", "mediaid", "media_id", "hash id", "file id", "fileid"),
}


def parse_ncmec(text: str, name: str) -> list[HashEntry]:
    lines = text.lstrip("\ufeff").splitlines()
    if not lines:
        raise HashListError(f"{name}: empty file")
    try:
        dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(lines, delimiter=delimiter)
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
        lineno = reader.line_num
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise HashListError(f"{name}:{lineno}: expected {len(header)} fields, got {len(row)}")
        where = f"{name}:{lineno}"
        e = HashEntry()
        for kind, i in cols.items():
            if kind in HASH_LENGTHS:
                setattr(e, kind, check_hash(kind, row[i], where))
            else:
                setattr(e, kind, _text(row[i]))
        used = set(cols.values())
        e.extra = {header[i]: row[i] for i in range(len(header)) if i not in used and row[i] != ""}
        if not e.has_hash():
            raise HashListError(f"{where}: row has no hash value")
        out.append(e)
    return out


# ---- plain text ---------------------------------------------------------------------------------
def parse_text(text: str, name: str, text_type: str = "auto") -> list[HashEntry]:
    """One hash a line; ``type:hash`` also accepted. 64 hex digits are SHA-256 unless
    ``text_type`` says pdq."""
    if text_type not in ("auto", *HASH_LENGTHS):
        raise HashListError(f"{name}: unknown text hash type {text_type!r}")
    by_len = {32: "md5", 40: "sha1", 64: "sha256"}
    out: list[HashEntry] = []
    for lineno, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
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
                raise HashListError(
                    f"{name}:{lineno}: {len(value)} characters is no known hash length"
                )
        e = HashEntry()
        setattr(e, kind, check_hash(kind, value, f"{name}:{lineno}"))
        out.append(e)
    return out


# ---- ocsea JSONL --------------------------------------------------------------------------------
def parse_jsonl(text: str, name: str) -> list[HashEntry]:
    out: list[HashEntry] = []
    for lineno, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{name}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise HashListError(f"{where}: invalid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise HashListError(f"{where}: expected a JSON object")
        e = HashEntry()
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
        out.append(e)
    return out


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
