"""Append-only, hash-chained audit log: each entry commits to the one before it, so an edited,
deleted or reordered entry breaks every hash after it and `ocsea audit verify` names the first."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine

from ocsea.store.db import audit_log

GENESIS = "0" * 64


def entry_hash(
    prev_hash: str, at: datetime, actor: str, action: str, target: str, detail: Any
) -> str:
    at_s = (
        (at.replace(tzinfo=UTC) if at.tzinfo is None else at)
        .astimezone(UTC)
        .isoformat(timespec="microseconds")
    )
    body = json.dumps(
        [prev_hash, at_s, actor, action, target, detail],
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def append(conn: Connection, actor: str, action: str, target: str = "", detail: Any = None) -> str:
    """Within the caller's transaction (so a decision and its audit entry commit together)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy import text

        conn.execute(text("LOCK TABLE audit_log IN EXCLUSIVE MODE"))  # one writer extends the chain
    last = conn.execute(select(audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)).scalar()
    prev = last or GENESIS
    at = datetime.now(UTC)
    h = entry_hash(prev, at, actor, action, target, detail)
    conn.execute(
        insert(audit_log).values(
            at=at, actor=actor, action=action, target=target, detail=detail, prev_hash=prev, hash=h
        )
    )
    return h


def record(engine: Engine, actor: str, action: str, target: str = "", detail: Any = None) -> str:
    with engine.begin() as conn:
        return append(conn, actor, action, target, detail)


def entries(engine: Engine) -> Iterator[dict]:
    with engine.connect() as conn:
        for r in conn.execute(select(audit_log).order_by(audit_log.c.id)):
            yield dict(r._mapping)


def verify(engine: Engine) -> tuple[bool, int, str]:
    """(intact?, entries checked, what is wrong)."""
    prev = GENESIS
    n = 0
    for e in entries(engine):
        n += 1
        if e["prev_hash"] != prev:
            return (
                False,
                n,
                f"entry {e['id']}: does not follow the previous entry (deleted or reordered entry before it)",
            )
        if (
            entry_hash(prev, e["at"], e["actor"], e["action"], e["target"], e["detail"])
            != e["hash"]
        ):
            return False, n, f"entry {e['id']}: content does not match its hash (edited)"
        prev = e["hash"]
    return True, n, "intact"
