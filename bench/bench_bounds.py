"""Peak memory of `ocsea scan` on bombs → bench/results/bounds.json (issue 16).

Each input is scanned by the command a user runs, in a fresh process under `/usr/bin/time -v`;
its "Maximum resident set size" is the figure. Inputs, made here from zeros (no content):
- a tar.gz of about 0.5 MB holding one 500 MiB member (a decompression bomb);
- PNGs of about 0.25 MB declaring 16,000 × 16,000 pixels (256 megapixels, over Pillow's own
  limit) and 15,780 × 15,780 (249 megapixels, under it: our decoded-size check refuses it);
- a zip holding the same 500 MiB of zeros;
- the largest referral document `ocsea referrals import` takes in one piece: a CyberTipline-style
  JSON list of 99,000 synthetic reports (59 MB, under the 64 MB and 100,000-report limits),
  imported into an empty store and linked (bench_referrals.make_docs).
Target: every peak below 1 GB.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path

TARGET_MB = 1024


class _Zeros(io.RawIOBase):
    def __init__(self, n: int) -> None:
        self.left = n

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        k = min(len(b), self.left)
        b[:k] = bytes(k)
        self.left -= k
        return k


def tar_bomb(path: Path, size: int = 500 << 20) -> None:
    with tarfile.open(path, "w:gz", compresslevel=9) as tf:
        info = tarfile.TarInfo("zeros.bin")
        info.size = size
        tf.addfile(info, io.BufferedReader(_Zeros(size), 1 << 20))


def zip_bomb(path: Path, size: int = 500 << 20) -> None:
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
        zf.open("zeros.bin", "w") as fh,
    ):
        chunk = bytes(1 << 20)
        for _ in range(size >> 20):
            fh.write(chunk)


def png_bomb(path: Path, side: int = 16_000) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    comp = zlib.compressobj(9)
    row = bytes(1 + side)  # filter byte + one grey byte a pixel
    body = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def peak_mb(args: list[str]) -> tuple[float, int, str]:
    p = subprocess.run(["/usr/bin/time", "-v", *args], capture_output=True, text=True, check=False)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    return (round(int(m.group(1)) / 1024, 1) if m else -1.0), p.returncode, p.stdout.strip()[-200:]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=Path("bench/results/bounds.json"))
    args = ap.parse_args()
    out: dict = {"target_peak_mb": TARGET_MB, "inputs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        for name, make in (("tar_gz_500MiB_member", tar_bomb), ("png_250_megapixels", png_bomb),
                           ("png_249_megapixels", lambda p: png_bomb(p, 15_780)),
                           ("zip_500MiB_member", zip_bomb)):  # fmt: skip
            folder = t / name
            folder.mkdir()
            f = folder / {"tar_gz_500MiB_member": "bomb.tar.gz", "png_250_megapixels": "bomb.png",
                          "png_249_megapixels": "bomb.png", "zip_500MiB_member": "bomb.zip"}[name]  # fmt: skip
            make(f)
            mb, code, tail = peak_mb([sys.executable, "-m", "ocsea.cli", "scan", str(folder), "--out",
                                      str(t / f"out-{name}"), "--db", f"sqlite:///{t / 'b.db'}", "--workers", "1"])  # fmt: skip
            out["inputs"][name] = {"file_bytes": f.stat().st_size, "peak_rss_mb": mb, "exit_code": code,
                                   "below_target": 0 < mb < TARGET_MB, "output": tail}  # fmt: skip
            print(name, out["inputs"][name], flush=True)
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_referrals import make_docs

        doc = t / "referrals.json"
        doc.write_bytes(make_docs(99_000, 99_000, seed=3)[0][1])
        mb, code, tail = peak_mb([sys.executable, "-m", "ocsea.cli", "referrals", "import", str(doc),
                                  "--db", f"sqlite:///{t / 'r.db'}"])  # fmt: skip
        out["inputs"]["referral_document_99000_reports"] = {
            "file_bytes": doc.stat().st_size, "peak_rss_mb": mb, "exit_code": code,
            "below_target": 0 < mb < TARGET_MB, "output": tail}  # fmt: skip
        print("referral_document_99000_reports", out["inputs"]["referral_document_99000_reports"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
