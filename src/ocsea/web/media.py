"""Safe viewing of evidence images: a small thumbnail made in memory from the evidence file, never
written to disk, greyscale and blurred unless a permitted analyst asks, per item, for it sharp.

Reading evidence is where a web app is easiest to abuse, so the file must sit under one of the
configured evidence folders (symbolic links resolved first) and must still have the SHA-256 that
the scan recorded: a path in the database that was changed, or a file replaced since the scan,
shows nothing.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ocsea.ingest.rows import item_key as scanned_key
from ocsea.media.hashing import IMAGE_EXTENSIONS, MediaError, load_rgb

THUMB_SIDE = 256  # long side of a thumbnail, in pixels
BLUR_RADIUS = 8  # Gaussian blur at that size: shapes and layout stay, detail does not
MODES = ("off", "blurred")


class MediaRefused(Exception):
    """Why an image is not shown, in words an analyst can act on."""


@dataclass(frozen=True)
class MediaSettings:
    """``[web.media]`` in ocsea.toml (docs/web.md). ``mode = "off"`` removes thumbnails from every
    page; the default shows none until asked, and then blurred."""

    mode: str = "blurred"
    evidence_roots: tuple[Path, ...] = ()
    unblur_roles: frozenset[str] = field(default_factory=lambda: frozenset({"supervisor"}))
    max_bytes: int = 64 << 20

    @property
    def enabled(self) -> bool:
        return self.mode != "off" and bool(self.evidence_roots)


def load_evidence(recorded_path: str, item_key: str, settings: MediaSettings) -> bytes:
    """The bytes of the evidence file behind a scanned item, checked: an image, under an
    evidence folder, within the size limit, and with the SHA-256 the scan recorded (a file item's
    key is made from it). The thumbnail is made from these very bytes, so a file swapped after
    the check is never shown."""
    if "!" in recorded_path:
        # The scan names an archive's member "archive.zip!dir/x.jpg": the part before a "!" is
        # the archive on disk.
        head = recorded_path.split("!", 1)[0]
        if not Path(recorded_path).exists() and Path(head).is_file():
            raise MediaRefused("inside an archive: open the archive in a forensic tool")
    path = Path(recorded_path)
    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        raise MediaRefused("not an image (videos and documents have no thumbnail)")
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise MediaRefused("the evidence file is not there any more") from None
    if not any(real.is_relative_to(root.resolve()) for root in settings.evidence_roots):
        raise MediaRefused("outside the evidence folders this service may read")
    try:
        data = _read(real, settings.max_bytes)
    except OSError as exc:
        raise MediaRefused(f"cannot be read: {exc.strerror or exc}") from None
    if len(data) > settings.max_bytes:
        raise MediaRefused(f"larger than {settings.max_bytes >> 20} MB")
    if scanned_key("sha256:" + hashlib.sha256(data).hexdigest()) != item_key:
        raise MediaRefused("the file has changed since it was scanned")
    return data


def _read(path: Path, limit: int) -> bytes:
    """A regular file's bytes, up to ``limit`` + 1. Opened without following a link and without
    blocking (a FIFO left under an evidence folder would hold a worker thread for ever); what is
    not a regular file, or is too large, is refused from the open descriptor."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise MediaRefused("not a regular file")
        if st.st_size > limit:
            raise MediaRefused(f"larger than {limit >> 20} MB")
        return fh.read(limit + 1)


# Thumbnails made at once across a service process: each may read 64 MB and decode up to the
# scan's limit, so many asked together would take the machine's memory; the rest are told to wait.
_AT_ONCE = threading.BoundedSemaphore(2)


class MediaBusy(Exception):
    """Too many thumbnails are being made: ask again in a moment."""


def safe_thumbnail(recorded_path: str, item_key: str, settings: MediaSettings,
                   sharp: bool = False) -> bytes:  # fmt: skip
    """``load_evidence`` then ``thumbnail``, at most two at a time in this process."""
    if not _AT_ONCE.acquire(timeout=5):
        raise MediaBusy("thumbnails are being made for others: try again in a moment")
    try:
        return thumbnail(load_evidence(recorded_path, item_key, settings), sharp=sharp)
    finally:
        _AT_ONCE.release()


def thumbnail(data: bytes, sharp: bool = False) -> bytes:
    """A PNG of at most ``THUMB_SIDE`` pixels, greyscale, blurred unless ``sharp``. Decoding has
    the scan's limits (decompression bombs refused, JPEGs decoded reduced)."""
    from PIL import Image, ImageFilter

    try:
        rgb = load_rgb(io.BytesIO(data))
    except MediaError as exc:
        raise MediaRefused(str(exc)) from None
    im = Image.fromarray(rgb, "RGB").convert("L")
    im.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    if not sharp:
        im = im.filter(ImageFilter.GaussianBlur(BLUR_RADIUS))
    out = io.BytesIO()
    im.save(out, "PNG", optimize=False)
    return out.getvalue()


def settings_from(doc: dict, where: str) -> MediaSettings:
    """``[web.media]`` read and checked; relative evidence folders are taken from ``where``'s
    folder."""
    from ocsea.config import ConfigError

    m = doc.get("web", {}).get("media", {})
    mode = m.get("mode", "blurred")
    if mode not in MODES:
        raise ConfigError(f"{where}: web.media.mode must be one of {', '.join(MODES)}")
    roots = m.get("evidence_roots", [])
    if not isinstance(roots, list) or not all(isinstance(r, str) and r for r in roots):
        raise ConfigError(f"{where}: web.media.evidence_roots must be a list of folders")
    base = Path(where).parent
    paths = tuple((base / r) if not Path(r).is_absolute() else Path(r) for r in roots)
    roles = m.get("unblur_roles", ["supervisor"])
    from ocsea.service.access import ROLES

    if not isinstance(roles, list) or not set(roles) <= set(ROLES):
        raise ConfigError(f"{where}: web.media.unblur_roles must name roles of {', '.join(ROLES)}")
    mb = m.get("max_mb", 64)
    if isinstance(mb, bool) or not isinstance(mb, int) or not 1 <= mb <= 1024:
        raise ConfigError(f"{where}: web.media.max_mb must be a whole number 1-1024")
    return MediaSettings(mode, paths, frozenset(roles), mb << 20)
