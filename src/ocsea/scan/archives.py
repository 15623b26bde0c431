"""Reading inside zip and tar archives without extracting them to disk.

Members are streamed, never written under a name taken from the archive, so "../" entries and
absolute paths cannot escape anywhere; links and devices are skipped. Limits stop zip bombs:
per-member size, compression ratio, total bytes per archive, member count, and nesting depth.
Declared sizes are not trusted: reads are cut at the limit whatever the header says.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO


@dataclass(frozen=True)
class ArchiveLimits:
    max_member_bytes: int = 512 << 20
    max_total_bytes: int = 8 << 30
    max_ratio: float = 100.0
    max_members: int = 100_000
    max_depth: int = 3


@dataclass
class Member:
    """One archive member: its path inside the archive, and either its bytes or why it was skipped."""

    name: str
    size: int
    data: bytes | None
    skipped: str | None = None


ARCHIVE_SUFFIXES = (
    ".zip",
    ".tar",
    ".tar.gz",
    ".tgz",
    ".tar.bz2",
    ".tbz2",
    ".tar.xz",
    ".txz",
    ".cbz",
)


def is_archive_name(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


class LimitExceeded(Exception):
    pass


def _read_limited(fh: IO[bytes], limit: int, ratio_budget: int | None = None) -> bytes:
    """Up to ``limit`` bytes, read in 1 MB steps; past ``ratio_budget`` bytes (what the packed
    archive may expand to), stop at once: a bomb is found while decompressing, not after (a 0.5 MB
    tar.gz holding 500 MiB of zeros was read whole first: 1.08 GB peak)."""
    parts: list[bytes] = []
    n = 0
    while True:
        chunk = fh.read(min(1 << 20, limit + 1 - n))
        if not chunk:
            break
        parts.append(chunk)
        n += len(chunk)
        if n > limit:
            raise LimitExceeded(f"member larger than {limit} bytes")
        if ratio_budget is not None and n > ratio_budget:
            raise RatioExceeded("compression ratio above the limit (bomb?)")
    return b"".join(parts)


class RatioExceeded(LimitExceeded):
    pass


def safe_member_name(name: str) -> str:
    """A display name for a member: no leading slashes, no '..' components."""
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("/", "..", ".")]
    return "/".join(parts) or "_"


def iter_members(
    source: str | IO[bytes], name: str, limits: ArchiveLimits, depth: int = 1
) -> Iterator[Member]:
    """Members of a zip or tar archive, recursing into nested archives up to ``max_depth``."""
    if depth > limits.max_depth:
        yield Member("", 0, None, f"archive nesting deeper than {limits.max_depth}: not opened")
        return
    lower = name.lower()
    try:
        if lower.endswith((".zip", ".cbz")):
            yield from _zip_members(source, name, limits, depth)
        else:
            yield from _tar_members(source, name, limits, depth)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, ValueError) as exc:
        yield Member("", 0, None, f"corrupt archive: {exc}")


def _nested(member: Member, limits: ArchiveLimits, depth: int) -> Iterator[Member]:
    yield member
    if member.data is not None and is_archive_name(member.name):
        for m in iter_members(io.BytesIO(member.data), member.name, limits, depth + 1):
            inner = f"{member.name}!{m.name}" if m.name else member.name
            yield Member(inner, m.size, m.data, m.skipped)


def _zip_members(source, name: str, limits: ArchiveLimits, depth: int) -> Iterator[Member]:
    total = 0
    with zipfile.ZipFile(source) as zf:
        infos = zf.infolist()
        if len(infos) > limits.max_members:
            yield Member("", 0, None, f"more than {limits.max_members} members")
            return
        for info in infos:
            mname = safe_member_name(info.filename)
            if info.is_dir():
                continue
            mode = (info.external_attr >> 16) & 0o170000
            if mode in (0o120000,):  # symlink stored in a zip
                yield Member(mname, 0, None, "symbolic link in archive: not followed")
                continue
            if info.file_size > limits.max_member_bytes:
                yield Member(
                    mname,
                    info.file_size,
                    None,
                    f"member larger than {limits.max_member_bytes} bytes",
                )
                continue
            if info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
                yield Member(
                    mname,
                    info.file_size,
                    None,
                    f"compression ratio above {limits.max_ratio:.0f}:1 (zip bomb?)",
                )
                continue
            if total + info.file_size > limits.max_total_bytes:
                yield Member(mname, info.file_size, None, "archive total size limit reached")
                return
            try:
                with zf.open(info) as fh:
                    data = _read_limited(fh, min(limits.max_member_bytes, max(info.file_size, 0)))
            except LimitExceeded as exc:
                yield Member(mname, info.file_size, None, f"{exc} (size header lies)")
                continue
            except RuntimeError as exc:  # encrypted
                yield Member(mname, info.file_size, None, f"cannot read: {exc}")
                continue
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                yield Member(mname, info.file_size, None, f"corrupt member: {exc}")
                continue
            total += len(data)
            yield from _nested(Member(mname, len(data), data), limits, depth)


def _tar_members(source, name: str, limits: ArchiveLimits, depth: int) -> Iterator[Member]:
    total = 0
    count = 0
    if isinstance(source, str):
        import os

        packed = os.path.getsize(source)
        kw: dict = {"name": source}
    else:
        packed = len(source.getbuffer()) if isinstance(source, io.BytesIO) else 0
        kw = {"fileobj": source}
    with tarfile.open(mode="r:*", **kw) as tf:
        for info in tf:
            count += 1
            if count > limits.max_members:
                yield Member("", 0, None, f"more than {limits.max_members} members")
                return
            mname = safe_member_name(info.name)
            if info.isdir():
                continue
            if not info.isfile():
                yield Member(mname, 0, None, "link or special file in archive: not followed")
                continue
            if info.size > limits.max_member_bytes:
                yield Member(
                    mname, info.size, None, f"member larger than {limits.max_member_bytes} bytes"
                )
                continue
            if total + info.size > limits.max_total_bytes:
                yield Member(mname, info.size, None, "archive total size limit reached")
                return
            fh = tf.extractfile(info)
            if fh is None:
                continue
            budget = None
            if packed:
                budget = max(int(packed * limits.max_ratio) - total, 1 << 20)
            try:
                data = _read_limited(fh, limits.max_member_bytes, budget)
            except RatioExceeded:
                yield Member(mname, info.size, None,
                             f"compression ratio above {limits.max_ratio:.0f}:1 (tar bomb?)")  # fmt: skip
                return
            except LimitExceeded as exc:
                yield Member(mname, info.size, None, str(exc))
                continue
            total += len(data)
            if packed and total > packed * limits.max_ratio and total > (1 << 20):
                yield Member(
                    "", total, None, f"compression ratio above {limits.max_ratio:.0f}:1 (tar bomb?)"
                )
                return
            yield from _nested(Member(mname, len(data), data), limits, depth)
