"""The CLI says what happened: one exit-code convention, one-line errors (issue 16)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ocsea.cli import app


def run(
    *args: str, cwd: Path | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "ocsea.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, **(env or {})}, check=False)  # fmt: skip


def test_hashing_a_missing_file_is_exit_2_and_one_missing_of_two_is_1(tmp_path):
    good = tmp_path / "a.txt"
    good.write_text("x")
    r = run("hash", str(tmp_path / "missing.jpg"))
    assert r.returncode == 2 and "missing.jpg" in r.stderr
    r = run("hash", str(good), str(tmp_path / "missing.jpg"))
    assert r.returncode == 1


def test_match_warns_when_no_list_is_loaded_and_fails_on_a_missing_file(tmp_path):
    db = f"sqlite:///{tmp_path / 'm.db'}"
    assert run("db", "upgrade", "--db", db).returncode == 0
    r = run("match", str(tmp_path / "nothere.png"), "--db", db)
    assert r.returncode == 2 and "no hash list is loaded" in r.stderr


def test_classify_refuses_binary_input_and_directories_in_one_line(tmp_path):
    png = tmp_path / "image.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20)
    r = run("classify", str(png))
    assert (
        r.returncode == 2 and "binary data" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    )
    r = run("classify", str(tmp_path))
    assert r.returncode == 2 and "is a directory" in r.stderr


def test_a_read_only_command_never_creates_a_database(tmp_path):
    typo = tmp_path / "tpyo.db"
    r = run("referrals", "list", "--db", str(typo))
    assert r.returncode == 2 and "no database at" in r.stderr and not typo.exists()


def test_db_takes_a_plain_path_and_postgres_urls():
    from ocsea.store.db import database_url

    assert database_url("x.db").startswith("sqlite:////") and database_url("x.db").endswith("/x.db")
    assert database_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert database_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert database_url("sqlite:///a.db") == "sqlite:///a.db"


def test_an_unreachable_database_is_said_in_plain_words(tmp_path):
    r = run("referrals", "list", "--db", "postgresql://nobody@127.0.0.1:9/none")
    assert (
        r.returncode == 2
        and "the database cannot be used" in r.stderr
        and "Traceback" not in r.stderr
    )


def test_ingest_with_every_row_rejected_is_not_success(tmp_path):
    f = tmp_path / "p2p.csv"
    f.write_text(
        "timestamp,network,ip,port,guid,client,filename,size\nnot a time,x,y,z,,,,\nbad,x,y,z,,,,\n"
    )
    r = run("ingest", "p2p", str(f), "--db", f"sqlite:///{tmp_path / 'i.db'}")
    assert r.returncode == 2 and "0 rows ingested, 2 rejected" in r.stderr


def test_the_help_states_the_exit_codes():
    got = CliRunner().invoke(app, ["--help"])
    assert "Exit codes: 0 all done" in " ".join(got.output.split())


@pytest.mark.parametrize("args", [["apikeys", "create", "--name", "k", "--expires", "0h"]])
def test_usage_errors_are_exit_2(tmp_path, args):
    r = run(*args, "--db", f"sqlite:///{tmp_path / 'u.db'}")
    assert r.returncode == 2


def test_terms_list_and_remove_and_every_lexicon_change_is_audited(tmp_path):
    db = f"sqlite:///{tmp_path / 't.db'}"
    assert run("terms", "accept", "zqvxterm", "--analyst", "ana", "--db", db).returncode == 0
    listed = run("terms", "list", "--db", db)
    assert listed.returncode == 0 and "zqvxterm" in listed.stdout
    assert run("terms", "remove", "zqvxterm", "--db", db).returncode == 0
    assert "zqvxterm" not in run("terms", "list", "--db", db).stdout
    assert run("terms", "remove", "zqvxterm", "--db", db).returncode == 1
    actions = [
        __import__("json").loads(x)["action"]
        for x in run("audit", "export", "--db", db).stdout.splitlines()
    ]
    assert "lexicon.accept" in actions and "lexicon.remove" in actions


def test_hash_list_imports_are_audited(tmp_path):
    db = f"sqlite:///{tmp_path / 'h.db'}"
    f = tmp_path / "list.txt"
    f.write_text("c4ca4238a0b923820dcc509a6f75849b\n")
    assert run("hashes", "import", str(f), "--list", "l1", "--db", db).returncode == 0
    out = run("audit", "export", "--db", db).stdout
    assert '"hashes.import"' in out and '"l1"' in out


def _commands(c, path=()):
    if hasattr(c, "commands"):
        for name, sub in c.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield " ".join(path), c


def test_every_command_and_option_has_help_and_no_python_type_names():
    import typer

    root = typer.main.get_command(app)
    for name, cmd in _commands(root):
        assert (cmd.help or "").strip(), f"{name}: no help"
        for p in cmd.params:
            if p.name not in ("help",):
                assert (getattr(p, "help", "") or "").strip(), f"{name} {p.name}: no help"
        shown = CliRunner().invoke(app, [*name.split(), "--help"], env={"COLUMNS": "200"}).output
        for bad in ("<bool>", "<str>", "list[", "<int>", "<path>"):
            assert bad not in shown, (name, bad)


def test_serve_prints_its_url_and_a_request_it_cannot_parse_is_problem_json(tmp_path):
    import os
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OCSEA_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"}
    server = subprocess.Popen([sys.executable, "-m", "ocsea.cli", "serve", "--port", str(port), "--workers", "1"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        answer = b""
        while time.monotonic() < deadline and not answer:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as c:
                    c.sendall(b"GARBAGE \x00\x01 nonsense\r\n\r\n")
                    answer = c.recv(4096)
            except OSError:
                time.sleep(0.3)
        assert answer.startswith(b"HTTP/1.1 400") and b"application/problem+json" in answer, answer
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert f"serving http://127.0.0.1:{port}" in stderr


def test_a_short_pseudonym_key_and_random_model_bytes_are_refused_in_one_line(tmp_path):
    r = run("ingest", "queries", str(tmp_path / "x.csv"), env={"OCSEA_PSEUDONYM_KEY": "k"})
    assert r.returncode == 2 and "at least 32" in r.stderr
    model = tmp_path / "random.bin"
    model.write_bytes(bytes(range(256)) * 20)
    r = run("text", "explain", "x", "--model", str(model))
    assert (
        r.returncode == 2
        and "not an ocsea text model" in r.stderr
        and "allow_pickle" not in r.stderr
    )


def test_networks_csv_into_a_file_says_it_needs_a_folder(tmp_path):
    db = f"sqlite:///{tmp_path / 'n.db'}"
    assert run("db", "upgrade", "--db", db).returncode == 0
    f = tmp_path / "existing"
    f.write_text("x")
    r = run("networks", "--format", "csv", "--out", str(f), "--db", db)
    assert r.returncode == 2 and "into a folder" in " ".join(r.stderr.split())


def test_users_list_shows_failed_logins_and_ingests_are_audited(tmp_path):
    from ocsea.service.access import add_user, login_failed
    from ocsea.store.db import make_engine

    db = f"sqlite:///{tmp_path / 'u.db'}"
    engine = make_engine(db)
    add_user(engine, "ana", "correct horse battery", "analyst")
    for _ in range(6):
        login_failed(engine, ["user:ana"])
    engine.dispose()
    r = run("users", "list", "--db", db)
    assert r.returncode == 0 and "ana" in r.stdout and "6" in r.stdout
    f = tmp_path / "p2p.csv"
    f.write_text("timestamp,network,ip,port,guid,client,filename,size\n2026-01-01T00:00:00Z,gnutella,192.0.2.1,6346,"
                 "AABBCCDDEEFF00112233445566778899,LimeWire,a.jpg,10\n")  # fmt: skip
    assert run("ingest", "p2p", str(f), "--db", db).returncode == 0
    assert '"ingest.p2p"' in run("audit", "export", "--db", db).stdout


def test_a_locked_sqlite_database_says_what_to_do():
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from ocsea.cli.common import plain_error

    exc = OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))
    msg = plain_error(exc)
    assert msg is not None and "busy with another write" in msg and "PostgreSQL" in msg
