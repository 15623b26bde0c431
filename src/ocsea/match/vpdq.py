"""vPDQ frames and Meta's matching rule (pure). Meta's reference (ThreatExchange vpdq) filters
both videos' frames by quality and removes repeated hashes on both sides, then counts, each way,
the share of one side's remaining frames that have a match on the other: the query share must
reach the query threshold (80 %), the list video's share the index threshold (0 %).

Frames travel as Meta writes them, one per line: ``frame_number,quality,hash,timestamp``; in
JSON as ``{"frame", "quality", "hash", "timestamp"}`` objects (a plain list of hex hashes, as
older lists hold, is read as frames of unknown quality, which pass the quality filter).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

QUERY_PERCENT = 80.0
INDEX_PERCENT = 0.0
_HEX64 = re.compile(r"[0-9a-f]{64}")
_LINE = re.compile(
    r"^\s*(\d+)\s*,\s*(\d{1,3})\s*,\s*([0-9a-fA-F]{64})\s*(?:,\s*([0-9.eE+\-]+))?\s*$"
)


class VpdqFormatError(ValueError):
    """A frame that cannot be read; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Frame:
    hex: str
    quality: int | None = None
    frame: int | None = None
    timestamp: float | None = None


def frames_from_json(value: Any, where: str = "vpdq", skip_bad: bool = False) -> list[Frame]:
    """Frames from a list of hex strings, of ``{"hash"|"hex", "quality", "frame", "timestamp"}``
    objects, or of ``[frame, quality, hash, timestamp]`` rows."""
    if not isinstance(value, list):
        raise VpdqFormatError(f"{where}: a list of frames")
    out: list[Frame] = []
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        if isinstance(item, str):
            hx, q, fr, ts = item, None, None, None
        elif isinstance(item, dict):
            hx = item.get("hash", item.get("hex"))
            q = item.get("quality")
            fr = item.get("frame", item.get("frame_number"))
            ts = item.get("timestamp")
        elif isinstance(item, list | tuple) and len(item) in (3, 4):
            fr, q, hx = item[0], item[1], item[2]
            ts = item[3] if len(item) == 4 else None
        else:
            if skip_bad:
                continue
            raise VpdqFormatError(
                f"{at}: a frame is a hex hash, an object or [frame, quality, hash, timestamp]"
            )
        if not isinstance(hx, str) or not _HEX64.fullmatch(hx.strip().lower()):
            if skip_bad:  # lists stored before frames were checked hold "" for unreadable frames
                continue
            raise VpdqFormatError(f"{at}: hash is not 64 hex digits")
        if q is not None and (isinstance(q, bool) or not isinstance(q, int) or not 0 <= q <= 100):
            if skip_bad:
                q = None
            else:
                raise VpdqFormatError(f"{at}: quality is an integer 0..100")
        out.append(Frame(hx.strip().lower(), q, int(fr) if isinstance(fr, int | float) else None,
                         float(ts) if isinstance(ts, int | float) else None))  # fmt: skip
    return out


def frames_to_json(frames: Iterable[Frame]) -> list[dict]:
    out = []
    for f in frames:
        d: dict[str, Any] = {"hash": f.hex}
        for k in ("quality", "frame", "timestamp"):
            v = getattr(f, k)
            if v is not None:
                d[k] = v
        out.append(d)
    return out


def parse_meta_file(text: str, name: str) -> list[Frame]:
    """Meta's per-frame file: ``frame_number,quality,hash,timestamp`` a line."""
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _LINE.match(line)
        if not m:
            raise VpdqFormatError(
                f"{name}:{lineno}: not a vPDQ frame (frame,quality,hash,timestamp)"
            )
        q = int(m.group(2))
        if q > 100:
            raise VpdqFormatError(f"{name}:{lineno}: quality {q} is above 100")
        ts = float(m.group(4)) if m.group(4) else None
        out.append(Frame(m.group(3).lower(), q, int(m.group(1)), ts))
    if not out:
        raise VpdqFormatError(f"{name}: no vPDQ frames")
    return out


def looks_like_meta_file(head: str) -> bool:
    lines = [ln for ln in head.splitlines()[:5] if ln.strip()]
    return bool(lines) and all(_LINE.match(ln) for ln in lines[:-1] or lines)


def format_meta_file(frames: Iterable[Frame]) -> str:
    return "".join(
        f"{f.frame if f.frame is not None else i},{f.quality if f.quality is not None else 100},{f.hex},"
        f"{'' if f.timestamp is None else format(f.timestamp, '.6g')}\n"
        for i, f in enumerate(frames)
    )


def usable(frames: Sequence[Frame], quality_floor: int) -> list[str]:
    """The hashes Meta's rule compares: quality at or above the floor (unknown quality passes),
    each distinct hash once, in order."""
    seen: set[str] = set()
    out = []
    for f in frames:
        if f.quality is not None and f.quality < quality_floor:
            continue
        if f.hex not in seen:
            seen.add(f.hex)
            out.append(f.hex)
    return out
