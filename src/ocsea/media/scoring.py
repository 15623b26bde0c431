"""Media risk for files: decode reduced, measure with the models, combine (``ocsea.media.risk``).

An image is decoded once at most 512 px (JPEG draft mode), the size the models read. A video is
sampled at its key frames in a child process (``_frames_worker``); the highest-risk frame is kept
with its time. A file that cannot be read is an error row, never a crash. Nothing here writes
pixels anywhere: frames pass through a private temporary folder that is removed at once.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ocsea.media.hashing import (
    IMAGE_EXTENSIONS,
    PDQ_MAX_SIDE,
    VIDEO_EXTENSIONS,
    MediaError,
    digest_stream,
    load_rgb_sized,
)
from ocsea.media.models import MediaModels, MediaModelsMissing
from ocsea.media.risk import DEFAULT_WEIGHTS, Risk, combine

# Images up to this size are read into memory once for both the digest and the decode.
MAX_IN_MEMORY = 256 << 20


@dataclass(frozen=True)
class VideoSampling:
    seconds: float = 5.0  # at most one key frame every this many seconds
    max_frames: int = 24  # and at most this many, spread over the video
    timeout_s: float = 300.0


def score_rgb(
    rgb: np.ndarray,
    weights: Mapping[str, float] | None = None,
    size: tuple[int, int] | None = None,
) -> tuple[Risk, dict[str, Any]]:
    """Risk of decoded pixels (``size``: the image's own width and height), and the signals
    behind it as a JSON-ready dict."""
    sig = MediaModels.shared().measure(rgb, size)
    risk = combine(sig, weights or DEFAULT_WEIGHTS)
    return risk, {
        "nsfw": round(sig.nsfw, 4),
        "faces": [f.to_dict() for f in sig.faces],
        "width": sig.width,
        "height": sig.height,
    }


def risk_record(
    risk: Risk, signals: dict[str, Any], frame_time: float | None = None
) -> dict[str, Any]:
    rec: dict[str, Any] = {"risk": risk.score, **signals, "reasons": list(risk.reasons)}
    if frame_time is not None:
        rec["frame_time"] = round(frame_time, 3)
    return rec


def score_video(
    path: str, sampling: VideoSampling = VideoSampling(), weights: Mapping[str, float] | None = None
) -> dict[str, Any]:
    """The risk of a video's highest-risk sampled key frame, with that frame's time."""
    with tempfile.TemporaryDirectory(prefix="ocsea-frames-") as tmp:
        out = os.path.join(tmp, "frames.npz")
        cmd = [
            sys.executable,
            "-P",  # the folder the analyst stands in is not on the child's import path
            "-m",
            "ocsea.media._frames_worker",
            os.path.abspath(path),
            repr(float(sampling.seconds)),
            str(int(sampling.max_frames)),
            str(PDQ_MAX_SIDE),
            out,
        ]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=sampling.timeout_s, check=False,
                cwd=tmp,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise MediaError(f"video decoding took longer than {sampling.timeout_s:.0f}s") from None
        if proc.returncode < 0:
            raise MediaError("video decoder crashed: corrupt or truncated video")
        lines = proc.stdout.strip().splitlines()
        try:
            status = json.loads(lines[-1]) if lines else {}
        except json.JSONDecodeError:
            status = {}
        if proc.returncode != 0 or "frames" not in status:
            why = status.get("error") or (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise MediaError(f"not a readable video: {why}")
        with np.load(out, allow_pickle=False) as z:
            frames, times = z["frames"], z["times"]
    scored = [
        (float(t), *score_rgb(np.ascontiguousarray(rgb), weights))
        for t, rgb in zip(times.tolist(), frames, strict=True)
    ]
    # the highest-risk frame; max keeps the earliest of equals
    t, risk, signals = max(scored, key=lambda x: x[1].score)
    rec = risk_record(risk, signals, t)
    rec["frames_scored"] = len(scored)
    return rec


def score_file(
    path: str | Path,
    weights: Mapping[str, float] | None = None,
    sampling: VideoSampling = VideoSampling(),
) -> dict[str, Any]:
    """One JSONL row for ``ocsea media score``: path, sha256 and the risk with its signals and
    reasons, or path and error."""
    p = str(path)
    rec: dict[str, Any] = {"path": p}
    ext = Path(p).suffix.lower()
    try:
        if not os.path.isfile(p):
            raise MediaError("not a regular file" if os.path.exists(p) else "no such file")
        source: str | io.BytesIO = p
        if ext in IMAGE_EXTENSIONS and os.path.getsize(p) <= MAX_IN_MEMORY:
            with open(p, "rb") as fh:
                source = io.BytesIO(fh.read())  # one read for the digest and the decode
            rec["sha256"] = digest_stream(source).sha256
            source.seek(0)
        else:
            with open(p, "rb") as fh:
                rec["sha256"] = digest_stream(fh).sha256
        if ext in IMAGE_EXTENSIONS:
            rgb, size = load_rgb_sized(source)
            rec.update(risk_record(*score_rgb(rgb, weights, size)))
        elif ext in VIDEO_EXTENSIONS:
            rec.update(score_video(p, sampling, weights))
        else:
            raise MediaError(f"not an image or video extension ({ext or 'none'})")
    except MediaError as exc:
        rec["error"] = str(exc)
    except OSError as exc:
        rec["error"] = f"cannot read: {exc.strerror or exc}"
    except MediaModelsMissing:
        raise
    except Exception as exc:  # a model failing on one file is that file's error, not the run's
        rec["error"] = f"not scored: {type(exc).__name__}: {exc}"[:500]
    return rec


__all__ = ["VideoSampling", "risk_record", "score_file", "score_rgb", "score_video"]
