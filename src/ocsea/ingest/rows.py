"""Row parsing for ingest (pure): column mapping, validation with field-level errors."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

_HEX = re.compile(r"[0-9a-f]+")
MAX_FIELD = 2000


class RowError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"field '{field}': {message}")
        self.field = field


def resolve_columns(header: list[str], aliases: dict[str, list[str]]) -> dict[str, str]:
    """Map our field names to the file's column names (case-insensitive, first alias wins)."""
    lower = {h.strip().lower(): h for h in header}
    out: dict[str, str] = {}
    for field, names in aliases.items():
        for n in names:
            if n.lower() in lower:
                out[field] = lower[n.lower()]
                break
    return out


def parse_time(value: Any) -> datetime:
    if (
        isinstance(value, str) and len(value) >= 10 and value[4:5] == "-"
    ):  # ISO 8601, the usual case
        try:
            dt = datetime.fromisoformat(value.strip().replace(" UTC", "+00:00"))
        except ValueError:
            pass
        else:
            return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RowError("timestamp", "missing")
    if isinstance(value, int | float) or (
        isinstance(value, str) and re.fullmatch(r"\d{9,13}(\.\d+)?", value.strip())
    ):
        v = float(value)
        if v > 1e11:  # milliseconds
            v /= 1000
        return datetime.fromtimestamp(v, UTC)
    try:
        dt = datetime.fromisoformat(str(value).strip().replace(" UTC", "+00:00"))
    except ValueError:
        raise RowError(
            "timestamp", f"not an ISO 8601 time or epoch seconds: {str(value)[:40]!r}"
        ) from None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def clean_text(v: Any, field: str, required: bool = False, limit: int = MAX_FIELD) -> str | None:
    """A field's value as stored: stripped, None when empty, an error when over ``limit``."""
    s = v.strip() if isinstance(v, str) else (None if v is None else str(v).strip())
    if not s:
        if required:
            raise RowError(field, "missing")
        return None
    if len(s) > limit:
        raise RowError(field, f"longer than {limit} characters")
    return s


def _text(
    raw: dict, cols: dict[str, str], field: str, required: bool = False, limit: int = MAX_FIELD
) -> str | None:
    col = cols.get(field)
    return clean_text(raw.get(col) if col else None, field, required, limit)


def clean_hash(v: Any, field: str, hex_len: int) -> str | None:
    """Lower-case hex, from hex or base32 with or without a URN-style prefix."""
    v = clean_text(v, field)
    if v is None:
        return None
    v = v.lower()
    for prefix in ("urn:sha1:", "urn:btih:", "sha1:", "md5:", "ed2k:"):
        if v.startswith(prefix):
            v = v[len(prefix) :]
    if len(v) == 32 and hex_len == 40:  # base32, as Gnutella's urn:sha1 and magnet links write it
        try:
            v = base64.b32decode(v.upper()).hex()
        except (binascii.Error, ValueError):
            raise RowError(field, "not a hex or base32 hash") from None
    if len(v) != hex_len or not _HEX.fullmatch(v):
        raise RowError(field, f"not a {hex_len}-digit hex hash")
    return v


def clean_network(v: Any) -> str:
    return (clean_text(v, "network", limit=40) or "unknown").lower()


def clean_ip(v: Any) -> str | None:
    s = clean_text(v, "ip", limit=64)
    return None if s is None else _ip(s)


def clean_port(v: Any) -> int | None:
    s = clean_text(v, "port", limit=10)
    if s is None:
        return None
    # isdecimal, not isdigit: int() takes any decimal digit (Thai too) but not e.g. superscripts.
    if not s.isdecimal() or not 0 <= int(s) <= 65535:
        raise RowError("port", "not a port number 0..65535")
    return int(s)


MAX_SIZE = (1 << 63) - 1  # the store's BIGINT


def clean_size(v: Any) -> int | None:
    s = clean_text(v, "size", limit=20)
    if s is None:
        return None
    if not s.isdecimal():
        raise RowError("size", "not a whole number of bytes")
    if int(s) > MAX_SIZE:
        raise RowError("size", "larger than 2^63 - 1 bytes")
    return int(s)


@dataclass(frozen=True, slots=True)
class P2PRecord:
    seen_at: datetime
    network: str
    ip: str | None
    port: int | None
    guid: str
    client: str | None
    filename: str
    size: int | None
    sha1: str | None
    md5: str | None
    ed2k: str | None
    infohash: str | None

    def row_key(self) -> int:
        """The source row's identity, unique per sharer: the first 64 bits of a SHA-256 of its
        fields, signed (the store's BIGINT). Ingest's SQL computes the same (``p2p_fast``)."""
        parts = [self.seen_at.isoformat(), self.network, self.ip or "", str(self.port or ""), self.guid,
                 self.filename, str(self.size or ""), self.sha1 or "", self.md5 or "", self.ed2k or "",
                 self.infohash or ""]  # fmt: skip
        return row_key_of(hashlib.sha256("\x1f".join(parts).encode()).digest())

    def item_identity(self) -> str:
        """What makes two observations the same file: a content hash when there is one."""
        for kind, v in (
            ("sha1", self.sha1),
            ("md5", self.md5),
            ("ed2k", self.ed2k),
            ("btih", self.infohash),
        ):
            if v:
                return f"{kind}:{v}"
        return f"name:{self.filename}\x1f{self.size or ''}"


def row_key_of(digest: bytes) -> int:
    return int.from_bytes(digest[:8], "big", signed=True)


def item_key(identity: str) -> str:
    return hashlib.sha256(identity.encode()).hexdigest()


@functools.lru_cache(maxsize=65_536)
def _ip(text: str) -> str:
    """Canonical form (monitoring exports repeat the same addresses: memoised)."""
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        raise RowError("ip", f"not an IP address: {text[:40]!r}") from None


def parse_p2p(raw: dict, cols: dict[str, str]) -> P2PRecord:
    def get(field: str) -> Any:
        col = cols.get(field)
        return raw.get(col) if col else None

    # In this order, which decides the error a row with several bad fields reports.
    seen = parse_time(get("timestamp"))
    ip = clean_ip(get("ip"))
    port = clean_port(get("port"))
    size = clean_size(get("size"))
    return P2PRecord(
        seen_at=seen,
        network=clean_network(get("network")),
        ip=ip,
        port=port,
        guid=clean_text(get("guid"), "guid", required=True, limit=200) or "",
        client=clean_text(get("client"), "client", limit=200),
        filename=clean_text(get("filename"), "filename", required=True, limit=1000) or "",
        size=size,
        sha1=clean_hash(get("sha1"), "sha1", 40),
        md5=clean_hash(get("md5"), "md5", 32),
        ed2k=clean_hash(get("ed2k"), "ed2k", 32),
        infohash=clean_hash(get("infohash"), "infohash", 40),
    )


@dataclass(frozen=True, slots=True)
class QueryRecord:
    day: date
    query: str
    session: str | None
    region: str


def parse_query(raw: dict, cols: dict[str, str]) -> QueryRecord:
    seen = parse_time(raw.get(cols["timestamp"]) if "timestamp" in cols else None)
    return QueryRecord(
        day=seen.date(),
        query=_text(raw, cols, "query", required=True, limit=1000) or "",
        session=_text(raw, cols, "session", limit=200),
        region=_text(raw, cols, "region", limit=60) or "",
    )
