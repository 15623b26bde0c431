"""Hashers. Files are opened read-only and read once for all three digests."""

from __future__ import annotations

import hashlib
import io
import json
import signal
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ocsea.media.pdq import DIHEDRAL, pdq_bits

CHUNK = 1 << 20
PDQ_BITS = 256
# Pillow refuses images above this many pixels (decompression bombs); seized media rarely exceed it.
MAX_IMAGE_PIXELS = 250_000_000
# Images larger than this on their long side are reduced (box filter) before PDQ, which
# downsamples to 64×64 anyway. Measured on the conformance set: at 512 the largest distance to
# Meta's reference hashes is 10 bits (12 at 2048, tolerance 16), and hashing is faster.
PDQ_MAX_SIDE = 512
# Up to this long side PDQ reads the decoded pixels and folds the reduction to PDQ_MAX_SIDE into
# its own matrix products (ocsea.media.pdq) instead of Pillow reducing first: the same hashes
# (all eight of each conformance image bit for bit) at 1.4 ms less a 640×480 JPEG. Above it a
# non-JPEG is reduced by Pillow first, so the pixels in memory stay small.
PDQ_FOLD_MAX_SIDE = 1024
VIDEO_TIMEOUT_S = 600.0

# Decoding is refused above this many bytes of pixels (checked from the header, before decoding):
# a 772 KB PNG of 250 megapixels peaked at 2.98 GB. JPEGs are decoded reduced (draft) and pass.
MAX_DECODED_BYTES = 384 << 20


def _bytes_per_pixel(mode: str) -> int:
    """What Pillow holds a pixel in: one byte for 1/L/P, four for the rest (RGB is stored 32-bit)."""
    return 1 if mode in ("1", "L", "P") else 4


IMAGE_EXTENSIONS = frozenset(
    [
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".png",
        ".gif",
        ".bmp",
        ".tif",
        ".tiff",
        ".webp",
        ".ppm",
        ".pgm",
        ".pbm",
        ".ico",
        ".heic",
    ]
)
VIDEO_EXTENSIONS = frozenset(
    [
        ".mp4",
        ".m4v",
        ".mov",
        ".avi",
        ".mkv",
        ".wmv",
        ".flv",
        ".webm",
        ".mpg",
        ".mpeg",
        ".3gp",
        ".ts",
        ".mts",
        ".vob",
        ".ogv",
        ".asf",
    ]
)


class MediaError(ValueError):
    """A file that cannot be hashed as media (corrupt, truncated, unsupported); says why."""


@dataclass(frozen=True, slots=True)
class Digests:
    size: int
    md5: str
    sha1: str
    sha256: str


@dataclass(frozen=True, slots=True)
class PdqHash:
    hex: str
    quality: int

    def as_bytes(self) -> bytes:
        return bytes.fromhex(self.hex)


@dataclass(frozen=True, slots=True)
class VpdqFrame:
    frame: int
    quality: int
    hex: str
    timestamp: float


def digest_stream(fh: BinaryIO) -> Digests:
    md5, sha1, sha256 = (
        hashlib.md5(usedforsecurity=False),
        hashlib.sha1(usedforsecurity=False),
        hashlib.sha256(),
    )
    size = 0
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    while n := fh.readinto(buf):
        chunk = view[:n]
        md5.update(chunk)
        sha1.update(chunk)
        sha256.update(chunk)
        size += n
    return Digests(size, md5.hexdigest(), sha1.hexdigest(), sha256.hexdigest())


def digest_file(path: Path | str) -> Digests:
    with open(path, "rb", buffering=0) as fh:
        return digest_stream(fh)


# Bytes an image may have to be read once into memory, for its digests and its decode; larger
# ones are digested as a stream and opened again by the decoder.
IMAGE_IN_MEMORY = 64 << 20


class _Prefixed(io.RawIOBase):
    """Bytes already read, then the rest of the open file: what a digest reads when a file is
    larger than it was thought to be."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        return self._rest.readinto(b)  # type: ignore[attr-defined]


def digest_read_once(fh: BinaryIO, limit: int = IMAGE_IN_MEMORY) -> tuple[Digests, bytes | None]:
    """The digests of an open file and, when it has at most ``limit`` bytes, those bytes: the
    decoder then reads what was digested, not the file again (which may have changed since)."""
    data = fh.read(limit + 1)
    if len(data) > limit:
        return digest_stream(_Prefixed(data, fh)), None
    return digest_stream(io.BytesIO(data)), data


def digest_path(path: Path | str, image: bool) -> tuple[Digests, Path | str | BinaryIO]:
    """A file's digests and what to decode it from: an image's own bytes, read once with the
    digests (``digest_read_once``), unless it is larger than IMAGE_IN_MEMORY; else the path."""
    with open(path, "rb") as fh:
        if not image:
            return digest_stream(fh), path
        d, data = digest_read_once(fh)
    return d, (io.BytesIO(data) if data is not None else path)


def load_rgb(source: Path | str | BinaryIO) -> np.ndarray:
    """The image as RGB uint8, reduced to at most ``PDQ_MAX_SIDE`` (512) px: what PDQ and the
    media risk models both read, so a scan decodes each image once."""
    return load_rgb_sized(source)[0]


def load_rgb_sized(
    source: Path | str | BinaryIO, reduce_above: int = PDQ_MAX_SIDE
) -> tuple[np.ndarray, tuple[int, int]]:
    """``load_rgb`` and the image's own size (width, height, after its EXIF rotation): what a
    person would call the image's size, not the reduced decode's. With ``reduce_above`` (for
    PDQ: ``PDQ_FOLD_MAX_SIDE``) an image decoded no longer than that is left at its decoded
    size; a longer one is still reduced to ``PDQ_MAX_SIDE``."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as im:
                full = im.size  # before draft mode reduces it
                # JPEG: decode at a reduced scale whose long side is still at least
                # PDQ_MAX_SIDE. Pillow keeps a scale only if both sides stay at or above the
                # size asked, so ask in the image's own proportions: asked for 512×512, a
                # 1600×1004 photo was decoded at full size (16.7 ms; 6.9 ms at 800×502).
                long_side = max(full)
                if long_side > PDQ_MAX_SIDE:
                    im.draft(
                        "RGB",
                        (
                            -(-full[0] * PDQ_MAX_SIDE // long_side),
                            -(-full[1] * PDQ_MAX_SIDE // long_side),
                        ),
                    )
                # modes reduced at once cost one decode; the others (palette, 16-bit, CMYK) are
                # converted at full size first: count those copies too
                early = im.mode in ("RGB", "RGBA", "L", "LA")
                need = im.size[0] * im.size[1] * (_bytes_per_pixel(im.mode) if early else 16)
                if need > MAX_DECODED_BYTES:
                    raise MediaError(
                        f"image of {im.size[0]}×{im.size[1]} pixels would take {need >> 20} MB to "
                        f"decode (limit {MAX_DECODED_BYTES >> 20} MB): not hashed"
                    )
                # read only after the size check: a bomb's header is all that is read of it
                orientation = im.getexif().get(0x0112, 1)
                if orientation in (5, 6, 7, 8):  # stored on its side
                    full = (full[1], full[0])
                im.load()
                if max(im.size) > reduce_above and im.mode in ("RGB", "RGBA", "L", "LA"):
                    # reduce before any copy (transpose, alpha, convert): the peak is one decode
                    im.thumbnail((PDQ_MAX_SIDE, PDQ_MAX_SIDE), Image.Resampling.BOX)
                if orientation not in (None, 1):  # else exif_transpose returns a copy
                    im = ImageOps.exif_transpose(im)
                if im.mode in ("RGBA", "LA", "PA") or (
                    im.mode == "P" and "transparency" in im.info
                ):
                    rgba = im.convert("RGBA")
                    bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                    im = Image.alpha_composite(bg, rgba)
                if im.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
                    a = np.asarray(im, dtype=np.float64)
                    lo, hi = float(a.min()), float(a.max())
                    a = (a - lo) * (255.0 / (hi - lo)) if hi > lo else a * 0
                    im = Image.fromarray(a.astype(np.uint8), "L")
                if im.mode != "RGB":  # convert to its own mode is a copy
                    im = im.convert("RGB")
                if max(im.size) > reduce_above:
                    im.thumbnail((PDQ_MAX_SIDE, PDQ_MAX_SIDE), Image.Resampling.BOX)
                return np.ascontiguousarray(np.asarray(im, dtype=np.uint8)), full
    except UnidentifiedImageError:
        # Pillow's own words name the in-memory buffer ("<_io.BytesIO object at 0x…>"), which
        # differs on every run: say what it means instead.
        raise MediaError("not a readable image: not an image format Pillow knows") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaError(f"not a readable image: {exc}") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise MediaError(f"corrupt or truncated image: {exc}") from None


def load_for_pdq(source: Path | str | BinaryIO) -> tuple[np.ndarray, tuple[int, int]]:
    """The decoded pixels PDQ reads (``pdq_dihedral_rgb(..., reduce_to=PDQ_MAX_SIDE)``) and
    the image's own size; ``reduced_rgb`` of them is what ``load_rgb`` would give."""
    return load_rgb_sized(source, PDQ_FOLD_MAX_SIDE)


def reduced_rgb(rgb: np.ndarray) -> np.ndarray:
    """Pixels from ``load_for_pdq`` reduced to at most ``PDQ_MAX_SIDE``, as ``load_rgb`` reads
    them: for the media risk models beside PDQ, from the same decode."""
    if max(rgb.shape[:2]) <= PDQ_MAX_SIDE:
        return rgb
    from PIL import Image

    im = Image.fromarray(rgb)
    im.thumbnail((PDQ_MAX_SIDE, PDQ_MAX_SIDE), Image.Resampling.BOX)
    return np.asarray(im)


def pdq_image(source: Path | str | BinaryIO) -> PdqHash:
    """PDQ hash and quality (0–100) of an image, after EXIF rotation."""
    return pdq_dihedral_rgb(load_for_pdq(source)[0], DIHEDRAL[:1], PDQ_MAX_SIDE)[0]


def pdq_dihedral(source: Path | str | BinaryIO) -> list[PdqHash]:
    """PDQ of the image and of its 7 other rotations/flips (original first).

    Each is the hash of the really transformed pixels (ocsea.media.pdq), not pdqhash's DCT-sign
    shortcut (``compute_dihedral``), whose variants were 16–108 bits from the hash of the
    rotated image on the conformance set, so a rotated copy would have been missed.
    """
    return pdq_dihedral_rgb(load_for_pdq(source)[0], DIHEDRAL, PDQ_MAX_SIDE)


def pdq_dihedral_rgb(
    rgb: np.ndarray,
    transforms: tuple[tuple[int, bool], ...] = DIHEDRAL,
    reduce_to: int | None = None,
) -> list[PdqHash]:
    """``pdq_dihedral`` of pixels already decoded (by ``load_for_pdq``, with ``reduce_to`` =
    ``PDQ_MAX_SIDE``; or by ``load_rgb``): transformed at the resolution the original is
    hashed at, as the reference would hash the rotated file (from a 192-px copy a plain 90°
    rotation drifted a median 18 bits, and 9 of 200 mildly edited and rotated copies were
    missed; issue 17)."""
    if rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise MediaError("image has no pixels")
    return [PdqHash(bits_to_hex(b), q) for b, q in pdq_bits(rgb, transforms, reduce_to)]


def bits_to_hex(bits: np.ndarray) -> str:
    """pdqhash's 256 0/1 values → the reference 64-digit hex (checked against Meta's vectors)."""
    b = np.asarray(bits, dtype=np.uint8).reshape(-1)
    if b.size != PDQ_BITS:
        raise MediaError(f"expected {PDQ_BITS} bits, got {b.size}")
    return np.packbits(b).tobytes().hex()


def vpdq_video(
    path: Path | str, seconds_per_hash: float = 1.0, timeout: float = VIDEO_TIMEOUT_S
) -> list[VpdqFrame]:
    """vPDQ: a PDQ hash per sampled frame (``seconds_per_hash`` 0 hashes every frame).

    Decoding runs in a child process (see ``_vpdq_worker``): a corrupt file can abort libav.
    """
    p = Path(path)
    if not p.is_file():
        raise MediaError(f"{path}: no such file")
    if seconds_per_hash < 0:
        raise ValueError("seconds_per_hash must be >= 0")
    # -P: the evidence folder the analyst stands in is not on the child's import path (a json.py
    # or av.py there would run); the path is made absolute for the same reason.
    cmd = [sys.executable, "-P", "-m", "ocsea.media._vpdq_worker", str(p.resolve()),
           repr(float(seconds_per_hash))]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise MediaError(f"video decoding took longer than {timeout:.0f}s") from None
    if proc.returncode < 0:
        sig = signal.Signals(-proc.returncode).name
        raise MediaError(f"video decoder crashed ({sig}): corrupt or truncated video")
    try:
        out = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else {}
    except json.JSONDecodeError:
        out = {}
    if "frames" not in out:
        why = out.get("error") or (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise MediaError(f"not a readable video: {why}")
    frames = [VpdqFrame(int(a), int(b), str(c), float(d)) for a, b, c, d in out["frames"]]
    if not frames:
        raise MediaError("no decodable video frames")
    return frames


def hamming_hex(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()
