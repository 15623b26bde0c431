"""Media risk benchmark (issue 19) → bench/results/media.json.

Benign images only: scikit-image's public-domain photographs and generated patterns, enlarged to
1600×1004 JPEGs (the size a phone or camera copy often has), decoded reduced as scans do.
- model load (fresh process, best of 3) and peak RSS with both models loaded;
- images/s on one core for ``score_file`` (decode + both models + combine);
- a scan of a tree that is half images by bytes (the rest incompressible data files), with risk
  scoring on and off, against ``sha256sum`` over the same files in the same run;
- determinism: identical rows with one and two workers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"images_per_s_one_core": 20, "scan_vs_sha256sum": 0.3, "peak_rss_mb": 1536, "load_s": 3}


def _photos() -> list[np.ndarray]:
    from skimage import data

    out = [data.astronaut(), data.coffee(), data.chelsea(), np.stack([data.camera()] * 3, -1)]
    rng = np.random.default_rng(11)
    for k in range(4):
        small = rng.integers(0, 256, (16 + 8 * k, 24 + 8 * k, 3), dtype=np.uint8)
        out.append(np.asarray(Image.fromarray(small).resize((640, 480), Image.BICUBIC)))
    return out


def make_images(folder: Path, n: int, size: tuple[int, int] = (1600, 1004)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    photos = _photos()
    paths = []
    rng = np.random.default_rng(17)
    # Sensor-like noise on camera-size photos: an enlarged smooth photograph compresses to a
    # fifth of what a 12-megapixel phone photo weighs (3-5 MB).
    noise = rng.normal(0, 7, (size[1], size[0], 3)) if size[0] >= 3000 else None
    for i in range(n):
        base = Image.fromarray(photos[i % len(photos)]).resize(size, Image.BICUBIC)
        if i // len(photos) % 2:
            base = base.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        if noise is not None:
            shifted = np.roll(noise, i * 37, axis=1)
            base = Image.fromarray(np.clip(np.asarray(base) + shifted, 0, 255).astype(np.uint8))
        p = folder / f"IMG_{i:05d}.jpg"
        base.save(p, quality=(85 - (i % 7)) if noise is None else 92)
        paths.append(p)
    return paths


def load_seconds() -> float:
    code = (
        "import time; t=time.perf_counter(); from ocsea.media.models import MediaModels; "
        "MediaModels.shared(); print(time.perf_counter()-t)"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
            ).stdout
        )
        for _ in range(3)
    ]
    return min(runs)


def one_core(paths: list[Path]) -> dict:
    code = (
        "import json, sys, time, resource\n"
        "from ocsea.media.scoring import score_file\n"
        "paths = sys.argv[1:]\n"
        "score_file(paths[0])\n"
        "t = time.perf_counter()\n"
        "rows = [score_file(p) for p in paths]\n"
        "dt = time.perf_counter() - t\n"
        "rss = [int(l.split()[1]) / 1024 for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
        "print(json.dumps({'s': dt, 'n': len(rows), 'errors': sum('error' in r for r in rows), 'rss': rss}))\n"
    )  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        ["taskset", "-c", "0", sys.executable, "-c", code, *map(str, paths)],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    r = json.loads(out.stdout)
    return {"images": r["n"], "s": round(r["s"], 2), "images_per_s": round(r["n"] / r["s"], 1),
            "ms_per_image": round(1000 * r["s"] / r["n"], 1), "errors": r["errors"],
            "peak_rss_mb": round(r["rss"], 1)}  # fmt: skip


def scan_tree(tmp: Path, n_images: int, size: tuple[int, int] = (1600, 1004)) -> dict:
    from ocsea.scan.runner import run_scan
    from ocsea.scan.worker import ScanOptions

    tree = tmp / f"tree-{size[0]}"
    images = make_images(tree / "DCIM", n_images, size)
    image_bytes = sum(p.stat().st_size for p in images)
    rng = np.random.default_rng(5)
    other = tree / "docs"
    other.mkdir()
    left, k = image_bytes, 0
    while left > 0:
        chunk = min(left, 4 << 20)
        (other / f"archive_{k:03d}.bin").write_bytes(rng.bytes(chunk))
        left -= chunk
        k += 1
    files = [p for p in tree.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    t = time.perf_counter()
    subprocess.run(["sha256sum", *map(str, files)], capture_output=True, check=True)
    sha = time.perf_counter() - t
    res = {"image_size": f"{size[0]}x{size[1]} JPEG", "files": len(files), "images": n_images, "mb": round(total / 1e6, 1),
           "image_share_of_bytes": round(image_bytes / total, 3),
           "sha256sum": {"s": round(sha, 2), "mb_per_s": round(total / 1e6 / sha, 1)}}  # fmt: skip
    for name, risk in (("scan_pdq", False), ("scan_pdq_and_risk", True)):
        out = tmp / f"out-{name}"
        shutil.rmtree(out, ignore_errors=True)
        t = time.perf_counter()
        s = run_scan(tree, out, ScanOptions(video=False, media_risk=risk), workers=2)
        dt = time.perf_counter() - t
        scored = sum(1 for r in s.records if "media_risk" in r)
        res[name] = {"s": round(dt, 2), "mb_per_s": round(total / 1e6 / dt, 1),
                     "workers": 2, "files_scored": scored}  # fmt: skip
    res["scan_with_risk_vs_sha256sum"] = round(res["sha256sum"]["s"] / res["scan_pdq_and_risk"]["s"], 3)  # fmt: skip
    return res


def determinism(paths: list[Path]) -> dict:
    rows = {}
    for w in (1, 2):
        p = subprocess.run(
            [sys.executable, "-m", "ocsea.cli", "media", "score", *map(str, paths), "--workers", str(w)],
            capture_output=True, check=False,
        )  # fmt: skip
        rows[w] = p.stdout
    n = len(rows[1].splitlines())
    return {"identical_1_and_2_workers": bool(n) and rows[1] == rows[2], "files": len(paths),
            "rows": n}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "media.json")
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--scan-images", type=int, default=300)
    ap.add_argument("--scan-photos", type=int, default=40, help="camera-size photos (4000x3000)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ocsea-bench-media-") as d:
        tmp = Path(d)
        print("model load ...", flush=True)
        load = load_seconds()
        print(f"  {load:.2f} s", flush=True)
        paths = make_images(tmp / "one", args.images)
        print("one core ...", flush=True)
        core = one_core(paths)
        print(f"  {core['images_per_s']} images/s, peak {core['peak_rss_mb']} MB", flush=True)
        print("determinism ...", flush=True)
        det = determinism(paths[:24])
        print("scan of a tree half images ...", flush=True)
        scan = scan_tree(tmp, args.scan_images)
        print(f"  {scan['scan_with_risk_vs_sha256sum']}x sha256sum", flush=True)
        print("scan of a tree half camera-size photos ...", flush=True)
        photos = scan_tree(tmp, args.scan_photos, (4000, 3000))
        print(f"  {photos['scan_with_risk_vs_sha256sum']}x sha256sum", flush=True)
    result = {
        "machine": {
            "python": platform.python_version(),
            "cpu": platform.machine(),
            "cores": os.cpu_count(),
        },
        "targets": TARGETS,
        "model_load_s": round(load, 3),
        "score_one_core": core,
        "determinism": det,
        "scan": scan,
        "scan_camera_photos": photos,
        "note": "benign images only (scikit-image photographs and generated patterns, 1600x1004 "
        "JPEG); a prioritisation signal's speed, nothing about what it finds",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
