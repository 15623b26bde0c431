"""One file's hashes as ``ocsea hash`` writes them (digests, PDQ, vPDQ), here or on a Dask worker."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ocsea.match.vpdq import Frame, frames_to_json


def hash_one(path: Path, video_seconds: float = 1.0) -> dict[str, Any]:
    """Every hash of one file; errors become an ``error`` field, never an exception."""
    from ocsea.media.hashing import (
        IMAGE_EXTENSIONS,
        VIDEO_EXTENSIONS,
        MediaError,
        digest_path,
        pdq_image,
        vpdq_video,
    )

    rec: dict[str, Any] = {"path": str(path)}
    ext = path.suffix.lower()
    try:
        # One read for an image's digests and its PDQ: both are of the same bytes, even if the
        # file changes meanwhile (a larger image is decoded from the file again).
        d, source = digest_path(path, ext in IMAGE_EXTENSIONS)
    except OSError as exc:
        rec["error"] = f"cannot read: {exc.strerror or exc}"
        return rec
    rec.update(size=d.size, md5=d.md5, sha1=d.sha1, sha256=d.sha256)
    try:
        if ext in IMAGE_EXTENSIONS:
            h = pdq_image(source)
            rec.update(pdq=h.hex, pdq_quality=h.quality)
        elif ext in VIDEO_EXTENSIONS:
            frames = vpdq_video(path, seconds_per_hash=video_seconds)
            rec.update(
                vpdq_frames=len(frames),
                vpdq=frames_to_json(Frame(f.hex, f.quality, f.frame, f.timestamp) for f in frames),
            )
    except MediaError as exc:
        rec["media_error"] = str(exc)
    return rec


def hash_batch_from(cwd: str, video_seconds: float, paths: list[str]) -> list[dict[str, Any]]:
    """``hash_one`` of each path on a Dask worker: read from ``cwd`` (the client's folder, on a
    shared mount), named as the client named it, so the records are the plain command's."""
    out = []
    for p in paths:
        rec = hash_one(Path(os.path.join(cwd, p)), video_seconds)
        rec["path"] = p
        out.append(rec)
    return out
