"""Append-only, hash-chained audit log that can be taken to court (docs/audit.md).

- Each entry commits to the one before it, so an edited, deleted or reordered entry breaks the
  chain; ``verify`` lists every bad entry, not only the first.
- Appends are serialised on every backend (PostgreSQL: a table lock; SQLite: the database write
  lock taken before the last hash is read), and the previous hash is unique in the table: the
  chain cannot fork under concurrent requests.
- With a key (``OCSEA_AUDIT_KEY`` or ``[audit] key_file``; never in the database) each hash is an
  HMAC-SHA256, so whoever can write the database but has not the key cannot rewrite entries and
  recompute the hashes after them.
- Signed checkpoints (``checkpoint``: Ed25519, ``cryptography``) fix the chain's head at a moment:
  a later truncation or rewrite of the tail is detected against them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Connection, Engine

from ocsea.store.db import audit_log

GENESIS = "0" * 64
MIN_KEY_BYTES = 32
_KEY: dict[str, bytes | None] = {}


class AuditKeyError(ValueError):
    """A key that is missing, too short or unreadable; the message says which and where."""


def parse_key(raw: str | bytes, where: str) -> bytes:
    """A key as hex (64+ hex digits) or base64 text, or raw bytes; at least 32 bytes."""
    data = raw.encode() if isinstance(raw, str) else raw
    s = data.strip()
    key: bytes = s
    try:
        if len(s) >= 2 * MIN_KEY_BYTES and all(c in b"0123456789abcdefABCDEF" for c in s):
            key = bytes.fromhex(s.decode())
        elif s and len(s) % 4 == 0:
            key = base64.b64decode(s, validate=True)
    except ValueError:
        key = s
    if len(key) < MIN_KEY_BYTES:
        raise AuditKeyError(
            f"{where}: a key is at least {MIN_KEY_BYTES} random bytes "
            f"(got {len(key)}; make one with `ocsea keys generate`)"
        )
    return key


def configured_key() -> bytes | None:
    """The audit key from ``OCSEA_AUDIT_KEY`` or ``[audit] key_file`` (read once a process)."""
    if "key" not in _KEY:
        env = os.environ.get("OCSEA_AUDIT_KEY")
        if env:
            _KEY["key"] = parse_key(env, "OCSEA_AUDIT_KEY")
        else:
            from ocsea.config import load_settings

            _KEY["key"] = load_settings().audit_key
    return _KEY["key"]


def set_key(key: bytes | None) -> None:
    """Use this key from now on in this process (tests, and callers that load settings
    themselves); None: no key."""
    _KEY["key"] = key


def key_id(key: bytes) -> str:
    """Which key made an entry, without revealing it."""
    return hashlib.sha256(b"ocsea-audit-key\x00" + key).hexdigest()[:16]


def entry_hash(prev_hash: str, at: datetime, actor: str, action: str, target: str, detail: Any,
               key: bytes | None = None) -> str:  # fmt: skip
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
    ).encode()
    if key is None:
        return hashlib.sha256(body).hexdigest()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def _take_write_lock(conn: Connection) -> None:
    """Serialise appends: the last hash is read by one writer at a time."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE audit_log IN EXCLUSIVE MODE"))
    elif conn.dialect.name == "sqlite":
        # A write statement takes SQLite's database write lock for the rest of the transaction
        # (other writers wait, busy_timeout); it changes nothing.
        conn.execute(text("UPDATE audit_log SET id = id WHERE 0"))


def append(conn: Connection, actor: str, action: str, target: str = "", detail: Any = None) -> str:
    """Within the caller's transaction (so a decision and its audit entry commit together)."""
    _take_write_lock(conn)
    last = conn.execute(select(audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)).scalar()
    prev = last or GENESIS
    at = datetime.now(UTC)
    key = configured_key()
    # Hashed as stored: a long actor (an API key's name) or target hashed whole and stored cut
    # would read as an edited entry on every verify.
    actor, action, target = actor[:200], action[:60], target[:300]
    h = entry_hash(prev, at, actor, action, target, detail, key)
    conn.execute(
        insert(audit_log).values(
            at=at, actor=actor, action=action, target=target, detail=detail,
            prev_hash=prev, hash=h, key_id=key_id(key) if key else None,
        )
    )  # fmt: skip
    return h


def record(engine: Engine, actor: str, action: str, target: str = "", detail: Any = None) -> str:
    with engine.begin() as conn:
        return append(conn, actor, action, target, detail)


def entries(engine: Engine) -> Iterator[dict]:
    with engine.connect() as conn:
        for r in conn.execute(select(audit_log).order_by(audit_log.c.id)):
            yield dict(r._mapping)


@dataclass
class Report:
    """What ``verify`` found: every bad entry, not only the first."""

    entries: int = 0
    problems: list[str] = field(default_factory=list)
    keyed: int = 0  # entries whose HMAC was checked
    unkeyed: int = 0  # entries with a plain SHA-256 (rewritable by whoever can write the database)
    checkpoint: str = ""

    @property
    def intact(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.intact:
            how = (f"{self.keyed} keyed" if self.keyed else "") + (
                f"{', ' if self.keyed else ''}{self.unkeyed} unkeyed (no HMAC key: a rewrite "
                "of the tail is found only against a checkpoint)" if self.unkeyed else "")  # fmt: skip
            return (
                "intact"
                + (f" ({how})" if how else "")
                + (f"; {self.checkpoint}" if self.checkpoint else "")
            )
        return f"{len(self.problems)} problem(s): " + "; ".join(self.problems[:20])


def verify_chain(
    engine: Engine, key: bytes | None = None, checkpoint: dict | None = None
) -> Report:
    """Walk the whole chain: each entry follows the one before and matches its own hash (HMAC with
    ``key`` when the entry was keyed); with a checkpoint, the entry it names is still there, with
    the same hash, and as many entries up to it."""
    rep = Report()
    kid = key_id(key) if key else None
    prev = GENESIS
    by_id: dict[int, str] = {}
    seen_prev: dict[str, int] = {}
    keyed_seen = False
    keyed_upto: dict[int, int] = {}
    for e in entries(engine):
        rep.entries += 1
        by_id[e["id"]] = e["hash"]
        if e["prev_hash"] in seen_prev:
            rep.problems.append(
                f"entry {e['id']}: follows the same entry as {seen_prev[e['prev_hash']]} (fork)"
            )
        seen_prev.setdefault(e["prev_hash"], e["id"])
        if e["prev_hash"] != prev:
            rep.problems.append(
                f"entry {e['id']}: does not follow the entry before it (an entry deleted or reordered)"
            )
        ekid = e.get("key_id")
        if key is not None and not ekid and keyed_seen:
            # once the log is keyed, an unkeyed entry is one written (or rewritten) without the key
            rep.problems.append(
                f"entry {e['id']}: not keyed, after keyed entries (written without the key)"
            )
        keyed_seen = keyed_seen or bool(ekid)
        if ekid:
            if key is None or ekid != kid:
                rep.problems.append(
                    f"entry {e['id']}: keyed with key {ekid}, which was not given (OCSEA_AUDIT_KEY)"
                )
                prev = e["hash"]
                continue
            rep.keyed += 1
        else:
            rep.unkeyed += 1
        keyed_upto[e["id"]] = rep.keyed
        want = entry_hash(e["prev_hash"], e["at"], e["actor"], e["action"], e["target"], e["detail"],
                          key if ekid else None)  # fmt: skip
        if not hmac.compare_digest(want, e["hash"]):
            rep.problems.append(f"entry {e['id']}: content does not match its hash (edited)")
        prev = e["hash"]
    if checkpoint is not None:
        last_id, last_hash, count = (
            checkpoint["last_id"],
            checkpoint["last_hash"],
            checkpoint["entries"],
        )
        if last_id not in by_id:
            rep.problems.append(
                f"checkpoint of {checkpoint['at']}: entry {last_id} is gone (log truncated or rewritten)"
            )
        elif by_id[last_id] != last_hash:
            rep.problems.append(
                f"checkpoint of {checkpoint['at']}: entry {last_id} has another hash (rewritten)"
            )
        elif (
            "keyed" in checkpoint
            and key is not None
            and keyed_upto.get(last_id) != checkpoint["keyed"]
        ):
            rep.problems.append(f"checkpoint of {checkpoint['at']}: {checkpoint['keyed']} keyed entries up to "
                                f"{last_id}, now {keyed_upto.get(last_id)} (entries rewritten without the key)")  # fmt: skip
        elif sum(1 for i in by_id if i <= last_id) != count:
            rep.problems.append(f"checkpoint of {checkpoint['at']}: {count} entries up to {last_id}, now "
                                f"{sum(1 for i in by_id if i <= last_id)} (entries deleted or added)")  # fmt: skip
        else:
            rep.checkpoint = f"matches the checkpoint of {checkpoint['at']} (entry {last_id})"
    return rep


def verify(engine: Engine) -> tuple[bool, int, str]:
    """(intact?, entries checked, what is wrong) with the configured key."""
    rep = verify_chain(engine, configured_key())
    return rep.intact, rep.entries, rep.summary()


# ---- signed checkpoints ----------------------------------------------------------------------
def _canonical(d: dict) -> bytes:
    return json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def make_checkpoint(engine: Engine, private_key_pem: bytes) -> dict:
    """The chain's head now, signed with an Ed25519 key kept away from the database."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    sk = load_pem_private_key(private_key_pem, password=None)
    if not isinstance(sk, Ed25519PrivateKey):
        raise AuditKeyError(
            "a checkpoint is signed with an Ed25519 key (`ocsea keys generate --signing`)"
        )
    with engine.connect() as conn:
        last = conn.execute(
            select(audit_log.c.id, audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)
        ).first()
        if last is None:
            raise AuditKeyError("the audit log is empty: nothing to checkpoint")
        # counted up to that entry: an append meanwhile must not make the checkpoint unverifiable
        upto = audit_log.c.id <= last.id
        count = conn.execute(select(func.count()).select_from(audit_log).where(upto)).scalar_one()
        keyed = conn.execute(select(func.count()).select_from(audit_log)
                             .where(upto, audit_log.c.key_id.is_not(None))).scalar_one()  # fmt: skip
    body = {"last_id": last.id, "last_hash": last.hash, "entries": count, "keyed": keyed,
            "at": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
    sig = sk.sign(_canonical(body))
    return {**body, "signature": base64.b64encode(sig).decode()}


def check_checkpoint(cp: dict, public_key_pem: bytes) -> dict:
    """The checkpoint's body when its signature holds; raises AuditKeyError otherwise."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    pk = load_pem_public_key(public_key_pem)
    if not isinstance(pk, Ed25519PublicKey):
        raise AuditKeyError("not an Ed25519 public key")
    body = {k: cp[k] for k in ("last_id", "last_hash", "entries", "keyed", "at") if k in cp}
    try:
        pk.verify(base64.b64decode(cp.get("signature", "")), _canonical(body))
    except (InvalidSignature, ValueError):
        raise AuditKeyError(
            "the checkpoint's signature does not hold: it was changed or signed with another key"
        ) from None
    return body


def signing_keypair() -> tuple[bytes, bytes]:
    """(private PEM, public PEM) of a new Ed25519 key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    sk = Ed25519PrivateKey.generate()
    return (
        sk.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                         serialization.NoEncryption()),
        sk.public_key().public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo),
    )  # fmt: skip


def read_checkpoint(path: Path) -> dict:
    try:
        cp = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AuditKeyError(f"{path}: not a checkpoint file ({exc})") from None
    if not isinstance(cp, dict) or not {
        "last_id",
        "last_hash",
        "entries",
        "at",
        "signature",
    } <= set(cp):
        raise AuditKeyError(f"{path}: not a checkpoint file (fields missing)")
    return cp
