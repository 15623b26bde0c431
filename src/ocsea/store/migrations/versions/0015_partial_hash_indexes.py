"""hash_entries: the digest indexes hold only entries that have that digest

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28 16:20:00

Why: a list carries one or two kinds of hash; every entry put a NULL into the index of each kind
it lacks. A 10M-entry PDQ list wrote three indexes of 10M NULLs: its import took 96 s instead of
94 s and its database was 7 % larger (issue 17). Lookups are ``column = value``, which implies
NOT NULL, so both SQLite and PostgreSQL use the partial indexes for them. On PostgreSQL the four
indexes are rebuilt inside the upgrade's transaction, which holds hash_entries locked meanwhile:
upgrade a national-size store (`ocsea db upgrade`) while nothing else uses it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_COLUMNS = ("md5", "sha1", "sha256", "pdq")


def upgrade() -> None:
    for col in _COLUMNS:
        op.drop_index(f"ix_entries_{col}", table_name="hash_entries", if_exists=True)
        where = sa.text(f"{col} IS NOT NULL")
        op.create_index(f"ix_entries_{col}", "hash_entries", [col],
                        sqlite_where=where, postgresql_where=where)  # fmt: skip


def downgrade() -> None:
    for col in _COLUMNS:
        op.drop_index(f"ix_entries_{col}", table_name="hash_entries", if_exists=True)
        op.create_index(f"ix_entries_{col}", "hash_entries", [col])
