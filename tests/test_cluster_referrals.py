"""``ocsea referrals import --dask``: documents read on the workers, stored and linked here: the
same store (ids and case keys too), the same report and exit code as a plain run, with broken
documents, duplicates and a second run; a worker killed mid-import costs a retry."""

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ocsea.cli.app import app
from ocsea.cluster import submit
from ocsea.demo.referrals import make_referrals
from ocsea.referrals import store

from .cluster_faults import kill_after_three_results
from .test_cluster_ingest import contents, not_here, same_run

distributed = pytest.importorskip("distributed")


def referrals_import(db: Path, *args: str):
    env = {"OCSEA_DATABASE_URL": f"sqlite:///{db}", "OCSEA_CONFIG": str(db.parent / "none.toml")}
    return CliRunner().invoke(app, ["referrals", "import", *args], env=env)


def same_store(a: Path, b: Path) -> None:
    """Table by table, ids kept: documents are stored in the same order, so referrals, entities,
    mentions and cases have the same ids and keys."""
    got, want = contents(a, keep_ids=True), contents(b, keep_ids=True)
    assert got.keys() == want.keys()
    for table in want:
        assert got[table] == want[table], table


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return make_referrals(tmp_path_factory.mktemp("refs"), singletons=8)


@pytest.mark.parametrize(
    ("which", "report"),
    # The folder holds every document and the zip of them all: each document twice.
    [
        ("archive", "1 duplicates, 2 rejected"),
        ("folder", "already imported; 2 duplicates, 4 rejected"),
    ],
    ids=["archive", "folder"],
)
def test_a_dask_import_stores_what_a_plain_one_does(
    cluster, demo, tmp_path, monkeypatch, which, report
):
    src = str(demo.archive if which == "archive" else demo.folder)
    plain = referrals_import(tmp_path / "plain.db", src, "--show-warnings")
    assert plain.exit_code == 1, plain.output  # two documents are broken; the rest is in
    assert report in " ".join(plain.stdout.split())
    assert "broken.json" in plain.stderr and "entity-bomb.xml" in plain.stderr
    with monkeypatch.context() as here:
        not_here(here, store._read)  # documents are read on the workers
        dask = referrals_import(tmp_path / "dask.db", src, "--show-warnings", "--dask", cluster[0])
    same_run(plain, dask)
    same_store(tmp_path / "dask.db", tmp_path / "plain.db")
    assert contents(tmp_path / "dask.db")["cases"]
    # Again: every readable document already imported; the broken ones rejected again.
    again = referrals_import(tmp_path / "plain.db", src)
    assert again.exit_code == 1 and "0 new referrals from 0 documents" in again.stdout
    assert "documents already imported" in again.stdout
    same_run(again, referrals_import(tmp_path / "dask.db", src, "--dask", cluster[0]))
    same_store(tmp_path / "dask.db", tmp_path / "plain.db")


def test_a_worker_killed_mid_import_costs_a_retry_not_a_document(cluster, tmp_path, monkeypatch):
    """Three demo sets (the same report ids, other contents: duplicates across them) of
    documents of up to 300 referrals; a worker busy with one is killed after the third."""
    address, client = cluster
    folders = [
        make_referrals(tmp_path / f"set{i}", seed=i, singletons=300).folder for i in range(3)
    ]
    plain = referrals_import(tmp_path / "plain.db", *map(str, folders))
    assert plain.exit_code == 1 and "duplicates" in plain.stdout
    killed, taken_n = kill_after_three_results(monkeypatch, client)
    dask = referrals_import(tmp_path / "dask.db", *map(str, folders), "--dask", address)
    same_run(plain, dask)
    same_store(tmp_path / "dask.db", tmp_path / "plain.db")
    assert killed and taken_n[0] > 3 + 2 * submit.WINDOW_PER_SLOT * 2
    client.wait_for_workers(2, timeout=60)
    assert killed[0] not in client.run(os.getpid).values()


def test_a_bad_spec_is_one_line_and_exit_2(demo, tmp_path):
    r = referrals_import(tmp_path / "x.db", str(demo.archive), "--dask", "local:two")
    assert r.exit_code == 2 and r.stdout == "" and r.stderr.count("\n") == 1
    assert r.stderr.startswith("error:") and "whole number" in r.stderr
    assert not (tmp_path / "x.db").exists()
