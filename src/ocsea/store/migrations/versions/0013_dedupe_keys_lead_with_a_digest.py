"""hash lists: entry keys lead with the entry's first digest

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 07:30:00

Why: an import now writes a list's new entries in key order (issue 17: 10M PDQ hashes at 11k
entries/s, row by row into randomly ordered indexes). A key that starts with the entry's first
digest (MD5, SHA-1, SHA-256 or PDQ, 16 hex digits) walks that digest's index in order too; the
other 48 digits stay SHA-256 of all the entry's hashes. Existing keys are rewritten so that a later
import of the same hash still finds its entry. The key function is copied here, frozen, so that a
later change to the import cannot change what this migration did.
"""

import hashlib
import sys

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_BATCH = 10_000
# A national-size list takes minutes here: say how far it is every this many entries.
_REPORT = 1_000_000

entries = sa.table(
    "hash_entries",
    sa.column("id", sa.Integer),
    sa.column("dedupe_key", sa.String),
    sa.column("md5", sa.String),
    sa.column("sha1", sa.String),
    sa.column("sha256", sa.String),
    sa.column("pdq", sa.String),
    sa.column("photodna", sa.Text),
    sa.column("vpdq", sa.JSON),
)


def _parts(row) -> list[str]:
    frames = row.vpdq or []
    return [row.md5 or "", row.sha1 or "", row.sha256 or "", row.pdq or "", row.photodna or "",
            ",".join(f["hash"] if isinstance(f, dict) else str(f) for f in frames)]  # fmt: skip


def _old_key(row) -> str:
    return hashlib.sha256("|".join(_parts(row)).encode()).hexdigest()


def _new_key(row) -> str:
    parts = _parts(row)
    lead = next((p for p in parts[:4] if p), "")[:16]
    return lead + _old_key(row)[: 64 - len(lead)]


def _rewrite(key_of) -> None:
    conn = op.get_bind()
    total = conn.execute(sa.select(sa.func.count()).select_from(entries)).scalar_one()
    last = done = 0
    while True:
        rows = conn.execute(
            sa.select(entries).where(entries.c.id > last).order_by(entries.c.id).limit(_BATCH)
        ).all()
        if not rows:
            if total >= _REPORT:
                print(f"hash list entry keys: {total:,} of {total:,} done", file=sys.stderr)
            return
        last = rows[-1].id
        done += len(rows)
        if done % _REPORT < len(rows) and done < total:
            print(f"hash list entry keys: {done:,} of {total:,} done", file=sys.stderr)
        # Only keys this code made: a key written by hand (tests, other tools) is left alone.
        changes = [{"i": r.id, "k": key_of(r)} for r in rows
                   if r.dedupe_key in (_old_key(r), _new_key(r)) and key_of(r) != r.dedupe_key]  # fmt: skip
        if changes:
            conn.execute(
                entries.update().where(entries.c.id == sa.bindparam("i"))
                .values(dedupe_key=sa.bindparam("k")),
                changes,
            )  # fmt: skip


def upgrade() -> None:
    _rewrite(_new_key)


def downgrade() -> None:
    _rewrite(_old_key)
