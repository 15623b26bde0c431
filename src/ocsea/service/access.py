"""Roles, the permission matrix, API keys and passwords.

API keys are 256-bit random secrets shown once; only their SHA-256 is stored (a fast hash is
right for high-entropy secrets and keeps the real-time path in microseconds). Passwords, which are
low-entropy, are hashed with argon2id.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError, VerifyMismatchError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine

from ocsea.store.db import api_keys, users

ROLES = ("analyst", "investigator", "supervisor", "admin", "service")
KEY_PREFIX = "ocsea_"

# Permission matrix: scope -> roles allowed. Every endpoint names one scope (docs/permissions.md).
PERMISSIONS: dict[str, frozenset[str]] = {
    "query-check": frozenset({"service", "analyst", "investigator", "supervisor", "admin"}),
    "classify": frozenset({"service", "analyst", "investigator", "supervisor", "admin"}),
    "hashes:lookup": frozenset({"service", "analyst", "investigator", "supervisor", "admin"}),
    "lists:read": frozenset({"analyst", "investigator", "supervisor", "admin"}),
    "lists:write": frozenset({"supervisor", "admin"}),
    "findings:read": frozenset({"analyst", "investigator", "supervisor", "admin"}),
    "findings:review": frozenset({"analyst", "investigator", "supervisor", "admin"}),
    "sharers:read": frozenset({"investigator", "supervisor", "admin"}),
    "terms:read": frozenset({"analyst", "investigator", "supervisor", "admin"}),
    "terms:accept": frozenset({"supervisor", "admin"}),
    "audit:read": frozenset({"supervisor", "admin"}),
    "users:admin": frozenset({"admin"}),  # the web app's administration page (users, API keys)
    # Casework: referrals hold personal data of suspects and victims (docs/referrals.md).
    "referrals:read": frozenset({"investigator", "supervisor", "admin"}),
    "referrals:write": frozenset({"investigator", "supervisor", "admin"}),
    "networks:read": frozenset({"investigator", "supervisor", "admin"}),
    "networks:correct": frozenset({"investigator", "supervisor", "admin"}),
    "cases:read": frozenset({"investigator", "supervisor", "admin"}),
    "requests:read": frozenset({"investigator", "supervisor", "admin"}),
    "requests:write": frozenset({"investigator", "supervisor", "admin"}),
}


class AccessError(ValueError):
    pass


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    scopes: frozenset[str]
    key_id: str | None = None

    def may(self, scope: str) -> bool:
        return self.role in PERMISSIONS.get(scope, frozenset()) and (
            not self.scopes or scope in self.scopes
        )


def parse_lifetime(text: str) -> timedelta | None:
    """A key's lifetime as people write it: "90d", "12h" or "never" (None)."""
    if text == "never":
        return None
    m = re.fullmatch(r"(\d{1,5})([dh])", text)
    if not m:
        raise AccessError("a lifetime is written like 90d, 12h or never")
    n = int(m.group(1))
    if n <= 0:
        raise AccessError("a lifetime is positive (e.g. 12h), or 'never'")
    return timedelta(days=n) if m.group(2) == "d" else timedelta(hours=n)


def _sha(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(
    engine: Engine, name: str, role: str, scopes: list[str], expires_in: timedelta | None
) -> tuple[str, str]:
    """(key id, the full key). The full key is shown once and never stored."""
    if role not in ROLES:
        raise AccessError(f"role must be one of {ROLES}")
    if expires_in is not None and expires_in <= timedelta(0):
        raise AccessError("a key's lifetime must be positive (or 'never')")
    bad = [s for s in scopes if s not in PERMISSIONS]
    if bad:
        raise AccessError(f"unknown scopes {bad}; known: {sorted(PERMISSIONS)}")
    not_allowed = [s for s in scopes if role not in PERMISSIONS[s]]
    if not_allowed:
        raise AccessError(f"role {role!r} may not have scopes {not_allowed}")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(api_keys).values(
                key_id=key_id,
                secret_sha256=_sha(secret),
                name=name,
                role=role,
                scopes=sorted(scopes),
                created_at=now,
                expires_at=now + expires_in if expires_in else None,
            )
        )
    return key_id, f"{KEY_PREFIX}{key_id}_{secret}"


def revoke_api_key(engine: Engine, key_id: str) -> bool:
    with engine.begin() as conn:
        r = conn.execute(
            update(api_keys)
            .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
        return r.rowcount == 1


def list_api_keys(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(api_keys.c.key_id, api_keys.c.name, api_keys.c.role, api_keys.c.scopes,
                                                              api_keys.c.created_at, api_keys.c.expires_at, api_keys.c.revoked_at))]  # fmt: skip


def verify_api_key(engine: Engine, key: str, now: datetime | None = None) -> Principal | None:
    if not key.startswith(KEY_PREFIX) or key.count("_") < 2:
        return None
    key_id, _, secret = key[len(KEY_PREFIX) :].partition("_")
    with engine.connect() as conn:
        r = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).first()
    if r is None or not hmac.compare_digest(r.secret_sha256, _sha(secret)):
        return None
    now = now or datetime.now(UTC)
    exp = (
        r.expires_at.replace(tzinfo=UTC)
        if r.expires_at and r.expires_at.tzinfo is None
        else r.expires_at
    )
    if r.revoked_at is not None or (exp is not None and exp <= now):
        return None
    return Principal(f"key:{r.name}", r.role, frozenset(r.scopes or []), key_id)


_ph = PasswordHasher()


MIN_PASSWORD, MAX_PASSWORD = 12, 128
# zxcvbn's guess estimate, 0..4: 3 is "safely unguessable" against an online attacker it names.
MIN_PASSWORD_SCORE = 3


def check_password_strength(password: str, username: str = "") -> None:
    """12 to 128 characters, and not one of the common, repeated or name-based passwords that
    zxcvbn's lists (common and breached passwords, words, names, keyboard patterns) guess soon
    (ASVS 2.1.1, 2.1.2, 2.1.7; no composition rules, 2.1.9)."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccessError(f"password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    from zxcvbn import zxcvbn

    verdict = zxcvbn(password, user_inputs=[username, "ocsea"] if username else ["ocsea"])
    if verdict["score"] < MIN_PASSWORD_SCORE:
        why = verdict["feedback"].get("warning") or "too easy to guess"
        raise AccessError(f"password too easy to guess ({why.rstrip('.')}); a few unrelated "
                          "words make a strong one")  # fmt: skip


def add_user(engine: Engine, username: str, password: str, role: str) -> None:
    if role not in ROLES or role == "service":
        raise AccessError("role must be analyst, investigator, supervisor or admin")
    check_password_strength(password, username)
    with engine.begin() as conn:
        if conn.execute(select(users.c.id).where(users.c.username == username)).first():
            raise AccessError(f"user {username!r} exists")
        conn.execute(insert(users).values(username=username, password_hash=_ph.hash(password), role=role,
                                          disabled=0, created_at=datetime.now(UTC)))  # fmt: skip


def set_password(engine: Engine, username: str, password: str) -> None:
    """A new password ends every session of the user (someone may have been using the old one)."""
    check_password_strength(password, username)
    with engine.begin() as conn:
        r = conn.execute(
            update(users)
            .where(users.c.username == username)
            .values(password_hash=_ph.hash(password))
        )
        if r.rowcount != 1:
            raise AccessError(f"no user {username!r}")
        _end_sessions_of(conn, username)


def disable_user(engine: Engine, username: str) -> None:
    """Disabled now: every session of the user ends."""
    with engine.begin() as conn:
        r = conn.execute(update(users).where(users.c.username == username).values(disabled=1))
        if r.rowcount != 1:
            raise AccessError(f"no user {username!r}")
        _end_sessions_of(conn, username)


def _end_sessions_of(conn, username: str) -> int:
    from ocsea.store.db import sessions

    return conn.execute(update(sessions).where(
        sessions.c.username == username, sessions.c.revoked_at.is_(None)
    ).values(revoked_at=datetime.now(UTC))).rowcount  # fmt: skip


def list_users(engine: Engine) -> list:
    from ocsea.store.db import login_throttle

    with engine.connect() as conn:
        locks = {r.key: r for r in conn.execute(select(login_throttle))}
        rows = conn.execute(select(users.c.username, users.c.role, users.c.disabled,
                                   users.c.created_at).order_by(users.c.username)).all()  # fmt: skip
    return [(r, locks.get(f"user:{r.username}")) for r in rows]


# ---- failed logins ---------------------------------------------------------------------------
FREE_FAILURES = 5  # then each failure locks the account (and the address) for twice as long
MAX_LOCK = timedelta(hours=1)
FORGET_AFTER = timedelta(hours=24)  # failures older than this no longer count


def _utc(t: datetime | None) -> datetime | None:
    return t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t


def login_attempt(engine: Engine, keys: list[str], now: datetime | None = None) -> float:
    """Before a password is checked: seconds to wait when any key is locked (the attempt is then
    refused and not counted); otherwise the attempt is counted as a failure at once, under a
    lock, so that parallel attempts cannot all pass the check before any failure is recorded.
    A login that succeeds takes its count back (``login_succeeded``)."""
    from ocsea.store.db import login_throttle

    now = now or datetime.now(UTC)
    with engine.begin() as conn:
        _lock_throttle(conn)
        rows = conn.execute(
            select(login_throttle.c.locked_until).where(login_throttle.c.key.in_(keys))
        ).all()
        waits = [(_utc(r.locked_until) - now).total_seconds() for r in rows if r.locked_until]
        wait = max([0.0, *waits])
        if wait > 0:
            return wait
        _count_failure(conn, keys, now)
    return 0.0


def _lock_throttle(conn) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE login_throttle IN EXCLUSIVE MODE")
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("UPDATE login_throttle SET failures = failures WHERE 0")


def login_failed(engine: Engine, keys: list[str], now: datetime | None = None) -> float:
    """Count a failure against each key; returns the longest lock it set (seconds)."""
    now = now or datetime.now(UTC)
    with engine.begin() as conn:
        _lock_throttle(conn)
        return _count_failure(conn, keys, now)


def _count_failure(conn, keys: list[str], now: datetime) -> float:
    from ocsea.store.db import login_throttle

    longest = 0.0
    for k in keys:
        r = conn.execute(select(login_throttle).where(login_throttle.c.key == k)).first()
        n = 1 if r is None or now - _utc(r.last_failure_at) > FORGET_AFTER else r.failures + 1
        lock = None
        if n > FREE_FAILURES:
            secs = min(2.0 ** (n - FREE_FAILURES), MAX_LOCK.total_seconds())
            lock = now + timedelta(seconds=secs)
            longest = max(longest, secs)
        values = {"failures": n, "last_failure_at": now, "locked_until": lock}
        if r is None:
            conn.execute(insert(login_throttle).values(key=k[:300], **values))
        else:
            conn.execute(update(login_throttle).where(login_throttle.c.key == k).values(**values))
    return longest


def login_succeeded(engine: Engine, username: str, address: str | None = None) -> None:
    """The account's failures are forgotten; the address's count gives back this attempt."""
    from ocsea.store.db import login_throttle

    with engine.begin() as conn:
        _lock_throttle(conn)
        conn.execute(delete(login_throttle).where(login_throttle.c.key == f"user:{username}"))
        if address is not None:
            k = f"ip:{address}"
            conn.execute(update(login_throttle).where(login_throttle.c.key == k, login_throttle.c.failures > 0)
                         .values(failures=login_throttle.c.failures - 1))  # fmt: skip


def unlock(engine: Engine, key: str) -> bool:
    """An admin lifts a lock (``user:<name>`` or ``ip:<addr>``)."""
    from ocsea.store.db import login_throttle

    with engine.begin() as conn:
        return conn.execute(delete(login_throttle).where(login_throttle.c.key == key)).rowcount > 0


def check_password(engine: Engine, username: str, password: str) -> Principal | None:
    with engine.connect() as conn:
        r = conn.execute(select(users).where(users.c.username == username)).first()
    if r is None or r.disabled:
        _ph.hash(password)  # same work either way: no user enumeration by timing
        return None
    try:
        _ph.verify(r.password_hash, password)
    except (VerifyMismatchError, VerificationError):
        return None
    return Principal(f"user:{username}", r.role, frozenset())


# ---- browser sessions -----------------------------------------------------------------------------
SESSION_HOURS = 8  # absolute lifetime
IDLE_MINUTES = 30  # a session unused this long ends


def start_session(engine: Engine, p: Principal) -> tuple[str, str]:
    """(session token for the HttpOnly cookie, CSRF token for the page). Only hashes are stored
    for the token; the CSRF token is compared in constant time on every write."""
    from ocsea.store.db import sessions

    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(sessions).values(token_sha256=_sha(token), csrf=csrf, username=p.name.removeprefix("user:"),
                                             role=p.role, created_at=now, expires_at=now + timedelta(hours=SESSION_HOURS)))  # fmt: skip
    return token, csrf


def session_principal(engine: Engine, token: str) -> tuple[Principal, str] | None:
    from ocsea.store.db import sessions

    with engine.connect() as conn:
        r = conn.execute(select(sessions).where(sessions.c.token_sha256 == _sha(token))).first()
        if r is None or r.revoked_at is not None:
            return None
        exp = r.expires_at.replace(tzinfo=UTC) if r.expires_at.tzinfo is None else r.expires_at
        now = datetime.now(UTC)
        seen = _utc(r.last_seen_at) or _utc(r.created_at)
        if exp <= now or now - seen > timedelta(minutes=IDLE_MINUTES):
            return None
        u = conn.execute(
            select(users.c.disabled, users.c.role).where(users.c.username == r.username)
        ).first()
    if u is None or u.disabled:
        return None
    if now - seen > timedelta(seconds=60):  # one write a minute at most, not one a request
        with engine.begin() as conn:
            conn.execute(update(sessions).where(sessions.c.id == r.id).values(last_seen_at=now))
    return Principal(f"user:{r.username}", u.role, frozenset()), r.csrf


def end_session(engine: Engine, token: str) -> None:
    from ocsea.store.db import sessions

    with engine.begin() as conn:
        conn.execute(
            update(sessions)
            .where(sessions.c.token_sha256 == _sha(token))
            .values(revoked_at=datetime.now(UTC))
        )
