"""``ocsea scan --dask`` and ``ocsea hash --dask``: the same report and scan state, the same
records, as a local run (relative paths, archive members, media risk, errors); a worker killed
mid-scan costs a retry, not a file."""

import json
import os
import sqlite3
import zipfile

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from ocsea.cli.app import app
from ocsea.scan import runner
from ocsea.scan.worker import ScanOptions

from .cluster_faults import kill_after

distributed = pytest.importorskip("distributed")


@pytest.fixture
def evidence(tmp_path, monkeypatch):
    """Benign generated pictures, a text file, a zip holding a picture, in nested folders; the
    scan is given the folder by a relative path, as an analyst in it would."""
    root = tmp_path / "case" / "drive"
    (root / "DCIM" / "100").mkdir(parents=True)
    rng = np.random.default_rng(3)
    for i in range(24):
        pixels = (rng.random((24, 32, 3)) * 255).astype("uint8")
        Image.fromarray(pixels).resize((320, 240)).save(root / "DCIM" / "100" / f"IMG_{i:04d}.jpg")
    (root / "notes.txt").write_text("shopping list: rice, eggs\n")
    with zipfile.ZipFile(root / "photos.zip", "w") as z:
        z.write(root / "DCIM" / "100" / "IMG_0001.jpg", "trip/IMG_0001.jpg")
        z.writestr("readme.txt", "holiday photos")
    monkeypatch.chdir(tmp_path / "case")
    return "drive"


def scan(*args: str):
    return CliRunner().invoke(app, ["scan", *args])


def state_of(folder) -> list[tuple[str, int, int, str]]:
    with sqlite3.connect(folder / runner.STATE_FILE) as db:
        return db.execute(
            "SELECT path, size, mtime_ns, records FROM files ORDER BY path"
        ).fetchall()


def test_a_dask_scan_writes_the_same_report_and_state(cluster, evidence, tmp_path):
    address, _ = cluster
    db = f"sqlite:///{tmp_path / 'o.db'}"
    plain = scan(evidence, "--out", "plain", "--db", db)
    dask = scan(evidence, "--out", "dask", "--db", db, "--dask", address)
    assert plain.exit_code == dask.exit_code == 0, dask.output
    case = tmp_path / "case"
    assert (case / "plain" / "report.csv").read_bytes() == (
        case / "dask" / "report.csv"
    ).read_bytes()
    reports = [json.loads((case / d / "report.json").read_text()) for d in ("plain", "dask")]
    for r in reports:
        r.pop("generated_at", None)
    assert reports[0] == reports[1]
    assert state_of(case / "plain") == state_of(case / "dask")
    paths = [row[0] for row in state_of(case / "dask")]
    assert all(not os.path.isabs(p) for p in paths) and any(
        "!" in json.dumps(r) for r in state_of(case / "dask")
    )


def test_a_worker_killed_mid_scan_costs_a_retry_not_a_file(
    cluster, evidence, tmp_path, monkeypatch
):
    _, client = cluster
    monkeypatch.setattr(runner, "BATCH_FILES", 1)  # a batch a file: many parts in the cluster
    opts = ScanOptions(media_risk=False)
    plain = runner.run_scan(tmp_path / "case" / evidence, tmp_path / "plain", opts, workers=2)
    killed: list[int] = []
    done = [0]

    def kill_after_three(files: int, _bytes: int) -> None:
        done[0] += files
        kill_after(client, done[0], killed)

    executor = client.get_executor(retries=3, pure=False)
    dask = runner.run_scan(tmp_path / "case" / evidence, tmp_path / "dask", opts, workers=2,
                           progress=kill_after_three, executor=executor)  # fmt: skip
    assert killed and done[0] == plain.files_hashed_now == dask.files_hashed_now
    assert dask.records == plain.records and not dask.errors
    client.wait_for_workers(2, timeout=60)


def test_hash_on_dask_writes_the_same_records_and_errors(cluster, evidence, monkeypatch):
    from ocsea.cli import media

    monkeypatch.setattr(media, "HASH_BATCH_FILES", 5)  # several parts, results kept in order
    args = ["hash", evidence, "drive/notes.txt", "drive/missing.jpg"]
    plain = CliRunner().invoke(app, args)
    dask = CliRunner().invoke(app, [*args, "--dask", cluster[0]])
    assert plain.exit_code == dask.exit_code == 1  # the missing file
    assert plain.stdout_bytes == dask.stdout_bytes and plain.stderr_bytes == dask.stderr_bytes
    assert plain.stdout.count("\n") == 28 and "missing.jpg: cannot read" in dask.stderr


def test_files_of_a_failed_batch_are_scanned_again_on_resume(evidence, tmp_path, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from ocsea.scan import worker

    opts = ScanOptions(media_risk=False)
    root = tmp_path / "case" / evidence

    def broken(paths, opts, cwd):
        raise OSError("worker lost the mount")

    monkeypatch.setattr(runner, "scan_batch", broken)
    with ThreadPoolExecutor(2) as pool:
        first = runner.run_scan(root, tmp_path / "out", opts, workers=2, executor=pool)
    assert first.errors == first.files_hashed_now == 26
    monkeypatch.setattr(runner, "scan_batch", worker.scan_batch)
    with ThreadPoolExecutor(2) as pool:
        again = runner.run_scan(root, tmp_path / "out", opts, workers=2, executor=pool)
    assert again.files_hashed_now == 26 and again.files_resumed == 0 and not again.errors


def test_workers_that_cannot_see_the_evidence_are_named(cluster, tmp_path):
    from ocsea.cluster.connect import check_paths
    from ocsea.cluster.spec import ClusterError

    _, client = cluster
    check_paths(client, [str(tmp_path)])  # the fixture's workers share this machine's files
    with pytest.raises(ClusterError, match=r"cannot see .*/not-mounted.*same path on every worker"):
        check_paths(client, [str(tmp_path / "not-mounted")])
