"""Bombs are refused while reading, before they take memory (issue 16)."""

from __future__ import annotations

import struct
import sys
import tracemalloc
import zlib
from pathlib import Path

import pytest

from ocsea.media.hashing import MAX_DECODED_BYTES, MediaError, pdq_image
from ocsea.scan.archives import ArchiveLimits, iter_members

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from bench_bounds import tar_bomb


def test_a_tar_bomb_is_stopped_while_it_decompresses(tmp_path):
    size = 64 << 20  # 64 MiB of zeros packs to ~60 KB
    path = tmp_path / "bomb.tar.gz"
    tar_bomb(path, size)
    limits = ArchiveLimits(max_member_bytes=512 << 20, max_ratio=100.0)
    tracemalloc.start()
    members = list(iter_members(str(path), path.name, limits))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert members[-1].data is None and "ratio" in (members[-1].skipped or "")
    assert peak < 16 << 20, peak  # never the whole member


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_an_image_too_large_to_decode_is_refused_from_its_header(tmp_path):
    side = 12_000  # 144 megapixels (under Pillow's own bomb limit): 576 MB as Pillow holds RGB
    assert side * side * 4 > MAX_DECODED_BYTES
    path = tmp_path / "huge.png"
    path.write_bytes(_png_header(side, side))
    tracemalloc.start()
    with pytest.raises(MediaError, match="would take"):
        pdq_image(path)
    assert tracemalloc.get_traced_memory()[1] < 16 << 20
    tracemalloc.stop()
