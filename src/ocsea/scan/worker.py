"""Per-file work of a scan, run in worker processes: read once, hash, never modify evidence."""

from __future__ import annotations

import io
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocsea.media.hashing import (
    IMAGE_EXTENSIONS,
    IMAGE_IN_MEMORY,
    PDQ_MAX_SIDE,
    VIDEO_EXTENSIONS,
    MediaError,
    digest_read_once,
    digest_stream,
    load_for_pdq,
    pdq_dihedral_rgb,
    reduced_rgb,
    vpdq_video,
)
from ocsea.scan.archives import ArchiveLimits, is_archive_name, iter_members


@dataclass(frozen=True)
class ScanOptions:
    archives: bool = True
    media: bool = True  # PDQ for images, vPDQ for video; off for a digests-only pass
    video: bool = True
    video_seconds: float = 1.0
    limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    # Media risk (ocsea.media.risk): what to review first among unknown images and videos.
    media_risk: bool = False
    risk_weights: tuple[tuple[str, float], ...] = ()


_BLAS_LIMITED_IN = 0  # the process id whose BLAS thread pools were limited


def _one_blas_thread() -> None:
    """Scan workers run one per core, and numpy's BLAS (PDQ's matrix products) starts threads
    of its own in each: a scan of 300 JPEGs with two workers on two cores took 9.7 s, and 2.9 s
    with one BLAS thread per worker (an independent review, 2026-11-28). Once per process."""
    global _BLAS_LIMITED_IN
    if os.getpid() != _BLAS_LIMITED_IN:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, user_api="blas")
        _BLAS_LIMITED_IN = os.getpid()


# Never follow a symbolic link put in place of the file between its lstat and its open.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)


def _open_readonly(path: str) -> io.BufferedReader:
    flags = _OPEN_FLAGS | getattr(os, "O_NOATIME", 0)
    try:
        fd = os.open(path, flags)
    except PermissionError:
        if not flags & getattr(os, "O_NOATIME", 0):
            raise
        fd = os.open(path, _OPEN_FLAGS)  # O_NOATIME needs ownership; read-only all the same
    # An 8 KiB buffer: the digests read 1 MiB at a time straight into their own buffer, past
    # this one. A 1 MiB buffer here was mapped and zeroed afresh for every file: 257 page
    # faults and 0.56 ms of system time a 40 KB file, five times the hashing itself (5,000
    # files: 3.8 s against 0.75 s). Not the default, which follows the file system's block
    # size (a network mount may report 1 MiB).
    return os.fdopen(fd, "rb", buffering=8192)


def _media(
    rec: dict[str, Any], name: str, data: bytes | None, path: str | None, opts: ScanOptions
) -> None:
    if not opts.media:
        return
    ext = Path(name).suffix.lower()
    try:
        if ext in IMAGE_EXTENSIONS:
            # One decode for PDQ and the risk models (PDQ folds its reduction to 512 px into
            # its own sums; the risk models read the image reduced).
            src = io.BytesIO(data) if data is not None else path
            rgb, size = load_for_pdq(src)  # type: ignore[arg-type]
            rec["pdq"] = [[v.hex, v.quality] for v in pdq_dihedral_rgb(rgb, reduce_to=PDQ_MAX_SIDE)]
            if opts.media_risk:
                _risk(rec, lambda: _image_risk(reduced_rgb(rgb), size, opts))
        elif ext in VIDEO_EXTENSIONS and opts.video:
            with tempfile.TemporaryDirectory(prefix="ocsea-scan-") as tmp:
                video = path
                if data is not None:
                    video = os.path.join(tmp, "member" + ext)
                    with open(video, "wb") as fh:
                        fh.write(data)
                frames = vpdq_video(video, opts.video_seconds)  # type: ignore[arg-type]
                rec["vpdq"] = [[f.frame, f.quality, f.hex, f.timestamp] for f in frames]
                if opts.media_risk:
                    _risk(rec, lambda: _video_risk(video, opts))  # type: ignore[arg-type]
    except MediaError as exc:
        rec["media_error"] = str(exc)


def _image_risk(rgb: Any, size: tuple[int, int], opts: ScanOptions) -> dict[str, Any]:
    from ocsea.media.scoring import risk_record, score_rgb

    risk, signals = score_rgb(rgb, dict(opts.risk_weights) or None, size)
    return risk_record(risk, signals)


def _video_risk(path: str, opts: ScanOptions) -> dict[str, Any]:
    from ocsea.media.scoring import score_video

    return score_video(path, weights=dict(opts.risk_weights) or None)


def _risk(rec: dict[str, Any], measure: Any) -> None:
    """The file's media risk, or why there is none; hashing stands either way."""
    try:
        rec["media_risk"] = measure()
    except MediaError as exc:
        rec["media_risk_error"] = str(exc)
    except Exception as exc:  # a model failing on one file must not cost the batch its hashes
        rec["media_risk_error"] = f"{type(exc).__name__}: {exc}"[:500]


def scan_path(path: str, opts: ScanOptions) -> list[dict[str, Any]]:
    """Records for one file (and, for an archive, for each member)."""
    rec: dict[str, Any] = {"path": path}
    try:
        st = os.lstat(path)
    except OSError as exc:
        rec["error"] = f"cannot stat: {exc.strerror or exc}"
        return [rec]
    rec.update(size=st.st_size, mtime_ns=st.st_mtime_ns)
    if stat.S_ISLNK(st.st_mode):
        rec["error"] = "symbolic link: not followed"
        return [rec]
    if not stat.S_ISREG(st.st_mode):
        rec["error"] = "not a regular file"
        return [rec]
    # An image up to IMAGE_IN_MEMORY is read once for its digests and its decode; anything
    # else is digested as a stream and opened again only by the decoder that needs it.
    whole = (
        opts.media
        and Path(path).suffix.lower() in IMAGE_EXTENSIONS
        and st.st_size <= IMAGE_IN_MEMORY
    )
    data: bytes | None = None
    try:
        with _open_readonly(path) as fh:
            now = os.fstat(fh.fileno())
            if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
                rec["error"] = "replaced while being scanned: scan it again"
                return [rec]
            if whole:
                # at most the limit, whatever the file has become since its lstat; beyond it
                # the decoder opens it again, as for any large file
                d, data = digest_read_once(fh, IMAGE_IN_MEMORY)
            else:
                d = digest_stream(fh)
    except OSError as exc:
        rec["error"] = f"cannot read: {exc.strerror or exc}"
        return [rec]
    # the size of the bytes digested (a file may change between its lstat and its read)
    rec.update(size=d.size, md5=d.md5, sha1=d.sha1, sha256=d.sha256)
    if d.size != st.st_size:
        # hashed all the same (the digests are of the bytes read): a note on its finding
        rec["error"] = (
            f"changed while being scanned ({st.st_size} bytes at first, {d.size} read): "
            "scan it again"
        )
    _media(rec, path, data, path, opts)
    out = [rec]
    if opts.archives and is_archive_name(path):
        for m in iter_members(path, path, opts.limits):
            mrec: dict[str, Any] = {
                "path": f"{path}!{m.name}" if m.name else path,
                "in_archive": True,
                "size": m.size,
            }
            if m.skipped or m.data is None:
                mrec["error"] = m.skipped or "unreadable"
            else:
                d = digest_stream(io.BytesIO(m.data))
                mrec.update(md5=d.md5, sha1=d.sha1, sha256=d.sha256)
                _media(mrec, m.name.rsplit("!", 1)[-1], m.data, None, opts)
            out.append(mrec)
    return out


def scan_batch(
    paths: list[str], opts: ScanOptions, cwd: str = ""
) -> list[tuple[str, list[dict[str, Any]]]]:
    """Several small files in one task: per-task overhead dominated scans of small files
    (~1 ms a file with one task per file). ``cwd``: on another machine (a Dask worker), each
    path is read from the client's folder on a shared mount, and its records name it, and its
    archive members, as the client's walk does."""
    if opts.media:
        _one_blas_thread()
    out = []
    for p in paths:
        full = os.path.join(cwd, p)
        records = scan_path(full, opts)
        for r in records:
            r["path"] = p + r["path"][len(full) :]
        out.append((p, records))
    return out
