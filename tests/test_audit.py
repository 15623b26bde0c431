"""The audit log under concurrent load and against every kind of tampering (issue 16)."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from ocsea.service import audit
from ocsea.store.db import audit_log, make_engine

KEY = bytes(range(32))


@pytest.fixture
def keyed():
    audit.set_key(KEY)
    yield KEY
    audit.set_key(None)


def _fill(engine, n: int) -> None:
    for i in range(n):
        audit.record(engine, "tester", "x.read", str(i), {"i": i})


def test_many_threads_append_one_unbroken_chain(db_url, keyed):
    engine = make_engine(db_url)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(25):
                audit.record(engine, f"client{t}", "lists.read", str(i))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:1]
    rep = audit.verify_chain(engine, KEY)
    assert rep.intact and rep.entries == 200 and rep.keyed == 200, rep.problems[:3]
    engine.dispose()


def _tamper(engine, kind: str) -> None:
    rows = list(audit.entries(engine))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX IF EXISTS uq_audit_prev_hash")
        if kind == "edit":
            conn.execute(update(audit_log).where(audit_log.c.id == 3).values(target="other"))
        elif kind == "delete middle":
            conn.execute(delete(audit_log).where(audit_log.c.id == 3))
        elif kind == "delete tail":
            conn.execute(delete(audit_log).where(audit_log.c.id >= 5))
        elif kind == "swap":
            a, b = rows[1], rows[2]
            for x, y in ((a, b), (b, a)):
                conn.execute(update(audit_log).where(audit_log.c.id == x["id"]).values(
                    **{k: y[k] for k in ("at", "actor", "action", "target", "detail", "prev_hash", "hash")}))  # fmt: skip
        elif kind == "rewrite and rehash":
            # edit entry 3 and recompute every hash after it, as someone without the key would
            prev = rows[1]["hash"]
            for r in rows[2:]:
                target = "other" if r["id"] == 3 else r["target"]
                h = audit.entry_hash(prev, r["at"], r["actor"], r["action"], target, r["detail"])
                conn.execute(update(audit_log).where(audit_log.c.id == r["id"]).values(
                    target=target, prev_hash=prev, hash=h, key_id=None))  # fmt: skip
                prev = h


@pytest.mark.parametrize(
    "kind", ["edit", "delete middle", "delete tail", "swap", "rewrite and rehash"]
)
def test_every_kind_of_tampering_is_found_with_a_checkpoint(tmp_path, keyed, kind):
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    _fill(engine, 6)
    private, public = audit.signing_keypair()
    cp = audit.check_checkpoint(audit.make_checkpoint(engine, private), public)
    assert audit.verify_chain(engine, KEY, cp).intact
    _tamper(engine, kind)
    rep = audit.verify_chain(engine, KEY, cp)
    assert not rep.intact, kind
    engine.dispose()


def test_without_a_key_a_rewrite_is_found_only_by_the_checkpoint(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    _fill(engine, 6)
    private, public = audit.signing_keypair()
    cp = audit.check_checkpoint(audit.make_checkpoint(engine, private), public)
    _tamper(engine, "rewrite and rehash")
    assert audit.verify_chain(engine, None).intact  # the chain alone cannot tell
    assert not audit.verify_chain(engine, None, cp).intact
    engine.dispose()


def test_verify_lists_every_bad_entry(tmp_path, keyed):
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    _fill(engine, 8)
    with engine.begin() as conn:
        for i in (2, 6):
            conn.execute(update(audit_log).where(audit_log.c.id == i).values(actor="x"))
    rep = audit.verify_chain(engine, KEY)
    assert [p.split(":")[0] for p in rep.problems] == ["entry 2", "entry 6"]
    engine.dispose()


def test_a_forged_or_foreign_checkpoint_is_refused(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    _fill(engine, 2)
    private, public = audit.signing_keypair()
    cp = audit.make_checkpoint(engine, private)
    with pytest.raises(audit.AuditKeyError):
        audit.check_checkpoint({**cp, "entries": 1}, public)
    with pytest.raises(audit.AuditKeyError):
        audit.check_checkpoint(cp, audit.signing_keypair()[1])
    engine.dispose()


def test_short_keys_are_refused():
    with pytest.raises(audit.AuditKeyError, match="32"):
        audit.parse_key("k", "OCSEA_AUDIT_KEY")
    assert audit.parse_key("ab" * 32, "x") == bytes([0xAB]) * 32


def test_cli_keys_checkpoint_verify(tmp_path, monkeypatch):
    from ocsea.cli import app

    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'c.db'}"
    key_file = tmp_path / "audit.key"
    assert runner.invoke(app, ["keys", "generate", "--out", str(key_file)]).exit_code == 0
    assert (key_file.stat().st_mode & 0o777) == 0o600 and len(key_file.read_text().strip()) == 64
    again = runner.invoke(app, ["keys", "generate", "--out", str(key_file)])
    assert again.exit_code == 2 and "never overwritten" in again.output
    monkeypatch.setenv("OCSEA_AUDIT_KEY", key_file.read_text().strip())
    audit._KEY.clear()
    sign = tmp_path / "sign.pem"
    assert runner.invoke(app, ["keys", "generate", "--signing", "--out", str(sign)]).exit_code == 0
    engine = make_engine(db)
    _fill(engine, 4)
    cp = tmp_path / "cp.json"
    got = runner.invoke(
        app, ["audit", "checkpoint", "--signing-key", str(sign), "--out", str(cp), "--db", db]
    )
    assert got.exit_code == 0, got.output
    assert json.loads(cp.read_text())["entries"] == 4
    ok = runner.invoke(
        app, ["audit", "verify", "--checkpoint", str(cp), "--public-key", f"{sign}.pub", "--db", db]
    )
    assert ok.exit_code == 0 and "4 keyed" in ok.output and "checkpoint" in ok.output
    with engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.id == 4))
    bad = runner.invoke(
        app, ["audit", "verify", "--checkpoint", str(cp), "--public-key", f"{sign}.pub", "--db", db]
    )
    assert bad.exit_code == 1 and "entry 4 is gone" in bad.output
    with engine.connect() as conn:
        assert conn.execute(select(audit_log.c.key_id)).scalar() == audit.key_id(
            audit.configured_key()
        )
    audit._KEY.clear()
    engine.dispose()


def test_entries_after_the_checkpoint_rewritten_without_the_key_are_found(tmp_path, keyed):
    engine = make_engine(f"sqlite:///{tmp_path / 'k.db'}")
    _fill(engine, 4)
    private, public = audit.signing_keypair()
    cp = audit.check_checkpoint(audit.make_checkpoint(engine, private), public)
    _fill(engine, 3)
    rows = list(audit.entries(engine))
    with engine.begin() as conn:  # rewrite the tail unkeyed, as someone without the key would
        prev = rows[3]["hash"]
        for r in rows[4:]:
            h = audit.entry_hash(prev, r["at"], r["actor"], r["action"], "forged", r["detail"])
            conn.execute(update(audit_log).where(audit_log.c.id == r["id"]).values(
                target="forged", prev_hash=prev, hash=h, key_id=None))  # fmt: skip
            prev = h
    rep = audit.verify_chain(engine, KEY, cp)
    assert not rep.intact and any("not keyed" in p for p in rep.problems)
    engine.dispose()


def test_a_long_actor_or_target_is_hashed_as_stored(tmp_path, keyed):
    """An API key may be named up to 100 characters and a target may be long: the entry is hashed
    as it is stored (cut), so verifying never calls it edited (found by an independent review)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'long.db'}")
    audit.record(engine, "key:" + "n" * 250, "query.check", "t" * 400, {"x": 1})
    audit.record(engine, "user:ana", "login")
    assert audit.verify_chain(engine, KEY).intact
    engine.dispose()
