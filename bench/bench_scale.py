"""Batch work on a Dask cluster (issue 20): `ocsea classify` of a query log and `ocsea scan` of an
evidence tree, run as a user runs them, plain and on a local cluster of one worker and of two, on
this machine.

The log is Zipf-distributed over distinct generated queries (as a search provider's log is: a
few queries recur, most are rare), so each worker's verdict cache helps as it would. Every run's
output must be byte-identical to the plain run's (checked by SHA-256). Targets: local:2 at least
1.7x a single worker, and within 10 % of the plain run per core.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_text import unique_filenames, zipf_log  # noqa: E402

TARGETS = {"local2_vs_local1": 1.7, "local2_per_core_vs_plain": 0.9}
CLI = [sys.executable, "-m", "ocsea.cli"]


def make_log(path: Path, n: int, distinct: int) -> None:
    vocab = unique_filenames(distinct, seed=11)
    path.write_text("\n".join(zipf_log(n, vocab, seed=11)) + "\n", encoding="utf-8")


def _env() -> dict[str, str]:
    """The commands' environment: offline, and on a cluster only when a run asks for one."""
    env = {**os.environ, "PYTHAINLP_OFFLINE": "1"}
    env.pop("OCSEA_DASK", None)
    return env


def run_classify(log: Path, out: Path, dask: str | None) -> dict:
    """One `ocsea classify` as a subprocess: wall time, output digest, exit code."""
    cmd = [*CLI, "classify", str(log), "--format", "jsonl"]
    if dask:
        cmd += ["--dask", dask]
    t0 = time.perf_counter()
    with out.open("wb") as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.PIPE, env=_env(), check=False)
    wall = time.perf_counter() - t0
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    return {"s": round(wall, 2), "exit_code": proc.returncode, "sha256": digest,
            "stderr_tail": proc.stderr.decode(errors="replace")[-300:]}  # fmt: skip


def bench_classify(n: int, distinct: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="ocsea-bench-scale-"))
    try:
        log = tmp / "queries.txt"
        print(f"query log of {n:,} over {distinct:,} distinct queries ...", flush=True)
        make_log(log, n, distinct)
        runs = {}
        for name, spec in (("plain", None), ("local:1", "local:1"), ("local:2", "local:2")):
            print(f"  ocsea classify {name} ...", flush=True)
            runs[name] = run_classify(log, tmp / f"{name.replace(':', '_')}.jsonl", spec)
            runs[name]["lines_per_s"] = round(n / runs[name]["s"])
            print(f"  {name}: {runs[name]['s']} s", flush=True)
        plain, one, two = runs["plain"], runs["local:1"], runs["local:2"]
        return {
            "queries": n,
            "distinct": distinct,
            "input_bytes": log.stat().st_size,
            "runs": {k: {x: v[x] for x in ("s", "lines_per_s", "exit_code")} for k, v in runs.items()},
            "identical_output": len({r["sha256"] for r in runs.values()}) == 1,
            "local2_vs_local1": round(one["s"] / two["s"], 2),
            "local2_vs_plain": round(plain["s"] / two["s"], 2),
            # per core: two workers' throughput halved, against the plain run on one core
            "local2_per_core_vs_plain": round(plain["s"] / two["s"] / 2, 2),
            "cpus": os.cpu_count(),
        }  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def make_tree(root: Path, mb: int) -> int:
    """Half the bytes camera-size photos, half other files; the tree's size in bytes."""
    import numpy as np

    from bench_media import make_images

    per_photo = 4.2e6  # what bench_media's 4000x3000 noisy photos weigh, about
    images = make_images(root / "DCIM", max(2, int(mb * 1e6 / 2 / per_photo)), (4000, 3000))
    left = sum(p.stat().st_size for p in images)
    rng = np.random.default_rng(5)
    (root / "docs").mkdir()
    k = 0
    while left > 0:
        chunk = min(left, 8 << 20)
        (root / "docs" / f"archive_{k:03d}.bin").write_bytes(rng.bytes(chunk))
        left, k = left - chunk, k + 1
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def run_scan(tree: Path, out: Path, db: str, extra: list[str]) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run([*CLI, "scan", str(tree), "--out", str(out), "--db", db, *extra],
                          capture_output=True, env=_env(), check=False)  # fmt: skip
    wall = time.perf_counter() - t0
    report = (out / "report.csv").read_bytes() if (out / "report.csv").is_file() else b""
    return {"s": round(wall, 2), "exit_code": proc.returncode,
            "sha256": hashlib.sha256(report).hexdigest()}  # fmt: skip


def bench_scan(mb: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="ocsea-bench-scale-scan-"))
    try:
        print(f"evidence tree of {mb} MB, half camera photos ...", flush=True)
        size = make_tree(tmp / "tree", mb)
        db = f"sqlite:///{tmp / 'o.db'}"
        t0 = time.perf_counter()
        files = [str(p) for p in (tmp / "tree").rglob("*") if p.is_file()]
        subprocess.run(["sha256sum", *files], capture_output=True, check=True)
        sha = time.perf_counter() - t0
        runs = {}
        for name, extra in (("plain_1_worker", ["--workers", "1"]), ("plain_2_workers", []),
                            ("local:1", ["--dask", "local:1"]), ("local:2", ["--dask", "local:2"])):  # fmt: skip
            print(f"  ocsea scan {name} ...", flush=True)
            runs[name] = run_scan(tmp / "tree", tmp / name.replace(":", "_"), db, extra)
            runs[name]["mb_per_s"] = round(size / 1e6 / runs[name]["s"], 1)
            print(f"  {name}: {runs[name]['s']} s", flush=True)
        one, two = runs["local:1"], runs["local:2"]
        return {
            "mb": round(size / 1e6), "files": len(files),
            "sha256sum": {"s": round(sha, 2), "mb_per_s": round(size / 1e6 / sha, 1)},
            "runs": {k: {x: v[x] for x in ("s", "mb_per_s", "exit_code")} for k, v in runs.items()},
            "identical_report": len({r["sha256"] for r in runs.values()}) == 1,
            "local2_vs_local1": round(one["s"] / two["s"], 2),
            "local2_vs_plain_2_workers": round(runs["plain_2_workers"]["s"] / two["s"], 2),
            "local2_per_core_vs_plain": round(runs["plain_1_worker"]["s"] / two["s"] / 2, 2),
        }  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "scale.json")
    ap.add_argument("--queries", type=int, default=2_000_000)
    ap.add_argument("--distinct", type=int, default=500_000)
    ap.add_argument("--scan-mb", type=int, default=2000)
    args = ap.parse_args()
    result = {"targets": TARGETS, "classify": bench_classify(args.queries, args.distinct),
              "scan": bench_scan(args.scan_mb), "python": sys.version.split()[0]}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
